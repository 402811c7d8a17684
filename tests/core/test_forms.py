"""core.forms: one field of each kind, and every form (rows inside a FieldList too) strips
surrounding whitespace and control characters."""
from datetime import date, datetime, timezone

import pytest
from werkzeug.datastructures import MultiDict

from blueprints.core.forms import (BaseSubForm, KDateField, KSTDateTimeField, MoneyField, NumberField,
                                   PercentField)


class Fields(BaseSubForm):
    money = MoneyField("금액", maximum=1_000_000)
    required_money = MoneyField("필수 금액", required=True)
    count = NumberField("수량", blank=0, minimum=0, maximum=100)
    number = NumberField("배점")
    share = PercentField("비율")
    day = KDateField("날짜")
    at = KSTDateTimeField("시각")


def _form(**typed):
    defaults = {"required_money": "1"}
    return Fields(formdata=MultiDict({**defaults, **typed}))


@pytest.mark.parametrize("typed, expected", [
    ("1,000", 1000), ("1000원", 1000), (" 1,000 원 ", 1000), ("１，０００", 1000), ("１０００원", 1000), ("0", 0), ("", None),
])
def test_money_reads_grouped_suffixed_and_full_width_amounts(app, typed, expected):
    form = _form(money=typed)
    assert form.validate(), form.errors
    assert form.money.data == expected


@pytest.mark.parametrize("typed, message", [
    ("10만원", "금액은 숫자로만 입력해 주세요."), ("-5", "0원 이상"), ("1,00,0", "숫자로만"), ("2,000,000", "1,000,000원 이하"),
    ("9" * 5000, "1,000,000원 이하"),
])
def test_money_mistakes_get_a_korean_message_and_keep_the_typed_text(app, typed, message):
    form = _form(money=typed)
    assert not form.validate()
    assert len(form.money.errors) == 1 and message in form.money.errors[0]
    assert form.money.data is None and f'value="{typed}"' in form.money()


def test_required_money_says_so(app):
    form = _form(required_money="")
    assert not form.validate() and form.required_money.errors == ["금액을 입력해 주세요."]


def test_money_and_numbers_bring_the_number_pad_not_a_number_box(app):
    form = _form(money="1000", count="3")
    for field in (form.money, form.count, form.number):
        html = field()
        assert 'inputmode="numeric"' in html and 'type="text"' in html
    assert 'inputmode="decimal"' in form.share()
    assert 'value="1,000"' in form.money()


@pytest.mark.parametrize("typed, count, number", [("", 0, None), ("1,000", None, 1000), ("０７", 7, 7), ("12", 12, 12)])
def test_numbers_read_commas_and_full_width_digits(app, typed, count, number):
    form = _form(count=typed if count is not None else "", number=typed)
    assert form.validate(), form.errors
    assert form.number.data == number
    if count is not None:
        assert form.count.data == count


@pytest.mark.parametrize("typed, message", [("열", "숫자로 입력해 주세요."), ("-1", "0 이상의 수를 입력해 주세요."),
                                            ("101", "100 이하로 입력해 주세요."), ("9" * 5000, "숫자가 너무 깁니다."),
                                            ("²", None)])
def test_number_mistakes_get_one_korean_message(app, typed, message):
    form = _form(count=typed)
    if message is None:   # '²' is read as 2 (it used to pass isdigit() and then fail int())
        assert form.validate() and form.count.data == 2
        return
    assert not form.validate() and form.count.errors == [message]
    assert f'value="{typed}"' in form.count()


def test_a_count_of_zero_shows_as_an_empty_box_other_numbers_keep_it(app):
    form = Fields(data={"count": 0, "number": 0, "money": 0})
    assert 'value=""' in form.count() and 'value="0"' in form.number() and 'value="0"' in form.money()


def test_percent_is_the_fraction(app):
    form = _form(share="12.5%")
    assert form.validate() and form.share.data == 0.125
    bad = _form(share="150")
    assert not bad.validate() and bad.share.errors == ["비율은 0%에서 100% 사이로 입력해 주세요."]


def test_dates_and_seoul_times(app):
    form = _form(day="2027-03-08", at="2027-03-08T18:00")
    assert form.validate(), form.errors
    assert form.day.data == date(2027, 3, 8)
    assert form.at.data == datetime(2027, 3, 8, 9, 0, tzinfo=timezone.utc)
    bad = _form(day="2027-02-30", at="내일")
    assert not bad.validate()
    assert bad.day.errors == ["날짜를 '2027-03-08' 형식으로 입력해 주세요."]
    assert bad.at.errors == ["날짜와 시각을 '2027-03-08T18:00' 형식으로 입력해 주세요."]


def test_rows_of_groups_and_programmes_drop_control_characters(app):
    """The household rows of the group registration and the programme editor's rows used a
    Meta of their own that stripped spaces but kept NUL (which PostgreSQL refuses)."""
    from blueprints.groups.forms import HouseholdForm
    from blueprints.programmes.forms import ProhibitedItemForm

    household = HouseholdForm(formdata=MultiDict({"parent_name": " 김\x00철수\x07 "}))
    assert household.parent_name.data == "김철수"
    row = ProhibitedItemForm(formdata=MultiDict({"label": "\x00주류 ", "keywords": "술,\x1b맥주"}))
    assert (row.label.data, row.keywords.data) == ("주류", "술,맥주")


def test_decomposed_hangul_is_stored_composed(app):
    """A name typed on a Mac arrives as jamo (NFD): stored as typed, it sorted and compared as
    other text, missed the duplicate-name check and printed as separate letters in Excel."""
    import unicodedata

    from blueprints.groups.forms import HouseholdForm

    typed = unicodedata.normalize("NFD", " 김철수 ")
    assert len(typed) > 5
    household = HouseholdForm(formdata=MultiDict({"parent_name": typed}))
    assert household.parent_name.data == "김철수"
    form = _form(money=unicodedata.normalize("NFD", "1,000원"))
    assert form.validate() and form.money.data == 1000
