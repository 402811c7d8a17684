"""What the search boxes mean by "contains": the same answer on SQLite and PostgreSQL.

Korean text arrives in more than one shape: composed (NFC) or decomposed into jamo (NFD, as a
Mac's file names and some keyboards send it), with or without the spaces people put in names
("햇살 품앗이" / "햇살품앗이"), and 동 written as the administrative dong ("망원1동") or as the
everyday name ("망원동"). A search compares *keys*, not the text:

- ``search_key(*texts)`` — what a row is found by, stored in a ``search_key`` column
  (``SearchKeyed``) and kept current on every ORM write: each text in NFC, lower-cased, without
  spacing or control characters; a numbered dong also under its everyday name ("망원1동" →
  "망원1동 망원동"). The texts are joined by a space, which a typed key never holds, so a match
  never runs from one text into the next.
- ``typed_key(typed)`` — what was typed, the same way (without the dong variants).
- ``matches(typed, column)`` — the column's key contains the typed key: a plain LIKE, with %, _
  and \\ matched as the characters typed. Both databases compare the keys byte for byte (both
  sides are lower-cased in Python, so neither SQLite's ASCII-only ``lower()`` nor PostgreSQL's
  case-sensitive LIKE matters), and on PostgreSQL a pg_trgm GIN index serves the LIKE.

So "망원동" finds 망원1동 and 망원2동, "망원1동" only 망원1동; "햇살 품앗이" finds "햇살품앗이" and
the reverse; a decomposed "모임" finds "모임".
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import Index, String, event, false, func, or_, true
from sqlalchemy.orm import Mapped, mapped_column

# A key longer than this can't be inside any stored key's part (names ≤ 60, e-mail ≤ 254).
MAX_TYPED = 300
KEY_LENGTH = 1000

# The number of an administrative dong, before its 동: 망원1동, 상계3·4동, 성수1가1동, 종로1·2·3·4가동.
_DONG_NUMBER = re.compile(r"(?<=[가-힣])[0-9]+(?:[·.,‧ㆍ][0-9]+)*(?:가[0-9]*)?(?=동(?![가-힣]))")


def _drop(ch: str) -> bool:
    """Spacing and invisible characters: whitespace, control and format characters (zero-width
    space, BOM, bidi marks), none of which a person means as part of a name."""
    return ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"}


def _squeeze(text: str) -> str:
    return "".join(ch for ch in text if not _drop(ch))


def _normal(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "").lower()


def typed_key(typed: str | None) -> str:
    """What a person typed, as it is compared: NFC, lower case, no spacing or control characters."""
    return _squeeze(_normal(typed))


def text_keys(text: str | None) -> list[str]:
    """The keys one stored text is found by: itself, and with a dong's number dropped."""
    normal = _normal(text)
    keys = [_squeeze(normal)]
    everyday = _squeeze(_DONG_NUMBER.sub("", normal))
    if everyday not in keys:
        keys.append(everyday)
    return [k for k in keys if k]


def search_key(*texts: str | None) -> str:
    keys: list[str] = []
    for text in texts:
        keys += [k for k in text_keys(text) if k not in keys]
    return " ".join(keys)[:KEY_LENGTH]


def escape_like(key: str) -> str:
    return key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches(typed: str | None, column):
    """The condition "the key column contains what was typed". Nothing typed (or only spaces)
    matches every row; something longer than any stored text matches none."""
    key = typed_key(typed)
    if not key:
        return true()
    if len(key) > MAX_TYPED:
        return false()
    return column.like(f"%{escape_like(key)}%", escape="\\")


def contains_text(typed: str | None, *columns):
    """For a column without a search key: rows where any column contains what was typed (NFC,
    without control characters, case ignored for ASCII on both databases' ``lower()``), with %,
    _ and \\ literal. Spacing and dong numbers are not ignored here; a searched model should be
    ``SearchKeyed`` and use ``matches()``."""
    typed = "".join(ch for ch in _normal(typed).strip() if not unicodedata.category(ch).startswith("C"))
    if not typed:
        return true()
    if len(typed) > MAX_TYPED:
        return false()
    return or_(*(func.lower(column).like(f"%{escape_like(typed)}%", escape="\\") for column in columns))


class SearchKeyed:
    """A model found by a search box: ``search_fields`` names the attributes it is found by;
    ``search_key`` is recomputed from them whenever the row is inserted or updated through the
    ORM (a bulk load computes it with ``search_key()`` itself, as bench/seed.py does)."""

    search_fields: tuple[str, ...] = ()
    search_key: Mapped[str] = mapped_column(String(KEY_LENGTH), nullable=False, default="", server_default="")

    def refresh_search_key(self) -> None:
        self.search_key = search_key(*(getattr(self, name) for name in self.search_fields))


def trigram_index(table: str) -> Index:
    """The index that serves ``matches()`` on PostgreSQL: pg_trgm GIN over the key, which a
    LIKE '%…%' of three characters or more can use (Korean syllables are trigram characters
    under a UTF-8 ctype). SQLite has no such index and scans the key column instead; the
    index exists only on PostgreSQL (``ddl_if``, and ``extensions.include_object`` for the migrations)."""
    return Index(f"ix_{table}_search_key_trgm", "search_key", postgresql_using="gin",
                 postgresql_ops={"search_key": "gin_trgm_ops"}).ddl_if(dialect="postgresql")


@event.listens_for(SearchKeyed, "before_insert", propagate=True)
@event.listens_for(SearchKeyed, "before_update", propagate=True)
def _keep_key_current(mapper, connection, target):
    target.refresh_search_key()
