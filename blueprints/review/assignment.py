"""Automatic reviewer assignment (pure): N reviewers per application, never a conflicted
reviewer, the load balanced across reviewers.

The algorithm:
1. Applications with the fewest eligible reviewers go first (they have the least choice).
2. Each takes the eligible reviewers with the lowest current load (ties: lower id).
3. Then, while a reviewer carries at least two more than another who could take one of
   the new assignments instead (eligible, not already on that application), one is moved.
   Every move lowers the sum of squared loads, so this ends.

Without conflicts the loads end up differing by at most one. With conflicts, no reviewer
holds two more than another who could have taken any of their new assignments.
Assignments that already exist (made by hand, or earlier) are never moved.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plan:
    pairs: list[tuple[int, int]] = field(default_factory=list)    # (application id, reviewer id), new
    shortfall: dict[int, int] = field(default_factory=dict)       # application id -> places left empty
    loads: dict[int, int] = field(default_factory=dict)           # reviewer id -> load after the plan


def auto_assign(applications: dict[int, int], reviewers: list[int], *, on_application: dict[int, set[int]] | None = None,
                loads: dict[int, int] | None = None, blocked: set[tuple[int, int]] | None = None) -> Plan:
    """``applications``: application id -> places still to fill.
    ``on_application``: reviewers already on each application (assigned, submitted or declined).
    ``loads``: current active assignments per reviewer. ``blocked``: (application, reviewer) pairs
    with a conflict."""
    on_application = {a: set(r) for a, r in (on_application or {}).items()}
    blocked = blocked or set()
    load = {r: (loads or {}).get(r, 0) for r in reviewers}

    def eligible(app: int, reviewer: int) -> bool:
        return (app, reviewer) not in blocked and reviewer not in on_application.get(app, set())

    order = sorted((a for a, need in applications.items() if need > 0),
                   key=lambda a: (sum(eligible(a, r) for r in reviewers), a))
    new: dict[int, set[int]] = {}
    shortfall: dict[int, int] = {}
    for app in order:
        need = applications[app]
        candidates = sorted((r for r in reviewers if eligible(app, r)), key=lambda r: (load[r], r))
        chosen = candidates[:need]
        for reviewer in chosen:
            load[reviewer] += 1
            on_application.setdefault(app, set()).add(reviewer)
            new.setdefault(reviewer, set()).add(app)
        if len(chosen) < need:
            shortfall[app] = need - len(chosen)

    _rebalance(new, load, eligible, on_application)
    pairs = sorted((app, reviewer) for reviewer, apps in new.items() for app in apps)
    return Plan(pairs=pairs, shortfall=shortfall, loads=load)


def _rebalance(new, load, eligible, on_application) -> None:
    while True:
        move = _find_move(new, load, eligible)
        if move is None:
            return
        app, giver, taker = move
        new[giver].discard(app)
        new.setdefault(taker, set()).add(app)
        on_application[app].discard(giver)
        on_application[app].add(taker)
        load[giver] -= 1
        load[taker] += 1


def _find_move(new, load, eligible):
    for giver in sorted(load, key=lambda r: (-load[r], r)):
        for taker in sorted(load, key=lambda r: (load[r], r)):
            if load[giver] - load[taker] < 2:
                break
            for app in sorted(new.get(giver, ())):
                if eligible(app, taker):
                    return app, giver, taker
    return None
