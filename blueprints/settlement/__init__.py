"""Spending (집행) and settlement (정산): expenses with receipts, activity results, the
settlement with its line-by-line review, refund, PDF and exports."""
from flask import Blueprint

bp = Blueprint("settlement", __name__, url_prefix="/settlement", cli_group=None)

from . import models, views, staff_views, cli, jobs  # noqa: E402,F401
