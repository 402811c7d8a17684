"""Disbursement (교부): the group accepts its award with the grant account, finance staff pay
it out by instalments, and the finance dashboard."""
from flask import Blueprint

bp = Blueprint("disbursement", __name__, url_prefix="/disbursement")

from . import models, views  # noqa: E402,F401
