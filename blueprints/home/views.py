"""The front page for visitors and the dashboard that depends on who is signed in."""
from flask import g, redirect, url_for

from blueprints.core.auth import login_required
from blueprints.core.htmx import render

from . import bp, tasks


@bp.route("/")
def index():
    if g.user:
        return redirect(url_for("home.dashboard"))
    return render("home/index.html")


@bp.route("/dashboard")
@login_required
def dashboard():
    roles = g.user.roles
    return render("home/dashboard.html", roles=roles,
                  staff_tasks=tasks.staff_tasks() if "staff" in roles else None,
                  finance_tasks=tasks.finance_tasks() if "finance" in roles else None)


@bp.route("/privacy")
def privacy():
    return render("home/privacy.html")
