"""Staff pages: review settings, assignment (automatic and by hand, with the reasons a
reviewer was not assigned), the score matrix, the ranking, the selection simulator with
scenarios, publishing the decision, and the committee's minutes (PDF, XLSX)."""
from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy import func, select

from blueprints.accounts.models import User
from blueprints.applications.models import Application
from blueprints.core.auth import authorize, permission_required, register_permission
from blueprints.core.exports import send_table
from blueprints.core.forms import EmptyForm
from blueprints.core.htmx import is_inline, render, set_htmx_headers
from blueprints.core.korean import with_particle
from blueprints.core.pdf import pdf_response
from blueprints.core.persistence import commit, get_or_404
from blueprints.programmes.models import Programme
from extensions import db

from . import bp, documents, pages, queries, services
from .forms import (AdjustForm, AssignForm, ConflictForm, MatrixFilterForm, ProfileForm, ReasonForm,
                    ScenarioForm, SettingsForm)
from .models import AssignmentState, ReviewAssignment, ScenarioState, SelectionEntry, SelectionScenario
from .scoring import AGGREGATES, COMMENT_RULES

register_permission("manage_review", "staff")
MATRIX_REVIEWERS_SHOWN = 20


def _programme(programme_id: int) -> Programme:
    return get_or_404(Programme, programme_id)


@bp.route("/")
@permission_required("manage_review")
def programmes():
    # Three statements whatever the number of programmes: the programmes, then the counts of
    # all of them (applications in review; assignments by state), not the rows of each.
    in_review = dict(db.session.execute(
        select(Application.programme_id, func.count(Application.id)).where(Application.status.in_(queries.IN_REVIEW)).group_by(Application.programme_id)).all())
    by_state = {(pid, state): n for pid, state, n in db.session.execute(
        select(ReviewAssignment.programme_id, ReviewAssignment.status, func.count(ReviewAssignment.id))
        .group_by(ReviewAssignment.programme_id, ReviewAssignment.status))}
    rows = [dict(programme=programme, in_review=in_review.get(programme.id, 0),
                 submitted=by_state.get((programme.id, AssignmentState.submitted.value), 0),
                 open=by_state.get((programme.id, AssignmentState.assigned.value), 0),
                 declined=by_state.get((programme.id, AssignmentState.declined.value), 0))
            for programme in db.session.scalars(select(Programme).order_by(Programme.year.desc(), Programme.id.desc()))]
    return render("review/programmes.html", rows=rows)


@bp.route("/programme/<int:programme_id>")
@permission_required("manage_review")
def overview(programme_id):
    programme = _programme(programme_id)
    settings = queries.settings_for(programme)
    items = queries.assignments_of_programme(programme)
    published = db.session.scalar(select(SelectionScenario).where(
        SelectionScenario.programme_id == programme.id, SelectionScenario.status == ScenarioState.published))
    return render("review/overview.html", programme=programme, settings=settings, items=items,
                  apps=queries.applications_in_review(programme), published=published,
                  declined=[i for i in items if i.status == AssignmentState.declined], n=queries.reviewers_per_application(programme),
                  pending=[i for i in items if queries.holds_results_back(i)],
                  aggregates=AGGREGATES, comment_rules=COMMENT_RULES)


# Settings -----------------------------------------------------------------------------------

@bp.route("/programme/<int:programme_id>/settings", methods=["GET", "POST"])
@permission_required("manage_review")
def settings(programme_id):
    programme = _programme(programme_id)
    current = queries.settings_for(programme)
    form = SettingsForm(obj=current)
    if form.validate_on_submit():
        services.save_settings(current, {k: getattr(form, k).data for k in services.SETTING_FIELDS}, user=g.user)
        commit()
        flash("심사 설정을 저장했습니다.", "success")
        return redirect(url_for("review.settings", programme_id=programme.id), 303)
    profiles = queries.profiles()
    people = queries.reviewers()
    return render("review/settings.html", programme=programme, form=form, reviewers=people, profiles=profiles,
                  status=422 if request.method == "POST" else 200, profile_errors={})


@bp.route("/programme/<int:programme_id>/reviewer/<int:user_id>", methods=["POST"])
@permission_required("manage_review")
def save_profile(programme_id, user_id):
    programme = _programme(programme_id)
    reviewer = get_or_404(User, user_id)
    if not reviewer.has_role("reviewer"):
        abort(404)
    form = ProfileForm(prefix=f"p{reviewer.id}")
    if form.validate_on_submit():
        services.save_profile(reviewer, district=form.district.data or "", dong=form.dong.data or "", user=g.user)
        commit()
        flash(f"{reviewer.name} 위원의 거주지를 저장했습니다.", "success")
    else:
        flash("자치구는 20자, 동은 30자 이내로 입력해 주세요.", "error")
    return redirect(url_for("review.settings", programme_id=programme.id) + "#reviewers", 303)


# Assignment ---------------------------------------------------------------------------------

@bp.route("/programme/<int:programme_id>/assignments")
@permission_required("manage_review")
def assignments(programme_id):
    programme = _programme(programme_id)
    apps = queries.applications_in_review(programme)
    by_app: dict[int, list] = {}
    for item in queries.assignments_of_programme(programme):
        by_app.setdefault(item.application_id, []).append(item)
    load = queries.loads(programme)
    people = queries.reviewers()
    return render("review/assignments.html", programme=programme, apps=apps, by_app=by_app, load=load,
                  reviewers=people, n=queries.reviewers_per_application(programme))


@bp.route("/programme/<int:programme_id>/auto-assign", methods=["POST"])
@permission_required("manage_review")
def auto_assign(programme_id):
    programme = _programme(programme_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    plan = services.auto_assign(programme, user=g.user)
    commit()
    short = sum(plan.shortfall.values())
    flash(f"자동 배정 {len(plan.pairs)}건을 했습니다."
          + (f" 이해충돌 등으로 채우지 못한 자리가 {short}개 있습니다. 신청서별 배정 화면에서 이유를 확인하세요." if short else ""),
          "success" if not short else "info")
    return redirect(url_for("review.assignments", programme_id=programme.id), 303)


def _assign_forms():
    form, conflict_form = AssignForm(), ConflictForm(prefix="c")
    people = queries.reviewers()
    form.reviewer_id.choices = conflict_form.reviewer_id.choices = [(p.id, p.name) for p in people]
    return form, conflict_form


def _assign_page(application, form, conflict_form, status=200):
    panel = queries.assignment_panel(application)
    return render("review/assign.html", application=application, panel=panel, form=form,
                  conflict_form=conflict_form, status=status, reopen_form=ReasonForm(prefix="r"),
                  n=queries.reviewers_per_application(application.programme))


@bp.route("/application/<int:application_id>/assign")
@permission_required("manage_review")
def assign_application(application_id):
    return _assign_page(get_or_404(Application, application_id), *_assign_forms())


@bp.route("/application/<int:application_id>/assign", methods=["POST"])
@permission_required("manage_review")
def assign_reviewer(application_id):
    application = get_or_404(Application, application_id)
    form, conflict_form = _assign_forms()
    if form.validate_on_submit():
        reviewer = get_or_404(User, form.reviewer_id.data)
        try:
            services.assign(application, reviewer, user=g.user)
        except services.ReviewError as exc:
            form.reviewer_id.errors = [str(exc)]
        else:
            commit()
            flash(f"{reviewer.name} 위원을 배정했습니다.", "success")
            return redirect(url_for("review.assign_application", application_id=application.id), 303)
    return _assign_page(application, form, conflict_form, status=422)


@bp.route("/application/<int:application_id>/conflict", methods=["POST"])
@permission_required("manage_review")
def record_conflict(application_id):
    application = get_or_404(Application, application_id)
    form, conflict_form = _assign_forms()
    if conflict_form.validate_on_submit():
        reviewer = get_or_404(User, conflict_form.reviewer_id.data)
        try:
            services.declare_conflict(application, reviewer, kind=conflict_form.kind.data,
                                      reason=conflict_form.reason.data, user=g.user)
        except services.ReviewError as exc:
            conflict_form.reason.errors = [str(exc)]
        else:
            commit()
            flash(f"{reviewer.name} 위원의 이해충돌을 기록했습니다.", "success")
            return redirect(url_for("review.assign_application", application_id=application.id), 303)
    return _assign_page(application, form, conflict_form, status=422)


@bp.route("/assignment/<int:assignment_id>/unassign", methods=["POST"])
@permission_required("manage_review")
def unassign(assignment_id):
    item = authorize("unassign", get_or_404(ReviewAssignment, assignment_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    application_id = item.application_id
    try:
        services.unassign(item, user=g.user)
    except services.ReviewError as exc:
        flash(str(exc), "error")
    else:
        commit()
        flash("배정을 취소했습니다.", "success")
    return redirect(url_for("review.assign_application", application_id=application_id), 303)


@bp.route("/assignment/<int:assignment_id>/reopen", methods=["POST"])
@permission_required("manage_review")
def reopen(assignment_id):
    item = authorize("reopen", get_or_404(ReviewAssignment, assignment_id))
    form = ReasonForm(prefix="r")
    if not form.validate_on_submit():
        flash("재개 사유를 적어 주세요.", "error")
    else:
        try:
            services.reopen(item, reason=form.reason.data, user=g.user)
        except services.ReviewError as exc:
            flash(str(exc), "error")
        else:
            commit()
            flash(f"{item.reviewer.name} 위원의 심사를 다시 열었습니다.", "success")
    return redirect(url_for("review.assign_application", application_id=item.application_id), 303)


# Scores and ranking -------------------------------------------------------------------------

@bp.route("/programme/<int:programme_id>/matrix")
@permission_required("manage_review")
def matrix(programme_id):
    programme = _programme(programme_id)
    form = MatrixFilterForm(request.args)
    form.validate()  # a value with an error is left out (and its message shown); the others still apply

    def value(field):
        return None if field.errors else (field.data or None)

    reviewer = value(form.reviewer)
    data = queries.matrix_page(programme, district=value(form.district), status=value(form.status),
                                reviewer_id=int(reviewer) if reviewer and reviewer.isdigit() else None,
                                min_spread=None if form.min_spread.errors else form.min_spread.data,
                                sort=value(form.sort) or "id", page=request.args.get("page", 1, type=int))
    form.reviewer.choices = [("", "전체")] + [(str(p.id), p.name) for p in data["reviewers"]]
    # A long list of reviewers shows the flagged ones unless all are asked for.
    show_all = len(data["reviewers"]) <= MATRIX_REVIEWERS_SHOWN or request.args.get("calibration") == "all"
    listed = data["reviewers"] if show_all else [p for p in data["reviewers"] if p.calibration and p.calibration.flagged]
    return render("review/matrix.html", fragments={"matrix-results": "results", "matrix-filter": "results"},
                  programme=programme, form=form, show_all_reviewers=show_all, listed=listed, **data)


@bp.route("/programme/<int:programme_id>/ranking")
@permission_required("manage_review")
def ranking(programme_id):
    programme = _programme(programme_id)
    rows = queries.ranking(programme)
    settings = queries.settings_for(programme)
    from blueprints.programmes.rules import tie_break_label

    rub = queries.rubric(programme)
    return render("review/ranking.html", programme=programme, rows=rows, settings=settings,
                  pass_mark=queries.pass_mark(programme), aggregates=AGGREGATES,
                  tie_labels=[tie_break_label(c, rub) for c in queries.tie_break(programme)])


# Selection ----------------------------------------------------------------------------------

@bp.route("/programme/<int:programme_id>/scenarios", methods=["GET", "POST"])
@permission_required("manage_review")
def scenarios(programme_id):
    programme = _programme(programme_id)
    form = ScenarioForm()
    if form.validate_on_submit():
        scenario = services.create_scenario(programme, name=form.name.data,
                                            quota_per_district=form.quota_per_district.data, user=g.user)
        commit()
        flash(f"시나리오 {with_particle(f'‘{scenario.name}’', '을/를')} 만들었습니다.", "success")
        return redirect(url_for("review.scenario", scenario_id=scenario.id), 303)
    all_scenarios = db.session.scalars(select(SelectionScenario).where(
        SelectionScenario.programme_id == programme.id).order_by(SelectionScenario.id)).all()
    picked = [s for s in all_scenarios if str(s.id) in request.args.getlist("compare")]
    if not form.name.data and request.method == "GET":
        form.name.data = f"시나리오 {len(all_scenarios) + 1}"
    return render("review/scenarios.html", programme=programme, form=form, scenarios=all_scenarios, picked=picked,
                  comparison=queries.compare(picked) if len(picked) >= 2 else [],
                  summaries={s.id: queries.scenario_summary(s, programme) for s in all_scenarios},
                  status=422 if request.method == "POST" else 200)




@bp.route("/scenario/<int:scenario_id>")
@permission_required("manage_review")
def scenario(scenario_id):
    item = get_or_404(SelectionScenario, scenario_id)
    return render("review/scenario.html", fragments=pages.FRAGMENTS, **pages.scenario_context(item))


@bp.route("/scenario/<int:scenario_id>/entry/<int:entry_id>", methods=["POST"])
@permission_required("manage_review")
def adjust(scenario_id, entry_id):
    item = get_or_404(SelectionScenario, scenario_id)
    entry = get_or_404(SelectionEntry, entry_id)
    if entry.scenario_id != item.id:
        abort(404)
    form = AdjustForm(prefix=f"e{entry.id}")
    error = None
    if form.validate_on_submit():
        amount = form.amount_won.data if form.amount_won.data is not None else entry.proposed_won
        try:
            services.adjust_entry(entry, selected=form.selected.data, amount_won=amount,
                                  reason=form.reason.data or "", user=g.user)
        except services.ReviewError as exc:
            error = str(exc)
            db.session.rollback()
        else:
            commit()
            if not is_inline():
                flash(f"{with_particle(f'신청서 #{entry.application_id}', '을/를')} 조정했습니다.", "success")
                return redirect(url_for("review.scenario", scenario_id=item.id) + f"#entry-{entry.id}", 303)
    else:
        error = "입력 내용을 확인해 주세요."
    item = db.session.get(SelectionScenario, scenario_id)
    entry = db.session.get(SelectionEntry, entry_id)
    if error:
        form.reason.errors = list(form.reason.errors) + [error]
    context = pages.scenario_context(item, forms={entry.id: form} if error else {}, errors={entry.id: error})
    if is_inline():
        response = render("review/scenario.html", fragments={f"entry-{entry.id}": "entry_row"},
                          status=422 if error else 200, entry=entry, **context)
        return set_htmx_headers(response, trigger="budget-changed")
    return render("review/scenario.html", fragments=pages.FRAGMENTS, status=422, **context)


# Minutes ------------------------------------------------------------------------------------

@bp.route("/programme/<int:programme_id>/minutes.<fmt>")
@permission_required("manage_review")
def minutes(programme_id, fmt):
    programme = _programme(programme_id)
    if fmt not in ("pdf", "xlsx"):
        abort(404)
    hide = request.args.get("names") != "show"
    data = documents.minutes_data(programme, hide_names=hide)
    filename = f"review-minutes-{programme.year}-{programme.id}.{fmt}"
    if fmt == "pdf":
        return pdf_response(documents.minutes_pdf(data), filename)
    return send_table(documents.minutes_sheets(data), "xlsx", filename)
