"""Payments, expenses and settlements as CSV (UTF-8 with BOM, for Excel) or XLSX, for the
accounting system. Text a spreadsheet would run as a formula gets a leading quote."""
from __future__ import annotations

import csv
import io

from flask import make_response
from sqlalchemy import select

from extensions import db

from .checks import METHOD_LABELS
from .models import Expense, Settlement


def _awards(programme_id):
    from blueprints.awards.models import Award

    query = select(Award).order_by(Award.programme_id, Award.rank)
    if programme_id:
        query = query.where(Award.programme_id == programme_id)
    return db.session.scalars(query).all()


def payments_table(programme_id: int | None):
    header = ["사업", "모임 등록번호", "모임명", "자치구", "교부결정액", "회차", "지급일", "지급액", "참조", "은행", "계좌(끝4자리)"]
    rows = []
    for award in _awards(programme_id):
        disb = getattr(award, "disbursement", None)
        group = award.application.group
        for p in (disb.payments if disb else []):
            rows.append([award.programme.title, group.reg_no, group.name, group.district, award.amount_won,
                         p.instalment, p.paid_on.isoformat(), p.amount_won, p.reference, disb.bank, disb.masked_account])
    return header, rows


def expenses_table(programme_id: int | None):
    from . import services

    header = ["사업", "모임 등록번호", "모임명", "증빙번호", "사용일", "비목", "사용처", "사업자등록번호", "내용",
              "금액", "결제수단", "승인번호", "참석인원", "검토", "사유"]
    rows = []
    for award in _awards(programme_id):
        group = award.application.group
        for e in services.expenses(award):
            rows.append([award.programme.title, group.reg_no, group.name, e.evidence_no, e.spent_on.isoformat(),
                         services.category_label(award.programme.rules, e.category), e.vendor, e.biz_no, e.description,
                         e.amount_won, METHOD_LABELS.get(e.method, e.method), e.approval_no, e.participants,
                         e.review_label, e.review_reason])
    return header, rows


def settlements_table(programme_id: int | None):
    from . import services

    header = ["사업", "모임 등록번호", "모임명", "자치구", "상태", "제출일", "기한 경과", "교부액", "이자", "집행액",
              "인정액", "반환액", "반환 입금일"]
    rows = []
    for award in _awards(programme_id):
        s = getattr(award, "settlement", None)
        if s is None:
            continue
        f = services.figures(s)
        group = award.application.group
        rows.append([award.programme.title, group.reg_no, group.name, group.district, s.status_label,
                     s.submitted_at.date().isoformat() if s.submitted_at else "", "예" if s.is_late else "",
                     f.paid_won, f.interest_won, f.spent_won,
                     s.recognised_won if s.recognised_won is not None else "", s.refund_due_won if s.refund_due_won is not None else "",
                     s.refund.received_on.isoformat() if s.refund else ""])
    return header, rows


def _safe(row):
    return [("'" + v) if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in row]


def table_bytes(table, sheet: str, fmt: str) -> bytes:
    header, rows = table
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(_safe(r) for r in rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet)
    ws.append(header)
    for r in rows:
        ws.append(_safe(r))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def send_table(table, name: str, fmt: str):
    from urllib.parse import quote

    response = make_response(table_bytes(table, name, fmt))
    response.headers["Content-Type"] = ("text/csv; charset=utf-8" if fmt == "csv" else
                                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{quote(name)}.{fmt}"
    return response
