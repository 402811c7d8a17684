"""Application pages: the step-by-step form with autosave and live budget checks, submit,
withdraw, the status page, the frozen submission's PDF, and the staff's list and actions."""
from flask import abort, flash, g, make_response, redirect, request, url_for
from sqlalchemy import select

from blueprints.core.auth import authorize, login_required
from blueprints.core.files import UploadError, send_stored_file
from blueprints.core.forms import EmptyForm
from blueprints.core.htmx import is_boosted, is_htmx, render, set_htmx_headers
from blueprints.core.persistence import commit, get_or_404
from blueprints.core.timeutil import now_utc, to_kst
from blueprints.groups.models import Group
from blueprints.programmes.models import Programme
from extensions import db

from . import bp, services
from .forms import AttachmentForm, BudgetForm, DeclarationForm, PlanForm, StatementsForm, SubmitForm
from .models import Application, ApplicationAttachment, DraftConflict
from .steps import STEPS, budget_form_for, category_choices, month_choices, plan_form_for, rows_from_form, step_index

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
    return render("applications/edit.html", application=application, step=step, steps=STEPS,
                  step_no=step_index(step), conflict=conflict, status=status,
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
    return is_htmx() and not is_boosted() and request.headers.get("HX-Target") == AUTOSAVE_TARGET


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
    if is_htmx() and not is_boosted():  # a save button sent by htmx (queued behind autosaves)
        return set_htmx_headers(make_response("", 204), redirect=target)
    return redirect(target, 303)


def _conflict_response(application, step, exc: services.VersionConflict, form, **context):
    commit()  # keep the person's version and the audit event
    db.session.refresh(application)
    if _is_autosave():
        return _autosave_response(application, step, form=form, conflict=exc.conflict, status=409, **context)
    fresh = STEP_FORMS[step](application)
    return _page(application, step, form=fresh, conflict=exc.conflict, status=409, **context)


def statements_step(application):
    if request.method == "GET":
        return _page(application, "purpose", form=_statements_form(application))
    form = StatementsForm()
    if form.validate():
        try:
            services.save_statements(application, purpose=form.purpose.data or "", need=form.need.data or "",
                                     other_funding=application.other_funding,
                                     other_funding_detail=application.other_funding_detail,
                                     based_on_version=form.based_on_version, user=g.user, editor=form.editor.data or "")
        except services.VersionConflict as exc:
            return _conflict_response(application, "purpose", exc, form)
        commit()
        form.stamp(application)
    return _after_save(application, "purpose", form)


def declaration_step(application):
    if request.method == "GET":
        return _page(application, "declaration", form=_declaration_form(application))
    form = DeclarationForm()
    if form.validate():
        answer = {"yes": True, "no": False}.get(form.other_funding.data)
        try:
            services.save_statements(application, purpose=application.purpose, need=application.need,
                                     other_funding=answer, other_funding_detail=form.other_funding_detail.data or "",
                                     based_on_version=form.based_on_version, user=g.user, editor=form.editor.data or "", section="declaration")
        except services.VersionConflict as exc:
            return _conflict_response(application, "declaration", exc, form)
        commit()
        form.stamp(application)
    return _after_save(application, "declaration", form)


def plan_step(application):
    programme = application.programme
    if request.method == "GET":
        return _page(application, "plan", form=plan_form_for(application), months=month_choices(programme))
    form = PlanForm()
    for entry in form.sessions:
        entry.form.month.choices = month_choices(programme)
    action = _row_action()
    form.validate()
    rows = rows_from_form(form.sessions, ("month", "title", "content", "place", "expected_households", "expected_children"))
    try:
        services.save_sessions(application, [r for r in rows if any(v for v in r.values())],
                               based_on_version=form.based_on_version, user=g.user, editor=form.editor.data or "")
    except services.VersionConflict as exc:
        return _conflict_response(application, "plan", exc, form, months=month_choices(programme))
    commit()
    if action:
        rows = rows_from_form(form.sessions, ("month", "title", "content", "place", "expected_households", "expected_children"), raw=True)
        form = plan_form_for(application, rows=_apply_row_action(rows, action, blank=dict(
            month="", title="", content="", place="", expected_households=0, expected_children=0)),
            editor=form.editor.data)
        return _page(application, "plan", form=form, months=month_choices(programme))
    form.stamp(application)
    return _after_save(application, "plan", form, months=month_choices(programme),
                       plan_check=services.check_plan(application))


def budget_step(application):
    programme = application.programme
    if request.method == "GET":
        form = budget_form_for(application)
        return _page(application, "budget", form=form, check=services.check_budget(application),
                     categories=category_choices(programme))
    form = BudgetForm()
    choices = category_choices(programme)
    for entry in form.lines:
        entry.form.category.choices = choices
    form.validate()
    action = _row_action()
    rows = rows_from_form(form.lines, ("category", "item", "unit_price_won", "quantity", "note"))
    try:
        services.save_budget(application, [r for r in rows if any(v for v in r.values())],
                             based_on_version=form.based_on_version, user=g.user, editor=form.editor.data or "")
    except services.VersionConflict as exc:
        return _conflict_response(application, "budget", exc, form, categories=category_choices(programme),
                                  check=services.check_budget(application))
    commit()
    if action:
        raw_rows = rows_from_form(form.lines, ("category", "item", "unit_price_won", "quantity", "note"), raw=True)
        raw_rows = _apply_row_action(raw_rows, action, blank=dict(category="", item="", unit_price_won=0, quantity=0, note=""))
        form = budget_form_for(application, rows=raw_rows, editor=form.editor.data)
        check = services.check_budget(application, services.lines_from_rows(
            [{k: (v if not isinstance(v, str) or k in ("category", "item", "note") else None) for k, v in r.items()}
             for r in raw_rows]))
        return _page(application, "budget", form=form, check=check, categories=category_choices(programme))
    form.stamp(application)
    check = services.check_budget(application, services.lines_from_rows(rows))
    return _after_save(application, "budget", form, check=check, categories=category_choices(programme))


def _row_action() -> str:
    """The row button pressed ('add', 'remove-3', ...). Never for an autosave: htmx adds the
    focused button's value to the form's own requests, so a keyboard user tabbing past a row's
    삭제 button while the autosave fired would have deleted that row."""
    return "" if _is_autosave() else request.form.get("row_action", "")


def _apply_row_action(rows: list[dict], action: str, *, blank: dict) -> list[dict]:
    """'add', 'remove-3', 'up-3', 'down-3' on the rows as typed (nothing typed is lost)."""
    rows = list(rows)
    verb, _, index_text = action.partition("-")
    index = int(index_text) if index_text.isdigit() else -1
    if verb == "add" and len(rows) < 60:
        rows.append(dict(blank))
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
    if not is_htmx():
        return redirect(url_for("applications.edit", application_id=application.id, step="budget"))
    return render("applications/edit.html", fragments={"budget-summary": "budget_summary"},
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
    if application.status == "submitted" and application.group.is_officer(g.user):
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
    try:
        services.withdraw(application, user=g.user)
    except services.ApplicationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("applications.show", application_id=application.id), 303)
    commit()
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
    try:
        if action == "return":
            services.return_for_changes(application, form.message.data, user=g.user)
        else:
            services.mark_ineligible(application, form.message.data, user=g.user)
    except services.ApplicationError as exc:
        flash(str(exc), "error")
    else:
        commit()
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
