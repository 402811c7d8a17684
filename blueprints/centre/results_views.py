"""The year-end results report (PDF, staff/finance/city) and the public results page."""
from flask import Blueprint, abort, current_app

from blueprints.core.auth import permission_required
from blueprints.core.formatting import kdate
from blueprints.core.htmx import render
from blueprints.core.models import utcnow
from blueprints.core.pdf import pdf_response, render_pdf
from blueprints.core.persistence import get_or_404
from blueprints.programmes.models import Programme
from extensions import db

from . import bp, queries, results
from .views import _filters

public_bp = Blueprint("results", __name__, url_prefix="/results")


@bp.route("/report.pdf")
@permission_required("view_centre")
def results_report():
    _, filters, _ = _filters()
    if filters["district"]:   # the report covers the whole city; a 자치구 filter is the dashboard's
        filters["district"] = None
    programme = db.session.get(Programme, filters["programme_id"]) if filters["programme_id"] else None
    title = results.report_title(programme, filters["year"])
    data = results.report_data(filters["programme_id"], filters["year"])
    body = render_pdf("pdf/results_report.html", title=title, programme=programme, year=filters["year"],
                      generated_at=utcnow(), operator_name=current_app.config["OPERATOR_NAME"],
                      chart_image=results.chart_image, **data)
    scope = programme.year if programme else (filters["year"] or "전체")
    return pdf_response(body, f"사업결과보고서-{scope}.pdf", fallback=f"results-report-{scope}.pdf")


@public_bp.route("/<int:programme_id>")
def public_results(programme_id):
    """Open to anyone once the programme's results are published; nothing before."""
    programme = get_or_404(Programme, programme_id)
    if not programme.results_published:
        abort(404)
    rows, totals = queries.district_table(programme.id)
    return render("centre/public_results.html", programme=programme, districts=results.public_results(programme),
                  # Every 자치구 with an application (selected or not): the rows add up to the 합계.
                  rows=[r for r in rows if r.submitted or r.selected or r.awarded_won], totals=totals,
                  published_on=kdate(programme.results_published_at))
