"""Pure review rules: conflicts, score validation, aggregation, ranking and tie-breaks,
amounts, automatic assignment and the simulator (property-based where it matters)."""
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from blueprints.review import assignment as A
from blueprints.review import scoring as S
from blueprints.review import selection as SEL
from blueprints.review.conflicts import GroupInfo, MemberInfo, ReviewerInfo, conflict_reasons

RUBRIC = [{"code": "need", "label": "필요성", "max": 20}, {"code": "plan", "label": "계획", "max": 30},
          {"code": "budget", "label": "예산", "max": 20}, {"code": "participation", "label": "참여", "max": 15},
          {"code": "sustainability", "label": "지속", "max": 15}]
TIERS = [{"min_households": 5, "max_households": 6, "max_won": 600_000},
         {"min_households": 7, "max_households": 9, "max_won": 800_000},
         {"min_households": 10, "max_households": None, "max_won": 1_000_000}]


# Conflicts -----------------------------------------------------------------------------------

GROUP = GroupInfo(district="마포구", dong="망원동", members=(
    MemberInfo(user_id=10, phone="010-1111-2222", email="a@x.kr"),
    MemberInfo(user_id=None, phone="01033334444", email="shared@home.kr"),
))


def test_member_of_the_group_is_a_conflict():
    assert conflict_reasons(ReviewerInfo(user_id=10), GROUP) == ["모임 구성원입니다"]


def test_same_mobile_number_written_differently_is_a_conflict():
    reasons = conflict_reasons(ReviewerInfo(user_id=99, phone="010 3333 4444"), GROUP)
    assert reasons == ["구성원과 휴대전화번호가 같습니다(같은 가구)"]


def test_same_household_email_is_a_conflict_case_insensitive():
    reasons = conflict_reasons(ReviewerInfo(user_id=99, phone="01099990000", email="Shared@Home.kr "), GROUP)
    assert reasons == ["구성원과 전자우편이 같습니다(같은 가구)"]


def test_declared_conflict_is_named_by_kind():
    assert conflict_reasons(ReviewerInfo(user_id=99), GROUP, declared="recusal") == ["이해충돌 신고(회피)"]


def test_same_dong_only_when_the_programme_applies_the_rule():
    neighbour = ReviewerInfo(user_id=99, phone="01099990000", district="마포구", dong="망원동")
    assert conflict_reasons(neighbour, GROUP) == []
    assert conflict_reasons(neighbour, GROUP, same_dong_rule=True) == ["같은 동(망원동) 거주"]
    other_district = ReviewerInfo(user_id=99, district="중구", dong="망원동")
    assert conflict_reasons(other_district, GROUP, same_dong_rule=True) == []


def test_unrelated_reviewer_has_no_conflict():
    assert conflict_reasons(ReviewerInfo(user_id=99, phone="01099990000", email="b@y.kr"), GROUP,
                            same_dong_rule=True) == []


# Score validation ----------------------------------------------------------------------------

def _all(value="10"):
    return {c["code"]: value for c in RUBRIC}


def test_draft_may_leave_scores_blank_but_not_out_of_range():
    check = S.check_scores(RUBRIC, {"need": "5", "plan": "", "budget": "21"}, {}, final=False)
    assert check.values["need"] == 5 and check.values["plan"] is None
    assert check.errors == {"budget": "배점(20점)을 넘을 수 없습니다."}
    assert check.total == 5


def test_non_integers_and_negatives_are_refused():
    check = S.check_scores(RUBRIC, {"need": "-1", "plan": "7.5", "budget": "열"}, {})
    assert set(check.errors) == {"need", "plan", "budget"}
    assert all("정수" in m for m in check.errors.values())


def test_comments_lose_control_characters_and_have_a_length_limit():
    check = S.check_scores(RUBRIC, {"need": "5"}, {"need": "근거\x00 부족\x07", "plan": "가" * 2001})
    assert check.comments["need"] == "근거 부족"
    assert check.errors == {"plan": "의견은 2,000자 이내로 적어 주세요."}


def test_final_needs_every_score_and_comment_below_threshold():
    scores = _all("10")  # need 10/20 = 50 % < 60 %: comment needed; plan 10/30 too
    scores["participation"] = "15"
    check = S.check_scores(RUBRIC, scores, {"need": "근거 부족"}, rule="below", below_pct=60, final=True)
    assert "need" not in check.errors
    assert check.errors["plan"] == "배점의 60% 미만 점수에는 의견을 적어 주세요."
    assert "participation" not in check.errors  # full marks need no comment
    missing = S.check_scores(RUBRIC, {"need": "20"}, {}, final=True)
    assert missing.errors["plan"] == "점수를 입력해 주세요."


def test_always_rule_needs_a_comment_for_every_criterion():
    full = {c["code"]: str(c["max"]) for c in RUBRIC}
    check = S.check_scores(RUBRIC, full, {"need": "좋음"}, rule="always", final=True)
    assert set(check.errors) == {"plan", "budget", "participation", "sustainability"}
    assert S.check_scores(RUBRIC, full, {c["code"]: "좋음" for c in RUBRIC}, rule="always", final=True).ok


# Aggregation and flags -----------------------------------------------------------------------

def test_mean_and_trimmed_mean_only_from_five_reviewers():
    assert S.aggregate([70, 80, 90], "trimmed_mean") == 80
    assert S.aggregate([60, 70, 80, 90], "trimmed_mean") == 75
    assert S.aggregate([10, 70, 80, 90, 100], "trimmed_mean") == 80  # 10 and 100 dropped
    assert S.aggregate([10, 70, 80, 90, 100], "mean") == 70
    assert S.aggregate([], "mean") is None
    assert S.aggregate([70, 71, 71]) == Fraction(212, 3)


def test_spread_and_disagreement():
    assert S.std_dev([70]) is None
    assert round(S.std_dev([60, 80]), 2) == 10.0
    assert S.disagrees([60, 80], 20) is False
    assert S.disagrees([60, 81], 20) is True


def test_calibration_flags_a_reviewer_far_from_the_others():
    matrix = {1: {1: 80, 2: 78, 3: 50}, 2: {1: 70, 2: 72, 3: 45}, 3: {1: 90, 3: 60}}
    calib = S.calibration(matrix, threshold=10)
    assert calib[3].flagged and calib[3].bias < -10
    assert not calib[1].flagged and not calib[2].flagged
    assert calib[2].compared == 2


# Ranking and tie-breaks ----------------------------------------------------------------------

T0 = datetime(2027, 3, 1, tzinfo=timezone.utc)


def _item(app_id, score, plan=None, budget=None, first=False, minutes=0):
    means = {}
    if plan is not None:
        means["plan"] = Fraction(plan)
    if budget is not None:
        means["budget"] = Fraction(budget)
    return S.RankItem(app_id, None if score is None else Fraction(score), means, first, T0 + timedelta(minutes=minutes))


def test_ranking_applies_the_documented_tie_break_order():
    tie = ["plan", "budget", "first_time_group", "submitted_at"]
    items = [
        _item(1, 80, plan=20, budget=15, first=False, minutes=1),
        _item(2, 80, plan=25, budget=10),                      # wins on plan
        _item(3, 80, plan=20, budget=15, first=True, minutes=9),  # beats 1 on first time
        _item(4, 80, plan=20, budget=15, first=False, minutes=0),  # beats 1 on submitted_at
        _item(5, 90),
        _item(6, None),
        _item(7, 50),
    ]
    ordered = S.rank(items, tie, pass_mark=60)
    assert [i.application_id for i in ordered] == [5, 2, 3, 4, 1, 7, 6]
    by_id = {i.application_id: i for i in ordered}
    assert by_id[3].decided_by == "plan"
    assert by_id[4].decided_by == "first_time_group"
    assert by_id[1].decided_by == "submitted_at"
    assert [i.rank for i in ordered] == [1, 2, 3, 4, 5, 6, 7]
    assert by_id[7].passes is False and by_id[6].passes is False and by_id[1].passes is True


def test_equal_means_from_different_totals_are_a_real_tie():
    a = S.RankItem(1, S.aggregate([70, 71, 72]), {"plan": Fraction(20)})
    b = S.RankItem(2, S.aggregate([71, 71, 71]), {"plan": Fraction(25)})
    ordered = S.rank([a, b], ["plan"], 60)
    assert [i.application_id for i in ordered] == [2, 1] and ordered[1].decided_by == "plan"


# Amounts and the simulator -------------------------------------------------------------------

def test_proposed_amount_is_capped_by_tier_and_rounded_down():
    assert SEL.proposed_amount(755_500, 5, TIERS, 1_000_000) == 600_000
    assert SEL.proposed_amount(555_500, 6, TIERS, 1_000_000) == 550_000
    assert SEL.proposed_amount(1_500_000, 12, TIERS, 900_000) == 900_000
    assert SEL.proposed_amount(800_000, 3, TIERS, 1_000_000) == 0  # below every tier
    assert SEL.proposed_amount(123_456, 8, [], 1_000_000) == 120_000


def test_simulator_fills_by_rank_skipping_what_does_not_fit():
    c = [SEL.Candidate(1, 1, True, 600_000, "마포구"), SEL.Candidate(2, 2, True, 600_000, "마포구"),
         SEL.Candidate(3, 3, True, 300_000, "중구"), SEL.Candidate(4, 4, False, 100_000, "중구")]
    result = {d.application_id: d for d in SEL.simulate(c, 1_000_000)}
    assert result[1].selected and not result[2].selected and result[3].selected and not result[4].selected
    assert result[2].note == "예산 잔액 부족"
    quota = {d.application_id: d for d in SEL.simulate(c, 5_000_000, quota_per_district=1)}
    assert quota[1].selected and not quota[2].selected and "할당" in quota[2].note and quota[3].selected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 2_000_000), st.sampled_from(["마포구", "중구", "노원구"])),
                max_size=40),
       st.integers(0, 10_000_000), st.one_of(st.none(), st.integers(1, 5)))
def test_simulator_never_exceeds_the_budget(rows, budget, quota):
    candidates = [SEL.Candidate(i, i + 1, passes, amount, district) for i, (passes, amount, district) in enumerate(rows)]
    decisions = SEL.simulate(candidates, budget, quota_per_district=quota)
    chosen = [d for d in decisions if d.selected]
    assert sum(d.amount_won for d in chosen) <= budget
    by_id = {c.application_id: c for c in candidates}
    assert all(by_id[d.application_id].passes and d.amount_won > 0 for d in chosen)
    if quota is not None:
        for district in {"마포구", "중구", "노원구"}:
            assert sum(1 for d in chosen if by_id[d.application_id].district == district) <= quota
    # Greedy by rank: a passing application left out never fitted in what was left at its turn.
    left = budget
    for d in sorted(decisions, key=lambda d: by_id[d.application_id].rank):
        if d.selected:
            left -= d.amount_won
        elif d.note == "예산 잔액 부족":
            assert d.amount_won > left


# Automatic assignment (property-based) -------------------------------------------------------

@st.composite
def assignment_cases(draw):
    n_apps = draw(st.integers(0, 25))
    n_reviewers = draw(st.integers(1, 9))
    per_app = draw(st.integers(1, 4))
    apps = list(range(1, n_apps + 1))
    reviewers = list(range(100, 100 + n_reviewers))
    pairs = [(a, r) for a in apps for r in reviewers]
    blocked = set(draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs) // 2))) if pairs else set()
    return apps, reviewers, per_app, blocked


@settings(max_examples=300, deadline=None)
@given(assignment_cases())
def test_auto_assign_never_assigns_a_conflict_and_keeps_loads_balanced(case):
    apps, reviewers, per_app, blocked = case
    plan = A.auto_assign({a: per_app for a in apps}, reviewers, blocked=blocked)
    assert not set(plan.pairs) & blocked
    assert len(set(plan.pairs)) == len(plan.pairs)
    on_app = {a: {r for x, r in plan.pairs if x == a} for a in apps}
    for a in apps:
        eligible = [r for r in reviewers if (a, r) not in blocked]
        assert len(on_app[a]) == min(per_app, len(eligible))  # filled as far as conflicts allow
        assert plan.shortfall.get(a, 0) == per_app - len(on_app[a])
    load = {r: sum(1 for _, x in plan.pairs if x == r) for r in reviewers}
    assert load == plan.loads
    # Nobody carries two more than someone who could have taken one of their applications.
    for giver in reviewers:
        for taker in reviewers:
            if load[giver] - load[taker] >= 2:
                movable = [a for a in apps if giver in on_app[a] and taker not in on_app[a] and (a, taker) not in blocked]
                assert not movable


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 40), st.integers(1, 12), st.integers(1, 4))
def test_without_conflicts_loads_differ_by_at_most_one(n_apps, n_reviewers, per_app):
    reviewers = list(range(1, n_reviewers + 1))
    plan = A.auto_assign({a: per_app for a in range(n_apps)}, reviewers)
    loads = [plan.loads[r] for r in reviewers]
    assert max(loads) - min(loads) <= 1
    assert len(plan.pairs) == n_apps * min(per_app, n_reviewers)


def test_existing_assignments_count_towards_load_and_are_not_repeated():
    plan = A.auto_assign({1: 1, 2: 1}, [7, 8], on_application={1: {7}}, loads={7: 5, 8: 0})
    assert (1, 7) not in plan.pairs
    assert plan.pairs == [(1, 8), (2, 8)]
