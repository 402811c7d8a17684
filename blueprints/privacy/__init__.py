"""Privacy: the retention schedule (보존기간) and the destruction (파기) of personal data once it
ends — `flask --app app retention`. No routes; the rules are in retention.py."""
from flask import Blueprint

bp = Blueprint("privacy", __name__, cli_group=None)

from . import cli  # noqa: E402,F401
