"""센터 현황: the dashboard by 자치구 (table and charts) and the downloads of its tables.
Read-only: staff, finance and the city's officer (``city``) see it; nobody changes anything here."""
from flask import abort, request
from wtforms import SelectField
from wtforms.validators import Optional

from blueprints.core.auth import permission_required, register_permission
from blueprints.core.exports import FORMATS, INT, NUMBER, TEXT, WON, Column, Sheet, send_table
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


def _filters():
    """The form and the filters it gives; an invalid value (a hand-edited URL) is ignored."""
    programmes = queries.programme_choices()
    form = DashboardFilter(request.args)
    form.programme.choices = [("", "전체")] + [(str(p.id), f"{p.year}년 {p.title}") for p in programmes]
    years = sorted({p.year for p in programmes}, reverse=True)
    form.year.choices = [("", "전체")] + [(str(y), f"{y}년") for y in years]
    form.validate()
    clean = lambda field: None if field.errors or not field.data else field.data  # noqa: E731
    programme = clean(form.programme)
    year = clean(form.year)
    district = clean(form.district)
    return form, dict(programme_id=int(programme) if programme else None, year=int(year) if year else None,
                      district=district), {p.id: f"{p.year}년 {p.title}" for p in programmes}


def _data(filters):
    rows, totals = queries.district_table(**filters)
    months = queries.spending_by_month(**filters)
    categories = queries.spending_by_category(**filters)
    steps = queries.funnel(totals)
    return rows, totals, months, categories, steps


@bp.route("/")
@permission_required("view_centre")
def dashboard():
    form, filters, titles = _filters()
    rows, totals, months, categories, steps = _data(filters)
    shown = [r for r in rows if r.groups or r.submitted or r.awarded_won] if not filters["district"] else rows
    return render("centre/dashboard.html", form=form, filters=filters, rows=rows, totals=totals,
                  charts=charts.dashboard_charts(shown or rows, totals, months, categories, steps),
                  settlement_states=queries.SETTLEMENT_STATES,
                  programme_title=titles.get(filters["programme_id"]), query=_query(filters),
                  fragments={"centre-results": "results"})


def _query(filters) -> dict:
    """The filters as URL parameters (for the download links)."""
    return {k: v for k, v in (("programme", filters["programme_id"]), ("year", filters["year"]),
                              ("district", filters["district"])) if v}


TABLES = ("districts", "months", "categories", "funnel")


def tables(filters) -> dict[str, Sheet]:
    """Every table of the page as a sheet, by its name in the download URL."""
    rows, totals, months, categories, steps = _data(filters)
    month_rows, running = [], 0
    for month, amount in months:
        running += amount
        rate = round(100 * running / totals.paid_won, 1) if totals.paid_won else None
        month_rows.append([month, amount, running, rate])
    total = sum(amount for _, amount in categories)
    first = steps[0][1] if steps else 0
    return {
        "districts": queries.district_sheet(rows, totals),
        "months": Sheet("월별 집행", [Column("월"), Column("집행액", WON), Column("누적 집행액", WON),
                                      Column("누적 집행률(%)", NUMBER)], month_rows),
        "categories": Sheet("비목별 집행", [Column("비목"), Column("집행액", WON), Column("비율(%)", NUMBER)],
                            [[label, amount, round(100 * amount / total, 1) if total else None]
                             for label, amount in categories]),
        "funnel": Sheet("신청에서 정산까지", [Column("단계", TEXT), Column("건수", INT), Column("제출 대비(%)", NUMBER)],
                        [[label, n, round(100 * n / first, 1) if first else None] for label, n in steps]),
    }


@bp.route("/<table>.<fmt>")
@permission_required("view_centre")
def export(table, fmt):
    if table not in TABLES or fmt not in FORMATS:
        abort(404)
    _, filters, _ = _filters()
    sheet = tables(filters)[table]
    suffix = "-".join(str(v) for v in _query(filters).values())
    return send_table(sheet, fmt, f"{sheet.name}{'-' + suffix if suffix else ''}.{fmt}",
                      fallback=f"centre-{table}{'-' + suffix if suffix else ''}.{fmt}")
