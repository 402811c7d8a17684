"""Expenses and settlements of a programme as tables for the accounting system (written as
CSV or XLSX by core.exports)."""
from __future__ import annotations

from sqlalchemy import select

from blueprints.core.exports import DATE, INT, WON, Column, Sheet
from extensions import db

from .checks import METHOD_LABELS


def _awards(programme_id):
    from blueprints.awards.models import Award

    query = select(Award).order_by(Award.programme_id, Award.rank)
    if programme_id:
        query = query.where(Award.programme_id == programme_id)
    return db.session.scalars(query).all()


EXPENSE_COLUMNS = [Column("사업"), Column("모임 등록번호"), Column("모임명"), Column("증빙번호"), Column("사용일", DATE),
                   Column("비목"), Column("사용처"), Column("사업자등록번호"), Column("내용"), Column("금액", WON),
                   Column("결제수단"), Column("승인번호"), Column("참석인원", INT), Column("검토"), Column("사유")]


def expenses_sheet(programme_id: int | None) -> Sheet:
    from . import services

    rows = []
    for award in _awards(programme_id):
        group = award.application.group
        for e in services.expenses(award):
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
    for award in _awards(programme_id):
        s = getattr(award, "settlement", None)
        if s is None:
            continue
        f = services.figures(s)
        group = award.application.group
        rows.append([award.programme.title, group.reg_no, group.name, group.district, s.status_label,
                     s.submitted_at, "예" if s.is_late else "", f.paid_won, f.interest_won, f.spent_won,
                     s.recognised_won, s.refund_due_won, s.refund.received_on if s.refund else None])
    return Sheet("정산내역", SETTLEMENT_COLUMNS, rows)
