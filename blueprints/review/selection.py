"""The selection simulator (pure): proposed amounts and filling the budget by rank.

proposed = min(requested, the household tier's limit, the programme's maximum), rounded
down to the rounding unit (만원). The budget is filled in rank order: an application that
passes gets its proposed amount when it still fits (and its 자치구 is under the quota);
one that does not fit is skipped with a note and the next may still fit.
"""
from __future__ import annotations

from dataclasses import dataclass


def tier_limit(households: int, tiers: list[dict]) -> int | None:
    """The tier's max_won for this many households; None when no tier is set; 0 when below every tier."""
    if not tiers:
        return None
    for tier in tiers:
        low, high = int(tier["min_households"]), tier.get("max_households")
        if households >= low and (high is None or households <= int(high)):
            return int(tier["max_won"])
    return 0


def proposed_amount(requested: int, households: int, tiers: list[dict], programme_max: int, unit: int = 10_000) -> int:
    limits = [requested, programme_max]
    tier = tier_limit(households, tiers)
    if tier is not None:
        limits.append(tier)
    cap = max(0, min(limits))
    unit = max(1, int(unit or 1))
    return cap // unit * unit


@dataclass
class Candidate:
    application_id: int
    rank: int
    passes: bool
    proposed_won: int
    district: str = ""


@dataclass
class Decision:
    application_id: int
    selected: bool
    amount_won: int
    note: str = ""


def simulate(candidates: list[Candidate], budget: int, *, quota_per_district: int | None = None) -> list[Decision]:
    """Fill ``budget`` in rank order. Never selects more than the budget allows."""
    remaining = budget
    per_district: dict[str, int] = {}
    decisions = []
    for c in sorted(candidates, key=lambda c: c.rank):
        if not c.passes:
            decisions.append(Decision(c.application_id, False, c.proposed_won, "합격점 미달 또는 부적격"))
            continue
        if c.proposed_won <= 0:
            decisions.append(Decision(c.application_id, False, c.proposed_won, "지원 가능 금액 없음"))
            continue
        if quota_per_district is not None and per_district.get(c.district, 0) >= quota_per_district:
            decisions.append(Decision(c.application_id, False, c.proposed_won, f"{c.district} 할당({quota_per_district}개) 초과"))
            continue
        if c.proposed_won > remaining:
            decisions.append(Decision(c.application_id, False, c.proposed_won, "예산 잔액 부족"))
            continue
        remaining -= c.proposed_won
        per_district[c.district] = per_district.get(c.district, 0) + 1
        decisions.append(Decision(c.application_id, True, c.proposed_won, ""))
    return decisions


def check_amount(amount: int, cap: int, unit: int) -> str | None:
    """Why a staff-typed award amount is not acceptable (None = fine)."""
    if amount <= 0:
        return "선정하려면 0원보다 큰 금액이어야 합니다."
    if amount > cap:
        return f"지원 한도({cap:,}원)를 넘을 수 없습니다."
    if unit and amount % unit:
        return f"{unit:,}원 단위로 입력해 주세요."
    return None
