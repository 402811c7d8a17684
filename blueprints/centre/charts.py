"""The centre's charts, drawn by pygal as SVG on the server: the same markup in the page (no
JavaScript needed) and in the PDF report.

Each chart is a ``Chart``: its id, title, the SVG markup and the data table that says the same
in rows and columns (KWCAG: a chart is never the only way to read its numbers). In the page
the SVG is ``role="img"`` named by the chart's heading (``aria-labelledby``); pygal's own
``<style>``/``<script>``, tooltips and ``style=""`` attributes are taken out, because the page's
Content-Security-Policy allows no inline style or script: the page links static/css/charts.css
instead, which is ``chart_css()`` written out (a test keeps the two equal). The PDF, which has
no CSP, keeps pygal's style inline (``svg(..., inline_style=True)``).

Korean text uses the embedded font: 'Pretendard GOV' in the page (static/css/fonts.css),
'PretendardGOV' in the PDF (core/pdf.py).
"""
from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pygal
from pygal.style import Style

# pygal appends a legacy import hook (for its map plugins, which we do not use) to
# sys.meta_path; every failed import anywhere then warns "find_spec() not found" (an error
# under the tests' filterwarnings). Take it out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

from blueprints.core.formatting import won

from .queries import DistrictRow

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

FONT = "'Pretendard GOV', PretendardGOV, 'Noto Sans KR', sans-serif"
# Dark enough against white for lines and bars (WCAG 1.4.11, 3:1), told apart by hue.
COLOURS = ("#1d56bc", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#be123c", "#0e7490", "#4d5562", "#9d174d",
           "#3f6212")
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1e2124", foreground_strong="#1e2124",
    foreground_subtle="#6d7882", opacity=".9", opacity_hover="1", transition="0ms", colors=COLOURS,
    font_family=FONT, label_font_family=FONT, major_label_font_family=FONT, value_font_family=FONT,
    value_label_font_family=FONT, title_font_family=FONT, legend_font_family=FONT, tooltip_font_family=FONT,
    no_data_font_family=FONT, label_font_size=13, major_label_font_size=13, legend_font_size=14,
    value_font_size=13, title_font_size=16, no_data_font_size=20, value_colors=("#ffffff",),
    guide_stroke_color="#c6cbd0", major_guide_stroke_color="#8a949e", guide_stroke_dasharray="2,4",
    major_guide_stroke_dasharray="2,4",
)
COMMON = dict(style=STYLE, js=[], disable_xml_declaration=True, explicit_size=False, width=960, height=420,
              no_data_text="자료 없음", legend_at_bottom=True, legend_at_bottom_columns=4, truncate_label=-1,
              truncate_legend=-1, margin=16, margin_bottom=32, spacing=12, tooltip_border_radius=0,
              include_x_axis=True)


def _count_ticks(largest: int) -> list[int]:
    """Whole-number axis ticks for counts (no 0.2 of a group): about five steps from 0."""
    step = max(1, -(-int(largest or 0) // 5))
    return list(range(0, max(int(largest or 0), 1) + step, step))


def _rotation(labels) -> int:
    """Slant the x labels only when there are many (25 자치구), so they do not overlap."""
    return -45 if len(labels) > 8 else 0


@dataclass
class Chart:
    id: str                       # html id of the figure; the heading is f"{id}-title"
    title: str
    chart: object = field(repr=False)
    columns: list[str] = field(default_factory=list)   # the data table's header
    rows: list[list] = field(default_factory=list)      # its rows (text as shown)
    summary: str = ""             # one sentence read before the table

    @property
    def title_id(self) -> str:
        return f"{self.id}-title"

    def svg(self, *, inline_style: bool = False) -> str:
        return svg_markup(self.chart, labelled_by=self.title_id, inline_style=inline_style)


def _drop(parent, predicate):
    for child in list(parent):
        if predicate(child):
            parent.remove(child)
        else:
            _drop(child, predicate)


def _tag(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def svg_markup(chart, *, labelled_by: str, inline_style: bool = False) -> str:
    """The chart's ``<svg>`` for an HTML page: an image named by ``labelled_by``, without
    pygal's script, tooltips and (unless ``inline_style``) its style element and attributes."""
    root = ET.fromstring(chart.render(is_unicode=True))
    if not inline_style:
        root.attrib.pop("id", None)   # the inline style's selectors name it; charts.css does not
    root.set("role", "img")
    root.set("aria-labelledby", labelled_by)
    root.set("focusable", "false")

    def unwanted(el):
        tag, cls = _tag(el), el.get("class", "")
        if tag == "script" or (tag == "style" and not inline_style):
            return True
        # Tooltip machinery (hover only) and the per-value <desc> the tooltips read.
        return "tooltip-overlay" in cls or cls == "tooltip" or (tag == "desc" and cls.startswith("value"))\
            or (tag == "desc" and cls in {"x centered", "y centered", "x_label", "label"})

    _drop(root, unwanted)
    for el in root.iter():
        # pygal's legend ids (activate-serie-N, for its script) repeat in every chart of a page
        if el.get("id", "").startswith("activate-serie"):
            del el.attrib["id"]
    if not inline_style:
        for el in root.iter():
            el.attrib.pop("style", None)
    # Again at each call: ElementTree's prefix table is global, and another library may have
    # mapped the default prefix elsewhere since (the page then had <ns0:svg>, which browsers
    # do not draw as HTML's inline SVG).
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    text = ET.tostring(root, encoding="unicode")
    return re.sub(r"<!--.*?-->", "", text, flags=re.S)


def chart_css() -> str:
    """pygal's CSS for our style, for every chart of the page (``.pygal-chart`` instead of
    one chart's id): the content of static/css/charts.css."""
    sample = pygal.Bar(**COMMON)
    for i in range(len(COLOURS)):
        sample.add(str(i), [1])
    root = ET.fromstring(sample.render(is_unicode=True))
    chart_id = root.get("id")
    css = "\n".join(el.text or "" for el in root.iter() if _tag(el) == "style")
    css = css.replace(f"#{chart_id}", ".pygal-chart")
    header = "/* Generated by blueprints/centre/charts.py chart_css(): pygal's chart style. Do not edit. */\n"
    return header + css.strip() + "\n"


# The charts -------------------------------------------------------------------------------

def _won_short(value) -> str:
    """Axis labels: 1,250만 rather than 12,500,000, and 1.2만 for 12,000 (not 1만 like the tick
    below it)."""
    if value is None or value != int(value):   # pygal's ticks between whole 원 (0.1 … 0.9)
        return ""
    value = int(value)
    for unit, name in ((100_000_000, "억"), (10_000, "만")):
        if abs(value) >= unit:
            return f"{value / unit:,.4f}".rstrip("0").rstrip(".") + name
    return f"{value:,}"


def _money_axis(largest: int) -> dict:
    """An empty money chart's axis: 0 only (pygal would tick 0 to 1 in tenths of a 원)."""
    return {} if largest else {"y_labels": [0]}


def groups_by_district(rows: list[DistrictRow]) -> Chart:
    chart = pygal.StackedBar(**COMMON, x_label_rotation=_rotation(rows),
                             y_labels=_count_ticks(max((r.groups for r in rows), default=0)))
    chart.x_labels = [r.district for r in rows]
    chart.add("육아종합지원센터", [r.centre for r in rows])
    chart.add("공동육아나눔터", [r.sharing for r in rows])
    chart.add("기타", [r.other for r in rows])
    table = [[r.district, f"{r.centre:,}", f"{r.sharing:,}", f"{r.other:,}", f"{r.groups:,}"] for r in rows]
    return Chart("chart-groups", "자치구별 등록 모임", chart, ["자치구", "센터", "나눔터", "기타", "계"], table,
                 summary="자치구마다 모이는 곳(육아종합지원센터·공동육아나눔터·기타)별 모임 수입니다.")


def money_by_district(rows: list[DistrictRow]) -> Chart:
    largest = max((max(r.awarded_won, r.paid_won, r.spent_won) for r in rows), default=0)
    chart = pygal.Bar(**COMMON, x_label_rotation=_rotation(rows), value_formatter=_won_short, **_money_axis(largest))
    chart.x_labels = [r.district for r in rows]
    chart.add("교부결정액", [r.awarded_won for r in rows])
    chart.add("교부액", [r.paid_won for r in rows])
    chart.add("집행액", [r.spent_won for r in rows])
    table = [[r.district, won(r.awarded_won), won(r.paid_won), won(r.spent_won),
              "-" if r.execution_rate is None else f"{r.execution_rate}%"] for r in rows]
    return Chart("chart-money", "자치구별 지원금", chart, ["자치구", "교부결정액", "교부액", "집행액", "집행률"], table,
                 summary="자치구마다 교부결정액, 실제로 교부한 금액, 모임이 집행한 금액입니다.")


def execution_by_month(months: list[tuple[str, int]], paid_won: int) -> Chart:
    cumulative, running = [], 0
    for _, amount in months:
        running += amount
        cumulative.append(running)
    chart = pygal.Line(**COMMON, value_formatter=_won_short, dots_size=4, show_minor_x_labels=True,
                       **_money_axis(running))
    chart.x_labels = [f"{m[:4]}년 {int(m[5:])}월" for m, _ in months]
    chart.add("월 집행액", [amount for _, amount in months])
    chart.add("누적 집행액", cumulative)
    table = []
    for (month, amount), total in zip(months, cumulative):
        rate = f"{round(100 * total / paid_won, 1)}%" if paid_won else "-"
        table.append([f"{month[:4]}년 {int(month[5:])}월", won(amount), won(total), rate])
    return Chart("chart-months", "월별 집행 추이", chart, ["월", "집행액", "누적 집행액", "누적 집행률"], table,
                 summary="사용일이 속한 달(서울 시간)로 모은 집행액과 그 누적, 교부액에 대한 누적 집행률입니다.")


def application_funnel(steps: list[tuple[str, int]]) -> Chart:
    chart = pygal.HorizontalBar(**{**COMMON, "height": 300}, print_values=True, show_legend=False,
                                y_labels=_count_ticks(max((n for _, n in steps), default=0)))
    # pygal draws the first label at the bottom: reversed, the funnel reads from the top.
    chart.x_labels = [label for label, _ in reversed(steps)]
    chart.add("건수", [n for _, n in reversed(steps)])
    first = steps[0][1] if steps else 0
    table = [[label, f"{n:,}", f"{round(100 * n / first, 1)}%" if first else "-"] for label, n in steps]
    return Chart("chart-funnel", "신청에서 정산까지", chart, ["단계", "건수", "제출 대비"], table,
                 summary="제출된 신청서가 선정, 정산 제출, 정산 승인까지 이어진 건수입니다.")


def spending_mix(categories: list[tuple[str, int]]) -> Chart:
    chart = pygal.Pie(**{**COMMON, "legend_at_bottom_columns": 3}, inner_radius=.45)
    for label, amount in categories:
        chart.add(label, amount)
    total = sum(amount for _, amount in categories)
    table = [[label, won(amount), f"{round(100 * amount / total, 1)}%" if total else "-"]
             for label, amount in categories]
    return Chart("chart-categories", "비목별 집행", chart, ["비목", "집행액", "비율"], table,
                 summary="집행액을 비목(지출 종류)별로 나눈 것입니다.")


def overview_charts(view) -> list[Chart]:
    """The charts of a ``queries.Overview``; the 자치구 charts leave out districts with nothing
    in them (all 25 when every one is empty)."""
    shown = [r for r in view.rows if r.groups or r.submitted or r.awarded_won] or view.rows
    return dashboard_charts(shown, view.totals, view.months, view.categories, view.steps)


def dashboard_charts(rows, totals, months, categories, steps) -> list[Chart]:
    """Every chart of the dashboard (and the year-end report), in page order."""
    return [groups_by_district(rows), money_by_district(rows), execution_by_month(months, totals.paid_won),
            application_funnel(steps), spending_mix(categories)]
