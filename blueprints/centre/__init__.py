"""센터 현황: the programme by 자치구 for staff, finance and the city (read-only), in numbers
and charts, with exports and the `district-report` command."""
from flask import Blueprint

bp = Blueprint("centre", __name__, url_prefix="/centre", cli_group=None)

from . import views, cli, results_views  # noqa: E402,F401
from .results_views import public_bp  # noqa: E402,F401
