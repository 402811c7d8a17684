"""A draft programme is staff's alone (issue 12): applicants find it nowhere — not in a list, not
on the dashboard or their group's page, and every direct URL (its page, 신청하기, the application
start, GET or POST) answers 404, as if there were nothing. The service refuses it too."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.applications.models import Application
from blueprints.core.timeutil import now_utc
from extensions import db

DRAFT_TITLE = "준비 중인 비공개 사업"


@pytest.fixture
def draft_world(make_user, make_group, make_programme):
    leader = make_user("leader@example.kr", name="김대표")
    group = make_group(leader=leader, treasurer=make_user("treasurer@example.kr"))
    window = dict(opens_at=now_utc() - timedelta(days=1), closes_at=now_utc() + timedelta(days=5))
    draft = make_programme(title=DRAFT_TITLE, **window)   # open window: only the status hides it
    draft.rules = dict(draft.rules, status="draft")
    db.session.commit()
    return leader, group, draft


def test_applicants_find_a_draft_programme_nowhere(client, auth, draft_world):
    leader, group, draft = draft_world
    for page in ("/", "/programmes/"):
        assert DRAFT_TITLE not in client.get(page).get_data(as_text=True)
    auth.login(leader.email)
    for page in ("/dashboard", "/programmes/", f"/groups/{group.id}", "/groups/mine"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert DRAFT_TITLE not in response.get_data(as_text=True), page
    for url in (f"/programmes/{draft.id}", f"/programmes/{draft.id}/apply", f"/applications/new/{draft.id}"):
        assert client.get(url).status_code == 404, url
    response = client.post_form(f"/applications/start/{draft.id}", {"group_id": str(group.id)})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Application.id))) == 0


def test_the_service_refuses_to_start_an_application_on_a_draft(draft_world):
    from blueprints.applications import services

    leader, group, draft = draft_world
    with pytest.raises(services.ApplicationError, match="신청할 수 있는 공모사업이 아닙니다"):
        services.start_application(group, draft, user=leader)
    assert db.session.scalar(select(func.count(Application.id))) == 0


def test_staff_still_preview_a_draft(client, auth, make_user, draft_world):
    _, _, draft = draft_world
    make_user("staff@example.kr", roles=("staff",))
    auth.login("staff@example.kr")
    assert client.get(f"/programmes/{draft.id}").status_code == 200
    assert client.get(f"/applications/new/{draft.id}").status_code == 200
