"""The group's pages: the expense ledger on a phone (with live checks and the balance per
category), activity results, and the settlement to submit."""
from datetime import date
from itertools import zip_longest

from flask import abort, current_app, flash, g, make_response, redirect, request, url_for

from blueprints.core.auth import authorize
from blueprints.core.files import (UploadError, clean_filename, pending_file, pending_token, remove_unreferenced, send_stored_file,
                                   send_thumbnail, store_upload)
from blueprints.core.forms import EmptyForm, is_confirmed
from blueprints.core.htmx import (is_inline, page_redirect, render, render_flash_oob, requested_fragment,
                                  set_htmx_headers)
from blueprints.core.pdf import pdf_response
from blueprints.core.persistence import commit, get_or_404, id_arg
from blueprints.core.timeutil import today_kst
from blueprints.core.formatting import kdate
from extensions import db

from . import bp, services
from .checks import ExpenseIn
from .forms import ExpenseForm, SessionForm, SettlementForm
from .models import (ActivityPhoto, ActivitySession, AttachmentKind, Expense, ExpenseAttachment, ExpenseReviewState,
                     SettlementState)


@bp.app_template_filter("isodate")
def isodate(text):
    """'2027-04-15' (kept in snapshots and PDF data) -> 2027. 4. 15."""
    return kdate(date.fromisoformat(text)) if text else "-"


@bp.app_context_processor
def inject_settlement_tasks():
    """`settlement_fixes()` for the dashboard (home/_settlement_tasks.html): the signed-in
    officer's settlements returned for fixes, with their returned lines."""
    def settlement_fixes():
        user = g.get("user")
        return services.fixes_asked(user) if user is not None else []

    return {"settlement_fixes": settlement_fixes}


def load_award(award_id: int, action: str = "view"):
    from blueprints.awards.models import Award

    award = get_or_404(Award, award_id)
    authorize("view", award)
    if action == "edit" and not Expense.can_on(award, g.user):
        abort(403)
    return award


def _category_choices(award):
    cats = [c for c in award.programme.rules.get("expense_categories", []) if c.get("allowed", True)]
    return [("", "선택")] + [(c["code"], c["label"]) for c in cats]


def _expense_form(award, expense=None, formdata=None, fresh=False):
    form = ExpenseForm(formdata=formdata, obj=expense) if expense is not None and formdata is None else ExpenseForm(formdata=formdata)
    form.category.choices = _category_choices(award)
    form.session_id.choices = [("", "해당 없음")] + [(str(s.id), f"{s.held_on.month}/{s.held_on.day} {s.title}")
                                                   for s in services.sessions(award)]
    if expense is not None and formdata is None:
        form.session_id.data = str(expense.session_id or "")
    if (request.method == "GET" or fresh) and expense is None:
        form.spent_on.data = today_kst() if award.programme.activity_start <= today_kst() <= award.programme.activity_end else None
        form.method.data = "clean_card"
    return form


def _expense_in(form) -> ExpenseIn:
    session_id = form.session_id.data
    return ExpenseIn(spent_on=form.spent_on.data, category=form.category.data or "", vendor=form.vendor.data or "",
                     biz_no=form.biz_no.data or "", description=form.description.data or "",
                     amount_won=form.amount_won.data, method=form.method.data or "", approval_no=form.approval_no.data or "",
                     cash_reason=form.cash_reason.data or "", evidence_kind=form.evidence_kind.data or "card_slip",
                     participants=form.participants.data or 0, hours=form.hours.data or None,
                     session_id=int(session_id) if session_id and session_id.isdigit() else None)


# Which field a rule's hard issue belongs to (checks.py codes): the message goes next to that
# field and into the error summary; the rest stay in the live-check box.
ISSUE_FIELDS = {
    "no_date": "spent_on", "outside_period": "spent_on", "future_date": "spent_on", "per_day_cap": "amount_won",
    "no_category": "category", "unknown_category": "category", "category_not_allowed": "category",
    "no_vendor": "vendor", "paid_to_member": "vendor", "biz_no": "biz_no", "no_description": "description",
    "prohibited": "description", "no_amount": "amount_won", "over_award": "amount_won", "share_cap": "amount_won",
    "per_participant_cap": "amount_won", "per_hour_cap": "amount_won", "no_method": "method", "cash": "method",
    "method": "method", "category_method": "method", "cash_reason": "cash_reason", "simple_receipt": "evidence_kind",
    "no_receipt": "receipt", "no_participants": "participants", "no_hours": "hours",
}


def _issues_on_fields(form, result) -> None:
    first = {name for name in ISSUE_FIELDS.values() if form[name].errors}   # e.g. a refused file: that first
    for issue in (result.hard if result else []):
        name = ISSUE_FIELDS.get(issue.code)
        if name and name not in first and issue.message not in form[name].errors:
            form[name].errors = list(form[name].errors) + [issue.message]


def _error_summary(form, result) -> list[tuple[str, str]]:
    """(anchor, message) per mistake in the order of the form: the KRDS error summary."""
    out = [(name, message) for name in form._fields if name != "csrf_token" for message in form[name].errors]
    out += [("expense-check", i.message) for i in (result.hard if result else []) if i.code not in ISSUE_FIELDS]
    return out


class Pending:
    """A file kept from a form that came back (core.files pending upload) and its kind."""

    def __init__(self, stored, token, kind=None):
        self.file, self.token, self.kind = stored, token, kind

    @property
    def kind_label(self):
        return AttachmentKind.title_of(self.kind) if self.kind else "영수증"


class ExpenseFiles:
    """The files of one save: the receipt and the other evidence, each a pending upload (kept
    from an earlier try, signed for this person and award) or a new upload stored now."""

    def __init__(self, receipt=None, attachments=()):
        self.receipt, self.attachments = receipt, list(attachments)


def _scope(award) -> str:
    return f"award:{award.id}"


def _collect_files(award, form) -> ExpenseFiles:
    """Store this request's new files at once (committed: they survive a refused save as pending
    uploads) and read back the pending ones the form carries. A reference made for someone else
    or another award reads as nothing."""
    scope, user = _scope(award), g.user
    files = ExpenseFiles()
    dropped = set(request.form.getlist("drop_pending"))
    stored_any = False

    def keep(stored, kind=None):
        return Pending(stored, pending_token(stored, user=user, scope=scope), kind)

    new_receipt = next((f for f in (request.files.get("receipt_camera"), request.files.get("receipt"))
                        if f is not None and f.filename), None)
    if new_receipt is not None:
        try:
            files.receipt = keep(store_upload(new_receipt, max_bytes=services.RECEIPT_MAX_BYTES, user=user))
            stored_any = True
        except UploadError as exc:   # refused before anything is stored
            form.receipt.errors = [str(exc)]
    token = request.form.get("receipt_pending", "")
    if files.receipt is None and token and token not in dropped:
        stored = pending_file(token, user=user, scope=scope)
        files.receipt = Pending(stored, token) if stored is not None else None
    for token, kind in zip_longest(request.form.getlist("pending")[:50], request.form.getlist("pending_kind")[:50]):
        stored = pending_file(token, user=user, scope=scope) if token and token not in dropped else None
        if stored is not None:
            files.attachments.append(Pending(stored, token, kind if AttachmentKind.known(kind) else AttachmentKind.other))
    kind = request.form.get("attachment_kind", "")
    uploads = [f for f in request.files.getlist("attachments_camera") + request.files.getlist("attachments") if f.filename]
    if len(uploads) + len(files.attachments) > services.MAX_FILES_PER_SAVE:
        # refused before any is opened (each image is decoded to be cleaned)
        form.attachments.errors = [f"다른 증빙은 한 번에 {services.MAX_FILES_PER_SAVE}개까지 올릴 수 있습니다. "
                                   "나머지는 저장한 뒤 이 줄을 고쳐 더 올려 주세요."]
        uploads = []
    if uploads and not AttachmentKind.known(kind):
        form.attachments.errors = ["올리는 파일의 종류(도서목록, 거래명세서 …)를 골라 주세요."]
        kind = AttachmentKind.other
    for upload in uploads:
        try:
            files.attachments.append(keep(store_upload(upload, max_bytes=services.RECEIPT_MAX_BYTES, user=user), kind))
            stored_any = True
        except UploadError as exc:
            form.attachments.errors = list(form.attachments.errors) + [f"{clean_filename(upload.filename)}: {exc}"]
    if stored_any:
        commit()   # the pending uploads, before the save that may be refused
    return files


def _ledger_context(award, form, *, expense=None, result=None, files=None, summary=(), confirming=None):
    return dict(award=award, form=form, expense=expense, result=result, files=files or ExpenseFiles(),
                summary=list(summary), on_fields=set(ISSUE_FIELDS) if summary else set(), confirming=confirming,
                rows=services.expenses(award), balance=services.balance(award),
                settlement=services.settlement_for(award), can_edit=Expense.can_on(award, g.user),
                undo=services.undoable(award, g.user), attachment_kinds=AttachmentKind.choices(),
                labels={c["code"]: c["label"] for c in award.programme.rules.get("expense_categories", [])})


LEDGER_FRAGMENTS = {"ledger": "ledger", "expense-check": "check", "balance": "balance"}


def _ledger_page(award, form, *, status=200, **kwargs):
    return render("settlement/expenses.html", status=status, fragments=LEDGER_FRAGMENTS,
                  **_ledger_context(award, form, **kwargs))


def _ledger_changed(award, *, replace_url=False):
    """After a change with htmx: the ledger (a fresh form, the list, the undo box) in place, and
    the balance told to reload itself (balance-changed)."""
    response = render("settlement/expenses.html", fragments={"ledger": "ledger"},
                      **_ledger_context(award, _expense_form(award, fresh=True)))
    if replace_url:
        response.headers["HX-Replace-Url"] = url_for("settlement.expenses", award_id=award.id)
    return set_htmx_headers(response, trigger="balance-changed")


@bp.route("/awards/<int:award_id>/expenses", methods=["GET", "POST"])
def expenses(award_id):
    award = load_award(award_id)
    if request.method == "GET":
        return _ledger_page(award, _expense_form(award))
    load_award(award_id, "edit")
    form = _expense_form(award, formdata=request.form)
    return _save(award, form, None)


@bp.route("/expenses/<int:expense_id>/edit", methods=["GET", "POST"])
def edit_expense(expense_id):
    expense = authorize("edit", get_or_404(Expense, expense_id))
    award = expense.award
    if request.method == "GET":
        return _ledger_page(award, _expense_form(award, expense), expense=expense)
    return _save(award, _expense_form(award, formdata=request.form), expense)


def _save(award, form, expense):
    valid = form.validate()
    files = _collect_files(award, form)
    data = _expense_in(form) if valid else None
    result = None
    if data is not None and not form.receipt.errors and not form.attachments.errors:
        remove = {int(i) for i in request.form.getlist("remove_attachment") if i.isdigit()}
        try:
            saved = services.save_expense(award, data, user=g.user, expense=expense,
                                          receipt=files.receipt.file if files.receipt else None,
                                          attachments=[(p.file, p.kind) for p in files.attachments],
                                          remove_attachment_ids=remove)
        except services.ExpenseRejected as exc:
            db.session.rollback()
            result = exc.result
        except services.SettlementError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            commit()
            flash(f"{saved.evidence_no} {saved.description} {saved.amount_won:,}원을 기록했습니다.", "success")
            fixing = services.after_fix(award) if expense is not None else None
            if fixing is not None:  # a fix asked for: on to the next returned line, or to submitting again
                message, next_id = fixing
                if next_id:   # (the last one: the settlement page's notice says to submit again)
                    flash(message, "info")
                to = (url_for("settlement.edit_expense", expense_id=next_id) + "#form-h" if next_id
                      else url_for("settlement.settlement", award_id=award.id) + "#returned")
                return page_redirect(to)
            if is_inline():
                return _ledger_changed(award, replace_url=expense is not None)
            response = redirect(url_for("settlement.expenses", award_id=award.id) + "#balance", 303)
            return set_htmx_headers(response, trigger="balance-changed")
    if result is None and valid:
        data = data or _expense_in(form)
        data.has_receipt = files.receipt is not None or bool(expense and expense.receipt_file_id)
        result = services.check(award, data, excluding=expense.id if expense else None)
    _issues_on_fields(form, result)
    summary = _error_summary(form, result) or [("expense-check", "저장하지 못했습니다. 아래 안내를 확인해 주세요.")]
    return _ledger_page(award, form, expense=expense, result=result, files=files, summary=summary, status=422)


@bp.route("/awards/<int:award_id>/expenses/check", methods=["POST"])
def check_expense(award_id):
    """Live check while typing (htmx): the issues for the form as it stands."""
    award = load_award(award_id, "edit")
    form = _expense_form(award, formdata=request.form)
    form.validate()
    expense_id = id_arg(request.form.get("expense_id", type=int))
    data = _expense_in(form)
    data.has_receipt = bool(request.form.get("has_receipt")) or bool(expense_id and db.session.get(Expense, expense_id)
                                                                    and db.session.get(Expense, expense_id).receipt_file_id)
    result = services.check(award, data, excluding=expense_id)
    # The photo is not sent with a live check; the receipt is checked when saving.
    result.issues = [i for i in result.issues if i.code != "no_receipt"]
    if requested_fragment({"expense-check": "check"}):   # the box alone: none of the page's lists
        return render("settlement/expenses.html", fragments={"expense-check": "check"}, result=result, on_fields=set())
    return _ledger_page(award, form, result=result)


@bp.route("/awards/<int:award_id>/balance")
def balance(award_id):
    award = load_award(award_id)
    if requested_fragment({"balance": "balance"}):
        return render("settlement/expenses.html", fragments={"balance": "balance"}, balance=services.balance(award))
    return _ledger_page(award, _expense_form(award))


@bp.route("/awards/<int:award_id>/pending/<token>/thumbnail")
def pending_thumbnail(award_id, token):
    """The thumbnail of a file kept from a form that came back: for the person who chose it."""
    award = load_award(award_id, "edit")
    stored = pending_file(token, user=g.user, scope=_scope(award))
    if stored is None:
        abort(404)
    return send_thumbnail(stored)


@bp.route("/expenses/<int:expense_id>/delete", methods=["GET", "POST"])
def delete_expense(expense_id):
    """GET: the confirmation (htmx: in the line's place; without JS: the ledger with the line
    asking). POST: delete, with a few seconds to undo."""
    expense = authorize("edit", get_or_404(Expense, expense_id))
    award = expense.award
    if request.method == "GET":
        if is_inline():
            return render("settlement/expenses.html", fragments={f"expense-{expense.id}": "expense_row"},
                          **_ledger_context(award, _expense_form(award), confirming=expense.id), e=expense)
        return _ledger_page(award, _expense_form(award), confirming=expense.id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    undo_seconds = current_app.config.get("EXPENSE_UNDO_SECONDS", services.UNDO_SECONDS)
    try:
        services.delete_expense(expense, user=g.user, undo_seconds=undo_seconds)
    except services.SettlementError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        if is_inline():
            return _ledger_page(award, _expense_form(award), status=409)
    else:
        commit()
        flash("집행내역을 삭제했습니다." + (" 아래에서 되돌릴 수 있습니다." if undo_seconds > 0 else ""), "success")
        if is_inline():
            return _ledger_changed(award)
    return redirect(url_for("settlement.expenses", award_id=award.id) + "#ledger", 303)


@bp.route("/deleted-expenses/<int:deleted_id>/undo", methods=["POST"])
def undo_delete(deleted_id):
    from .models import DeletedExpense

    row = db.session.get(DeletedExpense, deleted_id)
    if row is None:
        abort(404)
    award = load_award(row.award_id, "edit")
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        restored = services.undo_delete(row, user=g.user)
    except services.SettlementError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        if is_inline():
            return _ledger_page(award, _expense_form(award), status=409)
    else:
        commit()
        flash(f"{restored.evidence_no} {restored.description}의 삭제를 되돌렸습니다.", "success")
        if is_inline():
            return _ledger_changed(award)
    return redirect(url_for("settlement.expenses", award_id=award.id) + "#ledger", 303)


@bp.route("/expenses/<int:expense_id>/receipt")
def receipt(expense_id):
    expense = authorize("view", get_or_404(Expense, expense_id))
    if expense.receipt is None:
        abort(404)
    return send_stored_file(expense.receipt, inline=request.args.get("inline") == "1")


@bp.route("/expenses/<int:expense_id>/receipt/thumbnail")
def receipt_thumbnail(expense_id):
    expense = authorize("view", get_or_404(Expense, expense_id))
    if expense.receipt is None:
        abort(404)
    return send_thumbnail(expense.receipt)


@bp.route("/expense-attachments/<int:attachment_id>")
def attachment(attachment_id):
    row = get_or_404(ExpenseAttachment, attachment_id)
    authorize("view", row.expense)
    return send_stored_file(row.stored_file, inline=True)


@bp.route("/expense-attachments/<int:attachment_id>/thumbnail")
def attachment_thumbnail(attachment_id):
    row = get_or_404(ExpenseAttachment, attachment_id)
    authorize("view", row.expense)
    return send_thumbnail(row.stored_file)


# Activity results ---------------------------------------------------------------------------

def _session_fields(form) -> dict:
    return dict(held_on=form.held_on.data, title=form.title.data, place=form.place.data or "",
                content=form.content.data or "", households=form.households.data or 0, adults=form.adults.data or 0,
                children=form.children.data or 0, outcome=form.outcome.data or "")


def _sessions_page(award, *, form=None, editing=None, edit_form=None, row=None, fragments=None, status=200):
    """The activity page; ``row`` is the one session a row fragment renders (htmx)."""
    return render("settlement/sessions.html", award=award, form=form or SessionForm(formdata=None),
                  rows=services.sessions(award), can_edit=Expense.can_on(award, g.user), editing=editing,
                  edit_form=edit_form, s=row or editing, fragments=fragments, status=status)


@bp.route("/awards/<int:award_id>/sessions", methods=["GET", "POST"])
def activity(award_id):
    award = load_award(award_id)
    form = SessionForm()
    status = 200
    if request.method == "POST":
        load_award(award_id, "edit")
        if form.validate_on_submit():
            try:
                services.save_session(award, **_session_fields(form), photos=request.files.getlist("photos"), user=g.user)
            except UploadError as exc:
                db.session.rollback()
                form.photos.errors = [str(exc)]
            except services.SettlementError as exc:
                db.session.rollback()
                form.held_on.errors = [str(exc)]
            else:
                commit()
                flash("활동실적을 기록했습니다.", "success")
                return redirect(url_for("settlement.activity", award_id=award.id), 303)
        status = 422
    return _sessions_page(award, form=form, status=status)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
def edit_session(session_id):
    """The row turns into its form (htmx: that row only; without JS: the page with the form in
    place). Saving answers with the row again, or a redirect to the list."""
    row = authorize("edit", get_or_404(ActivitySession, session_id))
    award = row.award
    target = f"session-{row.id}"
    # Prefixed ids: the row's form can sit on the page beside the "add" form. CSRF is checked
    # for every POST by CSRFProtect (the plain csrf_token field or the htmx header).
    edit = dict(prefix="edit", meta={"csrf": False})
    form = SessionForm(obj=row, **edit) if request.method == "GET" else SessionForm(**edit)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            remove = [int(i) for i in request.form.getlist("remove_photos") if i.isdigit()]
            try:
                removed = services.update_session(row, **_session_fields(form), photos=request.files.getlist("edit-photos"),
                                                  remove_photo_ids=remove, user=g.user)
            except UploadError as exc:
                db.session.rollback()
                form.photos.errors = [str(exc)]
            except services.SettlementError as exc:
                db.session.rollback()
                form.held_on.errors = [str(exc)]
            else:
                commit()
                remove_unreferenced(removed)
                flash("활동실적을 고쳤습니다.", "success")
                if is_inline():
                    return _sessions_page(award, row=row, fragments={target: "session_row"})
                return redirect(url_for("settlement.activity", award_id=award.id) + f"#{target}", 303)
        status = 422
    return _sessions_page(award, editing=row, edit_form=form, fragments={target: "session_form_row"}, status=status)


@bp.route("/sessions/<int:session_id>/delete", methods=["POST"])
def delete_session(session_id):
    row = authorize("edit", get_or_404(ActivitySession, session_id))
    award = row.award
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        removed = services.delete_session(row, user=g.user)
    except services.SettlementError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        if is_inline():
            return _sessions_page(award, row=row, fragments={f"session-{session_id}": "session_row"}, status=409)
    else:
        commit()
        remove_unreferenced(removed)
        flash("활동실적을 삭제했습니다.", "success")
        if is_inline():
            return set_htmx_headers(make_response(render_flash_oob()))
    return redirect(url_for("settlement.activity", award_id=award.id), 303)


@bp.route("/photos/<int:photo_id>")
def photo(photo_id):
    row = get_or_404(ActivityPhoto, photo_id)
    authorize("view", row.session)
    return send_stored_file(row.stored_file, inline=True)


@bp.route("/photos/<int:photo_id>/thumbnail")
def photo_thumbnail(photo_id):
    row = get_or_404(ActivityPhoto, photo_id)
    authorize("view", row.session)
    return send_thumbnail(row.stored_file)


# The settlement -------------------------------------------------------------------------------

@bp.route("/awards/<int:award_id>", methods=["GET", "POST"])
def settlement(award_id):
    award = load_award(award_id)
    row = services.settlement_for(award)
    officer = award.application.group.is_officer(g.user)
    if row is None:
        if not (officer and Expense.can_on(award, g.user)):
            abort(404)
        # GET never writes: the page shows a draft; saving makes the row.
        row = services.unsaved_settlement(award) if request.method == "GET" else services.settlement_for(award, create=True)
    form = SettlementForm(obj=row) if request.method == "GET" else SettlementForm()
    draft = services.report_text(row)
    if request.method == "GET":
        form.report_text.data = draft
        form.report_draft.data = draft if not row.report_edited else ""
    status = 200
    if request.method == "POST":
        authorize("edit", row)
        if form.validate_on_submit():
            try:
                services.save_settlement(row, report_text=form.report_text.data or "", interest_won=form.interest_won.data or 0,
                                         interest_file=request.files.get("interest_file"), user=g.user,
                                         shown_draft=form.report_draft.data or None)
            except (UploadError, services.SettlementError) as exc:
                db.session.rollback()
                form.interest_file.errors = [str(exc)]
            else:
                commit()
                flash("정산서를 저장했습니다.", "success")
                return redirect(url_for("settlement.settlement", award_id=award.id), 303)
        status = 422
    return _settlement_page(award, row, form=form, status=status)


def _settlement_page(award, row, *, form=None, status=200):
    rows = services.expenses(award)
    returned = [e for e in rows if e.review_status == ExpenseReviewState.needs_fix]
    return render("settlement/settlement.html", award=award, settlement=row, form=form or SettlementForm(obj=row),
                  figures=services.figures(row, rows), categories=services.totals_by_category(row, rows),
                  rows=rows, returned=returned, blockers=services.submission_blockers(row) if row.is_editable else [],
                  report=services.report_text(row), report_changes=services.report_changes(row),
                  depositor=services.expected_depositor(row), status=status)


@bp.route("/<int:settlement_id>/report/redraft", methods=["POST"])
def redraft_report(settlement_id):
    """초안 다시 만들기: the group's edited report gives way to the draft from today's numbers."""
    from .models import Settlement

    row = authorize("edit", get_or_404(Settlement, settlement_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.redraft_report(row, user=g.user)
    except services.SettlementError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        commit()
        flash("결과보고 초안을 지금 숫자로 다시 만들었습니다.", "success")
    return redirect(url_for("settlement.settlement", award_id=row.award_id) + "#report-h", 303)


@bp.route("/<int:settlement_id>/interest-evidence")
def interest_evidence(settlement_id):
    from .models import Settlement

    row = authorize("view", get_or_404(Settlement, settlement_id))
    if row.interest_file is None:
        abort(404)
    return send_stored_file(row.interest_file, inline=True)


@bp.route("/<int:settlement_id>/submit", methods=["POST"])
def submit(settlement_id):
    """정산서 제출, in two steps: the first POST answers with the confirmation (the numbers,
    what cannot be changed afterwards: a page, or for htmx the section under the button);
    only the POST carrying confirm=1 submits. A second confirmed POST (a double tap, another
    tab) finds it submitted and says so."""
    from .models import Settlement

    row = authorize("view", get_or_404(Settlement, settlement_id))
    if not row.award.application.group.is_officer(g.user):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    back = url_for("settlement.settlement", award_id=row.award_id)
    if row.status == SettlementState.submitted:
        flash("이미 제출한 정산입니다. 회계담당이 검토합니다.", "info")
        return page_redirect(back)
    authorize("submit", row)
    if not is_confirmed():
        return _confirm_submit(row, back)
    try:
        services.submit(row, user=g.user, seen_version=request.form.get("version", type=int))
    except services.ChangedMeanwhile as exc:
        db.session.rollback()
        return _confirm_submit(row, back, changed=str(exc))
    except services.SettlementError as exc:
        db.session.rollback()
        if row.status == SettlementState.submitted:  # submitted by the other officer while this waited
            flash("이미 제출한 정산입니다. 회계담당이 검토합니다.", "info")
        else:
            flash(str(exc), "error")
    else:
        commit()
        flash("정산서를 제출했습니다. 회계담당이 검토합니다.", "success")
    return page_redirect(back)


def _confirm_submit(row, back, *, changed=None):
    """The confirmation before 정산서 제출, with the numbers as they are now (and, when they
    changed after an earlier confirmation, a 409 that says so)."""
    summary = services.submission_summary(row)
    if changed:
        summary["warnings"].insert(0, changed)
    status = 409 if changed else 422 if summary["blockers"] else 200
    return render("settlement/confirm_submit.html", fragments={"submit-confirm": "confirm", "resubmit-confirm": "confirm"},
                  award=row.award, settlement=row, summary=summary, back=back, status=status)


@bp.route("/<int:settlement_id>/submitted-receipts/<int:file_id>/thumbnail")
def submitted_receipt_thumbnail(settlement_id, file_id):
    """A receipt as it was in one of the last two submissions: the "영수증 교체됨" before/after
    pictures in the changes finance staff see. Only files those submissions hold."""
    from .models import Settlement

    row = authorize("view", get_or_404(Settlement, settlement_id))
    stored = services.snapshot_receipt(row, file_id)
    if stored is None:
        abort(404)
    return send_thumbnail(stored)


@bp.route("/<int:settlement_id>/pdf")
def pdf(settlement_id):
    from .documents import settlement_pdf
    from .models import Settlement

    row = authorize("download_pdf", get_or_404(Settlement, settlement_id))
    data, name = settlement_pdf(row)
    return pdf_response(data, name, fallback=f"settlement-{row.id}.pdf")
