"""Issue 12, Accounts: an address is proved before it counts, a household is linked only when its
owner accepts, only the 대표 (or staff) changes officers or unlinks, and sign-up and invitation
lead to the same place."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.accounts.models import AuthToken, User
from blueprints.core.audit import AuditEvent
from blueprints.core.mail import OutboxMessage
from blueprints.core.models import utcnow
from blueprints.groups import services as group_services
from blueprints.groups.models import GroupMember, MemberInvitation
from extensions import db
from tests.groups.conftest import registration_data

SIGNUP = {"name": "가짜회계", "phone": "010-4444-0000", "password": "abcd1234!", "password_confirm": "abcd1234!",
          "consent_privacy": "y"}
SETUP = {"name": "진짜부모", "phone": "010-5555-0000", "password": "real1234!", "password_confirm": "real1234!",
         "consent_privacy": "y"}


@pytest.fixture
def people(make_user):
    return {
        "leader": make_user("leader@example.kr", name="김대표", phone="01011110000"),
        "treasurer": make_user("treasurer@example.kr", name="이회계", phone="01011110001"),
        "staff": make_user("staff@example.kr", roles=("staff",), name="김담당"),
        "admin": make_user("admin@example.kr", roles=("admin",), name="관리자"),
    }


@pytest.fixture
def group(make_group, people):
    return make_group(leader=people["leader"], treasurer=people["treasurer"], name="햇살품앗이")


def last_mail(to):
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == to)
                             .order_by(OutboxMessage.id.desc()))


def link_in(mail, path):
    return "/" + path + mail.body.split("/" + path, 1)[1].split()[0]


def link_for(to, path):
    """The link of the latest mail to `to` that carries one to `path`."""
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == to)
                               .order_by(OutboxMessage.id.desc())).all()
    return link_in(next(m for m in mails if "/" + path in m.body), path)


def member(member_id):
    db.session.expire_all()
    return db.session.get(GroupMember, member_id)


# 1. Proving e-mail ownership ------------------------------------------------------------------

def test_an_outsider_who_signs_up_first_with_a_parents_address_never_becomes_the_groups_member(
        client, auth, group, people):
    """The reproduction: someone signs up with a parent's address; the group names that address
    for a household; the outsider used to be that household (회계 rights) at once."""
    household = group.members[3]
    assert client.post_form("/signup", dict(SIGNUP, email="parent@example.kr")).status_code == 303
    auth.login("leader@example.kr")
    assert client.post_form(f"/groups/{group.id}/invite",
                            {"member_id": household.id, "email": "parent@example.kr"}).status_code == 303
    assert member(household.id).user_id is None
    auth.logout()
    # the outsider signs in: every page asks to confirm the address, accepting is impossible
    auth.login("parent@example.kr", "abcd1234!")
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 303 and dashboard.headers["Location"].endswith("/account/verify")
    assert client.get(f"/groups/{group.id}").headers["Location"].endswith("/account/verify")
    invitation = db.session.scalar(select(MemberInvitation))
    assert client.post_form(f"/groups/invitations/{invitation.id}/accept").status_code == 303
    assert member(household.id).user_id is None
    with pytest.raises(group_services.GroupError, match="이메일 주소를 먼저 확인해야"):
        group_services.accept_invitation(invitation, by=db.session.get(User, invitation.user_id))
    # the verification link alone (in the parent's mailbox) is not enough without the password
    auth.logout()
    verify = link_for("parent@example.kr", "account/verify/")
    assert client.post_form(verify, {"password": ""}).status_code == 422
    assert not db.session.scalar(select(User).where(User.email == "parent@example.kr")).is_verified


def test_the_unverified_page_is_a_way_on_with_a_rate_limited_resend(client, auth, make_user):
    make_user("new@example.kr", verified=False)
    auth.login("new@example.kr")
    page = client.get("/account/verify").get_data(as_text=True)
    assert "이메일 주소를 확인해 주세요" in page and "new@example.kr" in page and "안내 메일 다시 보내기" in page
    for _ in range(3):
        assert client.post_form("/account/verify/resend").status_code == 303
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 3
    tokens = db.session.scalars(select(AuthToken).where(AuthToken.purpose == "verify")).all()
    assert sum(t.used_at is None for t in tokens) == 1  # each new link replaces the last
    refused = client.post_form("/account/verify/resend")
    assert refused.status_code == 429 and "15분 뒤에 다시 시도해 주세요" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 3


def test_the_verification_link_with_the_password_proves_the_address_once(client, make_user):
    client.post_form("/signup", dict(SIGNUP, email="me@example.kr"))
    verify = link_in(last_mail("me@example.kr"), "account/verify/")
    page = client.get(verify)
    assert page.status_code == 200 and "가입할 때 정한 비밀번호" in page.get_data(as_text=True)
    wrong = client.post_form(verify, {"password": "wrong1234!"})
    assert wrong.status_code == 422 and "비밀번호가 맞지 않습니다" in wrong.get_data(as_text=True)
    right = client.post_form(verify, {"password": "abcd1234!"})
    assert right.status_code == 303 and right.headers["Location"].endswith("/dashboard")
    user = db.session.scalar(select(User).where(User.email == "me@example.kr"))
    assert user.is_verified
    assert client.get("/dashboard").status_code == 200   # signed in by the confirmation
    assert client.get(verify).status_code == 410          # single use
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "user.email_verified")) == 1


def test_a_signed_in_owner_confirms_without_retyping_and_an_old_link_expires(client, auth, make_user):
    client.post_form("/signup", dict(SIGNUP, email="me@example.kr"))
    verify = link_in(last_mail("me@example.kr"), "account/verify/")
    row = db.session.scalar(select(AuthToken).where(AuthToken.purpose == "verify"))
    assert abs(row.expires_at - row.created_at - timedelta(hours=24)) < timedelta(minutes=1)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(verify).status_code == 410
    auth.login("me@example.kr", "abcd1234!")
    client.post_form("/account/verify/resend")
    fresh = link_in(last_mail("me@example.kr"), "account/verify/")
    assert 'name="password"' not in client.get(fresh).get_data(as_text=True)
    assert client.post_form(fresh, {}).status_code == 303
    assert db.session.scalar(select(User).where(User.email == "me@example.kr")).is_verified


def test_the_owner_of_the_address_disowns_a_stranger_sign_up_and_then_signs_up_for_real(client, auth):
    client.post_form("/signup", dict(SIGNUP, email="parent@example.kr"))          # the outsider
    verify = link_in(last_mail("parent@example.kr"), "account/verify/")
    response = client.post_form(verify + "/disown")                                  # the real owner
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "parent@example.kr"))
    assert user.password_hash is None and not user.is_verified
    assert auth.login("parent@example.kr", "abcd1234!").status_code == 422         # the outsider is out
    # the owner signs up: the set-up link, whose password and name replace the outsider's
    client.post_form("/signup", dict(SIGNUP, email="parent@example.kr"))
    setup = link_in(last_mail("parent@example.kr"), "invite/")
    assert client.post_form(setup, SETUP).status_code == 303
    user = db.session.scalar(select(User).where(User.email == "parent@example.kr"))
    assert user.is_verified and user.name == "진짜부모"
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "user.signup_disowned")) == 1


def test_a_password_reset_link_also_proves_the_address(client, make_user):
    user = make_user("me@example.kr", verified=False)
    client.post_form("/password/forgot", {"email": "me@example.kr"})
    # never verified: the link of 비밀번호 찾기 sets the account up anew (test_links_and_roles.py)
    setup = link_in(last_mail("me@example.kr"), "invite/")
    assert client.post_form(setup, SETUP).status_code == 303
    assert db.session.get(User, user.id).is_verified


def test_an_unverified_account_is_granted_no_role(client, auth, people, make_user):
    stranger = make_user("stranger@example.kr", verified=False)
    auth.login("admin@example.kr")
    client.post_form(f"/admin/users/{stranger.id}/roles/grant", {"role": "finance"})
    db.session.expire_all()
    assert db.session.get(User, stranger.id).roles == {"applicant"}
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.role_granted")).all()


def test_an_unverified_account_registers_no_group(app, client, auth, make_user):
    make_user("parent@example.kr", name="김대표", phone="01022220000", verified=False)
    auth.login("parent@example.kr")
    response = client.post_form("/groups/register/finish", registration_data())
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/verify")
    from blueprints.groups.models import Group
    assert db.session.scalar(select(func.count(Group.id))) == 0


def test_an_existing_account_is_linked_only_when_its_owner_accepts_and_may_decline(client, auth, group, make_user):
    """Also the reviewer case: a group can't name a reviewer as a member to conflict them out."""
    reviewer = make_user("rev@example.kr", roles=("reviewer",), name="박심사")
    a, b = group.members[3], group.members[4]
    auth.login("leader@example.kr")
    client.post_form(f"/groups/{group.id}/invite", {"member_id": a.id, "email": "rev@example.kr"})
    mail = last_mail("rev@example.kr")
    assert "수락하기 전에는 모임에 연결되지 않습니다" in mail.body and "http://localhost/dashboard" in mail.body
    assert member(a.id).user_id is None and member(a.id).email is None
    assert not db.session.get(User, reviewer.id).has_role("applicant")
    # the same account can't be invited to a second household meanwhile
    second = client.post_form(f"/groups/{group.id}/invite", {"member_id": b.id, "email": "rev@example.kr"})
    assert second.status_code == 422 and "이미 다른 가구에 보낸 초대가 있습니다" in second.get_data(as_text=True)
    auth.logout()
    auth.login("rev@example.kr")
    invitation = db.session.scalar(select(MemberInvitation))
    assert "받은 모임 초대" in client.get("/dashboard").get_data(as_text=True)
    assert client.post_form(f"/groups/invitations/{invitation.id}/decline").status_code == 303
    assert member(a.id).user_id is None
    assert db.session.get(MemberInvitation, invitation.id).state == "declined"
    # a declined invitation can't be accepted afterwards
    assert client.post_form(f"/groups/invitations/{invitation.id}/accept").status_code == 303
    assert member(a.id).user_id is None
    # someone else's invitation: 403
    auth.logout()
    auth.login("treasurer@example.kr")
    assert client.post_form(f"/groups/invitations/{invitation.id}/accept").status_code == 403


def test_an_expired_invitation_links_nothing(client, auth, group, make_user):
    make_user("parent@example.kr")
    auth.login("leader@example.kr")
    client.post_form(f"/groups/{group.id}/invite", {"member_id": group.members[3].id, "email": "parent@example.kr"})
    invitation = db.session.scalar(select(MemberInvitation))
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    auth.logout()
    auth.login("parent@example.kr")
    assert "받은 모임 초대" not in client.get("/dashboard").get_data(as_text=True)
    client.post_form(f"/groups/invitations/{invitation.id}/accept")
    assert member(group.members[3].id).user_id is None


def test_the_migration_counts_accounts_with_a_password_as_verified(app):
    """0050identity: people who signed up or accepted an invitation before keep working;
    an account still waiting for its invitation is not verified."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.test_migrations import MIGRATIONS

    db.session.commit()
    try:
        downgrade(directory=MIGRATIONS, revision="0040retention")
        now = utcnow()
        for email, password in (("old@example.kr", "$argon2id$x"), ("waiting@example.kr", None)):
            db.session.execute(text(
                "INSERT INTO users (email, name, password_hash, is_active, session_version, created_at, updated_at) "
                "VALUES (:email, '옛사용자', :password, :active, 1, :now, :now)"),
                {"email": email, "password": password, "active": True, "now": now})
        db.session.commit()
        upgrade(directory=MIGRATIONS)
        verified = dict(db.session.execute(text("SELECT email, email_verified_at IS NOT NULL FROM users")).all())
        assert verified == {"old@example.kr": True, "waiting@example.kr": False}
    finally:
        db.session.rollback()
        upgrade(directory=MIGRATIONS)


# 2. Officers and re-linking ---------------------------------------------------------------------

def test_an_officer_cannot_relink_the_leaders_household_and_take_the_group_over(client, auth, group, make_user):
    """The reproduction: the 회계 invited their own second address onto the 대표's household."""
    make_user("mine@example.kr")
    leader = group.members[0]
    auth.login("treasurer@example.kr")
    response = client.post_form(f"/groups/{group.id}/invite", {"member_id": leader.id, "email": "mine@example.kr"})
    assert response.status_code == 422
    assert member(leader.id).user_id == group.members[0].user_id
    assert not db.session.scalars(select(MemberInvitation)).all()
    # nor does the 대표 re-point a linked household silently with an invitation
    auth.logout()
    auth.login("leader@example.kr")
    treasurer = group.members[1]
    response = client.post_form(f"/groups/{group.id}/invite", {"member_id": treasurer.id, "email": "mine@example.kr"})
    assert response.status_code == 422 and "이미 계정과 연결된 가구입니다" in response.get_data(as_text=True)
    assert not db.session.scalars(select(MemberInvitation)).all()


def test_only_the_leader_invites_to_an_officers_household(client, auth, group, people):
    auth.login("staff@example.kr")
    client.post_form(f"/groups/{group.id}/members/{group.members[0].id}/unlink")   # the 대표 left
    auth.logout()
    auth.login("treasurer@example.kr")
    response = client.post_form(f"/groups/{group.id}/invite", {"member_id": group.members[0].id,
                                                              "email": "friend@example.kr"})
    assert response.status_code == 422 and "대표 가구의 초대는 대표만 할 수 있습니다" in response.get_data(as_text=True)
    # an ordinary household is still the officers' to invite
    assert client.post_form(f"/groups/{group.id}/invite", {"member_id": group.members[3].id,
                                                          "email": "friend@example.kr"}).status_code == 303


def test_unlinking_is_the_leaders_or_staffs_explicit_audited_act(client, auth, group, people):
    treasurer, leader = group.members[1], group.members[0]
    auth.login("treasurer@example.kr")
    assert client.post_form(f"/groups/{group.id}/members/{leader.id}/unlink").status_code == 403
    auth.logout()
    auth.login("leader@example.kr")
    client.post_form(f"/groups/{group.id}/members/{leader.id}/unlink")           # not their own, as 대표
    assert member(leader.id).user_id == people["leader"].id
    assert client.post_form(f"/groups/{group.id}/members/{treasurer.id}/unlink").status_code == 303
    assert member(treasurer.id).user_id is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "group.member_unlinked"))
    assert event.actor_id == people["leader"].id and event.changes_dict["before"]["member_id"] == treasurer.id
    # then the right person is invited and accepts
    assert client.post_form(f"/groups/{group.id}/invite", {"member_id": treasurer.id,
                                                          "email": "treasurer@example.kr"}).status_code == 303
    auth.logout()
    auth.login("staff@example.kr")
    assert client.post_form(f"/groups/{group.id}/members/{leader.id}/unlink").status_code == 303
    assert member(leader.id).user_id is None


# 3. Sign-up and invitation lead to the same place -------------------------------------------

def _signup_answer(client, email):
    client.post_form("/logout")
    response = client.post_form("/signup", dict(SIGNUP, email=email))
    page = client.get("/account/verify").get_data(as_text=True).replace(email, "EMAIL")
    page = re.sub(r'(X-CSRFToken": "|name="csrf_token" type="hidden" value=")[^"]+', "CSRF", page)
    return response.status_code, response.headers.get("Location"), page


def test_an_invited_person_who_signs_up_instead_gets_the_invitation_link_again(client, auth, group):
    auth.login("leader@example.kr")
    client.post_form(f"/groups/{group.id}/invite", {"member_id": group.members[3].id, "email": "invited@example.kr"})
    auth.logout()
    answer = _signup_answer(client, "invited@example.kr")
    assert answer[0] == 303 and "이미 가입된 이메일입니다" not in answer[2]
    mail = last_mail("invited@example.kr")
    assert mail.subject == "[공동육아 자조모임] 계정 설정 안내"
    setup = link_in(mail, "invite/")
    assert client.post_form(setup, SETUP).status_code == 303
    assert "받은 모임 초대" in client.get("/dashboard").get_data(as_text=True)


def test_sign_up_gives_a_stranger_one_answer_whatever_the_address(client, auth, group, make_user):
    make_user("finished@example.kr")
    make_user("unverified@example.kr", verified=False)
    auth.login("leader@example.kr")
    client.post_form(f"/groups/{group.id}/invite", {"member_id": group.members[3].id, "email": "invited@example.kr"})
    answers = {email: _signup_answer(client, email) for email in
               ("new@example.kr", "finished@example.kr", "unverified@example.kr", "invited@example.kr")}
    assert len(set(answers.values())) == 1
    subjects = {email: last_mail(email).subject for email in answers}
    assert subjects == {
        "new@example.kr": "[공동육아 자조모임] 이메일 주소 확인 안내",
        "finished@example.kr": "[공동육아 자조모임] 이미 가입된 주소입니다",
        "unverified@example.kr": "[공동육아 자조모임] 이메일 주소 확인 안내",
        "invited@example.kr": "[공동육아 자조모임] 계정 설정 안내",
    }
    # a second sign-up with the same password changes nothing about the finished account
    assert auth.login("finished@example.kr").status_code == 303


def test_sign_up_mails_to_one_address_are_rate_limited(client):
    for _ in range(3):
        assert client.post_form("/signup", dict(SIGNUP, email="target@example.kr")).status_code == 303
    refused = client.post_form("/signup", dict(SIGNUP, email="target@example.kr"))
    assert refused.status_code == 429 and "15분 뒤에 다시 시도해 주세요" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 3
