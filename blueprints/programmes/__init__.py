from flask import Blueprint

bp = Blueprint("programmes", __name__, url_prefix="/programmes")

from . import views  # noqa: E402,F401
