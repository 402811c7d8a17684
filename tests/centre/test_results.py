"""The year-end results report (PDF) and the public results page agree with the dashboard's
figures; the public page names only groups that agreed and says nothing about members."""
import io
import re
import subprocess

import pytest
from pypdf import PdfReader

from blueprints.centre import queries, results
from blueprints.core.models import utcnow
from extensions import db


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_spending_by_district_and_category_adds_up_both_ways(app, money_world):
    table = results.spending_by_district_and_category(programme_id=money_world["p"].id)
    assert table.districts == ["은평구", "마포구"]                  # the city's order of 자치구
    assert table.cells["마포구"] == {"재료비(소모품)": 50_000, "간식비": 30_000}
    assert table.cells["은평구"] == {"재료비(소모품)": 100_000}
    assert table.labels == ["재료비(소모품)", "간식비"]       # largest first
    assert table.by_district == {"마포구": 80_000, "은평구": 100_000}
    assert table.total == 180_000 == queries.district_table(programme_id=money_world["p"].id)[1].spent_won
    assert results.spending_by_district_and_category(year=2026).total == 0


def test_refunds_list_what_is_due_and_what_came_back(app, money_world, finance):
    from datetime import date

    from blueprints.settlement import services as s

    lines = results.refunds(programme_id=money_world["p"].id)
    assert [(r.district, r.due_won, r.received_won) for r in lines] == [("마포구", 750_000, None)]
    s.record_refund(money_world["settlement_a"], amount_won=750_000, received_on=date(2027, 6, 10),
                    depositor="햇살모임", note="", user=finance)
    db.session.commit()
    (line,) = results.refunds(programme_id=money_world["p"].id)
    assert (line.received_won, line.received_on) == (750_000, date(2027, 6, 10))
    assert line.due_won == queries.district_table(programme_id=money_world["p"].id)[1].refund_won


def test_the_year_end_report_is_a_pdf_with_the_tables_and_charts(app, client, auth, money_world, city, tmp_path):
    auth.login(city.email)
    response = client.get(f"/centre/report.pdf?programme={money_world['p'].id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = _pdf_text(response.data)
    assert "2027 공동육아 자조모임 지원 사업 결과보고서" in text
    assert re.search(r"마포구\s+3\s+1\s+0\s+2\s+2\s+1\s+800,000\s+800,000\s+80,000\s+50,000\s+750,000\s+10\.0%", text)
    assert re.search(r"합계\s+6\s+", text)
    assert "750,000원" in text and "미반환" in text                  # the refund not yet received
    for title in ("자치구별 등록 모임", "자치구별 지원금", "월별 집행 추이", "신청에서 정산까지", "비목별 집행"):
        assert title in text
    assert "2027년 4월" in text                                      # the line chart's axis, drawn as text
    fonts = {str(f) for page in PdfReader(io.BytesIO(response.data)).pages
             for f in (page["/Resources"].get("/Font") or {}).values()
             for f in [f.get_object()["/BaseFont"]]}
    assert fonts and all("Pretendard" in f for f in fonts)             # the Korean font is embedded, nothing else
    # The charts are drawn (vector paths), not blank: render page 3+ and look for coloured pixels.
    (tmp_path / "r.pdf").write_bytes(response.data)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True)
    from PIL import Image
    blue = 0
    for png in sorted(tmp_path.glob("page-*.png")):
        with Image.open(png) as image:
            pixels = image.convert("RGB").tobytes()
        blue += sum(1 for i in range(0, len(pixels), 3) if pixels[i + 2] > 150 and pixels[i] < 80)
    assert blue > 500   # the bars and lines in the charts' first colour (#1d56bc)


def test_the_report_is_for_staff_finance_and_the_city_only(app, client, auth, money_world, make_user):
    applicant = make_user("parent@example.kr", roles=("applicant",))
    auth.login(applicant.email)
    assert client.get("/centre/report.pdf").status_code == 403


def _publish(programme):
    programme.results_published_at = utcnow()
    db.session.commit()


def test_the_public_page_opens_only_once_results_are_published(app, client, money_world):
    p = money_world["p"]
    assert client.get(f"/results/{p.id}").status_code == 404
    _publish(p)
    assert client.get(f"/results/{p.id}").status_code == 200
    assert client.get("/results/999999").status_code == 404


def test_the_public_page_names_only_groups_that_agreed_and_no_member(app, client, money_world):
    p, award_a, award_b = money_world["p"], money_world["award_a"], money_world["award_b"]
    group_a, group_b = award_a.application.group, award_b.application.group
    group_a.name, group_b.name = "햇살품앗이", "비공개원하는모임"
    group_a.consent_publish_name_at = utcnow()
    _publish(p)
    html = client.get(f"/results/{p.id}").get_data(as_text=True)
    assert "햇살품앗이" in html and "800,000원" in html
    assert "비공개원하는모임" not in html
    assert "이름을 공개하지 않은 1개 모임" in html and "600,000원" in html
    assert "1,400,000원" in html                                      # the total awarded
    for member in group_a.members + group_b.members:
        assert member.parent_name not in html
        assert not member.phone or member.phone not in html
        assert not member.email or member.email not in html
    assert group_a.reg_no not in html
    # Programme Q's group is not P's result.
    assert "강남구" not in html


def test_public_results_group_by_district_in_the_citys_order(app, money_world):
    p = money_world["p"]
    money_world["award_b"].application.group.consent_publish_name_at = utcnow()
    db.session.commit()
    found = results.public_results(p)
    assert [(d.district, d.selected, d.awarded_won, d.unnamed) for d in found] == [("은평구", 1, 600_000, 0),
                                                                                  ("마포구", 1, 800_000, 1)]
    assert found[0].named == [(money_world["award_b"].application.group.name, 600_000)]


def test_the_public_table_adds_up_to_its_total_row(app, client, money_world, complete_application):
    """A 자치구 whose groups applied but none was selected keeps its row: the 신청 column's rows
    add up to the 합계 it prints (종로구's application was counted in the total, its row was hidden)."""
    from blueprints.applications import services as apps

    leader, _, application = complete_application(programme=money_world["p"], email="g@example.kr", district="종로구")
    apps.submit(application, user=leader)
    _publish(money_world["p"])
    page = client.get(f"/results/{money_world['p'].id}").get_data(as_text=True)
    table = page.split('class="tbl col data money public-table"')[1].split("</table>")[0]
    body, foot = table.split("<tfoot>")
    rows = re.findall(r'<th scope="row">([^<]+)</th><td class="num">([\d,]+)</td><td class="num">([\d,]+)</td>', body)
    total = re.search(r'<th scope="row">합계</th><td class="num">([\d,]+)</td><td class="num">([\d,]+)</td>', foot)
    assert ("종로구", "1", "0") in rows
    assert sum(int(r[1].replace(",", "")) for r in rows) == int(total.group(1).replace(",", "")) == 4
    assert sum(int(r[2].replace(",", "")) for r in rows) == int(total.group(2)) == 2


@pytest.mark.parametrize("title,expected", [
    ("2027년 공동육아 자조모임 지원사업", "2027년 공동육아 자조모임 지원사업 결과보고서"),   # the default title
    ("2027 공동육아 자조모임 지원", "2027 공동육아 자조모임 지원 사업 결과보고서"),
])
def test_the_report_title_says_사업_once(title, expected):
    from blueprints.programmes.models import Programme

    assert results.report_title(Programme(title=title, year=2027), None) == expected


def test_the_dashboard_offers_the_whole_city_report_when_a_district_is_chosen(app, client, auth, money_world, city):
    """The report covers every 자치구: with a 자치구 filter on, its link leaves the filter out and says so."""
    auth.login(city.email)
    p = money_world["p"].id
    page = client.get(f"/centre/?programme={p}&district=마포구").get_data(as_text=True)
    link = re.search(r'href="(/centre/report\.pdf[^"]*)"[^>]*>([^<]*)<', page)
    assert link.group(1) == f"/centre/report.pdf?programme={p}&amp;year=2027"
    assert link.group(2) == "사업 결과보고서(PDF, 서울시 전체)"
    page = client.get(f"/centre/?programme={p}").get_data(as_text=True)
    assert re.search(r'href="/centre/report\.pdf[^"]*"[^>]*>사업 결과보고서\(PDF\)<', page)
