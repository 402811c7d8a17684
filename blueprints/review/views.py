"""Reviewer pages: my assignments with progress, the scoring page beside the frozen
submission (live total), declining; and the anonymised feedback page for groups."""
from flask import abort, flash, g, redirect, request, url_for

from blueprints.applications.models import Application, ApplicationState
from blueprints.core.auth import authorize, login_required, permission_required, register_permission
from blueprints.core.forms import EmptyForm, is_confirmed
from blueprints.core.htmx import as_whole_page, is_inline, render, set_htmx_headers
from blueprints.core.persistence import commit, get_or_404
from extensions import db

from . import bp, queries, services
from .forms import DeclineForm
from .models import AssignmentState, ReviewAssignment

register_permission("do_review", "reviewer")


@bp.app_context_processor
def inject_review_progress():
    """`review_progress()` for the dashboard: (submitted, total) of the signed-in reviewer."""
    def review_progress():
        user = g.get("user")
        return queries.progress(user) if user is not None and user.has_role("reviewer") else (0, 0)

    return {"review_progress": review_progress}


@bp.route("/mine")
@permission_required("do_review")
def mine():
    items = queries.my_assignments(g.user)
    conflicts = queries.conflicts_now(items)
    totals = queries.score_totals(items)
    done, total = queries.progress(g.user)
    settings = {}
    for item in items:
        programme = item.application.programme
        if programme.id not in settings:
            settings[programme.id] = queries.settings_for(programme)
    return render("review/mine.html", items=items, totals=totals, done=done, total=total, settings=settings,
                  conflicts=conflicts)


def _load(assignment_id: int, action: str) -> ReviewAssignment:
    return authorize(action, get_or_404(ReviewAssignment, assignment_id))


def _own(assignment_id: int) -> ReviewAssignment:
    """The signed-in reviewer's own assignment, to read or score: never one whose application
    they now have a conflict with (a household of the group took their number after the
    assignment, a conflict was declared after they submitted). Staff read scores in the matrix."""
    item = _load(assignment_id, "view")
    if item.reviewer_id != g.user.id or queries.conflicts_now([item]):
        abort(403)
    return item


def _score_input():
    scores = {k[len("score-"):]: v for k, v in request.form.items() if k.startswith("score-")}
    comments = {k[len("comment-"):]: v for k, v in request.form.items() if k.startswith("comment-")}
    return scores, comments


def _page(item, *, check=None, status=200, message=None):
    programme = item.application.programme
    settings = queries.settings_for(programme)
    if check is None:
        check = services.check_for(item, {s.criterion: s.score for s in item.scores},
                                   {s.criterion: s.comment for s in item.scores}, final=False)
    return render("review/score.html", fragments={"score-total": "total"}, status=status, item=item,
                  programme=programme, settings=settings, rubric=queries.rubric(programme), check=check,
                  snap=item.application.snapshot or {}, blind=settings.blind, message=message,
                  editable=item.status == AssignmentState.assigned and item.application.status == ApplicationState.under_review,
                  done_total=queries.progress(g.user) if item.reviewer_id == g.user.id else None)


@bp.route("/assignment/<int:assignment_id>", methods=["GET", "POST"])
@login_required
def score(assignment_id):
    item = _own(assignment_id)
    if request.method == "GET":
        return _page(item)
    if item.status == AssignmentState.submitted:
        # A second tab or a double click after the submit: the same answer as when it waited
        # on the row lock in save_scores (the page, read-only, with the reason), not a 403.
        return as_whole_page(_page(item, status=422, message=services.LOCKED))
    if item.status == AssignmentState.assigned and item.application.status != ApplicationState.under_review:
        # The tab was open when staff returned it, marked it ineligible or the results went out.
        return as_whole_page(_page(item, status=422, message=services.REVIEW_OVER))
    authorize("score", item)
    if not EmptyForm().validate_on_submit():
        abort(400)
    submit = request.form.get("action") == "submit"
    scores, comments = _score_input()
    check = services.check_for(item, scores, comments, final=submit)
    if not check.ok:   # the page with the messages (also when the confirmation was asked for inline)
        return as_whole_page(_page(item, check=check, status=422,
                                   message="입력 내용을 확인해 주세요. 표시된 항목을 고치면 됩니다."))
    if submit and not is_confirmed():
        # First the scores and the total it submits for good (a page, or for htmx the section
        # under the buttons); the confirmation's button sends the same scores with confirm=1.
        settings = queries.settings_for(item.application.programme)
        return render("review/confirm_submit.html", fragments={"submit-confirm": "confirm"}, item=item,
                      programme=item.application.programme, blind=settings.blind,
                      summary=services.submission_summary(item, check, user=g.user),
                      back=url_for("review.score", assignment_id=item.id))
    try:
        services.save_scores(item, check, user=g.user, submit=submit)
    except services.AssignmentGone as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("review.mine"), 303)
    except services.ReviewError as exc:
        return as_whole_page(_page(item, check=check, status=422, message=str(exc)))
    commit()
    if submit:
        flash(f"심사를 제출했습니다(총점 {check.total}점). 제출한 뒤에는 고칠 수 없습니다.", "success")
        return redirect(url_for("review.mine"), 303)
    flash("임시 저장했습니다. 다 작성하면 ‘심사 제출’을 눌러 주세요.", "success")
    return redirect(url_for("review.score", assignment_id=item.id), 303)


@bp.route("/assignment/<int:assignment_id>/total", methods=["POST"])
@login_required
def live_total(assignment_id):
    """htmx: the total and messages for what is typed so far (nothing is saved). Only "view"
    is needed: a last keystroke may arrive just after the reviewer submitted."""
    item = _own(assignment_id)
    if not is_inline():
        return redirect(url_for("review.score", assignment_id=item.id), 303)
    scores, comments = _score_input()
    check = services.check_for(item, scores, comments, final=False)
    response = render("review/score.html", fragments={"score-total": "total"}, item=item,
                      programme=item.application.programme, settings=queries.settings_for(item.application.programme),
                      rubric=queries.rubric(item.application.programme), check=check, snap={}, blind=True,
                      message=None, editable=True, done_total=None)
    return set_htmx_headers(response, trigger="score-total-changed")


@bp.route("/assignment/<int:assignment_id>/decline", methods=["GET", "POST"])
@login_required
def decline(assignment_id):
    item = _load(assignment_id, "decline")
    if item.reviewer_id != g.user.id:
        abort(403)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            services.decline(item, kind=form.kind.data, reason=form.reason.data,
                             conflict_kind=form.conflict_kind.data, user=g.user)
        except services.AssignmentGone as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("review.mine"), 303)
        except services.ReviewError as exc:
            form.reason.errors = [str(exc)]
        else:
            commit()
            flash("배정을 거절했습니다. 사업담당이 다른 심사위원을 배정합니다.", "success")
            return redirect(url_for("review.mine"), 303)
    settings = queries.settings_for(item.application.programme)
    return render("review/decline.html", item=item, form=form, blind=settings.blind,
                  status=422 if request.method == "POST" else 200)


@bp.route("/feedback/<int:application_id>")
@login_required
def feedback(application_id):
    application = get_or_404(Application, application_id)
    if not application.group.is_officer(g.user):
        abort(403)
    data = queries.feedback_for(application)
    if data is None:
        abort(404)
    return render("review/feedback.html", application=application, feedback=data)
