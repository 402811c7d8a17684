"""Public programme pages (the full set-up screens come with the programme issue)."""
from sqlalchemy import select

from blueprints.core.htmx import render
from extensions import db

from . import bp
from .models import Programme


@bp.route("/")
def list_programmes():
    programmes = db.session.scalars(select(Programme).order_by(Programme.opens_at.desc())).all()
    return render("programmes/list.html", programmes=programmes)
