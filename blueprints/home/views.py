"""The front page for visitors and the dashboard that depends on who is signed in."""
from flask import g, redirect, url_for

from blueprints.core.auth import login_required
from blueprints.core.htmx import render

from . import bp


@bp.route("/")
def index():
    if g.user:
        return redirect(url_for("home.dashboard"))
    return render("home/index.html")


@bp.route("/dashboard")
@login_required
def dashboard():
    return render("home/dashboard.html", roles=g.user.roles)


@bp.route("/privacy")
def privacy():
    return render("home/privacy.html")
