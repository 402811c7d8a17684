"""Spending (집행) and settlement (정산): expenses with receipts, activity results, the
settlement with its line-by-line review, refund, PDF and exports."""
from flask import Blueprint

bp = Blueprint("settlement", __name__, url_prefix="/settlement", cli_group=None)



@bp.record_once
def _queue_mode(state):
    """Tests run background tasks at once, in the caller (huey's immediate mode)."""
    from blueprints.core.tasks import huey

    if state.app.config.get("HUEY_IMMEDIATE", state.app.testing):
        huey.immediate = True


from . import models, views, staff_views, cli, jobs  # noqa: E402,F401
