"""The settlement PDF (정산보고서): primitive data in, WeasyPrint out, PDF receipts merged into
the appendix in ledger order, cached per settlement version.

The cache key is a hash of everything the document shows (not the generation time), so a
PDF is rebuilt only when the settlement, its lines, receipts or review change.
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select

from blueprints.core.audit import AuditEvent
from blueprints.core.files import drop_unreferenced, print_copy, strip_page_actions
from blueprints.core.models import utcnow
from blueprints.core.pdf import render_pdf
from extensions import db

from . import checks, services
from .models import ExpenseReviewState, SettlementState

# The printed box of a receipt image in pdf/settlement.html (.receipt img: the text width ×
# max-height 105 mm, two to a page); images are embedded pre-scaled to it at 150 dpi (rounded
# up), so a phone photo's approval number and VAT lines stay readable on paper.
RECEIPT_BOX_MM = (180, 105)
# A long till receipt (more than twice as tall as wide) in 105 mm would print a third of its
# real size: it gets a page of its own (.receipt--tall img: max-height 230 mm).
TALL_RECEIPT_BOX_MM = (180, 230)


def receipt_print(stored) -> tuple[Path, bool]:
    """(the file the PDF embeds, whether it prints as a tall receipt)."""
    if not stored.is_image:
        return stored.path(), False
    from PIL import Image

    try:
        with Image.open(stored.path()) as image:   # the header only
            width, height = image.size
    except (OSError, ValueError):
        width = height = 1
    tall = height > 2 * width
    return print_copy(stored, *(TALL_RECEIPT_BOX_MM if tall else RECEIPT_BOX_MM)), tall


def context(settlement) -> dict:
    award = settlement.award
    application = award.application
    group = application.group
    programme = award.programme
    rules = programme.rules
    disb = getattr(award, "disbursement", None)
    rows = services.expenses(award)
    f = services.figures(settlement)
    expenses = []
    for e in rows:
        expenses.append(dict(
            seq=e.seq, evidence_no=e.evidence_no, spent_on=e.spent_on.isoformat(), category=services.category_label(rules, e.category),
            vendor=e.vendor, biz_no=e.biz_no, description=e.description, amount_won=e.amount_won,
            method=checks.METHOD_LABELS.get(e.method, e.method), approval_no=e.approval_no,
            participants=e.participants, review=ExpenseReviewState.title_of(e.review_status), review_status=e.review_status,
            reason=e.review_reason,
            receipt=printable(e.receipt, mark=e.evidence_no, label="영수증") if e.receipt else None,
            # the line's other evidence (도서목록, 거래명세서 …) follow its receipt in 붙임 1
            others=[printable(a.stored_file, mark=f"{e.evidence_no} {a.kind_label}", label=a.kind_label)
                    for a in e.attachments]))
    sessions = [dict(held_on=s.held_on.isoformat(), place=s.place, title=s.title, content=s.content,
                     households=s.households, adults=s.adults, children=s.children, outcome=s.outcome,
                     photos=[p.stored_file.path().resolve().as_uri() for p in s.photos][:2])
                for s in services.sessions(award)]
    ids = [str(e.id) for e in rows]
    trail = db.session.scalars(select(AuditEvent).where(or_(
        (AuditEvent.object_type == "settlement") & (AuditEvent.object_id == str(settlement.id)),
        (AuditEvent.object_type == "award") & (AuditEvent.object_id == str(award.id)),
        (AuditEvent.object_type == "payment") & (AuditEvent.object_id.in_([str(p.id) for p in (disb.payments if disb else [])])),
    )).order_by(AuditEvent.id)).all()
    reviews = db.session.scalar(select(db.func.count(AuditEvent.id)).where(
        AuditEvent.object_type == "expense", AuditEvent.action == "expense.reviewed", AuditEvent.object_id.in_(ids))) if ids else 0
    refund = settlement.refund
    return dict(
        programme=dict(title=programme.title, year=programme.year, operator=programme.operator,
                       activity_start=programme.activity_start.isoformat(), activity_end=programme.activity_end.isoformat(),
                       settlement_due=programme.settlement_due.isoformat()),
        group=dict(name=group.name, reg_no=group.reg_no, district=group.district, dong=group.dong,
                   leader=group.leader.parent_name if group.leader else "",
                   treasurer=group.treasurer.parent_name if group.treasurer else ""),
        award=dict(amount_won=award.amount_won, decided_at=award.decided_at.isoformat(), conditions=award.conditions),
        account=dict(bank=disb.bank, masked=disb.masked_account, holder=disb.account_holder) if disb else None,
        payments=[dict(instalment=p.instalment, paid_on=p.paid_on.isoformat(), amount_won=p.amount_won, reference=p.reference)
                  for p in (disb.payments if disb else [])],
        settlement=dict(id=settlement.id, status=settlement.status_label, submission=settlement.submission_count,
                        submitted_at=settlement.submitted_at.isoformat() if settlement.submitted_at else None,
                        is_late=settlement.is_late, report_text=services.report_text(settlement),
                        approved_at=settlement.approved_at.isoformat() if settlement.approved_at else None,
                        approved_by=settlement.approved_by.name if settlement.approved_by else ""),
        figures=dict(paid=f.paid_won, interest=f.interest_won, spent=f.spent_won, recognised=f.recognised_won,
                     not_recognised=f.not_recognised_won, unspent=f.unspent_won, refund=f.refund_won,
                     truncated=f.truncated_won, final=settlement.status in {SettlementState.approved, SettlementState.closed} or settlement.approved_at is not None),
        categories=services.totals_by_category(settlement),
        expenses=expenses,
        sessions=sessions,
        refund=dict(amount_won=refund.amount_won, received_on=refund.received_on.isoformat(), depositor=refund.depositor)
        if refund else None,
        depositor=services.expected_depositor(settlement),
        trail=[dict(at=t.created_at.isoformat(), actor=t.actor.name if t.actor else "시스템", summary=t.summary)
               for t in trail],
        review_events=reviews,
    )


def printable(stored, *, mark: str, label: str) -> dict:
    """An evidence file as 붙임 1 prints it: a photo's print copy, or a PDF's pages (merged in
    after rendering, in the numbered pages reserved under ``mark``)."""
    printed, tall = receipt_print(stored)
    return dict(kind=stored.kind, uri=printed.resolve().as_uri(), tall=tall, sha=stored.sha256, mark=mark,
                label=label, path=str(stored.path()), pages=pdf_page_count(stored.path()) if stored.kind == "pdf" else 0)


def pdf_documents(expenses: list[dict]) -> list[dict]:
    """Every PDF among the lines' evidence files, in the order 붙임 1 prints them."""
    return [d for e in expenses for d in ([e["receipt"]] if e["receipt"] else []) + e["others"] if d["kind"] == "pdf"]


def pdf_page_count(path) -> int:
    """Pages of a PDF receipt (the settlement PDF reserves as many numbered pages for it)."""
    from pypdf import PdfReader

    try:
        return max(len(PdfReader(str(path)).pages), 1)
    except Exception:  # unreadable: one placeholder page stays
        return 1


def cache_key(ctx: dict) -> str:
    template = Path(current_app.root_path) / "templates" / "pdf" / "settlement.html"
    blob = json.dumps(ctx, sort_keys=True, ensure_ascii=False, default=str).encode() + template.read_bytes()
    return hashlib.sha256(blob).hexdigest()[:20]


def cache_dir() -> Path:
    # Beside the uploads (instance/ by default; the test run's temporary folder in tests).
    path = Path(current_app.config.get("PDF_CACHE_DIR") or Path(current_app.config["UPLOAD_DIR"]).parent / "pdf-cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_name(ctx: dict) -> str:
    return f"정산보고서_{ctx['group']['reg_no']}_{ctx['group']['name']}.pdf".replace("/", "_")


def settlement_pdf(settlement) -> tuple[bytes, str]:
    """(PDF bytes, download name); from the cache when nothing changed."""
    ctx = context(settlement)
    key = cache_key(ctx)
    path = cache_dir() / f"settlement-{settlement.id}-{key}.pdf"
    if path.exists():
        return path.read_bytes(), file_name(ctx)
    data = build(ctx)
    for old in cache_dir().glob(f"settlement-{settlement.id}-*.pdf"):
        old.unlink(missing_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data, file_name(ctx)


def build(ctx: dict) -> bytes:
    """Render the HTML; then put every PDF receipt's pages right after its placeholder page."""
    from weasyprint import HTML  # noqa: F401  (render_pdf imports it; kept for clarity)

    pdf = render_pdf("pdf/settlement.html", generated_at=utcnow(),
                     operator_name=current_app.config["OPERATOR_NAME"], **ctx)
    documents = pdf_documents(ctx["expenses"])
    if not documents:
        return pdf
    return merge_receipts(pdf, documents)


def merge_receipts(pdf: bytes, documents: list[dict]) -> bytes:
    """The HTML reserved one numbered page per page of each PDF evidence file (``printable``),
    each marked by a heading ("[증빙-002 PDF 1/2]", "[증빙-002 거래명세서 PDF 1/1]") that lands in
    the PDF outline with its page number; those pages are swapped for the file's own pages, so
    page totals stay right, without anything
    that would run when the PDF is opened. The outline is rebuilt from the document's headings
    (without the slot marks)."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(pdf))
    by_mark = {}
    for d in documents:
        for k in range(d["pages"]):
            by_mark[f"[{d['mark']} PDF {k + 1}/{d['pages']}]"] = (d, k)
    slots: dict[int, tuple[dict, int]] = {}
    headings: list[tuple[str, int]] = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            title, page = str(item.title), reader.get_destination_page_number(item)
            if title in by_mark:
                slots[page] = by_mark[title]
            else:
                headings.append((title, page))

    walk(reader.outline)
    opened: dict[str, PdfReader | None] = {}
    writer = PdfWriter()
    for index, page in enumerate(reader.pages):
        if index in slots:
            d, k = slots[index]
            path = d["path"]
            if path not in opened:
                try:
                    opened[path] = PdfReader(path)
                except Exception:  # unreadable file: its numbered placeholder page stays
                    current_app.logger.warning("evidence %s could not be merged", d["mark"])
                    opened[path] = None
            source = opened[path]
            if source is not None and k < len(source.pages):
                # Only the page comes over (never the receipt's catalog: /OpenAction, its
                # JavaScript names); the page's own actions are dropped too. Receipts are
                # cleaned at upload; this covers the ones stored before that.
                strip_page_actions(writer.add_page(source.pages[k], excluded_keys=("/AA",)))
                continue
        writer.add_page(page)
    for title, page in headings:
        writer.add_outline_item(title=title, page_number=page)
    writer.add_metadata({k: v for k, v in (reader.metadata or {}).items() if isinstance(v, str)})
    drop_unreferenced(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
