"""Publishing a selection decision: the button sits on review's scenario page, so the address
stays under /review/; awards depends on review, never the other way."""
from flask import flash, g, redirect, url_for

from blueprints.core.auth import permission_required
from blueprints.core.htmx import render
from blueprints.core.persistence import commit, get_or_404
from blueprints.review import pages
from blueprints.review.forms import PublishForm
from blueprints.review.models import SelectionScenario
from extensions import db

from . import bp, services


@bp.route("/review/scenario/<int:scenario_id>/publish", methods=["POST"])
@permission_required("manage_review")
def publish(scenario_id):
    item = get_or_404(SelectionScenario, scenario_id)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            made = services.publish_decision(item, user=g.user, share_feedback=form.share_feedback.data,
                                             conditions=form.conditions.data or "")
        except services.AwardError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            commit()
            flash(f"선정 결과를 공개했습니다. {len(made)}개 모임에 교부결정을 통지했습니다.", "success")
            return redirect(url_for("review.scenario", scenario_id=item.id), 303)
    item = db.session.get(SelectionScenario, scenario_id)
    return render("review/scenario.html", fragments=pages.FRAGMENTS, status=422,
                  **pages.scenario_context(item, publish_form=form))
