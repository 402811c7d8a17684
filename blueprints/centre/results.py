"""What the programme's results look like outside the office: the year-end results report
(사업 결과보고서, a PDF for the city) and the public results page (anyone, no sign-in).

Both are read models over ``queries`` (the dashboard's own figures, so the three agree) plus
the few tables only they need: spending by 자치구 and 비목, the refunds, the selected groups.
The public page shows a group's name only when the group agreed to it
(``Group.consent_publish_name_at``) and never anything about its members.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from blueprints.applications.models import Application
from blueprints.awards.models import Award
from blueprints.groups.models import Group
from blueprints.programmes.models import Programme
from blueprints.settlement.models import Expense, Refund, Settlement
from data.districts import SEOUL_DISTRICTS
from extensions import db

from . import charts, queries


@dataclass
class CategoryTable:
    """비목 × 자치구: ``cells[district][label]`` in 원, with the totals both ways."""
    labels: list[str]
    districts: list[str]
    cells: dict[str, dict[str, int]]
    by_label: dict[str, int]
    by_district: dict[str, int]
    total: int


def spending_by_district_and_category(programme_id: int | None = None, year: int | None = None) -> CategoryTable:
    """Spending (집행액) by 자치구 and 비목. Two queries."""
    from blueprints.settlement.services import category_label

    filters = queries.Filters(programme_id, year, None)
    stmt = queries._award_scope(
        select(Group.district, Award.programme_id, Expense.category, func.sum(Expense.amount_won))
        .select_from(Expense).join(Award, Award.id == Expense.award_id), filters)
    found = db.session.execute(stmt.group_by(Group.district, Award.programme_id, Expense.category)).all()
    rules = dict(db.session.execute(select(Programme.id, Programme.rules)
                                    .where(Programme.id.in_({r[1] for r in found} or {0}))).all())
    cells: dict[str, dict[str, int]] = {}
    for district, programme, code, amount in found:
        label = category_label(rules.get(programme) or {}, code)
        row = cells.setdefault(district, {})
        row[label] = row.get(label, 0) + int(amount)
    by_label: dict[str, int] = {}
    for row in cells.values():
        for label, amount in row.items():
            by_label[label] = by_label.get(label, 0) + amount
    labels = sorted(by_label, key=lambda label: (-by_label[label], label))
    districts = [d for d in SEOUL_DISTRICTS if d in cells] + sorted(set(cells) - set(SEOUL_DISTRICTS))
    by_district = {d: sum(cells[d].values()) for d in districts}
    return CategoryTable(labels, districts, cells, by_label, by_district, sum(by_label.values()))


@dataclass
class RefundLine:
    district: str
    group: str
    due_won: int
    received_won: int | None
    received_on: object


def refunds(programme_id: int | None = None, year: int | None = None) -> list[RefundLine]:
    """Every settlement with money to return (반환 대상), and what came back. One query."""
    filters = queries.Filters(programme_id, year, None)
    stmt = queries._award_scope(
        select(Group.district, Group.name, Settlement.refund_due_won, Refund.amount_won, Refund.received_on)
        .select_from(Settlement).join(Award, Award.id == Settlement.award_id)
        .outerjoin(Refund, Refund.settlement_id == Settlement.id), filters)
    stmt = stmt.where(Settlement.refund_due_won > 0)
    order = {d: i for i, d in enumerate(SEOUL_DISTRICTS)}
    lines = [RefundLine(*row) for row in db.session.execute(stmt)]
    return sorted(lines, key=lambda r: (order.get(r.district, len(order)), r.district, r.group))


def report_data(programme_id: int | None = None, year: int | None = None) -> dict:
    """Everything the year-end report shows: the dashboard's overview (table and charts),
    spending by 비목 and 자치구, the refunds."""
    view = queries.overview(programme_id, year)
    return dict(rows=view.rows, totals=view.totals, charts=charts.overview_charts(view),
                by_category=spending_by_district_and_category(programme_id, year),
                refunds=refunds(programme_id, year), settlement_states=queries.SETTLEMENT_STATES)


def report_title(programme: Programme | None, year: int | None) -> str:
    if programme is not None:
        # The default title ends in 사업 already ('2027년 공동육아 자조모임 지원사업').
        suffix = "결과보고서" if programme.title.rstrip().endswith("사업") else "사업 결과보고서"
        return f"{programme.title.rstrip()} {suffix}"
    if year is not None:
        return f"{year}년 공동육아 자조모임 지원사업 결과보고서"
    return "공동육아 자조모임 지원사업 결과보고서"


def chart_image(chart: charts.Chart) -> str:
    """The chart as a ``data:`` URI for the PDF: pygal's whole SVG with its own style (scoped by
    its root id), without its script. WeasyPrint draws an SVG *image* with its CSS; inline SVG
    in the HTML would lose the style."""
    import base64
    import re

    markup = chart.chart.render(is_unicode=True)
    markup = re.sub(r"<script.*?</script>|<script[^>]*/>", "", markup, flags=re.S)
    return "data:image/svg+xml;base64," + base64.b64encode(markup.encode()).decode()


# The public page -------------------------------------------------------------------------------

@dataclass
class PublicDistrict:
    district: str
    named: list[tuple[str, int]]     # (group name, 교부결정액) of the groups that agreed to be named
    unnamed: int                     # how many selected groups did not agree
    unnamed_won: int
    selected: int
    awarded_won: int


def public_results(programme: Programme) -> list[PublicDistrict]:
    """The selected groups of a published programme by 자치구: names only with the group's
    consent, amounts always (the unnamed ones summed). One query."""
    found = db.session.execute(
        select(Group.district, Group.name, Group.consent_publish_name_at, Award.amount_won)
        .select_from(Award).join(Application, Application.id == Award.application_id)
        .join(Group, Group.id == Application.group_id)
        .where(Award.programme_id == programme.id)
        .order_by(Group.district, Group.name)).all()
    by_district: dict[str, PublicDistrict] = {}
    for district, name, consented_at, amount in found:
        entry = by_district.setdefault(district, PublicDistrict(district, [], 0, 0, 0, 0))
        entry.selected += 1
        entry.awarded_won += amount
        if consented_at is not None:
            entry.named.append((name, amount))
        else:
            entry.unnamed += 1
            entry.unnamed_won += amount
    order = {d: i for i, d in enumerate(SEOUL_DISTRICTS)}
    return sorted(by_district.values(), key=lambda d: (order.get(d.district, len(order)), d.district))
