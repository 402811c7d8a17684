from flask import Blueprint

bp = Blueprint("accounts", __name__, cli_group=None)

from . import views  # noqa: E402,F401  (routes register on import)
from . import second_factor_views  # noqa: E402,F401
from . import cli  # noqa: E402,F401  (flask invite-admin)
