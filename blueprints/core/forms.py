"""Form pieces every domain uses."""
import re

from flask_wtf import FlaskForm
from wtforms import Form, ValidationError


# Control characters (NUL above all: PostgreSQL refuses it) never belong in typed text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strip(value):
    return _CONTROL.sub("", value).strip() if isinstance(value, str) else value


class StripMeta:
    """Strips surrounding whitespace from every text field (indico's IndicoForm idea)."""

    def bind_field(self, form, unbound_field, options):
        from wtforms import FieldList, FormField

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
