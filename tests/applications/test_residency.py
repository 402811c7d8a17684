"""The programme's "거주 가구 최소 비율" is enforced at submission (#15): the households whose 거주
자치구 lies in the programme's area (residency.scope, 서울특별시 by default), against the minimum."""
import copy

import pytest
from sqlalchemy import select

from blueprints.applications import services
from blueprints.groups.models import GroupMember
from extensions import db


def with_rule(programme, share, scope="서울특별시"):
    rules = copy.deepcopy(programme.rules)
    rules["eligibility"]["residency"] = {"scope": scope, "min_resident_share": share}
    programme.rules = rules
    db.session.commit()
    return programme


def live_in(application, *districts):
    """Households in order; None = no 거주 자치구 recorded."""
    for member, district in zip(application.group.members, districts):
        member.resident_district = district
    db.session.commit()


def residency_issues(application):
    return [i for i in services.full_check(application).hard if i.code == "residency"]


def test_exactly_the_minimum_submits_and_one_household_fewer_is_refused_with_the_numbers(open_programme,
                                                                                    complete_application):
    programme = with_rule(open_programme(), 0.5)
    leader, _, application = complete_application(programme=programme, households=6)
    live_in(application, "마포구", "은평구", "서울 밖", "서울 밖", "서울 밖", "서울 밖")  # 2 of 6 = 33 %
    [issue] = residency_issues(application)
    assert issue.message == "서울특별시 거주 가구가 6가구 중 2가구(33%)로, 최소 50%에 못 미칩니다."
    with pytest.raises(services.ApplicationError):
        services.submit(application, user=leader)
    assert application.status == "draft"

    live_in(application, "마포구", "은평구", "강남구", "서울 밖", "서울 밖", "서울 밖")  # 3 of 6 = 50 %
    assert residency_issues(application) == []
    assert services.submit(application, user=leader) is True


def test_households_without_a_district_count_as_not_resident_and_are_named(open_programme, complete_application):
    programme = with_rule(open_programme(), 1.0)
    leader, _, application = complete_application(programme=programme)
    live_in(application, "마포구", "마포구", "마포구", None, None)
    names = [m.parent_name for m in application.group.members[3:]]
    [issue] = residency_issues(application)
    assert issue.message.startswith("서울특별시 거주 가구가 5가구 중 3가구(60%)로, 최소 100%에 못 미칩니다.")
    assert all(name in issue.message for name in names) and "가구별 거주 자치구" in issue.message
    # Only the residency check speaks of it: no second, vaguer "모임 요건(거주 가구)" line.
    assert not [i for i in services.full_check(application).hard if i.code == "eligibility_residency"]


def test_a_group_registered_before_districts_were_asked_is_told_to_enter_them(open_programme, complete_application):
    programme = with_rule(open_programme(), 0.7)
    leader, _, application = complete_application(programme=programme)
    live_in(application, None, None, None, None, None)
    [issue] = residency_issues(application)
    assert issue.message.startswith("거주 자치구를 입력해 주세요.") and "최소 70%" in issue.message


def test_the_area_is_the_programmes_not_seoul_when_the_rule_names_a_district(open_programme, complete_application):
    programme = with_rule(open_programme(), 0.6, scope="마포구")
    leader, _, application = complete_application(programme=programme)  # the factory's group meets in 마포구
    live_in(application, "마포구", "마포구", "마포구", "은평구", "서울 밖")  # 3 of 5 = 60 %: passes
    assert residency_issues(application) == []
    live_in(application, "마포구", "마포구", "은평구", "은평구", "서울 밖")
    [issue] = residency_issues(application)
    assert issue.message == "마포구 거주 가구가 5가구 중 2가구(40%)로, 최소 60%에 못 미칩니다."


def test_the_submit_page_shows_the_residency_message(client, auth, open_programme, complete_application):
    programme = with_rule(open_programme(), 1.0)
    leader, _, application = complete_application(programme=programme)
    live_in(application, "마포구", "마포구", "마포구", "마포구", "서울 밖")
    auth.login(leader.email)
    response = client.post_form(f"/applications/{application.id}/submit", {"confirm": "y"})
    assert response.status_code == 422
    assert "서울특별시 거주 가구가 5가구 중 4가구(80%)로, 최소 100%에 못 미칩니다." in response.get_data(as_text=True)
    assert db.session.scalar(select(GroupMember.resident_district).where(GroupMember.id == application.group.members[4].id)) == "서울 밖"
