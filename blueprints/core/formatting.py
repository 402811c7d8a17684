"""Display formats from the programme defaults: 1,000,000원, 2027. 3. 15., 010-****-1234."""
import re
from datetime import date, datetime

from markupsafe import Markup, escape

from .korean import with_particle
from .timeutil import WEEKDAYS_KO, to_kst


def won(amount) -> str:
    if amount is None:
        return "-"
    return f"{int(amount):,}원"


def kdate(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        value = to_kst(value).date()
    return f"{value.year}. {value.month}. {value.day}."


def kdatetime(value: datetime | None) -> str:
    """2027. 3. 15.(월) 18:00 in Seoul time."""
    if value is None:
        return "-"
    local = to_kst(value)
    return f"{local.year}. {local.month}. {local.day}.({WEEKDAYS_KO[local.weekday()]}) {local:%H:%M}"


def mask_phone(phone: str | None) -> str:
    if not phone:
        return "-"
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}-****-{digits[-4:]}"


def format_phone(phone: str | None) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return phone or ""


def isodt(text: str | None) -> datetime | None:
    """An ISO timestamp kept in JSON (snapshots) back to an aware datetime."""
    return datetime.fromisoformat(text) if text else None


_HANGUL_PAIR = re.compile(r"[\uac00-\ud7a3][^\s]*[\uac00-\ud7a3]|[\uac00-\ud7a3][^\s\uac00-\ud7a3]|[^\s\uac00-\ud7a3][\uac00-\ud7a3]")
_SPACES = re.compile(r"(\s+)")
KEEP_WORD_MAX = 10  # characters; a longer run without spaces may still break so it never overflows its cell


def keep_words(text) -> Markup:
    """Korean text for documents whose renderer lacks ``word-break: keep-all`` (WeasyPrint
    breaks between any two Hangul syllables: "놀이/터", "보험/료"): every word with Hangul of
    up to KEEP_WORD_MAX characters (a lone syllable cannot break: left bare, one box fewer for
    WeasyPrint to lay out) in a ``<span class="kw">`` that the stylesheet keeps whole
    (``white-space: nowrap``), so lines break between words only. Escaped like ``{{ text }}``."""
    if text is None:
        return Markup("")
    out = []
    for part in _SPACES.split(str(text)):
        if 1 < len(part) <= KEEP_WORD_MAX and _HANGUL_PAIR.search(part):   # a word that can break
            out.append(Markup('<span class="kw">%s</span>') % part)
        else:
            out.append(escape(part))
    return Markup("").join(out)


def register_filters(app):
    app.jinja_env.filters.update(
        won=won, kdate=kdate, kdatetime=kdatetime, mask_phone=mask_phone, phone=format_phone, isodt=isodt,
        keep_words=keep_words,  # PDFs: {{ e.vendor|keep_words }}
        josa=with_particle,  # {{ group.name|josa("은/는") }}
    )
