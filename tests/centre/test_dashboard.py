"""센터 현황: the table by 자치구 agrees with the lists and exports it summarises; filters; the
charts in the page without JavaScript; the downloads; the `district-report` command."""
import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from blueprints.centre import queries
from extensions import db


def _row(rows, district):
    return next(r for r in rows if r.district == district)


def _csv(response):
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_table_by_district_counts_what_happened(app, money_world):
    rows, totals = queries.district_table(programme_id=money_world["p"].id)
    mapo, eunpyeong, gangnam = _row(rows, "마포구"), _row(rows, "은평구"), _row(rows, "강남구")
    # Groups are counted whatever the programme (the group list has no programme).
    assert (mapo.groups, mapo.centre, mapo.sharing, mapo.other) == (3, 1, 0, 2)
    assert (eunpyeong.groups, eunpyeong.sharing, eunpyeong.other) == (2, 1, 1)
    assert (gangnam.groups, gangnam.centre) == (1, 1)
    # A draft and a withdrawal are not submitted; programme Q's award is not P's.
    assert (mapo.submitted, mapo.selected, eunpyeong.submitted, eunpyeong.selected) == (2, 1, 1, 1)
    assert (gangnam.submitted, gangnam.awarded_won) == (0, 0)
    assert (mapo.awarded_won, mapo.paid_won, mapo.spent_won) == (800_000, 800_000, 80_000)
    assert (mapo.recognised_won, mapo.refund_won) == (50_000, 750_000)
    assert mapo.execution_rate == 10.0 and eunpyeong.execution_rate == round(100 * 100_000 / 600_000, 1)
    assert mapo.settlements["approved"] == 1 and eunpyeong.settlements["submitted"] == 1
    assert totals.district == "합계" and totals.groups == 6 and totals.submitted == 3 and totals.selected == 2
    assert (totals.awarded_won, totals.paid_won, totals.spent_won) == (1_400_000, 1_400_000, 180_000)
    assert [r.district for r in rows[:25]][:3] == ["종로구", "중구", "용산구"] and len(rows) == 25


def test_filters_year_programme_and_district(app, money_world):
    _, y2026 = queries.district_table(year=2026)
    assert (y2026.awarded_won, y2026.submitted, y2026.selected) == (500_000, 1, 1)
    _, everything = queries.district_table()
    assert everything.awarded_won == 1_900_000
    rows, totals = queries.district_table(programme_id=money_world["p"].id, district="은평구")
    assert [r.district for r in rows] == ["은평구"]
    assert (totals.groups, totals.awarded_won, totals.spent_won) == (2, 600_000, 100_000)
    # programme and year that do not meet: nothing.
    _, none = queries.district_table(programme_id=money_world["p"].id, year=2026)
    assert (none.submitted, none.awarded_won) == (0, 0)


def test_spending_by_month_and_by_category(app, money_world):
    p = money_world["p"].id
    assert queries.spending_by_month(programme_id=p) == [("2027-04", 150_000), ("2027-05", 30_000)]
    assert queries.spending_by_month(programme_id=p, district="은평구") == [("2027-04", 100_000)]
    assert queries.spending_by_category(programme_id=p) == [("재료비(소모품)", 150_000), ("간식비", 30_000)]
    assert queries.spending_by_month(year=2026) == []


def test_totals_equal_the_lists_and_exports(app, client, auth, money_world, finance, staff_user):
    """The 합계 row is what the lists and exports of the same programme add up to."""
    p = money_world["p"]
    rows, totals = queries.district_table(programme_id=p.id)
    auth.login(finance.email)
    settlements = _csv(client.get(f"/settlement/programme/{p.id}/settlements.csv"))
    head, body = settlements[0], settlements[1:]
    column = lambda name: sum(int(r[head.index(name)] or 0) for r in body)  # noqa: E731
    assert column("집행액") == totals.spent_won
    assert column("인정액") == totals.recognised_won
    assert column("반환액") == totals.refund_won
    assert column("교부액") == totals.paid_won
    expenses = _csv(client.get(f"/settlement/programme/{p.id}/expenses.csv"))
    assert sum(int(r[expenses[0].index("금액")]) for r in expenses[1:]) == totals.spent_won
    payments = _csv(client.get(f"/disbursement/payments.csv?programme={p.id}"))
    assert sum(int(r[payments[0].index("지급액")]) for r in payments[1:]) == totals.paid_won
    auth.logout()
    auth.login(staff_user.email)
    page = client.get(f"/applications/programme/{p.id}").get_data(as_text=True)
    for r in rows:
        if r.groups:
            listed = client.get(f"/groups/?district={r.district}").get_data(as_text=True)
            assert f"모임 {r.groups}곳" in listed
    exported = _csv(client.get(f"/applications/programme/{p.id}/export.csv"))
    lodged = {r[0] for r in exported[1:] if r[exported[0].index("상태")] not in ("작성중", "철회")}
    assert len(lodged) == totals.submitted
    assert page  # the list renders for the same programme


def test_dashboard_page_shows_table_and_charts_without_javascript(app, client, auth, money_world, city):
    auth.login(city.email)
    response = client.get(f"/centre/?programme={money_world['p'].id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "센터 현황" in page and "마포구" in page and "합계" in page
    svgs = re.findall(r"<svg\b[^>]*>", page)
    assert len(svgs) == 5
    for tag in svgs:
        assert 'role="img"' in tag
        labelled = re.search(r'aria-labelledby="([^"]+)"', tag).group(1)
        assert f'id="{labelled}"' in page
    # Nothing the CSP would block: no script or style inside the charts, no style attributes.
    charts_html = "".join(re.findall(r"<svg\b.*?</svg>", page, flags=re.S))
    assert "<script" not in charts_html and "<style" not in charts_html and " style=" not in charts_html
    assert page.count("표로 보기") == 5 and "재료비" in page and "2027년 4월" in page
    # The city reads; it is not sent to the group list (a staff page).
    assert "/groups/?district=" not in page


def test_staff_rows_link_to_the_filtered_group_list(app, client, auth, money_world, staff_user):
    auth.login(staff_user.email)
    page = client.get(f"/centre/?programme={money_world['p'].id}").get_data(as_text=True)
    assert "/groups/?district=%EB%A7%88%ED%8F%AC%EA%B5%AC" in page
    assert "/groups/?district=%EB%A7%88%ED%8F%AC%EA%B5%AC&amp;affiliation=centre" in page


def test_a_hand_edited_filter_is_ignored(app, client, auth, money_world, city):
    auth.login(city.email)
    for query in ("programme=abc", "programme=999999", "year=20x6", "district=<script>"):
        response = client.get(f"/centre/?{query}")
        assert response.status_code == 200 and "<script>" not in response.get_data(as_text=True).split("<main")[1]
        assert "1,900,000원" in response.get_data(as_text=True)  # everything, as without the filter


def test_htmx_filter_change_answers_the_results_fragment(app, client, auth, money_world, city):
    auth.login(city.email)
    response = client.htmx("GET", f"/centre/?year=2026", target="centre-results")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "500,000원" in body
    assert "HX-Request" in response.headers.get("Vary", "")


def test_page_css_is_the_generated_chart_css(app):
    from blueprints.centre.charts import chart_css

    assert (Path(app.static_folder) / "css" / "charts.css").read_text(encoding="utf-8") == chart_css()


@pytest.mark.parametrize("table,title", [("districts", "자치구"), ("months", "월"), ("categories", "비목"),
                                         ("funnel", "단계")])
def test_every_table_downloads_as_csv_and_xlsx(app, client, auth, money_world, city, table, title):
    auth.login(city.email)
    p = money_world["p"].id
    text = _csv(client.get(f"/centre/{table}.csv?programme={p}"))
    book = load_workbook(io.BytesIO(client.get(f"/centre/{table}.xlsx?programme={p}").data)).active
    assert text[0][0] == title and book.cell(1, 1).value == title
    assert len(text) == book.max_row
    if table == "districts":
        assert text[-1][0] == "합계" and len(text) == 1 + 25 + 1
        total = book[book.max_row]
        head = [c.value for c in book[1]]
        assert total[head.index("집행액")].value == 180_000
        assert total[head.index("집행액")].number_format == '#,##0"원"'


def test_district_report_command_prints_the_table(app, money_world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["district-report", "--programme", str(money_world["p"].id)])
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(result.output)))
    head, body = lines[0], lines[1:]
    assert head[:7] == ["자치구", "등록 모임", "센터", "나눔터", "기타", "제출 신청", "선정"]
    assert len(body) == 26 and body[-1][0] == "합계"
    mapo = next(r for r in body if r[0] == "마포구")
    assert mapo[head.index("집행액")] == "80000" and mapo[head.index("정산 승인")] == "1"
    assert body[-1][head.index("교부결정액")] == "1400000"
    unknown = runner.invoke(args=["district-report", "--programme", "999999"])
    assert unknown.exit_code != 0 and "999999번 공모사업이 없습니다" in unknown.output


def test_city_role_can_be_granted_and_changes_nothing(app, client, auth, make_user, city, money_world):
    from blueprints.core.auth import can

    assert city.has_role("city")
    for action in ("list_groups", "manage_applications", "review_settlements", "export_applications",
                   "manage_users"):
        assert not can(city, action)
    assert can(city, "view_centre")
    admin = make_user("admin-c@example.kr", roles=("admin",))
    target = make_user("new-city@example.kr", name="새 담당관")
    auth.login(admin.email)
    response = client.post_form(f"/admin/users/{target.id}/roles/grant", {"role": "city"})
    assert response.status_code in (200, 303)
    db.session.refresh(target)
    assert target.has_role("city")


def test_a_programme_titled_with_its_year_is_not_given_the_year_twice(app, client, auth, city, open_programme_period):
    """The default title carries its year ('2027년 공동육아 자조모임 지원사업'): the filter and the
    summary show it as it is, not '2027년 2027년 …'; a title without the year gets it in front."""
    with_year = open_programme_period(year=2027, title="2027년 공동육아 자조모임 지원사업")
    without = open_programme_period(year=2026, title="봄 공동육아 지원")
    db.session.commit()
    auth.login(city.email)
    page = client.get(f"/centre/?programme={with_year.id}").get_data(as_text=True)
    assert "2027년 2027년" not in page
    assert f'<option selected value="{with_year.id}">2027년 공동육아 자조모임 지원사업</option>' in page
    assert "2027년 공동육아 자조모임 지원사업: 모임" in page
    assert f'<option value="{without.id}">2026년 봄 공동육아 지원</option>' in page


def test_the_citys_dashboard_leads_to_the_centres_view(app, client, auth, city):
    """The city's officer lands on 내 업무 after signing in: a card that opens 센터 현황 (where a
    programme is chosen for the report), not a page with nothing but the role's name."""
    auth.login(city.email)
    main = client.get("/dashboard").get_data(as_text=True).split("<main", 1)[1]
    assert 'aria-labelledby="dash-city"' in main
    assert 'href="/centre/"' in main


def _y_labels(chart) -> list[str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(chart.svg())
    axis = next(g for g in root.iter() if "axis y" in (g.get("class") or ""))
    return [t.text for t in axis.iter() if t.tag.endswith("text")]


@pytest.mark.parametrize("largest", [15_000, 25_000, 37_000, 125_000_000])
def test_money_axis_labels_name_each_tick_once(largest):
    """A tick of 12,000원 reads 1.2만, not 1만 like the 10,000원 below it (one month's spending in
    one 자치구 is often under 5만원)."""
    from blueprints.centre import charts

    months = [("2027-04", largest // 3), ("2027-05", largest - largest // 3)]
    labels = _y_labels(charts.execution_by_month(months, largest))
    assert len(labels) == len(set(labels)) > 3, labels


def test_an_empty_money_chart_has_no_axis_of_zeros():
    """Nothing spent yet: the axis says 0 once, not 0 ten times under a 1 (pygal's ticks 0.1 … 0.9 of a 원)."""
    from blueprints.centre import charts
    from blueprints.centre.queries import DistrictRow

    assert _y_labels(charts.money_by_district([DistrictRow("종로구"), DistrictRow("중구")])) == ["0"]
    assert _y_labels(charts.execution_by_month([], 0)) == ["0"]


def test_district_report_refuses_a_district_or_year_it_does_not_know(app, money_world):
    """A typo ('마포' for 마포구) or a year without a programme printed a table of zeros that reads
    like real figures; the command says what is wrong instead."""
    runner = app.test_cli_runner()
    typo = runner.invoke(args=["district-report", "--district", "마포"])
    assert typo.exit_code != 0 and "마포" in typo.output and "자치구" in typo.output and "합계" not in typo.output
    year = runner.invoke(args=["district-report", "--year", "99999"])
    assert year.exit_code != 0 and "99999년" in year.output and "합계" not in year.output
    ok = runner.invoke(args=["district-report", "--year", "2026", "--district", "강남구"])
    assert ok.exit_code == 0 and "500000" in ok.output


def test_a_programme_and_a_year_that_do_not_meet_show_the_programme(app, client, auth, money_world, city):
    """Programme 2027 chosen, then the year 2026 (or a link carrying both): the page, the download
    and the report showed the programme's title over zeros. The programme decides its year."""
    from pypdf import PdfReader

    p = money_world["p"]
    auth.login(city.email)
    page = client.get(f"/centre/?programme={p.id}&year=2026").get_data(as_text=True)
    assert "교부결정액</dt><dd>1,400,000원" in page
    assert f'<option selected value="{p.id}">' in page and '<option selected value="2027">2027년</option>' in page
    text = _csv(client.get(f"/centre/districts.csv?programme={p.id}&year=2026"))
    assert text[-1][text[0].index("교부결정액")] == "1400000"
    report = client.get(f"/centre/report.pdf?programme={p.id}&year=2026")
    assert "교부결정 1,400,000원" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(report.data)).pages)
