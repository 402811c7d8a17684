"""Every spending rule, on the pure checker."""
from datetime import date

import pytest

from blueprints.programmes.defaults import programme_fields_from_defaults
from blueprints.settlement.checks import Ledger, biz_no_problem, check_expense, normalise_biz_no
from tests.settlement.conftest import expense_in

RULES = programme_fields_from_defaults()["rules"]
START, END = date(2027, 4, 1), date(2027, 5, 31)


def ledger(**kw):
    base = dict(award_won=800_000, planned={"materials": 300_000, "snacks": 100_000, "instructor": 200_000,
                                            "program_fee": 200_000}, member_names=["김대표", "이회계"])
    base.update(kw)
    return Ledger(**base)


def codes(e, lg=None, rules=RULES):
    result = check_expense(e, rules, lg or ledger(), activity_start=START, activity_end=END, today=date(2027, 6, 10))
    return {i.code for i in result.hard}, {i.code for i in result.warnings}


def test_a_clean_expense_passes():
    assert codes(expense_in()) == (set(), set())


@pytest.mark.parametrize("overrides, code", [
    (dict(spent_on=date(2027, 3, 31)), "outside_period"),
    (dict(spent_on=date(2027, 6, 1)), "outside_period"),
    (dict(category=""), "no_category"),
    (dict(category="meals"), "category_not_allowed"),
    (dict(category="nope"), "unknown_category"),
    (dict(description="맥주와 안주"), "prohibited"),
    (dict(description="모바일 상품권 구매"), "prohibited"),
    (dict(vendor="행복 노래방"), "prohibited"),
    (dict(method="cash", amount_won=50_000), "cash"),
    (dict(method="cash", amount_won=8_000, cash_reason=""), "cash_reason"),
    (dict(evidence_kind="simple_receipt"), "simple_receipt"),
    (dict(has_receipt=False), "no_receipt"),
    (dict(biz_no="123-45-678"), "biz_no"),
    (dict(biz_no="124-82-10325"), "biz_no"),
    (dict(amount_won=900_000, category="materials"), "over_award"),
    (dict(category="snacks", amount_won=60_000, participants=10), "per_participant_cap"),
    (dict(category="snacks", amount_won=20_000, participants=0), "no_participants"),
    (dict(category="instructor", method="transfer", vendor="박강사", amount_won=120_000, hours=2), "per_hour_cap"),
    (dict(category="instructor", method="transfer", vendor="박강사", amount_won=50_000, hours=None), "no_hours"),
    (dict(category="instructor", method="clean_card", vendor="박강사", amount_won=50_000, hours=1), "category_method"),
    (dict(category="instructor", method="transfer", vendor="김대표", amount_won=50_000, hours=1), "paid_to_member"),
    (dict(spent_on=date(2027, 6, 20)), "outside_period"),
])
def test_each_rule_blocks(overrides, code):
    hard, _ = codes(expense_in(**overrides))
    assert code in hard


def test_future_date_is_refused():
    result = check_expense(expense_in(spent_on=date(2027, 5, 20)), RULES, ledger(), activity_start=START,
                           activity_end=END, today=date(2027, 5, 1))
    assert "future_date" in {i.code for i in result.hard}


def test_cash_exception_with_reason_is_a_warning_only():
    hard, warn = codes(expense_in(method="cash", amount_won=8_000, cash_reason="카드 단말기 고장"))
    assert not hard and "cash_exception" in warn


def test_instructor_per_day_counts_earlier_payments_and_warns_on_withholding():
    lg = ledger(instructor_by_day={date(2027, 4, 10): 60_000})
    hard, _ = codes(expense_in(category="instructor", method="transfer", vendor="박강사", amount_won=50_000, hours=1), lg)
    assert "per_day_cap" in hard
    rules = {**RULES, "expense_categories": [dict(c, caps={**c["caps"], "per_day_won": 200_000, "per_hour_won": 70_000})
                                             if c["code"] == "instructor" else c for c in RULES["expense_categories"]]}
    hard, warn = codes(expense_in(category="instructor", method="transfer", vendor="박강사", amount_won=130_000, hours=2),
                       ledger(), rules)
    assert not hard and "withholding" in warn and "evidence_extra" in warn


def test_share_cap_against_the_award_and_plan_warnings():
    # 간식비 ≤ 25% of 800,000 = 200,000
    lg = ledger(spent={"snacks": 190_000})
    hard, _ = codes(expense_in(category="snacks", amount_won=20_000, participants=10), lg)
    assert "share_cap" in hard
    _, warn = codes(expense_in(category="snacks", amount_won=20_000, participants=10), ledger(spent={"snacks": 90_000}))
    assert "over_plan" in warn
    _, warn = codes(expense_in(category="venue", amount_won=20_000))
    assert "unplanned" in warn


def test_biz_no_format_and_checksum():
    assert normalise_biz_no("1248210324") == "124-82-10324"
    assert biz_no_problem("124-82-10324") is None
    assert biz_no_problem("") is None
    assert "형식" in biz_no_problem("12-345")
    assert "검증번호" in biz_no_problem("124-82-10320")
