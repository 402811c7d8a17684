"""Programme pages: the public list and rules page, and staff set-up (create, edit inline, publish)."""
from flask import abort, flash, g, redirect, request, url_for

from blueprints.core.auth import authorize, can, login_required, permission_required, register_permission
from blueprints.core.forms import EmptyForm
from blueprints.core.htmx import is_inline, render, set_htmx_headers
from blueprints.core.persistence import commit, commit_change, get_or_404

from . import bp, services
from . import rules as R
from .forms import CreateProgrammeForm
from .models import Programme
from .sections import SECTIONS, cap_phrases, household_range, snapshot

register_permission("create_programme", "staff")
register_permission("manage_programmes", "staff")


# Public pages --------------------------------------------------------------------------------

@bp.route("/")
def list_programmes():
    current, past = services.public_programmes()
    return render("programmes/list.html", current=current, past=past, countdown=services.countdown,
                  key_rules=key_rules)


def _visible(programme: Programme) -> Programme:
    """Drafts exist only for staff: everyone else gets 404, as if there were nothing."""
    if programme.is_published or (g.user is not None and can(g.user, "edit", programme)):
        return programme
    abort(404)


@bp.route("/<int:programme_id>")
def show_programme(programme_id):
    programme = _visible(get_or_404(Programme, programme_id))
    return render("programmes/show.html", programme=programme, notices=services.notices_for(programme),
                  countdown=services.countdown, cap_phrases=cap_phrases, household_range=household_range,
                  payment_methods=R.PAYMENT_METHODS, tie_break_label=R.tie_break_label,
                  rubric_total=R.rubric_total)


@bp.route("/<int:programme_id>/apply")
@login_required
def apply(programme_id):
    """'신청하기': the hand-over to the application module, by a plain link (GET)."""
    programme = _visible(get_or_404(Programme, programme_id))
    if not programme.is_open() or programme.results_published:
        flash("지금은 신청 기간이 아닙니다. 신청 기간을 확인해 주세요.", "warning")
        return redirect(url_for("programmes.show_programme", programme_id=programme.id), 303)
    return redirect(url_for("applications.new", programme_id=programme.id), 303)


def key_rules(programme: Programme) -> list[tuple[str, str]]:
    """The few rules an applicant needs to decide whether to apply, for the list page."""
    rules = programme.rules or {}
    e = rules.get("eligibility", {})
    ages = e.get("child_age_rule", {}).get("each_counted_household_has_child_aged", {})
    facts = [("지원 금액", f"모임당 최대 {programme.max_per_group_won:,}원"),
             ("신청 자격", f"만 {ages.get('min_man_age', 0)}~{ages.get('max_man_age', 6)}세 자녀를 둔 "
                        f"{e.get('min_households', '-')}가구 이상, {e.get('residency', {}).get('scope', '')} 거주")]
    capped = [f"{c['label']} {phrase}" for c in rules.get("expense_categories", []) if c.get("allowed", True)
              for phrase in cap_phrases(c)[:1]]
    if capped:
        facts.append(("집행 상한", " · ".join(capped)))
    return facts


# Staff: list and create ----------------------------------------------------------------------

def _create_form(formdata=None):
    form = CreateProgrammeForm(formdata=formdata) if formdata is not None else CreateProgrammeForm()
    programmes = services.all_programmes()
    form.source.choices = [("defaults", "기본값(서울시 기준)에서 새로 만들기")] + [
        (str(p.id), f"‘{p.title}’ 복사하기") for p in programmes]
    if formdata is None:
        latest = programmes[0] if programmes else None
        form.source.data = str(latest.id) if latest else "defaults"
        form.year.data = (latest.year + 1) if latest else services.programme_fields_from_defaults()["year"]
    return form, programmes


@bp.route("/manage")
@permission_required("manage_programmes")
def manage_programmes():
    form, programmes = _create_form()
    return render("programmes/manage.html", form=form, programmes=programmes)


@bp.route("/manage/new", methods=["POST"])
@permission_required("create_programme")
def create_programme():
    form, programmes = _create_form(request.form)
    if form.validate_on_submit():
        source = None
        if form.source.data != "defaults":
            source = authorize("copy", get_or_404(Programme, int(form.source.data)))
        try:
            programme = services.create_programme(year=form.year.data, title=form.title.data or None,
                                                  source=source, by=g.user)
        except services.ProgrammeError as exc:
            form.title.errors.append(str(exc))
        else:
            commit()
            flash(f"‘{programme.title}’ 초안을 만들었습니다. 내용을 확인하고 고친 뒤 공개해 주세요.", "success")
            return redirect(url_for("programmes.edit_programme", programme_id=programme.id), 303)
    return render("programmes/manage.html", form=form,
                  programmes=programmes, status=422)


# Staff: the editor ------------------------------------------------------------------------

def _section_view(programme, key, form=None):
    section = SECTIONS[key]
    state = snapshot(programme)
    view = dict(key=key, title=section.title, facts=section.facts(state), form=form,
                needs_reason=services.needs_reason(programme, key), affects_applicants=section.affects_applicants)
    if form is not None:
        section.prepare(form, state)
        if key == "review":
            view["live_total"] = R.rubric_total(section.submitted_rubric(form)) if form.is_submitted() \
                else R.rubric_total(state["rules"].get("review", {}).get("rubric", []))
    return view


def _edit_form(programme, key):
    section = SECTIONS[key]
    form = section.form_class(formdata=None)
    section.fill(form, snapshot(programme))
    return form


def _editor(programme, *, editing=None, form=None, status=200):
    views = [_section_view(programme, key, form if key == editing else None) for key in SECTIONS]
    fragments = {f"section-{key}": "section" for key in SECTIONS}
    fragments.update({"programme-notices": "notices", "programme-header": "header"})
    current = next((v for v in views if v["key"] == editing), None)
    return render("programmes/edit.html", fragments=fragments, status=status, programme=programme, views=views,
                  sv=current or views[0], notices=services.notices_for(programme),
                  publish_problems=services.publish_problems(programme), countdown=services.countdown)


@bp.route("/<int:programme_id>/edit")
@login_required
def edit_programme(programme_id):
    programme = authorize("edit", get_or_404(Programme, programme_id))
    editing = request.args.get("section")
    if editing not in SECTIONS:
        editing = None
    target = request.headers.get("HX-Target", "") if is_inline() else ""
    if target.startswith("section-"):
        # One section asked for itself: its form (?section=key) or, on 취소, its summary again.
        key = target.removeprefix("section-")
        if key not in SECTIONS:
            abort(404)
        return _section_only(programme, key, form=_edit_form(programme, key) if editing == key else None)
    return _editor(programme, editing=editing, form=_edit_form(programme, editing) if editing else None)


def _section_only(programme, key, status=200, form=None):
    views = [_section_view(programme, key, form)]
    return render("programmes/edit.html", fragments={f"section-{key}": "section"}, status=status,
                  programme=programme, views=views, sv=views[0], notices=[], publish_problems=[],
                  countdown=services.countdown)


@bp.route("/<int:programme_id>/edit/<section_key>", methods=["POST"])
@login_required
def save_section(programme_id, section_key):
    programme = authorize("edit", get_or_404(Programme, programme_id))
    section = SECTIONS.get(section_key)
    if section is None:
        abort(404)
    form = section.form_class()
    section.prepare(form, snapshot(programme))
    if "add_row" in request.form:
        # '행 추가': the same form again with one more empty row; nothing is saved.
        for field in form:
            if field.type == "FieldList" and field.name == request.form["add_row"]:
                field.append_entry()
        return _respond_form(programme, section_key, form, status=200)
    if form.validate_on_submit():
        new_state = section.read(form, snapshot(programme))
        if new_state is not None:
            try:
                changes, notice = services.update_section(programme, section_key, new_state,
                                                          reason=form.reason.data, by=g.user)
            except services.ProgrammeError as exc:
                getattr(form, exc.field or "reason").errors.append(str(exc))
            else:
                commit()
                if not changes:
                    flash(f"‘{section.title}’: 바뀐 내용이 없습니다.", "info")
                elif notice is not None:
                    flash(f"‘{section.title}’ 항목을 저장했습니다. 신청자에게 변경 공지가 게시되었습니다.", "success")
                else:
                    flash(f"‘{section.title}’ 항목을 저장했습니다.", "success")
                if changes and section_key == "schedule":
                    for warning in services.schedule_warnings(programme):
                        flash(f"일정 확인: {warning}", "warning")
                if is_inline():
                    response = _section_only(programme, section_key)
                    return set_htmx_headers(response, trigger="programme-changed")
                return redirect(url_for("programmes.edit_programme", programme_id=programme.id,
                                        _anchor=f"section-{section_key}"), 303)
    return _respond_form(programme, section_key, form, status=422)


def _respond_form(programme, key, form, status):
    if is_inline():
        return _section_only(programme, key, status=status, form=form)
    return _editor(programme, editing=key, form=form, status=status)


@bp.route("/<int:programme_id>/edit/review/total", methods=["POST"])
@login_required
def rubric_total(programme_id):
    """Live total of the rubric being typed (htmx); saves nothing."""
    programme = authorize("edit", get_or_404(Programme, programme_id))
    if not is_inline():
        return redirect(url_for("programmes.edit_programme", programme_id=programme.id, section="review"), 303)
    form = SECTIONS["review"].form_class()
    total = R.rubric_total(SECTIONS["review"].submitted_rubric(form))
    return render("programmes/edit.html", fragments={"rubric-total": "rubric_total"}, programme=programme,
                  total=total, pass_mark=form.pass_mark.data)


@bp.route("/<int:programme_id>/publish", methods=["POST"])
@login_required
def publish(programme_id):
    programme = authorize("publish", get_or_404(Programme, programme_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    if commit_change(lambda: services.publish(programme, by=g.user), services.ProgrammeError):
        flash(f"‘{programme.title}’ 사업을 공개했습니다. 이제 공모사업 목록에 보입니다.", "success")
    return redirect(url_for("programmes.edit_programme", programme_id=programme.id), 303)
