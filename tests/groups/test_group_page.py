"""The group page: masking, per-object rights, invitations, officer handover, own data."""
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from blueprints.accounts.models import User
from blueprints.core.audit import AuditEvent
from blueprints.core.mail import OutboxMessage
from blueprints.groups import services
from blueprints.groups.models import Child, Group, GroupMember, MemberInvitation
from extensions import db


@pytest.fixture
def people(make_user):
    return {
        "leader": make_user("leader@example.kr", name="김대표", phone="01011110000"),
        "treasurer": make_user("treasurer@example.kr", name="이회계", phone="01011110001"),
        "member": make_user("member@example.kr", name="박구성", phone="01011110002"),
        "other": make_user("other@example.kr", name="최남", phone="01099990000"),
        "staff": make_user("staff@example.kr", roles=("staff",), name="김담당"),
    }


@pytest.fixture
def group(make_group, people):
    group = make_group(leader=people["leader"], treasurer=people["treasurer"], name="햇살품앗이")
    member = group.members[2]
    member.user_id, member.parent_name, member.phone = people["member"].id, "박구성", people["member"].phone
    db.session.commit()
    return group


@pytest.fixture
def other_group(make_group, people):
    return make_group(leader=people["other"], name="다른 모임", district="은평구")


def members_of(group_id):
    return db.session.scalars(select(GroupMember).where(GroupMember.group_id == group_id).order_by(GroupMember.id)).all()


# Masking -------------------------------------------------------------------------------------

@pytest.mark.parametrize("who, full", [("leader", True), ("treasurer", True), ("staff", True), ("member", False)])
def test_phone_numbers_are_masked_except_for_officers_and_staff(client, auth, group, who, full):
    auth.login(f"{who}@example.kr")
    page = client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert ("010-1111-0000" in page) is full
    assert ("010-****-0000" in page) is not full
    # the member still sees their own data in full on their own page
    if who == "member":
        assert "010-1111-0002" in client.get(f"/groups/{group.id}/me").get_data(as_text=True)


# Per-object rights: a parent never reads or changes another group -----------------------------

def test_a_parent_cannot_read_another_group(client, auth, group, other_group):
    auth.login("leader@example.kr")
    assert client.get(f"/groups/{other_group.id}").status_code == 403
    assert client.get(f"/groups/{other_group.id}/me").status_code == 403
    assert client.get("/groups/").status_code == 403
    assert client.get("/groups/export.csv").status_code == 403
    page = client.get("/groups/mine").get_data(as_text=True)
    assert "햇살품앗이" in page and "다른 모임" not in page


def test_a_parent_cannot_change_another_group(client, auth, group, other_group):
    before = [(m.id, m.role, m.user_id, m.email) for m in members_of(other_group.id)]
    target = other_group.members[2]
    auth.login("leader@example.kr")
    responses = [
        client.post_form(f"/groups/{other_group.id}/invite", {"member_id": target.id, "email": "x@example.kr"}),
        client.post_form(f"/groups/{other_group.id}/handover", {"role": "leader", "member_id": target.id}),
        client.post_form(f"/groups/{other_group.id}/handover", {"role": "treasurer", "member_id": target.id}),
        client.post_form(f"/groups/{other_group.id}/status", {"status": "inactive"}),
        client.post_form(f"/groups/{other_group.id}/me", {"confirm": "y"}),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    db.session.expire_all()
    assert [(m.id, m.role, m.user_id, m.email) for m in members_of(other_group.id)] == before
    assert db.session.get(Group, other_group.id).status == "active"
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_member_of_one_group_cannot_use_its_households_in_another(client, auth, group, other_group):
    """Invite or hand over naming a household of a different group: 404, nothing changes."""
    auth.login("leader@example.kr")
    foreign = other_group.members[3]
    assert client.post_form(f"/groups/{group.id}/handover", {"role": "treasurer", "member_id": foreign.id}).status_code == 422
    assert client.post_form(f"/groups/{group.id}/invite", {"member_id": foreign.id, "email": "x@example.kr"}).status_code == 422
    db.session.expire_all()
    assert db.session.get(GroupMember, foreign.id).role == "member"
    assert db.session.get(GroupMember, foreign.id).email is None


def test_ordinary_members_cannot_invite_or_hand_over(client, auth, group):
    auth.login("member@example.kr")
    page = client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert "구성원 초대" not in page and "대표·회계 인계" not in page and "모임 기록" not in page
    target = group.members[3]
    assert client.post_form(f"/groups/{group.id}/invite", {"member_id": target.id, "email": "x@example.kr"}).status_code == 403
    assert client.post_form(f"/groups/{group.id}/handover", {"role": "leader", "member_id": target.id}).status_code == 403
    assert client.post_form(f"/groups/{group.id}/status", {"status": "inactive"}).status_code == 403


# Officer handover -------------------------------------------------------------------------------

def test_leader_hands_over_and_loses_the_rights(client, auth, group, people):
    new = group.members[2]  # 박구성
    auth.login("leader@example.kr")
    response = client.post_form(f"/groups/{group.id}/handover", {"role": "leader", "member_id": new.id})
    assert response.status_code == 303
    db.session.expire_all()
    roles = {m.parent_name: m.role for m in members_of(group.id)}
    assert roles["박구성"] == "leader" and roles["김대표"] == "member"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "group.leader_handover"))
    assert event.actor_id == people["leader"].id and event.object_id == str(group.id)
    assert json.loads(event.changes)["after"]["member_id"] == new.id
    # the old leader is an ordinary member now: no handover, no invitations, masked numbers
    third = group.members[3]
    assert client.post_form(f"/groups/{group.id}/handover", {"role": "leader", "member_id": third.id}).status_code == 403
    assert client.post_form(f"/groups/{group.id}/invite", {"member_id": third.id, "email": "x@example.kr"}).status_code == 403
    assert "010-****-0001" in client.get(f"/groups/{group.id}").get_data(as_text=True)
    # the new leader has them
    auth.logout()
    auth.login("member@example.kr")
    assert "010-1111-0001" in client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert client.post_form(f"/groups/{group.id}/handover", {"role": "treasurer", "member_id": third.id}).status_code == 303


def test_only_the_leader_or_staff_change_officers(client, auth, group):
    """Issue 12: only the 대표 (or staff) may change officers; the 회계 hands over nothing."""
    target = group.members[3]
    auth.login("treasurer@example.kr")
    assert client.post_form(f"/groups/{group.id}/handover", {"role": "leader", "member_id": target.id}).status_code == 403
    assert client.post_form(f"/groups/{group.id}/handover", {"role": "treasurer", "member_id": target.id}).status_code == 403
    db.session.expire_all()
    assert [m.role for m in members_of(group.id)] == ["leader", "treasurer", "member", "member", "member"]
    auth.logout()
    auth.login("leader@example.kr")
    assert client.post_form(f"/groups/{group.id}/handover", {"role": "treasurer", "member_id": target.id}).status_code == 303
    db.session.expire_all()
    assert [m.role for m in members_of(group.id)] == ["leader", "member", "member", "treasurer", "member"]


def test_handover_to_the_other_officer_is_refused_with_a_message(client, auth, group):
    auth.login("leader@example.kr")
    response = client.post_form(f"/groups/{group.id}/handover", {"role": "leader", "member_id": group.members[1].id})
    assert response.status_code == 422
    assert "대표와 회계는 서로 다른 사람이어야 합니다" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [m.role for m in members_of(group.id)][:2] == ["leader", "treasurer"]


def test_staff_can_hand_over_for_a_group_whose_leader_is_gone(client, auth, group):
    auth.login("staff@example.kr")
    assert client.post_form(f"/groups/{group.id}/handover", {"role": "leader", "member_id": group.members[4].id}).status_code == 303
    db.session.expire_all()
    assert members_of(group.id)[4].role == "leader"


def test_the_database_allows_one_leader_per_group(app, group):
    group.members[3].role = "leader"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# Invitations from the group page ----------------------------------------------------------------

def test_leader_invites_a_household_by_email_and_it_is_linked_only_when_accepted(client, auth, group):
    target = group.members[3]
    auth.login("leader@example.kr")
    response = client.post_form(f"/groups/{group.id}/invite", {"member_id": target.id, "email": "New@Example.kr"})
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "new@example.kr"))
    db.session.expire_all()
    member = db.session.get(GroupMember, target.id)
    assert member.user_id is None and member.email is None and member.invited_at
    assert not user.roles and not user.is_verified
    body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.recipient == "new@example.kr"))
    assert "http://localhost/invite/" in body
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "group.member_invited"))
    assert "new@example.kr" not in (event.changes or "") + event.summary
    # the invited parent sets up the account through the link, then accepts on the dashboard
    token = body.rsplit("/invite/", 1)[1].split()[0]
    auth.logout()
    client.post_form(f"/invite/{token}", {"name": "새부모", "phone": "010-5555-1234", "password": "abcd1234!",
                                          "password_confirm": "abcd1234!", "consent_privacy": "y"})
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "받은 모임 초대" in dashboard and "햇살품앗이" in dashboard
    assert db.session.get(GroupMember, target.id).user_id is None
    invitation = db.session.scalar(select(MemberInvitation))
    assert client.post_form(f"/groups/invitations/{invitation.id}/accept").status_code == 303
    db.session.expire_all()
    member = db.session.get(GroupMember, target.id)
    assert member.user_id == user.id and member.email == "new@example.kr"
    assert db.session.get(User, user.id).has_role("applicant")
    assert client.get(f"/groups/{group.id}").status_code == 200


def test_invite_errors_stay_on_the_page(client, auth, group):
    auth.login("leader@example.kr")
    response = client.post_form(f"/groups/{group.id}/invite", {"member_id": group.members[3].id, "email": "member@example.kr"})
    assert response.status_code == 422
    assert "이미 모임의 다른 가구와 연결되어 있습니다" in response.get_data(as_text=True)
    response = client.post_form(f"/groups/{group.id}/invite", {"member_id": group.members[3].id, "email": "nope"})
    assert response.status_code == 422 and "이메일 주소 형식이 올바르지 않습니다" in response.get_data(as_text=True)


# A member's own data -----------------------------------------------------------------------------

def test_member_sees_and_deletes_their_own_data_leaving_an_anonymous_trace(client, auth, group, people):
    member = group.members[2]
    member_id, children = member.id, [c.birth_ym for c in member.children]
    auth.login("member@example.kr")
    page = client.get(f"/groups/{group.id}/me").get_data(as_text=True)
    assert "박구성" in page and "010-1111-0002" in page and children[0] in page

    response = client.post_form(f"/groups/{group.id}/me", {})
    assert response.status_code == 422 and "확인란에 표시해 주세요" in response.get_data(as_text=True)

    response = client.post_form(f"/groups/{group.id}/me", {"confirm": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(GroupMember, member_id) is None
    assert db.session.scalar(select(func.count(Child.id)).where(Child.member_id == member_id)) == 0
    assert len(members_of(group.id)) == 4
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "group.member_data_deleted"))
    trail = (event.changes or "") + event.summary
    assert "박구성" not in trail and "01011110002" not in trail and "member@example.kr" not in trail
    assert json.loads(event.changes)["before"]["children_birth_ym"] == children
    assert client.get(f"/groups/{group.id}").status_code == 403
    assert db.session.get(User, people["member"].id) is not None  # the account is the accounts' business


def test_officers_hand_over_before_deleting_their_data(client, auth, group):
    auth.login("treasurer@example.kr")
    response = client.post_form(f"/groups/{group.id}/me", {"confirm": "y"})
    assert response.status_code == 422
    assert "먼저 다른 구성원에게 역할을 인계한 뒤" in response.get_data(as_text=True)
    assert len(members_of(group.id)) == 5


# Status, history, dashboard ---------------------------------------------------------------------------

def test_staff_deactivates_a_group_and_it_is_recorded(client, auth, group):
    auth.login("staff@example.kr")
    assert client.post_form(f"/groups/{group.id}/status", {"status": "inactive"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Group, group.id).status == "inactive"
    page = client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert "모임 비활성화" in page  # in the history
    assert "비활성" in page


def test_history_is_shown_to_officers(client, auth, group):
    services.set_status(group, "inactive", by=None)
    db.session.commit()
    auth.login("leader@example.kr")
    assert "모임 비활성화" in client.get(f"/groups/{group.id}").get_data(as_text=True)


def test_dashboard_lists_my_groups_and_the_register_button(client, auth, group):
    auth.login("member@example.kr")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "햇살품앗이" in page and f"/groups/{group.id}" in page
    assert 'href="/groups/register"' in page
    assert 'href="/groups/mine"' in page  # 내 모임 in the menu


def test_group_page_shows_eligibility_to_officers(client, auth, group, make_programme):
    make_programme()
    auth.login("leader@example.kr")
    page = client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert "eligibility--ok" in page and "모든 지원 요건을 충족합니다." in page
