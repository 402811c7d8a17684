"""The amount to return (반환액), to the 원: payments received + interest − recognised spending
(지방보조금법 제31조②; groups return interest too). Pure, so it can be property-tested.

Recognised spending can never exceed what was paid out: a group that spent more than it
received is recognised up to the payments, and never gets a negative refund. When the
programme sets ``settlement.refund_truncate_10won`` the refund drops amounts under 10원
(지방회계법 제55조); by default it is exact to the 원.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RefundFigures:
    paid_won: int            # payments received (교부받은 금액)
    interest_won: int        # interest earned on the grant account (발생이자)
    spent_won: int           # everything the group recorded
    recognised_won: int      # 인정액, capped at paid_won
    not_recognised_won: int  # 불인정액
    unspent_won: int         # 집행잔액 = paid − recognised
    refund_won: int          # 반환액 = unspent + interest (truncated when the programme says so)
    truncated_won: int       # what the 10원 rule dropped (0 when off)


def compute_refund(*, paid_won: int, interest_won: int, spent_won: int, recognised_lines_won: int,
                   truncate_10won: bool = False) -> RefundFigures:
    for name, value in (("paid_won", paid_won), ("interest_won", interest_won),
                        ("spent_won", spent_won), ("recognised_lines_won", recognised_lines_won)):
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    recognised = min(recognised_lines_won, paid_won)
    unspent = paid_won - recognised
    exact = unspent + interest_won
    refund = exact - exact % 10 if truncate_10won else exact
    return RefundFigures(paid_won=paid_won, interest_won=interest_won, spent_won=spent_won,
                         recognised_won=recognised, not_recognised_won=max(spent_won - recognised_lines_won, 0),
                         unspent_won=unspent, refund_won=refund, truncated_won=exact - refund)


def truncate_setting(rules: dict) -> bool:
    return bool(((rules or {}).get("settlement") or {}).get("refund_truncate_10won", False))


def depositor_name(group_name: str, leader_name: str, rules: dict | None = None) -> str:
    """'모임명(대표자명)' — the name the refund transfer must carry."""
    pattern = ((rules or {}).get("settlement") or {}).get("refund_depositor_name") or "{모임명}({대표자명})"
    return pattern.replace("{모임명}", group_name).replace("{대표자명}", leader_name)
