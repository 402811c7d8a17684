"""Results are published only after the application window has closed, and nobody applies or
submits once they are out, even if the window is opened again."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.applications import services as applications
from blueprints.awards import services as awards
from blueprints.awards.models import Award
from blueprints.core.models import utcnow
from blueprints.programmes import services as programmes
from blueprints.review import services
from extensions import db


def _reopen(programme, days=5):
    programme.closes_at = utcnow() + timedelta(days=days)
    db.session.commit()


def test_results_cannot_be_published_while_the_window_is_open(scored, staff):
    programme, apps, _ = scored([[90], [70]])
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    _reopen(programme)
    assert any("신청 기간이 아직 끝나지 않았습니다" in p for p in services.publish_blockers(programme, scenario))
    with pytest.raises(awards.AwardError, match="신청을 마감한 뒤에 결과를 공개할 수 있습니다"):
        awards.publish_decision(scenario, user=staff)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Award.id))) == 0
    assert [a.status for a in apps] == ["under_review", "under_review"]


def test_the_scenario_page_tells_staff_why_it_cannot_be_published(scored, staff, client, auth):
    programme, _, _ = scored([[90]])
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    _reopen(programme)
    auth.login(staff.email)
    page = client.get(f"/review/scenario/{scenario.id}").get_data(as_text=True)
    assert "신청 기간이 아직 끝나지 않았습니다" in page


def test_nobody_applies_or_submits_after_the_results_are_out(open_programme, complete_application, scored,
                                                             leader_group, staff):
    programme = open_programme()
    late_leader, _, draft = complete_application(programme, email="late@example.kr")
    programme, _, _ = scored([[90]], programme=programme)
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    awards.publish_decision(scenario, user=staff)
    db.session.commit()
    _reopen(programme)                                   # staff open the window again by mistake
    assert "선정 결과를 이미 공개했습니다. 신청 기간을 다시 열어도 신청하거나 제출할 수 없습니다." in \
        programmes.schedule_warnings(programme)

    with pytest.raises(applications.ApplicationError, match="선정 결과가 이미 공개되어"):
        applications.submit(draft, user=late_leader)
    db.session.rollback()
    leader, _, group = leader_group("new@example.kr")
    with pytest.raises(applications.ApplicationError, match="선정 결과가 이미 공개되어"):
        applications.start_application(group, programme, user=leader)
    db.session.rollback()
    assert draft.status == "draft"
