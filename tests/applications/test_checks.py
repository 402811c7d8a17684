"""Every budget and plan rule of the programme defaults, hard and warning, as pure functions."""
from datetime import date

import pytest

from blueprints.applications.checks import Line, check_budget, check_plan, check_statements, grant_limit
from blueprints.programmes.defaults import programme_fields_from_defaults

RULES = programme_fields_from_defaults()["rules"]
MAX = 1_000_000


def run(lines, households=5):
    return check_budget([Line(**l) for l in lines], RULES, households=households, max_per_group_won=MAX)


def codes(result, line=None):
    issues = result.issues if line is None else result.for_line(line)
    return {(i.level, i.code) for i in issues}


BASE = dict(category="program_fee", item="숲체험 참가비", unit_price_won=10_000, quantity=30, note="")  # 300,000


def test_a_good_budget_passes():
    result = run([BASE, dict(category="materials", item="점토", unit_price_won=5_000, quantity=20)])
    assert result.passes and result.total_won == 400_000 and result.limit_won == 600_000


def test_snack_share_cap_is_hard_above_25_percent():
    # 간식 100,000 of 400,000 = 25 % exactly: allowed (a warning above 20 %).
    at_cap = run([BASE, dict(category="snacks", item="과일", unit_price_won=5_000, quantity=20)])
    assert ("warn", "share_warn") in codes(at_cap, 1) and at_cap.passes
    # 간식 105,000 of 405,000 = 25.9 %: hard, next to the snack line.
    over = run([BASE, dict(category="snacks", item="과일", unit_price_won=5_000, quantity=21)])
    assert ("hard", "share_cap") in codes(over, 1) and not over.passes
    assert "25%" in over.for_line(1)[0].message


def test_snack_share_below_20_percent_has_no_warning():
    result = run([BASE, dict(category="snacks", item="과일", unit_price_won=3_000, quantity=20)])  # 16.7 %
    assert codes(result, 1) == set()


def test_snack_price_per_person_per_session_cap():
    result = run([BASE, dict(category="snacks", item="도시락 간식", unit_price_won=6_000, quantity=5)])
    assert ("hard", "per_participant_cap") in codes(result, 1)


def test_instructor_per_hour_cap_and_withholding_warning():
    ok = run([dict(category="instructor", item="숲 선생님", unit_price_won=50_000, quantity=2)])
    assert ("hard", "per_hour_cap") not in codes(ok, 0)
    over = run([dict(category="instructor", item="숲 선생님", unit_price_won=60_000, quantity=2)])
    assert ("hard", "per_hour_cap") in codes(over, 0)
    big = run([dict(category="instructor", item="숲 선생님", unit_price_won=50_000, quantity=3)])  # 150,000
    assert ("warn", "withholding") in codes(big, 0) and big.passes


def test_category_not_allowed_is_hard():
    result = run([BASE, dict(category="meals", item="점심", unit_price_won=8_000, quantity=10)])
    assert ("hard", "category_not_allowed") in codes(result, 1)


def test_unknown_category_is_hard():
    result = run([dict(BASE, category="casino")])
    assert ("hard", "unknown_category") in codes(result, 0)


def test_printing_share_cap_10_percent():
    result = run([BASE, dict(category="printing", item="현수막", unit_price_won=40_000, quantity=1)])  # 11.8 %
    assert ("hard", "share_cap") in codes(result, 1)


def test_category_warning_text_is_shown_not_blocking():
    result = run([BASE, dict(category="venue", item="강당 대관", unit_price_won=50_000, quantity=1)])
    assert ("warn", "category_note") in codes(result, 1) and result.passes


# '활동기간 외 지출' has no keywords: it is a date rule, judged on expenses (not plan lines).
KEYWORDED = [i for i in RULES["prohibited_items"] if i["keywords"]]


def test_only_the_date_rule_has_no_keywords():
    assert [i["label"] for i in RULES["prohibited_items"] if not i["keywords"]] == ["활동기간 외 지출"]


@pytest.mark.parametrize("item", KEYWORDED, ids=lambda i: i["label"][:12])
def test_every_prohibited_item_is_caught_in_the_item_text(item):
    keyword = item["keywords"][0]
    result = run([BASE, dict(category="materials", item=f"모임용 {keyword} 구입", unit_price_won=1_000, quantity=1)])
    assert ("hard", "prohibited") in codes(result, 1), keyword


def test_prohibited_item_in_the_note_is_caught_too():
    result = run([dict(BASE, note="뒤풀이 맥주 포함")])
    assert ("hard", "prohibited") in codes(result, 0)


def test_group_limit_by_household_tier():
    assert grant_limit(RULES, 5, MAX) == 600_000
    assert grant_limit(RULES, 7, MAX) == 800_000
    assert grant_limit(RULES, 12, MAX) == 1_000_000
    assert grant_limit(RULES, 4, MAX) == 0
    assert grant_limit(RULES, 12, 900_000) == 900_000  # never above the programme maximum
    over = run([dict(BASE, unit_price_won=10_000, quantity=61)])  # 610,000 > 600,000 for 5 households
    assert ("hard", "over_limit") in codes(over)
    assert over.for_line(0) == [] and "600,000원" in over.general()[0].message
    assert run([dict(BASE, quantity=61)], households=7).passes


def test_too_few_households_has_no_tier():
    assert ("hard", "no_tier") in codes(run([BASE], households=4))


def test_total_below_minimum_is_a_warning():
    result = run([dict(BASE, quantity=10)])  # 100,000 < 300,000
    assert ("warn", "under_min") in codes(result) and result.passes


def test_incomplete_lines_and_empty_budget():
    assert ("hard", "empty") in codes(run([]))
    result = run([dict(category="", item="", unit_price_won=0, quantity=1)])
    assert {("hard", "no_category"), ("hard", "no_item"), ("hard", "no_amount")} <= codes(result, 0)


def test_blank_rows_are_ignored_but_keep_their_place():
    result = run([dict(category="", item="", unit_price_won=0, quantity=0), dict(BASE, note="주류")])
    assert result.for_line(0) == [] and ("hard", "prohibited") in codes(result, 1)


def test_summary_by_category_in_programme_order():
    result = run([dict(category="snacks", item="과일", unit_price_won=3_000, quantity=10), BASE])
    assert [row.code for row in result.categories] == ["program_fee", "snacks"]
    assert sum(row.total for row in result.categories) == result.total_won == 330_000


def test_plan_needs_a_session_every_month():
    start, end = date(2027, 3, 25), date(2027, 10, 31)
    sessions = [dict(month=f"2027-{m:02d}", title="놀이", content="") for m in range(3, 11) if m != 7]
    result = check_plan(sessions, activity_start=start, activity_end=end)
    assert [i.code for i in result.hard] == ["missing_months"] and "7월" in result.hard[0].message
    sessions.append(dict(month="2027-07", title="물놀이", content=""))
    assert check_plan(sessions, activity_start=start, activity_end=end).passes
    sessions.append(dict(month="2027-12", title="송년회", content=""))
    assert ("hard", "outside_period") in codes(check_plan(sessions, activity_start=start, activity_end=end), len(sessions) - 1)


def test_statements_and_declaration():
    assert {i.code for i in check_statements(purpose="", need="", other_funding=None, other_funding_detail="").hard} == \
        {"no_purpose", "no_need", "no_declaration"}
    assert check_statements(purpose="a", need="b", other_funding=True, other_funding_detail="").hard[0].code == "declaration_detail"
    declared = check_statements(purpose="a", need="b", other_funding=True, other_funding_detail="구청 사업 20만원")
    assert declared.passes and declared.warnings
