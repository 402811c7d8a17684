"""Eligibility rules as plain functions: 만 나이 from a birth year-month, and the verdict."""
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st

from blueprints.groups.eligibility import (Candidate, Household, Rules, districts_in_scope, evaluate, man_age,
                                           parse_birth_ym, rules_from_programme)
from blueprints.programmes.defaults import programme_fields_from_defaults

reference_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
months = st.integers(min_value=1, max_value=12)


def oracle_age(year: int, month: int, at: date) -> int:
    """Completed years counted one birthday at a time, the birthday being the 1st of the month."""
    if date(year, month, 1) > at:
        return -1
    age = 0
    while date(year + age + 1, month, 1) <= at:
        age += 1
    return age


@given(at=reference_dates, year_offset=st.integers(min_value=0, max_value=15), month=months)
def test_man_age_matches_counting_birthdays(at, year_offset, month):
    year = at.year - year_offset
    assert man_age(f"{year:04d}-{month:02d}", at) == oracle_age(year, month, at)


@given(at=reference_dates)
def test_born_in_the_same_month_six_years_earlier_is_six_and_counts(at):
    """Whatever the day of the reference date, a child born in that month six years before is
    만 6세 (we take the 1st as the birthday) — still inside 만 0~6."""
    assert man_age((at.year - 6, at.month), at) == 6
    assert man_age((at.year - 7, at.month), at) == 7


@given(at=reference_dates)
def test_one_month_later_is_a_year_younger(at):
    """Born in the month after the reference month, six years earlier: not yet 6 (the birthday is
    still to come); seven years earlier: still 6 and so still eligible."""
    year, month = (at.year - 6, at.month + 1) if at.month < 12 else (at.year - 5, 1)
    assert man_age((year, month), at) == 5
    assert man_age((year - 1, month), at) == 6


@given(at=reference_dates, month=months, year_offset=st.integers(min_value=0, max_value=10),
       days=st.integers(min_value=0, max_value=800))
def test_age_never_goes_down_as_time_passes(at, month, year_offset, days):
    birth = (at.year - year_offset, month)
    assert man_age(birth, at + timedelta(days=days)) >= man_age(birth, at)


@given(year=st.integers(min_value=2000, max_value=2096).filter(lambda y: y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)))
def test_leap_day_reference(year):
    """A programme starting on 29 February: the February-born six years before are 6, the
    March-born seven years before are 6 too, the February-born seven years before are 7."""
    at = date(year, 2, 29)
    assert man_age((year - 6, 2), at) == 6
    assert man_age((year - 7, 3), at) == 6
    assert man_age((year - 7, 2), at) == 7
    assert man_age((year - 6, 3), at) == 5


def test_not_yet_born_is_negative():
    assert man_age("2027-04", date(2027, 3, 25)) == -1
    assert man_age("2027-03", date(2027, 3, 1)) == 0


@pytest.mark.parametrize("text, expected", [
    ("2024-05", (2024, 5)), ("2024.5", (2024, 5)), ("2024. 5.", (2024, 5)), ("202405", (2024, 5)),
    ("2024년 5월", (2024, 5)), (" 2024-12 ", (2024, 12)),
    ("2024-13", None), ("2024-00", None), ("24-05", None), ("2024-05-03", None), ("", None), (None, None),
])
def test_parse_birth_ym(text, expected):
    assert parse_birth_ym(text) == expected


# The verdict -----------------------------------------------------------------------------

RULES = Rules(programme_title="2027년 공동육아 자조모임 지원사업", reference_date=date(2027, 3, 25))


def household(n, birth="2024-05", role="member", phone=None, district="마포구"):
    return Household(parent_name=f"보호자{n}", phone=phone or f"0101234{n:04d}", role=role, birth_yms=(birth,),
                     district=district)


def five_households(**overrides):
    rows = [household(0, role="leader"), household(1, role="treasurer")] + [household(n) for n in range(2, 5)]
    return Candidate(district=overrides.get("district", "마포구"), households=tuple(overrides.get("rows", rows)),
                     consent_provision=overrides.get("consent", True))


def test_five_households_with_young_children_in_seoul_meet_every_rule():
    result = evaluate(five_households(), RULES)
    assert result.ok, [c.message for c in result.missing]
    assert result.counted_households == 5


def test_four_households_are_one_short_and_it_says_so():
    rows = [household(0, role="leader"), household(1, role="treasurer"), household(2), household(3)]
    result = evaluate(five_households(rows=rows), RULES)
    assert not result.ok
    check = result.check("households")
    assert not check.ok
    assert "1가구가 더 있어야 합니다" in check.message


def test_a_household_whose_only_child_is_seven_is_not_counted_and_named():
    rows = list(five_households().households)
    rows[4] = household(4, birth="2020-03")  # 만 7세 on 2027-03-25 (born 2020-03-01 at the latest guess)
    result = evaluate(five_households(rows=rows), RULES)
    assert result.counted_households == 4
    assert not result.check("child_age").ok
    assert any("보호자4 가구" in line and "만 7세" in line for line in result.check("child_age").details)


def test_a_second_child_in_range_makes_the_household_count():
    rows = list(five_households().households)
    rows[4] = Household(parent_name="보호자4", phone="01012340004", birth_yms=("2019-01", "2023-02"), district="마포구")
    assert evaluate(five_households(rows=rows), RULES).ok


def test_district_outside_the_scope():
    rules = Rules(programme_title="마포구 사업", reference_date=date(2027, 3, 25), scope="마포구")
    assert evaluate(five_households(district="마포구"), rules).check("district").ok
    result = evaluate(five_households(district="은평구"), rules)
    assert not result.check("district").ok
    assert "은평구는 사업 대상 지역(마포구)이 아닙니다" in result.check("district").message
    assert not evaluate(five_households(district=""), RULES).check("district").ok
    assert len(districts_in_scope("서울특별시")) == 25


def test_treasurer_missing_or_same_person_as_leader():
    rows = [household(0, role="leader")] + [household(n) for n in range(1, 5)]
    assert "회계" in evaluate(five_households(rows=rows), RULES).check("officers").message
    same = [household(0, role="leader"), household(1, role="treasurer", phone="01012340000")] + \
        [household(n) for n in range(2, 5)]
    result = evaluate(five_households(rows=same), RULES)
    assert not result.check("officers").ok
    assert "서로 다른 사람" in result.check("officers").message


def test_provision_consent_is_not_a_rule_but_a_note_for_applying():
    result = evaluate(five_households(consent=False), RULES)
    assert result.ok
    assert result.notes == ["모임 등록은 할 수 있지만, 공모사업에 신청하려면 '자치구·서울시 제공' 동의가 필요합니다."]
    assert evaluate(five_households(consent=True), RULES).notes == []


def test_too_many_households():
    rows = [household(0, role="leader"), household(1, role="treasurer")] + [household(n) for n in range(2, 17)]
    result = evaluate(five_households(rows=rows), RULES)
    assert not result.check("max_households").ok
    assert "2가구를 줄이거나" in result.check("max_households").message


def test_rules_are_read_from_the_programme_data():
    fields = programme_fields_from_defaults()
    fields["rules"]["eligibility"]["min_households"] = 3
    fields["rules"]["eligibility"]["residency"]["scope"] = "서초구"
    fields["rules"]["eligibility"]["child_age_rule"]["option_elementary"]["enabled"] = True
    programme = SimpleNamespace(title=fields["title"], activity_start=fields["activity_start"], rules=fields["rules"])
    rules = rules_from_programme(programme)
    assert (rules.min_households, rules.max_age, rules.scope) == (3, 12, "서초구")
    assert rules.reference_date == date(2027, 3, 25)
    assert rules.min_resident_share == 1.0
    rows = [household(0, role="leader", birth="2016-05", district="서초구"), household(1, role="treasurer", district="서초구"),
            household(2, district="서초구")]
    assert evaluate(Candidate(district="서초구", households=tuple(rows), consent_provision=True), rules).ok
    # In a 서초구 programme a 마포구 household is not resident (the rule's area, not Seoul).
    rows[2] = household(2, district="마포구")
    result = evaluate(Candidate(district="서초구", households=tuple(rows), consent_provision=True), rules)
    assert result.check("residency").message == "서초구 거주 가구가 3가구 중 2가구(66%)로, 최소 100%에 못 미칩니다."


# Residency: "거주 가구 최소 비율" ------------------------------------------------------------

def living(*districts, scope="서울특별시", share=0.5):
    """A group whose households live in ``districts`` ("" = not recorded), judged by the rule."""
    rows = [household(0, role="leader", district=districts[0]), household(1, role="treasurer", district=districts[1])]
    rows += [household(n, district=d) for n, d in enumerate(districts[2:], start=2)]
    rules = Rules(programme_title="사업", reference_date=date(2027, 3, 25), scope=scope, min_resident_share=share)
    return evaluate(Candidate(district="마포구", households=tuple(rows), consent_provision=True), rules).check("residency")


def test_exactly_the_minimum_share_passes_and_one_household_fewer_fails():
    # 50 %: 2 of 4 living in Seoul is exactly the minimum; 1 of 4 is one household short.
    at_minimum = living("마포구", "은평구", "서울 밖", "서울 밖")
    assert at_minimum.ok
    assert at_minimum.message == "서울특별시 거주 가구가 4가구 중 2가구(50%)로, 최소 50% 요건을 충족합니다."
    below = living("마포구", "서울 밖", "서울 밖", "서울 밖")
    assert not below.ok
    assert below.message == "서울특별시 거주 가구가 4가구 중 1가구(25%)로, 최소 50%에 못 미칩니다."
    assert below.details == ["서울특별시 밖에 사는 가구: 보호자1, 보호자2, 보호자3"]


def test_seventy_per_cent_is_compared_exactly_not_in_floating_point():
    # 0.7 as a float is 0.69999…; 7 of 10 must pass and 6 of 10 must not.
    seven = ["마포구"] * 7 + ["서울 밖"] * 3
    assert living(*seven, share=0.7).ok
    assert not living(*(["마포구"] * 6 + ["서울 밖"] * 4), share=0.7).ok
    # 2 of 3 against 2/3 typed as 66.6667 %: 66.6667 % > 2/3, so short by a hair, and said so.
    result = living("마포구", "마포구", "서울 밖", share=0.666667)
    assert not result.ok and "3가구 중 2가구(66%)로, 최소 66.6667%에 못 미칩니다" in result.message


def test_the_share_shown_is_rounded_down_so_a_short_group_never_reads_as_meeting_the_minimum():
    # 16 of 23 is 69.57 %: shown as 69 %, not 70 %, against a 70 % minimum.
    result = living(*(["강남구"] * 16 + ["서울 밖"] * 7), share=0.7)
    assert not result.ok
    assert "23가구 중 16가구(69%)로, 최소 70%에 못 미칩니다" in result.message
    # 1 of 3 (33.3 %) is shown as 33 %, as the example says.
    assert "3가구 중 1가구(33%)로, 최소 50%에 못 미칩니다" in living("마포구", "서울 밖", "서울 밖").message


def test_households_without_a_district_count_as_not_resident_and_are_named():
    result = living("마포구", "", "은평구", "", share=0.5)
    assert result.ok  # 2 of 4 still meets 50 %
    assert result.details == ["거주 자치구를 입력해 주세요: 보호자1, 보호자3 가구"]
    strict = living("마포구", "", "은평구", "", share=1.0)
    assert not strict.ok
    assert strict.message == "서울특별시 거주 가구가 4가구 중 2가구(50%)로, 최소 100%에 못 미칩니다."


def test_a_group_with_no_district_recorded_is_asked_for_them_not_silently_failed():
    result = living("", "", "", "", "", share=0.7)
    assert not result.ok
    assert result.message.startswith("거주 자치구를 입력해 주세요.")
    assert "최소 70%" in result.message
    assert result.details == ["거주 자치구가 없는 가구: 보호자0, 보호자1, 보호자2, 보호자3, 보호자4"]


def test_a_programme_without_a_minimum_does_not_ask_for_districts():
    result = living("", "", "", share=0)
    assert result.ok and result.message == "이 사업은 거주 가구 비율을 따지지 않습니다." and result.details == []


@given(total=st.integers(min_value=1, max_value=30), data=st.data(),
       percent=st.integers(min_value=0, max_value=100))
def test_residency_passes_exactly_when_resident_times_100_reaches_the_percent(total, data, percent):
    resident = data.draw(st.integers(min_value=0, max_value=total))
    districts = ["마포구"] * resident + ["서울 밖"] * (total - resident)
    districts += ["마포구"] * max(0, 2 - total)  # the helper needs two officers' rows
    check = living(*districts[:max(total, 2)], share=percent / 100)
    rows = max(total, 2)
    counted = resident + max(0, 2 - total)
    assert check.ok == (counted * 100 >= percent * rows)
    if not check.ok:
        shown = int(re.search(r"\((\d+)%\)", check.message).group(1))
        assert shown < percent  # never reads as meeting the minimum


@pytest.mark.parametrize("scope", ["서울특별시 마포구", "서울시 마포구", "마포구 서대문구", "마포구,서대문구", " 마포구 "])
def test_a_scope_written_with_the_city_or_spaces_names_its_districts(scope):
    """The programme's 거주 지역 is typed by staff: '서울특별시 마포구' means 마포구, not a district
    nobody lives in (every group was refused at submission)."""
    from blueprints.groups.eligibility import districts_in_scope

    assert "마포구" in districts_in_scope(scope) and "은평구" not in districts_in_scope(scope)
    assert living("마포구", "마포구", scope=scope, share=1.0).ok
    assert not living("마포구", "은평구", scope=scope, share=1.0).ok


def test_a_scope_naming_no_district_is_found_out():
    from blueprints.groups.eligibility import SEOUL_DISTRICTS, districts_in_scope, unknown_scope_parts

    assert districts_in_scope("서울특별시") == SEOUL_DISTRICTS == districts_in_scope("서울")
    assert unknown_scope_parts("서울특별시 마포구, 서대문구") == []
    assert unknown_scope_parts("마포, 서대문구") == ["마포"]
    assert unknown_scope_parts("경기도") == ["경기도"]


def test_a_passing_share_is_never_written_below_the_minimum():
    """2 of 3 (66.666…%) meets a minimum typed as 66.66 %: the message must not read
    '66.6%, 최소 66.66% 요건을 충족합니다' (a share below the minimum that passes)."""
    result = living("마포구", "마포구", "서울 밖", share=0.6666)
    assert result.ok
    assert "3가구 중 2가구(66.66%)로, 최소 66.66% 요건을 충족합니다" in result.message
    assert "3가구 중 2가구(66%)로, 최소 50%" in living("마포구", "마포구", "서울 밖", share=0.5).message
