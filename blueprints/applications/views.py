"""Application pages: the step-by-step form with autosave and live budget checks, submit,
withdraw, the status page, the frozen submission's PDF, and the staff's list and actions."""
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, g, make_response, redirect, request, url_for
from sqlalchemy import select

from blueprints.core.auth import authorize, login_required
from blueprints.core.files import UploadError, send_stored_file
from blueprints.core.forms import EmptyForm
from blueprints.core.htmx import is_inline, render, render_fragment, set_htmx_headers
from blueprints.core.persistence import commit, commit_change, get_or_404
from blueprints.core.timeutil import now_utc, to_kst
from blueprints.groups.models import Group
from blueprints.programmes.models import Programme
from extensions import db

from . import bp, services
from .forms import AttachmentForm, BudgetForm, DeclarationForm, PlanForm, StatementsForm, SubmitForm
from .models import Application, ApplicationAttachment, ApplicationState, DraftConflict
from .steps import (STEPS, budget_form_for, category_choices, month_choices, next_month_row, plan_form_for, plan_summary,
                    rows_from_form, step_bar, step_index)

AUTOSAVE_TARGET = "save-status"


def load(application_id: int, action: str) -> Application:
    return authorize(action, get_or_404(Application, application_id))


def programme_or_404(programme_id: int) -> Programme:
    """A programme an applicant may see: a draft is staff's alone, everyone else gets 404 (as
    on the programme pages), at every door to an application."""
    programme = get_or_404(Programme, programme_id)
    if not programme.can(g.user, "view"):
        abort(404)
    return programme


@bp.route("/start/<int:programme_id>", methods=["POST"])
@login_required
def start(programme_id):
    programme = programme_or_404(programme_id)
    group = authorize("apply", get_or_404(Group, request.form.get("group_id", type=int) or 0))
    try:
        application = services.start_application(group, programme, user=g.user)
    except services.ApplicationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("home.dashboard"), 303)
    commit()
    return redirect(url_for("applications.edit", application_id=application.id, step="purpose"), 303)


@bp.route("/<int:application_id>")
def show(application_id):
    application = load(application_id, "view")
    history = services.history(application)
    return render("applications/show.html", application=application, history=history,
                  check=services.full_check(application) if application.is_editable else None,
                  submit_form=SubmitForm(), now=now_utc())


# The step-by-step form ------------------------------------------------------------------------

@bp.route("/<int:application_id>/edit/<step>", methods=["GET", "POST"])
def edit(application_id, step):
    application = load(application_id, "view")
    if step not in dict(STEPS):
        abort(404)
    if not application.is_editable:
        flash("제출한 신청서는 고칠 수 없습니다. 보완 요청을 받으면 다시 고칠 수 있습니다.", "info")
        return redirect(url_for("applications.show", application_id=application.id))
    authorize("edit", application)
    handler = STEP_HANDLERS[step]
    return handler(application)


def _page(application, step, status=200, conflict=None, **context):
    context.setdefault("opened", None)  # the row a row button just added (shown unfolded)
    return render("applications/edit.html", application=application, step=step, steps=STEPS,
                  step_no=step_index(step), bar=step_bar(application, step), conflict=conflict, status=status,
                  fragments={"budget-form-wrap": "budget_form", "plan-form-wrap": "plan_form"}, **context)


def _autosave_response(application, step, *, status=200, **context):
    """For an htmx autosave: the save status, plus fresh values out of band."""
    context.setdefault("conflict", None)
    response = render("applications/edit.html", fragments={AUTOSAVE_TARGET: "autosave"}, application=application,
                      step=step, steps=STEPS, step_no=step_index(step), status=status, **context)
    if step == "budget":
        set_htmx_headers(response, trigger="budget-changed")
    return response


def _is_autosave() -> bool:
    return is_inline() and request.headers.get("HX-Target") == AUTOSAVE_TARGET


def _after_save(application, step, form, **context):
    """Autosave answers with the status fragment; a button press saves and moves on."""
    if _is_autosave():
        return _autosave_response(application, step, form=form, **context)
    if form.errors:
        return _page(application, step, form=form, status=422, **context)
    flash(f"저장했습니다. ({to_kst(now_utc()):%H:%M})", "success")
    next_step = step
    if request.form.get("go") == "next":
        next_step = STEPS[min(step_index(step) + 1, len(STEPS) - 1)][0]
    target = url_for("applications.edit", application_id=application.id, step=next_step)
    if is_inline():  # a save button sent by htmx (queued behind autosaves)
        return set_htmx_headers(make_response("", 204), redirect=target)
    return redirect(target, 303)


def _conflict_response(application, step, exc: services.VersionConflict, form, **context):
    commit()  # keep the person's version and the audit event
    db.session.refresh(application)
    if _is_autosave():
        return _autosave_response(application, step, form=form, conflict=exc.conflict, status=409, **context)
    fresh = STEP_FORMS[step](application)
    return _page(application, step, form=fresh, conflict=exc.conflict, status=409, **context)


def _save_step(application, step, form, save, context=lambda rows=None: {}, rows=None, copy_row=dict):
    """What every saving step shares: the step's service saves (checking the form's version), a
    conflict keeps both versions, one commit, then the answer; on the row steps a row button
    ('add', 'copy', 'remove-3', …) shows the rows as typed, changed, the added row unfolded.
    `context(rows)`: the step's own page context for those rows (None: as stored)."""
    try:
        save(based_on_version=form.based_on_version, user=g.user, editor=form.editor.data or "")
    except services.VersionConflict as exc:
        return _conflict_response(application, step, exc, form, **context())
    commit()
    spec = ROW_STEPS.get(step)
    action = _row_action() if spec else ""
    if action:
        typed = rows_from_form(form[spec.rows], tuple(spec.blank), raw=True)
        raw = _apply_row_action(typed, action, blank=spec.blank, copy_row=copy_row)
        opened = len(raw) - 1 if len(raw) > len(typed) else None
        if opened is None and action in ("add", "copy"):
            flash(f"줄은 {MAX_ROWS}개까지 넣을 수 있습니다.", "info")
        return _page(application, step, form=STEP_FORMS[step](application, rows=raw, editor=form.editor.data),
                     opened=opened, **context(raw))
    form.stamp(application)
    return _after_save(application, step, form, **context(rows))


def _statement_step(application, step, form_class, save):
    """Purpose and declaration: a valid form is saved; an invalid one comes back with its messages."""
    if request.method == "GET":
        return _page(application, step, form=STEP_FORMS[step](application))
    form = form_class()
    if not form.validate():
        return _after_save(application, step, form)
    return _save_step(application, step, form, lambda **version: save(form, **version))


def statements_step(application):
    return _statement_step(application, "purpose", StatementsForm, lambda form, **version: services.save_statements(
        application, purpose=form.purpose.data or "", need=form.need.data or "", other_funding=application.other_funding,
        other_funding_detail=application.other_funding_detail, **version))


def declaration_step(application):
    return _statement_step(application, "declaration", DeclarationForm, lambda form, **version: services.save_statements(
        application, purpose=application.purpose, need=application.need,
        other_funding={"yes": True, "no": False}.get(form.other_funding.data),
        other_funding_detail=form.other_funding_detail.data or "", section="declaration", **version))


@dataclass(frozen=True)
class RowStep:
    """What the row steps differ in: their form, its list of rows, the select whose choices come
    from the programme, a blank row (its keys are the columns), the service that saves them."""
    form: type
    rows: str
    choice: str
    blank: dict
    save: Callable


ROW_STEPS = {
    "plan": RowStep(PlanForm, "sessions", "month", dict(month="", title="", content="", place="", expected_households=0,
                                                        expected_children=0), services.save_sessions),
    "budget": RowStep(BudgetForm, "lines", "category", dict(category="", item="", unit_price_won=0, quantity=0, note=""),
                      services.save_budget),
}


def _rows_step(application, step, choices, context, copy_row=dict):
    """Plan and budget: every POST saves the rows (a number that could not be read is kept as
    typed, with its message), so nothing typed is lost when a row button is pressed."""
    spec = ROW_STEPS[step]
    if request.method == "GET":
        return _page(application, step, form=STEP_FORMS[step](application), **context())
    form = spec.form()
    for entry in form[spec.rows]:
        entry.form[spec.choice].choices = choices
    form.validate()
    rows = rows_from_form(form[spec.rows], tuple(spec.blank))
    return _save_step(application, step, form, lambda **version: spec.save(
        application, [r for r in rows if any(v for v in r.values())], **version), context, rows, copy_row)


def plan_step(application):
    months = month_choices(application.programme)
    return _rows_step(application, "plan", months, lambda rows=None: {"months": months,
                                                                      "plan": plan_summary(application, rows)},
                      copy_row=next_month_row([value for value, _ in months if value]))


def budget_step(application):
    categories = category_choices(application.programme)

    def context(rows=None):
        # A number still as typed (text that could not be read) counts as not given.
        lines = None if rows is None else services.lines_from_rows(
            [{k: (v if not isinstance(v, str) or k in ("category", "item", "note") else None) for k, v in r.items()}
             for r in rows])
        return {"categories": categories, "check": services.check_budget(application, lines)}
    return _rows_step(application, "budget", categories, context)


def _row_action() -> str:
    """The row button pressed ('add', 'remove-3', ...). Never for an autosave: htmx adds the
    focused button's value to the form's own requests, so a keyboard user tabbing past a row's
    삭제 button while the autosave fired would have deleted that row."""
    return "" if _is_autosave() else request.form.get("row_action", "")


MAX_ROWS = 60  # the forms' FieldList max_entries


def _apply_row_action(rows: list[dict], action: str, *, blank: dict, copy_row=dict) -> list[dict]:
    """'add', 'copy' (the last row again, through copy_row), 'remove-3', 'up-3', 'down-3' on the
    rows as typed (nothing typed is lost)."""
    rows = list(rows)
    verb, _, index_text = action.partition("-")
    index = int(index_text) if index_text.isdigit() else -1
    if verb == "add" and len(rows) < MAX_ROWS:
        rows.append(dict(blank))
    elif verb == "copy" and len(rows) < MAX_ROWS:
        rows.append(copy_row(rows[-1]) if rows else dict(blank))
    elif verb == "remove" and 0 <= index < len(rows):
        rows.pop(index)
        if not rows:
            rows.append(dict(blank))
    elif verb == "up" and 0 < index < len(rows):
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif verb == "down" and 0 <= index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    return rows


def attachments_step(application):
    form = AttachmentForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.add_attachment(application, request.files.get("file"), form.label.data or "", user=g.user)
        except (UploadError, services.ApplicationError) as exc:
            db.session.rollback()
            form.label.errors = list(form.label.errors)
            return _page(application, "attachments", form=form, upload_error=str(exc), status=422)
        commit()
        flash("파일을 올렸습니다.", "success")
        return redirect(url_for("applications.edit", application_id=application.id, step="attachments"), 303)
    return _page(application, "attachments", form=form, upload_error=None,
                 status=422 if form.errors else 200)


def review_step(application):
    return _page(application, "review", check=services.full_check(application), submit_form=SubmitForm(),
                 form=None)


STEP_HANDLERS = {"purpose": statements_step, "plan": plan_step, "budget": budget_step,
                 "declaration": declaration_step, "attachments": attachments_step, "review": review_step}


def _statements_form(application):
    form = StatementsForm(formdata=None, obj=application)
    form.stamp(application)
    return form


def _declaration_form(application):
    form = DeclarationForm(formdata=None, other_funding={None: None, True: "yes", False: "no"}[application.other_funding],
                           other_funding_detail=application.other_funding_detail)
    form.stamp(application)
    return form


STEP_FORMS = {"purpose": _statements_form, "declaration": _declaration_form,
              "plan": plan_form_for, "budget": budget_form_for}


@bp.route("/<int:application_id>/budget/summary")
def budget_summary(application_id):
    """The category summary panel; it reloads itself on the budget-changed event."""
    application = load(application_id, "view")
    if not is_inline():
        return redirect(url_for("applications.edit", application_id=application.id, step="budget"))
    # The panel whatever the target: an htmx request without one (or with another) got the
    # whole edit page rendered without its context (a 500).
    return render_fragment("applications/edit.html", "budget_summary",
                           application=application, check=services.check_budget(application))


@bp.route("/<int:application_id>/attachments/<int:attachment_id>")
def download_attachment(application_id, attachment_id):
    application = load(application_id, "view")
    attachment = db.session.get(ApplicationAttachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        abort(404)
    return send_stored_file(attachment.stored_file)


@bp.route("/<int:application_id>/attachments/<int:attachment_id>/delete", methods=["POST"])
def delete_attachment(application_id, attachment_id):
    application = load(application_id, "edit")
    attachment = db.session.get(ApplicationAttachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.remove_attachment(application, attachment, user=g.user)
    commit()
    flash("첨부파일을 지웠습니다.", "success")
    return redirect(url_for("applications.edit", application_id=application.id, step="attachments"), 303)


# Submit and withdraw ----------------------------------------------------------------------------

@bp.route("/<int:application_id>/submit", methods=["POST"])
def submit(application_id):
    application = load(application_id, "view")
    if application.status == ApplicationState.submitted and application.group.is_officer(g.user):
        # A double click or a retried request: already done, same answer.
        flash("이미 제출된 신청서입니다.", "info")
        return redirect(url_for("applications.show", application_id=application.id), 303)
    authorize("submit", application)
    form = SubmitForm()
    if not form.validate_on_submit():
        return _page(application, "review", check=services.full_check(application), submit_form=form,
                     form=None, status=422)
    try:
        submitted = services.submit(application, user=g.user)
    except services.ApplicationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(application, "review", check=services.full_check(application), submit_form=form,
                     form=None, status=422)
    commit()
    flash("신청서를 제출했습니다." if submitted else "이미 제출된 신청서입니다.", "success" if submitted else "info")
    return redirect(url_for("applications.show", application_id=application.id), 303)


@bp.route("/<int:application_id>/withdraw", methods=["POST"])
def withdraw(application_id):
    application = load(application_id, "withdraw")
    if not EmptyForm().validate_on_submit():
        abort(400)
    if commit_change(lambda: services.withdraw(application, user=g.user), services.ApplicationError):
        flash("신청을 철회했습니다.", "success")
    return redirect(url_for("applications.show", application_id=application.id), 303)


@bp.route("/<int:application_id>/conflicts/<int:conflict_id>/dismiss", methods=["POST"])
def dismiss_conflict(application_id, conflict_id):
    application = load(application_id, "edit")
    conflict = db.session.get(DraftConflict, conflict_id)
    if conflict is None or conflict.application_id != application.id or conflict.user_id != g.user.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    db.session.delete(conflict)
    commit()
    return redirect(url_for("applications.edit", application_id=application.id, step=conflict.section), 303)


@bp.route("/<int:application_id>/pdf")
def pdf(application_id):
    application = load(application_id, "download_pdf")
    from .documents import application_pdf_response

    return application_pdf_response(application)


@bp.route("/<int:application_id>/staff-action", methods=["POST"])
def staff_action(application_id):
    application = get_or_404(Application, application_id)
    action = request.form.get("action")
    if action not in {"return", "ineligible"}:
        abort(400)
    authorize("return" if action == "return" else "mark_ineligible", application)
    from .forms import StaffActionForm

    form = StaffActionForm()
    if not form.validate_on_submit():
        flash("사유를 적어 주세요.", "error")
        return redirect(url_for("applications.show", application_id=application.id), 303)
    change = services.return_for_changes if action == "return" else services.mark_ineligible
    if commit_change(lambda: change(application, form.message.data, user=g.user), services.ApplicationError):
        flash("처리했습니다.", "success")
    return redirect(url_for("applications.show", application_id=application.id), 303)


from . import staff_views  # noqa: E402,F401


@bp.route("/new/<int:programme_id>")
@login_required
def new(programme_id):
    """'신청하기': pick which of my groups applies (most parents have one) and start."""
    programme = programme_or_404(programme_id)
    groups = services.groups_user_can_apply_for(g.user)
    existing = {a.group_id: a for a in db.session.scalars(select(Application).where(
        Application.programme_id == programme.id, Application.group_id.in_([gr.id for gr in groups] or [0])))}
    return render("applications/new.html", programme=programme, groups=groups, existing=existing,
                  is_open=programme.is_open())
