"""Finance's list of a programme's settlements: filtered by state, paged, htmx or plain."""
from blueprints.settlement import services as s
from blueprints.settlement import staff_views
from extensions import db


def _programme_with(paid_award, open_programme_period, n, submitted_every=2):
    programme = open_programme_period()
    for i in range(n):
        _, treasurer, award = paid_award(email=f"g{i}@example.kr", programme=programme)
        if i % submitted_every == 0:
            settlement = s.settlement_for(award, create=True)
            s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
    db.session.commit()
    return programme


def test_the_list_filters_by_state_and_pages(client, auth, paid_award, finance, open_programme_period, monkeypatch):
    monkeypatch.setattr(staff_views, "LIST_PER_PAGE", 2)
    programme = _programme_with(paid_award, open_programme_period, 5)  # drafts: 0, 2, 4; not started: 1, 3
    auth.login(finance.email)
    url = f"/settlement/programme/{programme.id}"

    first = client.get(url).get_data(as_text=True)
    assert "5건 · 1/3쪽" in first and first.count(">PDF</a>") == 1 and first.count("미작성</td>") == 1
    last = client.get(url + "?page=3").get_data(as_text=True)
    assert "5건 · 3/3쪽" in last and 'aria-current="page"' in last
    assert "5건 · 3/3쪽" in client.get(url + "?page=99").get_data(as_text=True)  # past the end: the last page

    drafts = client.get(url + "?status=draft").get_data(as_text=True)
    assert "3건 · 1/2쪽" in drafts and "미작성</td>" not in drafts
    assert f"status=draft&amp;page=2" in drafts or "page=2&amp;status=draft" in drafts  # paging keeps the filter
    missing = client.get(url + "?status=none").get_data(as_text=True)
    assert "2건" in missing and missing.count("미작성</td>") == 2
    nothing = client.get(url + "?status=closed").get_data(as_text=True)
    assert "조건에 맞는 정산이 없습니다" in nothing
    assert client.get(url + "?status=bogus").status_code == 200  # an unknown state shows everything


def test_htmx_gets_only_the_results(client, auth, paid_award, finance, open_programme_period):
    programme = _programme_with(paid_award, open_programme_period, 2)
    auth.login(finance.email)
    response = client.get(f"/settlement/programme/{programme.id}?status=draft",
                          headers={"HX-Request": "true", "HX-Target": "settlement-list"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "1건" in body
    assert "settlement-filter" not in body  # the filter form stays as the user left it


def test_recent_zips_show_their_state_in_korean(client, auth, paid_award, finance, open_programme_period):
    """'최근 ZIP' said "done" / "failed" (the stored value); it says what the job page says."""
    from blueprints.settlement.models import ExportJob, ExportJobState

    programme = _programme_with(paid_award, open_programme_period, 1)
    for status, done in ((ExportJobState.done, 1), (ExportJobState.failed, 0), (ExportJobState.running, 0)):
        db.session.add(ExportJob(programme_id=programme.id, status=status, total=1, done=done, created_by_id=finance.id))
    db.session.commit()
    auth.login(finance.email)
    recent = client.get(f"/settlement/programme/{programme.id}").get_data(as_text=True).split("최근 ZIP")[1]
    for label in ("완료 1/1", "실패 0/1", "만드는 중 0/1"):
        assert label in recent, label
    for raw in (" done ", " failed ", " running "):
        assert raw not in recent
