"""The scenario page's context, shared by review's views and the publishing view (awards),
which re-shows the page when publishing is refused."""
from blueprints.core.persistence import get_or_404
from blueprints.programmes.models import Programme

from . import queries, services
from .forms import AdjustForm, PublishForm
from .models import ScenarioState

FRAGMENTS = {"budget-summary": "summary"}


def scenario_context(scenario, **extra):
    programme = get_or_404(Programme, scenario.programme_id)
    forms = {e.id: AdjustForm(prefix=f"e{e.id}", formdata=None,
                              data=dict(selected=e.selected, amount_won=e.amount_won, reason=e.reason))
             for e in scenario.entries}
    forms.update(extra.pop("forms", {}))
    return dict(scenario=scenario, programme=programme, summary=queries.scenario_summary(scenario, programme),
                forms=forms, publish_form=extra.pop("publish_form", None) or PublishForm(),
                blockers=services.publish_blocker_list(programme, scenario) if scenario.status == ScenarioState.draft else [],
                unit=queries.rounding_unit(programme), errors=extra.pop("errors", {}), **extra)
