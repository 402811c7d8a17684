"""The centre's view (센터 현황): the programme by 자치구 in numbers — a read model of plain
functions, a constant number of grouped queries whatever the number of groups.

Every figure is defined as the lists and exports define it, so the totals agree with them:

- 등록 모임: the groups of the 자치구, any state — what the group list (``/groups/?district=``)
  and its export count; 센터/나눔터/기타 by ``Group.affiliation``.
- 제출 신청: applications that reached staff (``ApplicationState.lodged()``: submitted and
  everything after it but a withdrawal) — the application list's status counts summed.
- 선정: ``ApplicationState.selected``.
- 교부결정액: ``Award.amount_won``; 교부액: ``Disbursement.paid_won`` (the payments made); 집행액: every
  expense line of the award (as the settlement's 집행액); 인정액 and 반환액: the approved
  settlement's ``recognised_won`` and ``refund_due_won`` (the settlement export's columns).
- 집행률: 집행액 / 교부액 (None while nothing is paid).
- 정산 by state: one count per ``SettlementState``.

Filters: one programme, the programmes of a year, one 자치구 (then the table has that row only).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from sqlalchemy import func, select

from blueprints.applications.models import Application, ApplicationState
from blueprints.awards.models import Award
from blueprints.disbursement.models import Disbursement
from blueprints.groups.models import Group, GroupAffiliation
from blueprints.programmes.models import Programme
from blueprints.settlement.models import Expense, Settlement, SettlementState
from data.districts import SEOUL_DISTRICTS
from extensions import db

SETTLEMENT_STATES = tuple(SettlementState)


@dataclass
class DistrictRow:
    district: str
    groups: int = 0
    centre: int = 0
    sharing: int = 0
    other: int = 0
    submitted: int = 0
    selected: int = 0
    awarded_won: int = 0
    paid_won: int = 0
    spent_won: int = 0
    recognised_won: int = 0
    refund_won: int = 0
    settlements: dict = field(default_factory=lambda: {s.value: 0 for s in SETTLEMENT_STATES})

    @property
    def execution_rate(self) -> float | None:
        """집행률 in percent (one decimal), None while nothing is paid."""
        return round(100 * self.spent_won / self.paid_won, 1) if self.paid_won else None

    def add(self, other: "DistrictRow") -> None:
        for f in fields(self):
            if f.name == "district":
                continue
            if f.name == "settlements":
                for key, value in other.settlements.items():
                    self.settlements[key] = self.settlements.get(key, 0) + value
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


TOTAL_LABEL = "합계"


@dataclass(frozen=True)
class Filters:
    programme_id: int | None = None
    year: int | None = None
    district: str | None = None

    def programme_ids(self):
        """A subquery of the programmes in scope, or None for every programme."""
        if self.programme_id is None and self.year is None:
            return None
        stmt = select(Programme.id)
        if self.programme_id is not None:
            stmt = stmt.where(Programme.id == self.programme_id)
        if self.year is not None:
            stmt = stmt.where(Programme.year == self.year)
        return stmt

    def scope(self, stmt, programme_column):
        ids = self.programme_ids()
        if ids is not None:
            stmt = stmt.where(programme_column.in_(ids))
        if self.district:
            stmt = stmt.where(Group.district == self.district)
        return stmt


def _award_scope(stmt, filters: Filters):
    """Join award → application → group and apply the filters."""
    stmt = (stmt.join(Application, Application.id == Award.application_id)
            .join(Group, Group.id == Application.group_id))
    return filters.scope(stmt, Award.programme_id)


def district_table(programme_id: int | None = None, year: int | None = None,
                   district: str | None = None) -> tuple[list[DistrictRow], DistrictRow]:
    """(rows, totals): one row per 자치구 (Seoul's 25 in their order, then any other found in
    the data), and the 합계 row. Six queries whatever the data size."""
    filters = Filters(programme_id, year, district or None)
    rows: dict[str, DistrictRow] = {}

    def row(name: str) -> DistrictRow:
        if name not in rows:
            rows[name] = DistrictRow(name)
        return rows[name]

    # 1. groups by 자치구 and affiliation
    groups = select(Group.district, Group.affiliation, func.count(Group.id)).group_by(Group.district, Group.affiliation)
    if filters.district:
        groups = groups.where(Group.district == filters.district)
    for name, affiliation, n in db.session.execute(groups):
        r = row(name)
        r.groups += n
        key = affiliation if GroupAffiliation.known(affiliation) else GroupAffiliation.other.value
        setattr(r, key, getattr(r, key) + n)

    # 2. applications by 자치구 and state
    apps = filters.scope(select(Group.district, Application.status, func.count(Application.id))
                         .join(Group, Group.id == Application.group_id), Application.programme_id)
    lodged = ApplicationState.lodged()
    for name, status, n in db.session.execute(apps.group_by(Group.district, Application.status)):
        r = row(name)
        if status in lodged:
            r.submitted += n
        if status == ApplicationState.selected:
            r.selected += n

    # 3. awards
    awards = _award_scope(select(Group.district, func.coalesce(func.sum(Award.amount_won), 0)), filters)
    for name, amount in db.session.execute(awards.group_by(Group.district)):
        row(name).awarded_won += int(amount)

    # 4. payments made
    paid = _award_scope(select(Group.district, func.coalesce(func.sum(Disbursement.paid_won), 0))
                        .select_from(Disbursement).join(Award, Award.id == Disbursement.award_id), filters)
    for name, amount in db.session.execute(paid.group_by(Group.district)):
        row(name).paid_won += int(amount)

    # 5. spending
    spent = _award_scope(select(Group.district, func.coalesce(func.sum(Expense.amount_won), 0))
                         .select_from(Expense).join(Award, Award.id == Expense.award_id), filters)
    for name, amount in db.session.execute(spent.group_by(Group.district)):
        row(name).spent_won += int(amount)

    # 6. settlements by state, with the approved figures
    settlements = _award_scope(
        select(Group.district, Settlement.status, func.count(Settlement.id),
               func.coalesce(func.sum(Settlement.recognised_won), 0), func.coalesce(func.sum(Settlement.refund_due_won), 0))
        .select_from(Settlement).join(Award, Award.id == Settlement.award_id), filters)
    for name, status, n, recognised, refund in db.session.execute(settlements.group_by(Group.district, Settlement.status)):
        r = row(name)
        r.settlements[status] = r.settlements.get(status, 0) + n
        r.recognised_won += int(recognised)
        r.refund_won += int(refund)

    names = [d for d in SEOUL_DISTRICTS if not filters.district or d == filters.district]
    names += sorted(set(rows) - set(names))
    ordered = [rows.get(name) or DistrictRow(name) for name in names]
    totals = DistrictRow(TOTAL_LABEL)
    for r in ordered:
        totals.add(r)
    return ordered, totals


def spending_by_month(programme_id: int | None = None, year: int | None = None,
                      district: str | None = None) -> list[tuple[str, int]]:
    """[('2027-04', 원), …]: spending by the month of its 사용일 (a date in Seoul already), every
    month from the first to the last with spending, empty months as 0. One query."""
    filters = Filters(programme_id, year, district or None)
    stmt = _award_scope(select(Expense.spent_on, func.sum(Expense.amount_won))
                        .select_from(Expense).join(Award, Award.id == Expense.award_id), filters)
    by_month: dict[str, int] = {}
    for day, amount in db.session.execute(stmt.group_by(Expense.spent_on)):
        key = f"{day.year:04d}-{day.month:02d}"
        by_month[key] = by_month.get(key, 0) + int(amount)
    if not by_month:
        return []
    first, last = min(by_month), max(by_month)
    out, y, m = [], int(first[:4]), int(first[5:])
    while f"{y:04d}-{m:02d}" <= last:
        key = f"{y:04d}-{m:02d}"
        out.append((key, by_month.get(key, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def spending_by_category(programme_id: int | None = None, year: int | None = None,
                         district: str | None = None) -> list[tuple[str, int]]:
    """[(비목 label, 원), …] largest first; a code is named by its programme's rules (two
    programmes' 같은 label add up). Two queries."""
    from blueprints.settlement.services import category_label

    filters = Filters(programme_id, year, district or None)
    stmt = _award_scope(select(Award.programme_id, Expense.category, func.sum(Expense.amount_won))
                        .select_from(Expense).join(Award, Award.id == Expense.award_id), filters)
    rows = db.session.execute(stmt.group_by(Award.programme_id, Expense.category)).all()
    rules = dict(db.session.execute(select(Programme.id, Programme.rules)
                                    .where(Programme.id.in_({r[0] for r in rows} or {0}))).all())
    out: dict[str, int] = {}
    for programme, code, amount in rows:
        label = category_label(rules.get(programme) or {}, code)
        out[label] = out.get(label, 0) + int(amount)
    return sorted(out.items(), key=lambda item: (-item[1], item[0]))


def funnel(totals: DistrictRow) -> list[tuple[str, int]]:
    """The application funnel from the 합계 row: 제출 → 선정 → 정산 제출 → 정산 승인."""
    s = totals.settlements
    settled = s.get(SettlementState.approved, 0) + s.get(SettlementState.closed, 0)
    handed_in = settled + s.get(SettlementState.submitted, 0) + s.get(SettlementState.needs_changes, 0)
    return [("신청서 제출", totals.submitted), ("선정", totals.selected), ("정산 제출", handed_in), ("정산 승인", settled)]


@dataclass
class Overview:
    """Everything the dashboard (and the year-end report) shows, for one set of filters."""
    rows: list[DistrictRow]
    totals: DistrictRow
    months: list[tuple[str, int]]
    categories: list[tuple[str, int]]
    steps: list[tuple[str, int]]


def overview(programme_id: int | None = None, year: int | None = None, district: str | None = None) -> Overview:
    """The table, spending by month and by category, and the funnel: ten queries."""
    filters = dict(programme_id=programme_id, year=year, district=district)
    rows, totals = district_table(**filters)
    return Overview(rows, totals, spending_by_month(**filters), spending_by_category(**filters), funnel(totals))


def programme_choices() -> list[tuple[int, int, str]]:
    """[(id, year, title)] newest first, for the filter."""
    return db.session.execute(select(Programme.id, Programme.year, Programme.title)
                              .order_by(Programme.year.desc(), Programme.id.desc())).all()



# The table as a sheet (the page's downloads and `flask district-report`) -------------------

def sheet_columns():
    from blueprints.core.exports import INT, NUMBER, WON, Column

    return ([Column("자치구", width=10), Column("등록 모임", INT), Column("센터", INT), Column("나눔터", INT),
             Column("기타", INT), Column("제출 신청", INT), Column("선정", INT), Column("교부결정액", WON, 14),
             Column("교부액", WON, 14), Column("집행액", WON, 14), Column("인정액", WON, 14), Column("반환액", WON, 12),
             Column("집행률(%)", NUMBER)]
            + [Column(f"정산 {s.title}", INT) for s in SETTLEMENT_STATES])


def sheet_row(r: DistrictRow) -> list:
    return ([r.district, r.groups, r.centre, r.sharing, r.other, r.submitted, r.selected, r.awarded_won,
             r.paid_won, r.spent_won, r.recognised_won, r.refund_won, r.execution_rate]
            + [r.settlements.get(s.value, 0) for s in SETTLEMENT_STATES])


def district_sheet(rows: list[DistrictRow], totals: DistrictRow):
    """One row per 자치구 plus 합계, the columns of the page's table."""
    from blueprints.core.exports import Sheet

    return Sheet("자치구별 현황", sheet_columns(), [sheet_row(r) for r in rows] + [sheet_row(totals)])


TABLES = ("districts", "months", "categories", "funnel")


def overview_sheets(view: Overview) -> dict:
    """Every table of the dashboard as a sheet, by its name in the download URL."""
    from blueprints.core.exports import INT, NUMBER, WON, Column, Sheet

    month_rows, running = [], 0
    for month, amount in view.months:
        running += amount
        rate = round(100 * running / view.totals.paid_won, 1) if view.totals.paid_won else None
        month_rows.append([month, amount, running, rate])
    spent = sum(amount for _, amount in view.categories)
    first = view.steps[0][1] if view.steps else 0
    return {
        "districts": district_sheet(view.rows, view.totals),
        "months": Sheet("월별 집행", [Column("월"), Column("집행액", WON), Column("누적 집행액", WON),
                                      Column("누적 집행률(%)", NUMBER)], month_rows),
        "categories": Sheet("비목별 집행", [Column("비목"), Column("집행액", WON), Column("비율(%)", NUMBER)],
                            [[label, amount, round(100 * amount / spent, 1) if spent else None]
                             for label, amount in view.categories]),
        "funnel": Sheet("신청에서 정산까지", [Column("단계"), Column("건수", INT), Column("제출 대비(%)", NUMBER)],
                        [[label, n, round(100 * n / first, 1) if first else None] for label, n in view.steps]),
    }
