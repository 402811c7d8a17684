"""센터 현황: the dashboard by 자치구 (table and charts) and the downloads of its tables.
Read-only: staff, finance and the city's officer (``city``) see it; nobody changes anything here."""
from flask import abort, request
from wtforms import SelectField
from wtforms.validators import Optional

from blueprints.core.auth import permission_required, register_permission
from blueprints.core.exports import FORMATS, send_table
from blueprints.core.forms import BaseForm
from blueprints.core.htmx import render
from data.districts import SEOUL_DISTRICTS

from . import bp, charts, queries

register_permission("view_centre", "staff", "finance", "city")


class DashboardFilter(BaseForm):
    class Meta:
        csrf = False

    programme = SelectField("공모사업", validators=[Optional()])
    year = SelectField("사업 연도", validators=[Optional()])
    district = SelectField("자치구", choices=[("", "전체")] + [(d, d) for d in SEOUL_DISTRICTS], validators=[Optional()])


def programme_label(year: int, title: str) -> str:
    """The programme as the filter names it: its year in front unless the title has it already
    (the default title is '2027년 공동육아 자조모임 지원사업')."""
    return title if str(year) in title else f"{year}년 {title}"


def _filters():
    """The form and the filters it gives; an invalid value (a hand-edited URL) is ignored."""
    programmes = queries.programme_choices()
    form = DashboardFilter(request.args)
    form.programme.choices = [("", "전체")] + [(str(p.id), programme_label(p.year, p.title)) for p in programmes]
    years = sorted({p.year for p in programmes}, reverse=True)
    form.year.choices = [("", "전체")] + [(str(y), f"{y}년") for y in years]
    form.validate()
    clean = lambda field: None if field.errors or not field.data else field.data  # noqa: E731
    programme = int(clean(form.programme) or 0) or None
    year = int(clean(form.year) or 0) or None
    district = clean(form.district)
    if programme is not None:
        # The programme decides its year: a year that does not meet it (the year changed after
        # the programme, or a link with both) would show the programme's title over zeros.
        year = next(p.year for p in programmes if p.id == programme)
        form.year.data = str(year)
    return form, dict(programme_id=programme, year=year, district=district), \
        {p.id: programme_label(p.year, p.title) for p in programmes}


@bp.route("/")
@permission_required("view_centre")
def dashboard():
    form, filters, titles = _filters()
    view = queries.overview(**filters)
    return render("centre/dashboard.html", form=form, filters=filters, rows=view.rows, totals=view.totals,
                  charts=charts.overview_charts(view),
                  settlement_states=queries.SETTLEMENT_STATES,
                  programme_title=titles.get(filters["programme_id"]), query=_query(filters),
                  # The report covers the whole city: its link leaves the 자치구 out.
                  report_query=_query(dict(filters, district=None)),
                  fragments={"centre-results": "results"})


def _query(filters) -> dict:
    """The filters as URL parameters (for the download links)."""
    return {k: v for k, v in (("programme", filters["programme_id"]), ("year", filters["year"]),
                              ("district", filters["district"])) if v}


@bp.route("/<table>.<fmt>")
@permission_required("view_centre")
def export(table, fmt):
    if table not in queries.TABLES or fmt not in FORMATS:
        abort(404)
    _, filters, _ = _filters()
    sheet = queries.overview_sheets(queries.overview(**filters))[table]
    suffix = "-".join(str(v) for v in _query(filters).values())
    return send_table(sheet, fmt, f"{sheet.name}{'-' + suffix if suffix else ''}.{fmt}",
                      fallback=f"centre-{table}{'-' + suffix if suffix else ''}.{fmt}")
