"""Form pieces every domain uses: the base forms (text composed to NFC, whitespace and control characters stripped)
and one field of each kind (money, whole number, percent, date, Seoul date-time, check boxes)."""
import re
import unicodedata
from datetime import datetime, timezone

from flask_wtf import FlaskForm
from wtforms import Field, FieldList, Form, FormField, SelectMultipleField, ValidationError
from wtforms.fields import DateField, DateTimeLocalField
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from .timeutil import KST, to_kst


# Control characters (NUL above all: PostgreSQL refuses it) never belong in typed text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strip(value):
    """Typed text as stored: composed Hangul (NFC; a Mac or an iPhone can send 모임 as ten jamo,
    which sort, search, compare and print as separate letters), without control characters or
    surrounding space."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFC", _CONTROL.sub("", value)).strip()


class StripMeta:
    """Strips surrounding whitespace from every text field (indico's IndicoForm idea)."""

    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, (FieldList, FormField)):
            return unbound_field.bind(form=form, **options)  # their inner forms strip their own fields
        filters = unbound_field.kwargs.get("filters", [])
        if _strip not in filters:
            unbound_field.kwargs["filters"] = [_strip, *filters]
        return unbound_field.bind(form=form, **options)


class BaseForm(FlaskForm):
    class Meta(StripMeta):
        locales = ("ko_KR", "ko")


class BaseSubForm(Form):
    """For rows inside a FieldList (no CSRF of their own; the outer form has it)."""

    class Meta(StripMeta):
        locales = ("ko_KR", "ko")


class EmptyForm(FlaskForm):
    """For button-only POSTs: carries the CSRF token and nothing else."""


def is_confirmed() -> bool:
    """An action that cannot be undone (a submission, an approval) runs only when its POST
    carries ``confirm=1``: the first POST answers with the confirmation (the consequences and
    the numbers, templates/_macros/confirm.html) whose button sends it again with that flag."""
    from flask import request

    return request.form.get("confirm") == "1"


MOBILE_RE = re.compile(r"^01[016789]\d{7,8}$")


def mobile_number(form, field):
    digits = re.sub(r"[\s-]", "", field.data or "")
    if not digits:
        return
    if not digits.isdigit() or not MOBILE_RE.match(digits):
        raise ValidationError("휴대전화번호 형식이 올바르지 않습니다. 예: 010-1234-5678")


def password_strength(form, field):
    value = field.data or ""
    if len(value) < 8:
        raise ValidationError("비밀번호는 8자 이상이어야 합니다.")
    kinds = sum(bool(re.search(p, value)) for p in (r"[A-Za-z]", r"\d", r"[^A-Za-z\d]"))
    if kinds < 2:
        raise ValidationError("영문, 숫자, 특수문자 중 두 가지 이상을 섞어 주세요.")
    if len(value) > 128:
        raise ValidationError("비밀번호는 128자 이하로 입력해 주세요.")


# Field types -------------------------------------------------------------------------------
# Numbers are typed as text: '1,000', '1000원' and full-width digits are read; a mistake gives
# a Korean message next to the field and the typed text stays in the box. Number boxes render
# with inputmode="numeric" (the phone's number pad), never type="number" (which drops "1,000").

MAX_WON = 10_000_000_000       # 100억원: any amount above is a typing mistake
MAX_LINE_WON = 100_000_000     # one budget line, expense, refund or payment: 1억원 at most
_MONEY_RE = re.compile(r"^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)$")


def _typed(text) -> str:
    """What was typed, full-width digits and signs made plain, spaces gone."""
    return unicodedata.normalize("NFKC", "" if text is None else str(text)).strip().replace(" ", "")


def parse_won(text, *, required: bool = True, maximum: int = MAX_WON) -> int | None:
    """'1,000,000' / '1000000' / '1,000,000원' / '１０００' -> an int of 원. ValueError in Korean."""
    value = _typed(text).removesuffix("원")
    if not value:
        if required:
            raise ValueError("금액을 입력해 주세요.")
        return None
    if value.startswith("-"):
        raise ValueError("금액은 0원 이상이어야 합니다.")
    if not _MONEY_RE.match(value):
        raise ValueError("금액은 숫자로만 입력해 주세요. 예: 1,000,000")
    digits = value.replace(",", "")
    if len(digits) > 15 or int(digits) > maximum:  # (Python refuses int() of 4,300+ digits)
        raise ValueError(f"금액이 너무 큽니다. {maximum:,}원 이하로 입력해 주세요.")
    return int(digits)


def parse_percent(text, *, required: bool = True) -> float | None:
    """'25' / '25%' / '12.5' -> 0.25 / 0.125 (a fraction); 0–100 only. ValueError in Korean."""
    value = _typed(text).removesuffix("%")
    if not value:
        if required:
            raise ValueError("비율을 입력해 주세요.")
        return None
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        raise ValueError("비율은 숫자로 입력해 주세요. 예: 25 (25%)")
    number = float(value)
    if number < 0 or number > 100:
        raise ValueError("비율은 0%에서 100% 사이로 입력해 주세요.")
    return round(number / 100, 6)


def format_percent(fraction) -> str:
    """0.25 -> '25', 0.125 -> '12.5' (for inputs; add % yourself when displaying)."""
    if fraction is None:
        return ""
    return f"{round(float(fraction) * 100, 4):g}"


class _TypedText(Field):
    """A value typed as text and read by ``parse``. When it cannot be read, data is None, the
    message stops the field's other validators, and the box shows the text as typed."""

    widget = TextInput()
    input_attrs = {"inputmode": "numeric", "autocomplete": "off"}

    def __init__(self, label=None, validators=None, *, show_zero=True, **kwargs):
        kwargs["render_kw"] = {**self.input_attrs, **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)
        self.show_zero = show_zero  # a saved 0 is an answer ("없음"), unless the box means 0 when empty
        self.raw = ""
        self.parse_error = None

    def process_formdata(self, valuelist):
        self.raw = _strip(valuelist[0] if valuelist else "")
        self.parse_error = None
        try:
            self.data = self.parse(self.raw)
        except ValueError as exc:
            self.data = None
            self.parse_error = str(exc)

    def pre_validate(self, form):
        if self.parse_error:
            raise StopValidation(self.parse_error)

    def _value(self):
        if self.parse_error:
            return self.raw
        if isinstance(self.data, str):  # rows kept as typed (applications.steps.rows_from_form)
            return self.data
        if self.data is None or (self.data == 0 and not self.show_zero):
            return ""
        return self.display(self.data)


class MoneyField(_TypedText):
    """An amount in 원; data is an int, or None when left empty (unless ``required``)."""

    def __init__(self, label=None, validators=None, *, required=False, maximum=MAX_WON, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required, self.maximum = required, maximum

    def parse(self, text):
        return parse_won(text, required=self.required, maximum=self.maximum)

    def display(self, value):
        return f"{value:,}"


class NumberField(_TypedText):
    """A whole number ('1,000' and full-width digits read). An empty box is ``blank`` (None, or
    0 for counts, whose 0 then shows as an empty box again); ``minimum``/``maximum`` bound it."""

    def __init__(self, label=None, validators=None, *, blank=None, minimum=None, maximum=None, **kwargs):
        kwargs.setdefault("show_zero", blank != 0)
        super().__init__(label, validators, **kwargs)
        self.blank, self.minimum, self.maximum = blank, minimum, maximum

    def parse(self, text):
        value = _typed(text).replace(",", "")
        if not value:
            return self.blank
        if not re.fullmatch(r"-?[0-9]{1,15}", value):
            raise ValueError("숫자로 입력해 주세요." if not re.fullmatch(r"-?[0-9]+", value) else "숫자가 너무 깁니다.")
        number = int(value)
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"{self.minimum:,} 이상의 수를 입력해 주세요.")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"{self.maximum:,} 이하로 입력해 주세요.")
        return number

    display = staticmethod(str)


class PercentField(_TypedText):
    """A share typed in % ('25'); data is the fraction the rules use (0.25)."""

    input_attrs = {"inputmode": "decimal", "autocomplete": "off"}

    def __init__(self, label=None, validators=None, *, required=False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required = required

    def parse(self, text):
        return parse_percent(text, required=self.required)

    display = staticmethod(format_percent)


class _DateText:
    """Reads the box with ``pattern``: empty is None, unreadable gets the Korean ``message``."""

    def process_formdata(self, valuelist):
        text = _typed(valuelist[0] if valuelist else "")
        self.data = None
        if not text:
            return
        try:
            self.data = self.convert(datetime.strptime(text, self.pattern))
        except ValueError:
            raise ValueError(self.message) from None


class KDateField(_DateText, DateField):
    """A date (YYYY-MM-DD, as the date picker sends it)."""

    pattern, message = "%Y-%m-%d", "날짜를 '2027-03-08' 형식으로 입력해 주세요."

    def convert(self, parsed):
        return parsed.date()


class KSTDateTimeField(_DateText, DateTimeLocalField):
    """A datetime-local box read as Seoul wall-clock time; data is an aware UTC datetime."""

    pattern, message = "%Y-%m-%dT%H:%M", "날짜와 시각을 '2027-03-08T18:00' 형식으로 입력해 주세요."

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=self.pattern, **kwargs)

    def convert(self, parsed):
        return parsed.replace(tzinfo=KST).astimezone(timezone.utc)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return to_kst(self.data).strftime(self.pattern) if self.data else ""


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice drawn as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
