"""The Seoul-level preset a new programme starts from (data/programme-defaults.yaml)."""
from copy import deepcopy
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from blueprints.core.timeutil import parse_kst

from .rules import normalise_rules

DEFAULTS_FILE = Path(__file__).resolve().parents[2] / "data" / "programme-defaults.yaml"


@lru_cache(maxsize=1)
def _load() -> dict:
    with DEFAULTS_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def programme_defaults() -> dict:
    return deepcopy(_load())


def programme_fields_from_defaults(defaults: dict | None = None) -> dict:
    """Column values of a Programme built from the preset; everything else stays in rules."""
    d = defaults or programme_defaults()
    p = d["programme"]
    review = p.get("review_period") or {}
    return dict(
        title=p["title"],
        year=int(str(p["activity_period"]["start"])[:4]),
        operator=p["operator"],
        opens_at=parse_kst(p["application_window"]["opens"]),
        closes_at=parse_kst(p["application_window"]["closes"]),
        review_from=_as_date(review.get("from")),
        review_to=_as_date(review.get("to")),
        activity_start=_as_date(p["activity_period"]["start"]),
        activity_end=_as_date(p["activity_period"]["end"]),
        settlement_due=_as_date(p["settlement_due"]),
        budget_total_won=int(p["budget_total_won"]),
        max_per_group_won=int(d["grant"]["max_per_group_won"]),
        rules=normalise_rules(_jsonable(d)),
    )


def _as_date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _jsonable(value):
    """YAML gives dates; the JSON column wants strings."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
