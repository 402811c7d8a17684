"""Finance staff: the settlement review line by line (with what changed since the last
submission), return for fixes, approve, record the refund; a programme's settlements, the
bulk ZIP of PDFs (background job with a progress bar) and the exports."""
from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select
from sqlalchemy.orm import defer, lazyload, selectinload

from blueprints.core.auth import authorize, can, permission_required, register_permission
from blueprints.core.exports import FORMATS, send_table
from blueprints.core.files import IMAGE_KINDS, StoredFile
from blueprints.core.formatting import kdate, won
from blueprints.core.forms import EmptyForm, is_confirmed
from blueprints.core.htmx import is_inline, page_redirect, render, set_htmx_headers
from blueprints.core.korean import with_particle
from blueprints.core.paging import Page, page_number
from blueprints.core.persistence import commit, get_or_404
from extensions import db

from . import bp, services, worklist
from .exports import expenses_sheet, settlements_sheet
from .forms import RefundForm, ReturnForm, ReviewLineForm, SettlementListFilter
from .models import (AttachmentKind, Expense, ExpenseAttachment, ExpenseReviewState, ExportJob, ExportJobState,
                     Settlement, SettlementState)

register_permission("review_settlements", "finance")
register_permission("list_settlements", "finance", "staff")


# The columns a review line shows (plain rows: no ORM instances for 60+ lines a page).
_LINE_COLUMNS = (Expense.id, Expense.seq, Expense.spent_on, Expense.category, Expense.vendor, Expense.biz_no,
                 Expense.description, Expense.amount_won, Expense.method, Expense.participants,
                 Expense.receipt_file_id, Expense.hard_count, Expense.warn_count, Expense.review_status,
                 Expense.review_reason)
_URL_MARK = 2_147_483_647


def _url_pattern(endpoint, **values):
    """``url_for`` once with a marker id, as a format string: per-line links without building
    each one through the URL map."""
    return url_for(endpoint, **values).replace(str(_URL_MARK), "{}")


class ReviewLine:
    """One expense line of the review page with its display strings worked out once in Python
    (a submitted settlement has 60+ lines; per-field filters, ORM attribute access and url_for
    per line were most of the page's cost). Reads an Expense or a row of ``_LINE_COLUMNS``."""

    __slots__ = ("id", "status", "css", "evidence_no", "head", "amount", "changed", "description", "meta",
                 "receipt_url", "receipt_thumbnail", "receipt_alt", "review_label", "review_reason", "url", "error",
                 "evidence")

    def __init__(self, e, *, line_url, receipt_url, thumbnail_url, changed=False, error=None, evidence=()):
        from .checks import METHOD_LABELS

        self.id = e.id
        self.status = e.review_status
        self.changed = changed
        self.css = f"review-line review-{e.review_status}" + (" changed" if changed else "")
        self.evidence_no = f"증빙-{e.seq:03d}"
        self.head = f"{kdate(e.spent_on)} · {e.vendor}" + (f" ({e.biz_no})" if e.biz_no else "")
        self.amount = won(e.amount_won)
        self.description = e.description
        meta = [METHOD_LABELS.get(e.method, e.method)]
        if e.participants:
            meta.append(f"{e.participants}명")
        if e.hard_count:
            meta.append(f"규정 위반 {e.hard_count}")
        if e.warn_count:
            meta.append(f"주의 {e.warn_count}")
        self.meta = " · ".join(meta)
        self.receipt_url = receipt_url.format(e.id) if e.receipt_file_id else None
        # A photo shows as a thumbnail that opens large; a PDF as a labelled link (no thumbnail).
        kind = e.receipt_kind if hasattr(e, "receipt_kind") else (e.receipt.kind if e.receipt else None)
        self.receipt_thumbnail = thumbnail_url.format(e.id) if self.receipt_url and kind in IMAGE_KINDS else None
        self.receipt_alt = f"{e.vendor} 영수증, {kdate(e.spent_on)}, {self.amount}"
        self.review_label = ExpenseReviewState.title_of(e.review_status)
        self.review_reason = e.review_reason
        self.url = line_url.format(e.id)
        self.error = error
        self.evidence = evidence   # the other evidence files (OtherEvidence), in the order they came


class OtherEvidence:
    """An evidence file beside the receipt (도서목록, 거래명세서, 참석자 명단 …) as the line shows it:
    a photo opens large like the receipt, a PDF in a new tab."""

    __slots__ = ("label", "url", "is_image")

    def __init__(self, row, *, url):
        self.label = AttachmentKind.title_of(row.kind)
        self.url = url.format(row.id)
        self.is_image = row.file_kind in IMAGE_KINDS


def _other_evidence(expense_ids) -> dict[int, list[OtherEvidence]]:
    """The lines' other evidence files, one query whatever the number of lines."""
    if not expense_ids:
        return {}
    url = _url_pattern("settlement.attachment", attachment_id=_URL_MARK)
    found: dict[int, list[OtherEvidence]] = {}
    for row in db.session.execute(
            select(ExpenseAttachment.id, ExpenseAttachment.expense_id, ExpenseAttachment.kind,
                   StoredFile.kind.label("file_kind"))
            .join(StoredFile, StoredFile.id == ExpenseAttachment.stored_file_id)
            .where(ExpenseAttachment.expense_id.in_(expense_ids)).order_by(ExpenseAttachment.id)):
        found.setdefault(row.expense_id, []).append(OtherEvidence(row, url=url))
    return found


def _review_lines(settlement, rows, *, changed_seqs=frozenset(), line_errors=None):
    line_url = _url_pattern("settlement.review_line", settlement_id=settlement.id, expense_id=_URL_MARK)
    receipt_url = _url_pattern("settlement.receipt", expense_id=_URL_MARK, inline=1)
    thumbnail_url = _url_pattern("settlement.receipt_thumbnail", expense_id=_URL_MARK)
    line_errors = line_errors or {}
    evidence = _other_evidence([e.id for e in rows])
    return [ReviewLine(e, line_url=line_url, receipt_url=receipt_url, thumbnail_url=thumbnail_url,
                       changed=e.seq in changed_seqs, error=line_errors.get(e.id), evidence=evidence.get(e.id, ()))
            for e in rows]


def _review_page(settlement, *, status=200, refund_form=None, return_form=None, line_errors=None):
    # The expenses load once, as plain rows of the shown columns, for the lines, the figures
    # and the totals.
    rows = db.session.execute(select(*_LINE_COLUMNS, StoredFile.kind.label("receipt_kind"))
                              .outerjoin(StoredFile, StoredFile.id == Expense.receipt_file_id)
                              .where(Expense.award_id == settlement.award_id)
                              .order_by(Expense.spent_on, Expense.seq)).all()
    changes = services.diff(settlement.previous_snapshot, settlement.snapshot)
    changed_seqs = {c["seq"] for c in changes if c["seq"]}
    return render("settlement/review.html", settlement=settlement, award=settlement.award,
                  lines=_review_lines(settlement, rows, changed_seqs=changed_seqs, line_errors=line_errors),
                  figures=services.figures(settlement, rows),
                  categories=services.totals_by_category(settlement, rows),
                  changes=changes, can_review=can(g.user, "review", settlement), csrf=generate_csrf(),
                  refund_form=refund_form or _refund_form(settlement), return_form=return_form or ReturnForm(),
                  status=status, fragments={"review-side": "side"})


def _refund_form(settlement):
    form = RefundForm()
    if request.method == "GET" and settlement.refund_due_won is not None:
        form.amount_won.data = settlement.refund_due_won
        form.depositor.data = services.expected_depositor(settlement)
    return form


@bp.route("/review/<int:settlement_id>")
@permission_required("list_settlements")
def review(settlement_id):
    settlement = authorize("view", get_or_404(Settlement, settlement_id))
    return _review_page(settlement)


@bp.route("/review/<int:settlement_id>/lines/<int:expense_id>", methods=["POST"])
@permission_required("review_settlements")
def review_line(settlement_id, expense_id):
    # Finance may decide lines of a submitted settlement; the service checks the state again
    # under the row lock, so a decision arriving just after an approval (or a return) gets
    # that reason back (422) rather than a bare 403.
    settlement = authorize("view", get_or_404(Settlement, settlement_id))
    expense = get_or_404(Expense, expense_id)
    if expense.award_id != settlement.award_id:
        abort(404)
    form = ReviewLineForm()
    error = None
    if form.validate_on_submit():
        try:
            services.review_line(expense, decision=form.decision.data, reason=form.reason.data or "", user=g.user)
        except services.SettlementError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            commit()
    else:
        error = " ".join(sum(form.errors.values(), [])) or "검토 결과를 고르세요."
    if is_inline():
        e = _review_lines(settlement, [expense], line_errors={expense.id: error})[0]
        response = render("settlement/review.html", fragments={f"line-{expense.id}": "line"}, e=e,
                          csrf=generate_csrf(), can_review=can(g.user, "review", settlement),
                          status=422 if error else 200)
        return set_htmx_headers(response, trigger="review-changed")
    if error:
        return _review_page(settlement, status=422, line_errors={expense.id: error})
    # Without JavaScript the whole page comes back: say what was recorded (htmx swaps the line).
    flash(f"{expense.evidence_no} 줄을 {with_particle(expense.review_label, '으로/로')} 검토했습니다.", "success")
    return redirect(url_for("settlement.review", settlement_id=settlement.id) + f"#line-{expense.id}", 303)


@bp.route("/review/<int:settlement_id>/return", methods=["POST"])
@permission_required("review_settlements")
def return_settlement(settlement_id):
    settlement = authorize("return", get_or_404(Settlement, settlement_id))
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            services.return_for_changes(settlement, message=form.message.data or "", user=g.user)
        except services.SettlementError as exc:
            form.message.errors = [str(exc)]
        else:
            commit()
            flash("보완 요청을 보냈습니다.", "success")
            return redirect(url_for("settlement.review", settlement_id=settlement.id), 303)
    return _review_page(settlement, status=422, return_form=form)


def _confirm_approve(settlement, *, changed=None):
    summary = services.approval_summary(settlement)
    if changed:
        summary["warnings"].insert(0, changed)
    return render("settlement/confirm_approve.html", fragments={"approve-confirm": "confirm"},
                  settlement=settlement, award=settlement.award, summary=summary,
                  back=url_for("settlement.review", settlement_id=settlement.id),
                  status=409 if changed else 422 if summary["blockers"] else 200)


@bp.route("/review/<int:settlement_id>/approve", methods=["POST"])
@permission_required("review_settlements")
def approve(settlement_id):
    settlement = authorize("view", get_or_404(Settlement, settlement_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    if settlement.status in {SettlementState.approved, SettlementState.closed}:
        # A double click, a second tab or a colleague a moment earlier: already done, same page.
        flash("이미 승인된 정산입니다.", "info")
        return page_redirect(url_for("settlement.review", settlement_id=settlement.id))
    authorize("approve", settlement)
    if not is_confirmed():
        # First the numbers it fixes for good (a page, or for htmx the section under the button).
        return _confirm_approve(settlement)
    try:
        services.approve(settlement, user=g.user, seen_version=request.form.get("version", type=int))
    except services.ChangedMeanwhile as exc:
        db.session.rollback()   # a colleague judged a line after the confirmation: ask again
        return _confirm_approve(settlement, changed=str(exc))
    except services.SettlementError as exc:
        db.session.rollback()
        if settlement.status in {SettlementState.approved, SettlementState.closed}:  # approved while this request waited
            flash("이미 승인된 정산입니다.", "info")
        else:
            flash(str(exc), "error")
        return page_redirect(url_for("settlement.review", settlement_id=settlement.id))
    commit()
    flash(f"정산을 승인했습니다. 인정액 {settlement.recognised_won:,}원, 반환액 {settlement.refund_due_won:,}원.", "success")
    return page_redirect(url_for("settlement.review", settlement_id=settlement.id))


@bp.route("/review/<int:settlement_id>/refund", methods=["POST"])
@permission_required("review_settlements")
def record_refund(settlement_id):
    settlement = authorize("view", get_or_404(Settlement, settlement_id))
    if settlement.status == SettlementState.closed:
        return _refund_already_recorded(settlement)
    authorize("record_refund", settlement)
    form = RefundForm()
    if form.validate_on_submit():
        try:
            services.record_refund(settlement, amount_won=form.amount_won.data, received_on=form.received_on.data,
                                   depositor=form.depositor.data, note=form.note.data or "", user=g.user)
        except services.SettlementError as exc:
            db.session.rollback()
            if settlement.status == SettlementState.closed:  # recorded by a colleague while this request waited
                return _refund_already_recorded(settlement)
            getattr(form, getattr(exc, "field", "amount_won")).errors = [str(exc)]
        else:
            commit()
            flash("반환 입금을 기록했습니다. 정산이 종결되었습니다.", "success")
            return redirect(url_for("settlement.review", settlement_id=settlement.id), 303)
    return _review_page(settlement, status=422, refund_form=form)


def _refund_already_recorded(settlement):
    """A double click, a second tab or a colleague a moment earlier: already done, same page."""
    flash("이미 반환 입금을 기록했습니다. 정산이 종결되었습니다.", "info")
    return redirect(url_for("settlement.review", settlement_id=settlement.id), 303)


# A programme's settlements -------------------------------------------------------------------

LIST_PER_PAGE = 50

@bp.route("/programme/<int:programme_id>")
@permission_required("list_settlements")
def programme_list(programme_id):
    from blueprints.applications.models import Application
    from blueprints.awards.models import Award
    from blueprints.programmes.models import Programme

    programme = get_or_404(Programme, programme_id)
    form = SettlementListFilter(request.args)
    status = form.status.data if form.validate() else ""
    awards = select(Award).where(Award.programme_id == programme.id)
    if status == "none":
        awards = awards.outerjoin(Settlement, Settlement.award_id == Award.id).where(Settlement.id.is_(None))
    elif status == worklist.REREVIEW:
        awards = awards.join(Settlement, Settlement.award_id == Award.id).where(worklist.has_rereview_lines())
    elif status:
        awards = awards.join(Settlement, Settlement.award_id == Award.id).where(Settlement.status == status)
    total = db.session.scalar(select(func.count()).select_from(awards.subquery()))
    number = page_number(request.args.get("page", 1, type=int), total, LIST_PER_PAGE)
    # The settlement and the group of every award in two extra queries, not one per row, and
    # none of the JSON the list does not show (the snapshots hold 60 lines each).
    rows = db.session.scalars(
        awards.options(lazyload(Award.programme),
                       selectinload(Award.application).options(defer(Application.snapshot),
                                                               defer(Application.section_marks)),
                       selectinload(Award.settlement).options(lazyload(Settlement.award), defer(Settlement.snapshot),
                                                              defer(Settlement.previous_snapshot)))
        .order_by(Award.rank, Award.id).limit(LIST_PER_PAGE).offset((number - 1) * LIST_PER_PAGE)).all()
    jobs = db.session.scalars(select(ExportJob).where(ExportJob.programme_id == programme.id)
                              .order_by(ExportJob.id.desc()).limit(3)).all()
    rereview = worklist.rereview_counts([a.settlement.id for a in rows if a.settlement is not None])
    return render("settlement/programme.html", programme=programme, form=form, jobs=jobs, rereview=rereview,
                  page=Page(items=rows, page=number, per_page=LIST_PER_PAGE, total=total),
                  fragments={"settlement-list": "results"})


@bp.route("/programme/<int:programme_id>/zip", methods=["POST"])
@permission_required("review_settlements")
def start_zip(programme_id):
    from blueprints.programmes.models import Programme

    from .jobs import build_zip

    programme = get_or_404(Programme, programme_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    job = ExportJob(programme_id=programme.id, created_by_id=g.user.id)
    db.session.add(job)
    commit()
    build_zip(job.id)   # enqueued; the worker builds it (immediate in tests)
    return redirect(url_for("settlement.job", job_id=job.id), 303)


@bp.route("/jobs/<int:job_id>")
@permission_required("review_settlements")
def job(job_id):
    row = get_or_404(ExportJob, job_id)
    db.session.refresh(row)
    return render("settlement/job.html", job=row, fragments={"job-progress": "progress"})


@bp.route("/jobs/<int:job_id>/download")
@permission_required("review_settlements")
def job_download(job_id):
    from .jobs import export_dir

    row = get_or_404(ExportJob, job_id)
    if row.status != ExportJobState.done:
        abort(404)
    response = send_file(export_dir() / row.file_name, mimetype="application/zip", as_attachment=True,
                         download_name=f"settlements-{row.programme_id}.zip")
    response.headers["Cache-Control"] = "no-store"  # the statements carry personal data, as every export
    return response


@bp.route("/programme/<int:programme_id>/<what>.<fmt>")
@permission_required("list_settlements")
def export(programme_id, what, fmt):
    sheets = {"expenses": expenses_sheet, "settlements": settlements_sheet}
    if what not in sheets or fmt not in FORMATS:
        abort(404)
    sheet = sheets[what](programme_id)
    return send_table(sheet, fmt, f"{sheet.name}.{fmt}", fallback=f"{what}-{programme_id}.{fmt}")
