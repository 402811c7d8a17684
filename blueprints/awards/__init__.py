"""Awards (교부결정): what a published selection decided per application. The disbursement
work extends this package (acceptance, payments)."""
from flask import Blueprint

bp = Blueprint("awards", __name__)

from . import models, views  # noqa: E402,F401
