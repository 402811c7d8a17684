"""The scenario page's context, shared by review's views and the publishing view (awards),
which re-shows the page when publishing is refused."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.applications.models import Application
from blueprints.core.persistence import get_or_404
from blueprints.groups.models import Group
from blueprints.programmes.models import Programme
from extensions import db

from . import queries, services
from .forms import AdjustForm, PublishForm
from .models import ScenarioState

FRAGMENTS = {"budget-summary": "summary"}


def scenario_context(scenario, **extra):
    programme = get_or_404(Programme, scenario.programme_id)
    # The rows show each group's households: their members in one statement, not one per row.
    db.session.scalars(select(Group).join(Application, Application.group_id == Group.id)
                       .where(Application.id.in_([e.application_id for e in scenario.entries]))
                       .options(selectinload(Group.members))).unique().all()
    forms = {e.id: AdjustForm(prefix=f"e{e.id}", formdata=None,
                              data=dict(selected=e.selected, amount_won=e.amount_won, reason=e.reason))
             for e in scenario.entries}
    forms.update(extra.pop("forms", {}))
    return dict(scenario=scenario, programme=programme, summary=queries.scenario_summary(scenario, programme),
                forms=forms, publish_form=extra.pop("publish_form", None) or PublishForm(),
                blockers=services.publish_blocker_list(programme, scenario) if scenario.status == ScenarioState.draft else [],
                unit=queries.rounding_unit(programme), errors=extra.pop("errors", {}), **extra)
