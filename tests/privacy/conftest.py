"""Retention tests reuse the settlement fixtures: an awarded, paid group that spends and settles."""
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.settlement.conftest import (  # noqa: F401
    _frozen_today, awarded, finance, open_programme_period, paid_award)
