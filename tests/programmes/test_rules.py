"""The pure rule functions: parsing staff input, the normalised shape, validation, keyword matching."""
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blueprints.core.timeutil import kst_datetime
from blueprints.programmes import rules as R
from blueprints.programmes.defaults import programme_fields_from_defaults


@pytest.fixture(scope="module")
def default_rules():
    return programme_fields_from_defaults()["rules"]


@pytest.mark.parametrize("text, expected", [
    ("1,000,000", 1_000_000), ("1000000", 1_000_000), (" 50,000원 ", 50_000), ("0", 0),
])
def test_parse_money_accepts_plain_and_grouped_amounts(text, expected):
    assert R.parse_money(text) == expected


@pytest.mark.parametrize("text, message", [
    ("-5000", "0원 이상"), ("abc", "숫자로만"), ("12만원", "숫자로만"), ("1,00,0", "숫자로만"),
    ("1.5", "숫자로만"), ("99,999,999,999", "너무 큽니다"), ("", "금액을 입력"),
])
def test_parse_money_refuses_with_korean_messages(text, message):
    with pytest.raises(R.RuleError, match=message):
        R.parse_money(text)


def test_parse_money_optional_empty_is_none():
    assert R.parse_money("  ", required=False) is None


@pytest.mark.parametrize("text, expected", [("25", 0.25), ("25%", 0.25), ("12.5", 0.125), ("0", 0.0), ("100", 1.0)])
def test_parse_percent_gives_the_fraction(text, expected):
    assert R.parse_percent(text) == expected


@pytest.mark.parametrize("text, message", [("150", "0%에서 100% 사이"), ("-1", "0%에서 100% 사이"), ("스무", "숫자로")])
def test_parse_percent_refuses(text, message):
    with pytest.raises(R.RuleError, match=message):
        R.parse_percent(text)


def test_format_percent_round_trips():
    assert R.format_percent(0.25) == "25"
    assert R.format_percent(0.125) == "12.5"
    assert R.format_percent(None) == ""


def test_defaults_are_normalised_to_the_documented_shape(default_rules):
    items = default_rules["prohibited_items"]
    assert all(set(item) == {"label", "keywords"} for item in items)
    alcohol = next(i for i in items if i["label"] == "주류")
    assert {"술", "맥주", "소주", "와인", "막걸리"} <= set(alcohol["keywords"])
    vouchers = next(i for i in items if i["label"].startswith("상품권"))
    assert {"상품권", "기프티콘", "선불카드", "포인트 충전"} <= set(vouchers["keywords"])
    # Every item except the date-based one can be found by words.
    assert [i["label"] for i in items if not i["keywords"]] == ["활동기간 외 지출"]
    snacks = R.category(default_rules, "snacks")
    assert snacks["caps"] == {"share_of_total_max": 0.25, "warn_above_share": 0.20, "per_hour_won": None,
                              "per_day_won": None, "per_participant_per_session_won": 5000}
    assert R.category(default_rules, "instructor")["caps"]["per_hour_won"] == 50000
    assert default_rules["grant"]["tiers"][-1] == {"min_households": 10, "max_households": None,
                                                   "households": "10+", "max_won": 1_000_000}
    # The dates live in the columns only.
    assert "application_window" not in default_rules["programme"]
    assert R.normalise_rules(default_rules) == default_rules


@pytest.mark.parametrize("text, label", [
    ("맥주 2박스", "주류"), ("생맥주", "주류"), ("뒤풀이 술 구입", "주류"), ("술을 샀음", "주류"),
    ("편의점 포인트충전", "상품권·기프티콘·선불카드·포인트 충전"), ("스타벅스 기프티콘 10장", "상품권·기프티콘·선불카드·포인트 충전"),
    ("키즈카페 노래방 이용", "제한업종 결제(유흥·단란주점, 노래방, 사우나·안마, 골프, PC방·당구장, 카지노·복권방, 성인용품 등)"),
    ("pc방 이용료", "제한업종 결제(유흥·단란주점, 노래방, 사우나·안마, 골프, PC방·당구장, 카지노·복권방, 성인용품 등)"),
])
def test_match_prohibited_finds_items(default_rules, text, label):
    found = R.match_prohibited(text, default_rules)
    assert [f["label"] for f in found] == [label]


@pytest.mark.parametrize("text", ["미술 재료 구입", "기술 강사 초빙", "놀이와 인형극 관람", "그림책 10권", "간식(과일, 우유)", ""])
def test_match_prohibited_leaves_ordinary_lines_alone(default_rules, text):
    assert R.match_prohibited(text, default_rules) == []


def test_match_prohibited_uses_the_programmes_own_keywords(default_rules):
    rules = {"prohibited_items": [{"label": "장난감 총", "keywords": ["물총"]}]}
    assert R.match_prohibited("여름 물총 놀이", rules) == [{"label": "장난감 총", "keyword": "물총"}]
    assert R.match_prohibited("맥주", rules) == []


def test_parse_keywords_splits_and_dedupes():
    assert R.parse_keywords("술, 맥주,소주\n 맥주 ,, 포인트   충전") == ["술", "맥주", "소주", "포인트 충전"]


def _schedule(**changes):
    values = dict(opens_at=kst_datetime(2028, 2, 15, 9), closes_at=kst_datetime(2028, 3, 8, 18),
                  review_from=date(2028, 3, 9), review_to=date(2028, 3, 19), activity_start=date(2028, 3, 25),
                  activity_end=date(2028, 10, 31), settlement_due=date(2028, 11, 30),
                  closes_local_date=date(2028, 3, 8))
    values.update(changes)
    return R.validate_schedule(**values)


def test_validate_schedule():
    assert _schedule() == {}
    assert _schedule(closes_at=kst_datetime(2028, 2, 1))["closes_at"] == "신청 마감은 신청 시작보다 뒤여야 합니다."
    assert "closes_at" in _schedule(closes_at=kst_datetime(2028, 2, 15, 9))  # equal is not after
    assert "review_to" in _schedule(review_to=date(2028, 3, 1))
    assert "review_from" in _schedule(review_from=date(2028, 3, 1), review_to=date(2028, 3, 19))
    assert "activity_end" in _schedule(activity_end=date(2028, 3, 1))
    assert "settlement_due" in _schedule(settlement_due=date(2028, 10, 1))


def test_validate_categories():
    cat = {"code": "snacks", "label": "간식비", "caps": {"share_of_total_max": 0.2, "warn_above_share": 0.25,
                                                      "per_hour_won": 60000, "per_day_won": 50000}}
    errors = R.validate_categories([cat, dict(cat, code="x")])
    assert errors[(0, "warn_above_share")] == "경고 기준은 상한보다 낮거나 같아야 합니다."
    assert errors[(0, "per_day_won")] == "하루 상한은 시간당 상한보다 작을 수 없습니다."
    assert errors[(1, "label")] == "같은 이름의 항목이 이미 있습니다."


def test_validate_tiers_and_rubric():
    tiers = [{"min_households": 5, "max_households": 7, "max_won": 600000},
             {"min_households": 7, "max_households": None, "max_won": 1_200_000}]
    errors = R.validate_tiers(tiers, 1_000_000)
    assert errors[(1, "min_households")] == "가구 수 구간이 앞 구간과 겹칩니다."
    assert "1,000,000원" in errors[(1, "max_won")]
    assert R.validate_rubric([{"code": "a", "label": "A", "max": 50}], 60) == {
        "pass_mark": "합격 점수는 배점 합계(50점)보다 클 수 없습니다."}
    assert R.validate_rubric([], 0) == {"rubric": "심사 항목을 하나 이상 두어야 합니다."}


def test_slug_is_unique():
    assert R.slug("Snack", {"snack"}) == "snack_2"
    assert R.slug("간식", set(), "category") == "category"


_DEFAULTS = programme_fields_from_defaults()["rules"]


def _match_each_keyword(text, rules):
    """match_prohibited without its one-search pre-check (every keyword's own pattern)."""
    text = R._SPACE_RE.sub(" ", text or "")
    found = []
    for item in rules.get("prohibited_items", []):
        for keyword in item.get("keywords", []):
            if keyword.strip() and R._keyword_pattern(keyword.strip()).search(text):
                found.append({"label": item["label"], "keyword": keyword})
                break
    return found if text.strip() else []


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.sampled_from(["술", "미술", "맥 주", "포인트충전", "포인트 충전", "간식", "술을", "기술",
                                       "SOJU", "노래방", "상품권", "과일", " ", "\t", "사과", "주류", "a"]),
                      max_size=6),
       extra=st.text(max_size=8))
def test_the_pre_check_never_changes_what_is_found(words, extra):
    rules = _DEFAULTS
    text = " ".join(words) + extra
    assert R.match_prohibited(text, rules) == _match_each_keyword(text, rules)


# Judging spending: one rule for a budget line and an expense ----------------------------------

_CODES = [c["code"] for c in _DEFAULTS["expense_categories"]]
_WORDS = ["맥주", "술", "미술", "상품권", "노래방", "간식", "과일", "포인트충전", "그림책", "기술", " "]


@settings(max_examples=200, deadline=None)
@given(categories=st.lists(st.fixed_dictionaries({
           "code": st.sampled_from(["snacks", "meals", "books", "x1"]), "label": st.sampled_from(["간식비", "식비", "도서구입비"]),
           "allowed": st.booleans()}), max_size=4),
       code=st.sampled_from(["", "snacks", "meals", "books", "x1", "nope"]))
def test_a_category_is_refused_exactly_when_the_programme_lacks_or_forbids_it(categories, code):
    problem = R.category_problem({"expense_categories": categories}, code)
    found = next((c for c in categories if c["code"] == code), None)  # the first row with that code decides
    assert (problem is None) == (found is not None and found["allowed"])
    if problem:
        issue, message = problem
        assert issue == ("no_category" if not code else "unknown_category" if found is None else "category_not_allowed")
        assert message.endswith(".") and (not code or code not in message)  # Korean, never the internal code
        if issue == "category_not_allowed":
            assert message.startswith(found["label"])


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from(_WORDS), max_size=5), what=st.sampled_from(["품목", "지출"]))
def test_every_prohibited_item_named_gets_one_message_with_its_label_and_word(words, what):
    text = " ".join(words)
    hits = R.match_prohibited(text, _DEFAULTS)
    messages = R.prohibited_problems(text, _DEFAULTS, what=what)
    assert len(messages) == len(hits)
    for hit, message in zip(hits, messages):
        assert message == f"지원할 수 없는 {what}입니다: {hit['label']} (‘{hit['keyword']}’)"


@settings(max_examples=150, deadline=None)
@given(code=st.sampled_from(_CODES + ["", "nope"]), words=st.lists(st.sampled_from(_WORDS), max_size=4))
def test_a_budget_line_and_an_expense_are_judged_by_the_same_category_and_item_rule(code, words):
    from blueprints.applications.checks import Line, check_budget
    from blueprints.settlement.checks import ExpenseIn, Ledger, check_expense

    text = " ".join(words).strip() or "활동 물품"
    line = check_budget([Line(category=code, item=text, unit_price_won=1_000, quantity=1)], _DEFAULTS,
                        households=5, max_per_group_won=1_000_000).for_line(0)
    expense = check_expense(ExpenseIn(spent_on=date(2027, 4, 10), category=code, vendor="동네 가게", description=text,
                                      amount_won=1_000, method="clean_card", has_receipt=True),
                            _DEFAULTS, Ledger(award_won=1_000_000), activity_start=date(2027, 4, 1),
                            activity_end=date(2027, 5, 31)).issues
    category = {"no_category", "unknown_category", "category_not_allowed"}
    assert {i.code for i in line} & category == {i.code for i in expense} & category
    assert [i.message.split(": ", 1)[1] for i in line if i.code == "prohibited"] == \
           [i.message.split(": ", 1)[1] for i in expense if i.code == "prohibited"]
    # the caps are judged only for a category spending may use
    caps = {"per_hour_cap", "per_participant_cap", "share_cap", "no_hours", "no_participants", "per_day_cap"}
    if R.category_problem(_DEFAULTS, code):
        assert not {i.code for i in line + expense} & caps
