"""Review: assignment, scoring, ranking and selection within the budget."""
from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review", cli_group=None)

from . import cli, staff_views, views  # noqa: E402,F401
