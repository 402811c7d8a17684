"""Staff list of groups: search, filters, sort, paging (htmx with the URL pushed), CSV/XLSX export."""
import csv
import io

import pytest
from openpyxl import load_workbook

from extensions import db


@pytest.fixture
def staff(make_user, auth):
    make_user("staff@example.kr", roles=("staff",))
    auth.login("staff@example.kr")


@pytest.fixture
def groups(make_group, make_user):
    a = make_group(leader=make_user(name="가대표"), name="햇살품앗이", district="마포구", dong="망원동", households=5)
    b = make_group(leader=make_user(name="나대표"), name="숲속놀이터", district="은평구", dong="불광동", households=8)
    c = make_group(leader=make_user(name="다대표"), name="=HYPERLINK(\"x\")", district="마포구", dong="합정동", households=6)
    c.status = "inactive"
    db.session.commit()
    return a, b, c


def rows(page):
    return [line for line in page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]]


def test_search_filters_and_sort(client, staff, groups):
    a, b, c = groups
    page = client.get("/groups/?q=햇살").get_data(as_text=True)
    assert "햇살품앗이" in page and "숲속놀이터" not in page
    page = client.get(f"/groups/?q={b.reg_no}").get_data(as_text=True)
    assert "숲속놀이터" in page and "햇살품앗이" not in page
    page = client.get("/groups/?district=마포구").get_data(as_text=True)
    assert "햇살품앗이" in page and "숲속놀이터" not in page and "HYPERLINK" in page
    page = client.get("/groups/?status=inactive").get_data(as_text=True)
    assert "HYPERLINK" in page and "햇살품앗이" not in page
    page = client.get("/groups/?sort=households&direction=desc").get_data(as_text=True)
    order = [r for r in rows(page)]
    assert "숲속놀이터" in order[0] and "HYPERLINK" in order[1] and "햇살품앗이" in order[2]
    assert 'aria-sort="descending"' in page


def test_htmx_search_returns_only_the_table(client, staff, groups):
    response = client.htmx("GET", "/groups/", target="group-table", data={"district": "은평구"})
    page = response.get_data(as_text=True)
    assert "<html" not in page and "숲속놀이터" in page and "햇살품앗이" not in page
    assert "HX-Request" in response.headers["Vary"]
    # sort links and paging keep the filters and push the URL
    assert 'hx-push-url="true"' in page and "district=%EC%9D%80%ED%8F%89%EA%B5%AC" in page


def test_paging(client, staff, make_group):
    for n in range(23):
        make_group(name=f"모임{n:02d}", households=1)
    first = client.get("/groups/").get_data(as_text=True)
    second = client.get("/groups/?page=2").get_data(as_text=True)
    assert len(rows(first)) == 20 and len(rows(second)) == 3
    assert "모임 23곳" in first
    assert 'aria-current="page"' in second
    assert len(rows(client.get("/groups/?page=99").get_data(as_text=True))) == 3  # past the end: the last page


def test_csv_export_follows_the_filters_and_has_no_phone_numbers(client, staff, groups):
    response = client.get("/groups/export.csv?district=마포구")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="groups-')
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0][:3] == ["등록번호", "모임명", "자치구"]
    names = {row[1] for row in table[1:]}
    assert names == {"햇살품앗이", "'=HYPERLINK(\"x\")"}  # a formula is written as text
    assert "010" not in body.decode("utf-8-sig")


def test_xlsx_export(client, staff, groups):
    response = client.get("/groups/export.xlsx?sort=households&direction=desc")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.values)
    assert values[0][0] == "등록번호"
    assert [v[1] for v in values[1:]][0] == "숲속놀이터"
    assert values[1][7] == 8  # households


def test_applicants_and_reviewers_cannot_list_or_export(client, auth, make_user, groups):
    make_user("reviewer@example.kr", roles=("reviewer",))
    auth.login("reviewer@example.kr")
    assert client.get("/groups/").status_code == 403
    assert client.get("/groups/export.xlsx").status_code == 403
    assert client.get(f"/groups/{groups[0].id}").status_code == 403


def test_staff_menu_links_the_group_list(client, staff):
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/groups/"' in page and "모임 목록" in page
    assert 'href="/groups/mine"' not in page


@pytest.mark.parametrize("extra", ["fmt=csv", "endpoint=x", "_method=POST", "_external=1", "_anchor=x",
                                   "programme_id=999"])
def test_a_hand_edited_query_string_still_shows_the_list_with_links_to_this_site(client, staff, groups, extra,
                                                                                 make_programme, monkeypatch):
    """The export, sort and page links carry the list's filters: an unknown or reserved name in
    the query string ('fmt', 'endpoint', '_external', ...) answered 500 or built links elsewhere."""
    import functools

    from blueprints.groups import services

    monkeypatch.setattr(services, "search_groups", functools.partial(services.search_groups, per_page=1))
    programme = make_programme()
    for url in (f"/groups/?q=품앗이&{extra}", f"/groups/?{extra}", f"/applications/programme/{programme.id}?q=햇살&{extra}"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert '="http://' not in page and '#x"' not in page, url
    page = client.get(f"/groups/?q=품앗이&{extra}").get_data(as_text=True)
    assert "/groups/export.csv?q=%ED%92%88%EC%95%97%EC%9D%B4" in page   # the filter is carried
    page = client.get(f"/groups/?{extra}").get_data(as_text=True)
    assert "page=2" in page                                               # the pager is drawn
    page = client.get(f"/applications/programme/{programme.id}?q=햇살&{extra}").get_data(as_text=True)
    assert f'href="/applications/programme/{programme.id}/export.csv?q=' in page   # this programme's export
