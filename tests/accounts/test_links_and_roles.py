"""Attacks on one-time links and on role management (the second adversarial pass): a password
set by any way spends the account's other links; an admin gives no role to themself and the
last admin is never removed."""
import re

from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.core.mail import OutboxMessage
from extensions import db

NEW = {"password": "new1234!x", "password_confirm": "new1234!x"}
SETUP = {"name": "박심사", "phone": "010-2222-3333", "password": "setup123!", "password_confirm": "setup123!",
         "consent_privacy": "y"}


def _link(to, path):
    bodies = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == to)
                                .order_by(OutboxMessage.id.desc())).all()
    body = next(b for b in bodies if "/" + path in b)
    return re.search(r"http://[^/]+(/" + path + r"\S+)", body).group(1)


def test_a_reset_link_dies_when_the_owner_changes_the_password(client, auth, make_user):
    """Someone who once read the mailbox asked for a reset; the owner changed the password
    since: the old link in the mailbox must not set it again."""
    make_user("me@example.kr")
    client.post_form("/password/forgot", {"email": "me@example.kr"})
    reset = _link("me@example.kr", "password/reset/")
    auth.login("me@example.kr")
    assert client.post_form("/account/password", {"current_password": "pass1234!", **NEW}).status_code == 303
    auth.logout()
    assert client.get(reset).status_code == 410
    assert client.post_form(reset, {"password": "evil1234!", "password_confirm": "evil1234!"}).status_code == 410
    assert auth.login("me@example.kr", "new1234!x").status_code == 303


def test_a_password_set_through_one_link_spends_the_accounts_other_links(app, client, auth, make_user):
    """A reset link and a verification link both lying in the mailbox of an account that is
    then set up through one of them: the other is spent."""
    from blueprints.accounts import services

    user = make_user("me@example.kr")
    with app.test_request_context():
        verify = "/account/verify/" + services.issue_token(user, "verify")
        db.session.commit()
    client.post_form("/password/forgot", {"email": "me@example.kr"})
    reset = _link("me@example.kr", "password/reset/")
    assert client.post_form(reset, NEW).status_code == 303
    assert client.get(verify).status_code == 410
    assert client.post_form(verify + "/disown").status_code == 410
    assert auth.login("me@example.kr", "new1234!x").status_code == 303


def test_forgetting_the_password_before_the_set_up_replaces_the_invitation_link(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    auth.login("admin@example.kr")
    client.post_form("/admin/users/invite", {"email": "rev@example.kr", "name": "박심사", "roles": ["reviewer"]})
    auth.logout()
    invite = _link("rev@example.kr", "invite/")
    client.post_form("/password/forgot", {"email": "rev@example.kr"})
    again = _link("rev@example.kr", "invite/")
    assert again != invite and client.get(invite).status_code == 410
    assert "박심사" in client.get(again).get_data(as_text=True)  # the inviter's name, as before
    assert client.post_form(again, SETUP).status_code == 303
    auth.logout()
    assert client.get(again).status_code == 410


# Roles -----------------------------------------------------------------------------------------

def test_an_admin_grants_no_role_to_themself(client, auth, make_user):
    """관리자 who could give themself 회계담당 would pay out and approve what they manage: a role
    comes from another admin (audited as theirs)."""
    admin = make_user("admin@example.kr", roles=("admin",))
    auth.login("admin@example.kr")
    for role in ("finance", "staff", "reviewer"):
        response = client.post_form(f"/admin/users/{admin.id}/roles/grant", {"role": role}, follow_redirects=True)
        assert "자기 자신에게는 역할을 부여할 수 없습니다" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).roles == {"admin"}
    from blueprints.accounts import services
    other = make_user("other@example.kr", roles=("admin",))
    with client.application.test_request_context():
        assert services.grant_role(db.session.get(User, admin.id), "finance", by=other) is True


def test_two_admins_removing_each_other_at_once_leave_one(app, make_user):
    """A and B, both 관리자, press 회수 on each other at the same moment: the second request
    read 'A is an admin' before the first committed. The last admin is never removed."""
    from blueprints.accounts import services
    from blueprints.accounts.models import UserRole

    a = make_user("a@example.kr", roles=("admin",))
    b = make_user("b@example.kr", roles=("admin",))
    a_as_loaded = db.session.get(User, a.id)  # request 2: A, checked as an admin …
    # … while request 1 (B revoking A's admin) commits
    db.session.execute(UserRole.__table__.delete().where(UserRole.user_id == a.id))
    db.session.commit()
    b = db.session.get(User, b.id)
    try:
        services.revoke_role(b, "admin", by=a_as_loaded)
    except services.AccountError as exc:
        assert "관리자" in str(exc)
    db.session.commit()
    admins = db.session.scalars(select(UserRole.user_id).where(UserRole.role == "admin")).all()
    assert admins == [b.id]


def test_the_last_active_admin_is_not_deactivated(app, make_user):
    from blueprints.accounts import services

    a = make_user("a@example.kr", roles=("admin",))
    b = make_user("b@example.kr", roles=("admin",))
    a.is_active = False  # deactivated by B a moment ago; A's own request still runs
    db.session.commit()
    try:
        services.set_active(db.session.get(User, b.id), False, by=a)
    except services.AccountError:
        pass
    db.session.commit()
    assert db.session.get(User, b.id).is_active


# Spent once, also when two requests arrive together ----------------------------------------------

def _meanwhile(statement):
    """What another request committed after this one had read (its own connection)."""
    db.session.commit()
    with db.engine.begin() as connection:
        connection.execute(statement)


def test_a_reset_link_sent_twice_at_once_sets_one_password(app, make_user):
    """Two presses of '저장' (or the link's holder and someone else) each found the link
    unused before either committed: only the first sets a password."""
    from sqlalchemy import update

    from blueprints.accounts import services
    from blueprints.accounts.models import AuthToken
    from blueprints.core.models import utcnow

    user = make_user("me@example.kr")
    with app.test_request_context():
        token = services.issue_token(user, "reset")
        db.session.commit()
        row = services.find_valid_token(token, "reset")
        _meanwhile(update(AuthToken).where(AuthToken.id == row.id).values(used_at=utcnow()))
        try:
            services.reset_password(row, "second123!")
        except services.AccountError:
            pass
        db.session.commit()
    db.session.expire_all()
    assert not services.verify_password(db.session.get(User, user.id), "second123!")


def test_a_recovery_code_sent_twice_at_once_opens_one_session(app, make_user, monkeypatch):
    from sqlalchemy import update

    from blueprints.accounts import second_factor
    from blueprints.accounts.models import RecoveryCode
    from blueprints.core.models import utcnow

    user = make_user("finance@example.kr", roles=("finance",))
    with app.test_request_context():
        codes = second_factor._replace_recovery_codes(user)
        db.session.commit()
        real = second_factor.verify_hash

        def checked_while_the_other_request_spends_it(hashed, secret):
            matched = real(hashed, secret)
            if matched:  # the other request, with the same code, commits now
                with db.engine.begin() as connection:
                    connection.execute(update(RecoveryCode).where(RecoveryCode.code_hash == hashed)
                                       .values(used_at=utcnow()))
            return matched

        monkeypatch.setattr(second_factor, "verify_hash", checked_while_the_other_request_spends_it)
        assert second_factor.verify(user, codes[0]) is None


def test_an_app_code_sent_twice_at_once_is_accepted_once(app, make_user):
    import time

    import pyotp
    from sqlalchemy import update

    from blueprints.accounts import second_factor
    from tests.factories import TOTP_SECRET

    user = make_user("staff@example.kr", roles=("staff",))
    step = int(time.time()) // 30
    code = pyotp.TOTP(TOTP_SECRET).generate_otp(step)
    with app.test_request_context():
        stale = db.session.get(User, user.id)  # read before the other request accepted the code
        _meanwhile(update(User).where(User.id == user.id).values(totp_last_step=step + 1))
        assert second_factor.verify(stale, code) is None


# Guessing from inside a session ------------------------------------------------------------------

def test_a_stolen_session_cannot_guess_the_current_password_without_back_off(app, client, auth, make_user):
    """'현재 비밀번호' is a password check like sign-in: someone with a borrowed session (a shared
    PC) must not try passwords at full speed to take the account over for good."""
    make_user("me@example.kr")
    auth.login("me@example.kr")
    for n in range(app.config["LOGIN_FREE_FAILURES"]):
        wrong = client.post_form("/account/password", {"current_password": f"guess{n}!", **NEW})
        assert wrong.status_code == 422 and "현재 비밀번호가 맞지 않습니다" in wrong.get_data(as_text=True)
    refused = client.post_form("/account/password", {"current_password": "pass1234!", **NEW})
    assert refused.status_code == 429 and "너무 많습니다" in refused.get_data(as_text=True)
    assert 'value="new1234!x"' not in refused.get_data(as_text=True)
    db.session.expire_all()
    from blueprints.accounts import services
    assert services.verify_password(db.session.scalar(select(User).where(User.email == "me@example.kr")), "pass1234!")


def test_a_stolen_session_cannot_guess_app_codes_to_turn_the_second_factor_off(app, client, auth, make_user):
    from tests.factories import fresh_totp_code

    make_user("me@example.kr", second_factor=True)
    auth.login("me@example.kr")
    for n in range(app.config["LOGIN_FREE_FAILURES"]):
        assert client.post_form("/account/security/disable", {"code": f"{n:06d}"}).status_code == 422
    refused = client.post_form("/account/security/disable", {"code": fresh_totp_code("me@example.kr")})
    assert refused.status_code == 429 and "너무 많습니다" in refused.get_data(as_text=True)
    assert client.post_form("/account/security/recovery-codes",
                            {"code": fresh_totp_code("me@example.kr")}).status_code == 429
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "me@example.kr")).has_second_factor


def test_the_city_officer_is_not_offered_to_turn_the_required_second_factor_off(client, auth, make_user):
    make_user("city@example.kr", roles=("city",))
    auth.login("city@example.kr")
    page = client.get("/account/security").get_data(as_text=True)
    assert "2단계 인증 끄기" not in page and "2단계 인증을 끌 수 없습니다" in page


# Group invitations ------------------------------------------------------------------------------

from tests.accounts.test_identity import group, people  # noqa: E402,F401  (fixtures)


def test_an_invitation_cancelled_while_its_acceptance_runs_links_nothing(app, group, make_user):
    """The 대표 invited the wrong parent to the 회계 household, noticed, and invited the right one
    (which cancels the first invitation) just as the wrong one pressed 수락: the acceptance had
    read 'pending' before the cancellation committed. A cancelled invitation links nothing."""
    from sqlalchemy import update

    from blueprints.core.models import utcnow
    from blueprints.groups import services as group_services
    from blueprints.groups.models import GroupMember, MemberInvitation

    wrong = make_user("wrong@example.kr")
    household = group.members[3]
    with app.test_request_context():
        invitation = group_services.invite_member(group, household, "wrong@example.kr", by=group.leader.user)
        db.session.commit()
        stale = db.session.get(MemberInvitation, invitation.id)
        _meanwhile(update(MemberInvitation).where(MemberInvitation.id == invitation.id)
                   .values(state="cancelled", decided_at=utcnow()))
        try:
            group_services.accept_invitation(stale, by=db.session.get(User, wrong.id))
        except group_services.GroupError as exc:
            assert "이미 답했거나" in str(exc)
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(GroupMember, household.id).user_id is None
    assert db.session.get(MemberInvitation, invitation.id).state == "cancelled"


def test_after_disowning_a_strangers_sign_up_the_set_up_keeps_nothing_the_stranger_typed(client, auth):
    """The stranger's name and mobile number must not come back as 'what the group wrote down':
    left empty, the number would have stayed the stranger's (staff call the 대표's number)."""
    stranger = {"name": "가짜회계", "phone": "010-4444-0000", "password": "abcd1234!",
                "password_confirm": "abcd1234!", "consent_privacy": "y"}
    client.post_form("/signup", dict(stranger, email="parent@example.kr"))
    verify = _link("parent@example.kr", "account/verify/")
    assert client.post_form(verify + "/disown").status_code == 303
    client.post_form("/signup", dict(stranger, email="parent@example.kr", name="진짜부모", phone="010-5555-0000"))
    setup = _link("parent@example.kr", "invite/")
    page = client.get(setup).get_data(as_text=True)
    assert "가짜회계" not in page and "0000)" not in page
    empty = client.post_form(setup, dict(SETUP, name="진짜부모", phone=""))
    assert empty.status_code == 422  # a number of one's own is asked for
    assert client.post_form(setup, dict(SETUP, name="진짜부모", phone="010-5555-0000")).status_code == 303
    user = db.session.scalar(select(User).where(User.email == "parent@example.kr"))
    assert (user.name, user.phone) == ("진짜부모", "01055550000")


def test_a_reset_for_a_never_verified_account_sets_it_up_anew(client, auth):
    """비밀번호 찾기 on an address someone else signed up with: the link proves the address, so
    the owner gets the account, but with their own name and number, not the stranger's."""
    stranger = {"name": "가짜회계", "phone": "010-4444-0000", "password": "abcd1234!",
                "password_confirm": "abcd1234!", "consent_privacy": "y"}
    client.post_form("/signup", dict(stranger, email="parent@example.kr"))
    client.post_form("/password/forgot", {"email": "parent@example.kr"})
    mail = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    assert "/password/reset/" not in mail.body
    setup = _link("parent@example.kr", "invite/")
    page = client.get(setup).get_data(as_text=True)
    assert "가짜회계" not in page and "0000)" not in page
    assert client.post_form(setup, dict(SETUP, name="진짜부모", phone="")).status_code == 422
    assert client.post_form(setup, dict(SETUP, name="진짜부모", phone="010-5555-0000")).status_code == 303
    user = db.session.scalar(select(User).where(User.email == "parent@example.kr"))
    assert (user.name, user.phone, user.is_verified) == ("진짜부모", "01055550000", True)
    auth.logout()
    assert auth.login("parent@example.kr", "abcd1234!").status_code == 422  # the stranger's password is gone


def test_the_admins_own_row_offers_no_role_buttons(client, auth, make_user):
    admin = make_user("admin@example.kr", roles=("admin",))
    other = make_user("other@example.kr")
    auth.login("admin@example.kr")
    page = client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{admin.id}/roles/grant" not in page and f"/admin/users/{other.id}/roles/grant" in page
    assert "본인의 역할은 다른 관리자가 바꿉니다" in page


def test_a_role_granted_twice_at_once_is_granted_once_without_an_error(app, make_user):
    """Two admins (or a double press without JavaScript) grant the same role at one moment: the
    second found the role missing before the first committed. It is simply already there."""
    from blueprints.accounts import services
    from blueprints.accounts.models import UserRole

    admin = make_user("admin@example.kr", roles=("admin",))
    user = make_user("p@example.kr", roles=("applicant",))
    with app.test_request_context():
        stale = db.session.get(User, user.id)
        _meanwhile(UserRole.__table__.insert().values(user_id=user.id, role="reviewer", granted_at=stale.created_at))
        assert services.grant_role(stale, "reviewer", by=admin) is False
        db.session.commit()
    assert sorted(db.session.scalars(select(UserRole.role).where(UserRole.user_id == user.id))) == ["applicant", "reviewer"]


def test_an_invitation_accepted_in_another_tab_is_not_then_recorded_as_declined(app, group, make_user):
    from sqlalchemy import update

    from blueprints.core.models import utcnow
    from blueprints.groups import services as group_services
    from blueprints.groups.models import GroupMember, MemberInvitation

    parent = make_user("parent@example.kr")
    household = group.members[3]
    with app.test_request_context():
        invitation = group_services.invite_member(group, household, "parent@example.kr", by=group.leader.user)
        db.session.commit()
        stale = db.session.get(MemberInvitation, invitation.id)
        db.session.commit()
        with db.engine.begin() as connection:  # accepted in the other tab
            connection.execute(update(MemberInvitation).where(MemberInvitation.id == invitation.id)
                               .values(state="accepted", decided_at=utcnow()))
            connection.execute(update(GroupMember).where(GroupMember.id == household.id).values(user_id=parent.id))
        try:
            group_services.decline_invitation(stale, by=db.session.get(User, parent.id))
        except group_services.GroupError:
            pass
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(MemberInvitation, invitation.id).state == "accepted"
