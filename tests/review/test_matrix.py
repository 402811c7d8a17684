"""The score matrix page: filters, sort and paging of the rows (services.matrix_page), its
per-process cache following score changes, and the page with and without htmx."""
import re

from blueprints.review import services
from extensions import db
from tests.review.conftest import spread


def _ids(data):
    return [row.id for row in data["page"].items]


def test_rows_filter_sort_and_page(scored, staff):
    programme, apps, people = scored([[90, 50, 85], [70, 72, 74], [40, 45]])
    a, b, c = apps
    data = services.matrix_page(programme)
    assert _ids(data) == [a.id, b.id, c.id] and data["total"] == 3 and data["flagged"] == 1
    row = {r.id: r for r in data["page"].items}
    assert row[a.id].spread == 40 and row[a.id].disagree and float(row[b.id].score) == 72.0
    assert row[c.id].spread == 5 and not row[c.id].disagree
    # one entry per reviewer, with the distance from the row's median (85) on the far-off total
    assert [(cell.total, cell.off) for cell in row[a.id].cells] == [(90, 5.0), (50, -35.0), (85, 0.0)]
    assert _ids(services.matrix_page(programme, sort="score_asc")) == [c.id, b.id, a.id]  # 42.5, 72, 75
    assert _ids(services.matrix_page(programme, sort="spread")) == [a.id, c.id, b.id]
    assert _ids(services.matrix_page(programme, status="disagree")) == [a.id]
    assert _ids(services.matrix_page(programme, min_spread=5)) == [a.id, c.id]
    assert _ids(services.matrix_page(programme, reviewer_id=people[2].id)) == [a.id, b.id]
    assert _ids(services.matrix_page(programme, district="강남구")) == []
    paged = services.matrix_page(programme, sort="score_asc", per_page=2, page=2)
    assert _ids(paged) == [a.id] and paged["page"].pages == 2 and paged["page"].total == 3
    assert services.matrix_page(programme, per_page=2, page=99)["page"].page == 2  # past the end: the last page
    calibration = {p.id: p.calibration for p in data["reviewers"]}
    assert calibration[people[1].id].bias < 0 and calibration[people[1].id].compared == 3


def test_the_cached_rows_follow_a_reopened_and_rescored_review(scored, staff):
    programme, apps, people = scored([[90, 50], [70, 72]])
    first = services.matrix_page(programme)
    assert first["page"].items[0].disagree
    item = services.assignment_of(apps[0], people[1])
    services.reopen(item, reason="점수 확인", user=staff)
    db.session.commit()
    reopened = services.matrix_page(programme)
    assert reopened["page"].items[0].pending == 1 and not reopened["page"].items[0].disagree
    rubric = services.rubric(programme)
    check = services.check_for(item, spread(88, rubric), {c["code"]: "의견" for c in rubric}, final=True)
    services.save_scores(item, check, user=people[1], submit=True)
    db.session.commit()
    row = services.matrix_page(programme)["page"].items[0]
    assert row.pending == 0 and float(row.score) == 89.0 and not row.disagree
    settings = services.settings_for(programme)
    settings.disagreement_points = 1
    db.session.commit()
    assert services.matrix_page(programme)["page"].items[0].disagree  # the settings are part of the key


def test_matrix_page_filters_without_js_and_swaps_with_htmx(client, auth, scored, staff):
    programme, apps, people = scored([[90, 50, 85], [70, 72, 74], [40, 45]])
    auth.login(staff.email)
    url = f"/review/programme/{programme.id}/matrix"
    page = client.get(url, query_string={"status": "disagree", "sort": "spread"}).get_data(as_text=True)
    assert f"#{apps[0].id} " in page and f"#{apps[1].id} " not in page
    assert '<option selected value="disagree">' in page and "심사위원 경향(보정)" in page
    assert "50</strong> <span class=\"muted\">(-35)</span>" in page  # the far-off total and its distance
    # htmx: only the results block, with the pagination that keeps the filters and pushes the URL
    response = client.htmx("GET", url, target="matrix-results", data={"sort": "score_asc"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in fragment and "심사위원 경향" not in fragment and "review-matrix" in fragment
    order = [int(m) for m in re.findall(r"<th scope=\"row\"><a [^>]*>#(\d+) ", fragment)]
    assert order == [apps[2].id, apps[1].id, apps[0].id]
    # a wrong number is left out with a message; the other conditions still apply
    bad = client.get(url, query_string={"min_spread": "많이", "status": "disagree"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "숫자로 입력해 주세요." in text and f"#{apps[1].id} " not in text


def test_pagination_links_keep_the_programme_and_the_filters(client, auth, scored, staff, monkeypatch):
    programme, apps, _ = scored([[80, 70], [75, 74], [60, 65]])
    monkeypatch.setattr(services, "MATRIX_PER_PAGE", 2)
    monkeypatch.setattr(services.matrix_page, "__kwdefaults__", dict(services.matrix_page.__kwdefaults__, per_page=2))
    auth.login(staff.email)
    url = f"/review/programme/{programme.id}/matrix"
    page = client.get(url, query_string={"sort": "score_desc"}).get_data(as_text=True)
    assert f'href="{url}?sort=score_desc&amp;page=2"' in page and 'hx-target="#matrix-results"' in page
    second = client.get(url, query_string={"sort": "score_desc", "page": 2}).get_data(as_text=True)
    assert f"#{apps[2].id} " in second and f"#{apps[0].id} " not in second


def test_a_long_reviewer_list_shows_the_flagged_ones_unless_all_are_asked_for(client, auth, scored, staff, monkeypatch):
    from blueprints.review import staff_views

    programme, apps, people = scored([[80, 78, 50], [70, 72, 45], [90, 88, 60]])
    monkeypatch.setattr(staff_views, "MATRIX_REVIEWERS_SHOWN", 2)
    auth.login(staff.email)
    url = f"/review/programme/{programme.id}/matrix"
    page = client.get(url).get_data(as_text=True)
    calibration = page.split('id="calibration"')[1]
    assert "3명 중 경향 경고가 있는 1명만" in calibration and people[2].name in calibration
    assert people[0].name not in calibration and "박하게 채점하는 경향" in calibration
    everyone = client.get(url, query_string={"calibration": "all"}).get_data(as_text=True).split('id="calibration"')[1]
    assert all(p.name in everyone for p in people)
