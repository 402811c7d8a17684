"""Expenses and settlements of a programme as tables for the accounting system (written as
CSV or XLSX by core.exports)."""
from __future__ import annotations

from sqlalchemy import select

from blueprints.core.exports import DATE, INT, WON, Column, Sheet
from extensions import db

from .checks import METHOD_LABELS


def _awards(programme_id):
    """The programme's awards with everything a row shows, in a fixed number of statements
    whatever their number: award + application + group (joined), then programmes,
    disbursements, settlements with their refunds, in one statement each."""
    from sqlalchemy.orm import selectinload

    from blueprints.awards.models import Award

    from .models import Settlement

    query = (select(Award).options(selectinload(Award.programme), selectinload(Award.disbursement),
                                   selectinload(Award.settlement).selectinload(Settlement.refund))
             .order_by(Award.programme_id, Award.rank))
    if programme_id:
        query = query.where(Award.programme_id == programme_id)
    return db.session.scalars(query).unique().all()


def _expenses_by_award(awards) -> dict:
    """Every expense of these awards in one statement, by award, in each award's order."""
    from sqlalchemy.orm import lazyload

    from .models import Expense

    by_award: dict[int, list] = {a.id: [] for a in awards}
    if by_award:
        # Not the receipt files (joined by default for the screens; no sheet prints them).
        for e in db.session.scalars(select(Expense).where(Expense.award_id.in_(list(by_award)))
                                    .options(lazyload(Expense.receipt))
                                    .order_by(Expense.award_id, Expense.spent_on, Expense.seq)):
            by_award[e.award_id].append(e)
    return by_award


EXPENSE_COLUMNS = [Column("사업"), Column("모임 등록번호"), Column("모임명"), Column("증빙번호"), Column("사용일", DATE),
                   Column("비목"), Column("사용처"), Column("사업자등록번호"), Column("내용"), Column("금액", WON),
                   Column("결제수단"), Column("승인번호"), Column("참석인원", INT), Column("검토"), Column("사유")]


def expenses_sheet(programme_id: int | None) -> Sheet:
    from . import services

    rows = []
    awards = _awards(programme_id)
    expenses = _expenses_by_award(awards)
    for award in awards:
        group = award.application.group
        for e in expenses[award.id]:
            rows.append([award.programme.title, group.reg_no, group.name, e.evidence_no, e.spent_on,
                         services.category_label(award.programme.rules, e.category), e.vendor, e.biz_no, e.description,
                         e.amount_won, METHOD_LABELS.get(e.method, e.method), e.approval_no, e.participants,
                         e.review_label, e.review_reason])
    return Sheet("집행내역", EXPENSE_COLUMNS, rows)


SETTLEMENT_COLUMNS = [Column("사업"), Column("모임 등록번호"), Column("모임명"), Column("자치구"), Column("상태"),
                      Column("제출일", DATE), Column("기한 경과"), Column("교부액", WON), Column("이자", WON),
                      Column("집행액", WON), Column("인정액", WON), Column("반환액", WON), Column("반환 입금일", DATE)]


def settlements_sheet(programme_id: int | None) -> Sheet:
    from . import services

    rows = []
    awards = _awards(programme_id)
    expenses = _expenses_by_award(awards)
    for award in awards:
        s = getattr(award, "settlement", None)
        if s is None:
            continue
        f = services.figures(s, expenses[award.id])
        group = award.application.group
        rows.append([award.programme.title, group.reg_no, group.name, group.district, s.status_label,
                     s.submitted_at, "예" if s.is_late else "", f.paid_won, f.interest_won, f.spent_won,
                     s.recognised_won, s.refund_due_won, s.refund.received_on if s.refund else None])
    return Sheet("정산내역", SETTLEMENT_COLUMNS, rows)
