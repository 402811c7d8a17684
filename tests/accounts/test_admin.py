"""The admin's user table: search (full page vs fragment), invitations, roles; admin only."""
import re

from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.core.audit import AuditEvent
from blueprints.core.mail import OutboxMessage
from extensions import db


def test_only_admins_reach_user_management(client, auth, make_user):
    make_user("staff@example.kr", roles=("staff",))
    make_user("admin@example.kr", roles=("admin",))
    assert client.get("/admin/users").status_code == 302  # anonymous → login
    auth.login("staff@example.kr")
    assert client.get("/admin/users").status_code == 403
    assert client.post_form("/admin/users/invite", {"email": "x@example.kr", "name": "x", "roles": "admin"}).status_code == 403
    auth.logout()
    auth.login("admin@example.kr")
    assert client.get("/admin/users").status_code == 200


def test_search_returns_full_page_or_only_the_table_fragment(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    make_user("kim@example.kr", name="김철수")
    make_user("lee@example.kr", name="이영희")
    auth.login("admin@example.kr")

    full = client.get("/admin/users?q=kim")
    page = full.get_data(as_text=True)
    assert "<html" in page and "kim@example.kr" in page and "lee@example.kr" not in page
    assert "HX-Request" in full.headers["Vary"]

    fragment = client.htmx("GET", "/admin/users", target="user-table", data={"q": "이영희"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "<header" not in body
    assert "lee@example.kr" in body and "kim@example.kr" not in body
    assert "HX-Request" in fragment.headers["Vary"]

    # A boosted navigation to the same URL is a whole page.
    boosted = client.get("/admin/users", headers={"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "user-table"})
    assert "<html" in boosted.get_data(as_text=True)


def test_filter_by_role(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    make_user("rev@example.kr", roles=("reviewer",))
    auth.login("admin@example.kr")
    body = client.htmx("GET", "/admin/users", target="user-table", data={"role": "reviewer"}).get_data(as_text=True)
    assert "rev@example.kr" in body and "admin@example.kr" not in body


def test_grant_and_revoke_role_with_audit(client, auth, make_user):
    admin = make_user("admin@example.kr", roles=("admin",))
    user = make_user("p@example.kr", roles=("applicant",))
    auth.login("admin@example.kr")
    response = client.htmx("POST", f"/admin/users/{user.id}/roles/grant", target=f"user-{user.id}", data={"role": "reviewer"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<tr id="user-{user.id}"') and "심사위원" in body
    assert 'hx-swap-oob="true"' in body  # the flash message comes along out of band
    db.session.refresh(user)
    assert user.roles == {"applicant", "reviewer"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_granted"))
    assert event.actor_id == admin.id and event.object_id == str(user.id)
    assert event.changes_dict == {"before": {"roles": ["applicant"]}, "after": {"roles": ["applicant", "reviewer"]}}

    # Without JavaScript the same form posts and redirects.
    response = client.post_form(f"/admin/users/{user.id}/roles/revoke", {"role": "applicant"})
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.roles == {"reviewer"}
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_revoked")) is not None


def test_admin_cannot_revoke_own_admin_role(client, auth, make_user):
    admin = make_user("admin@example.kr", roles=("admin",))
    auth.login("admin@example.kr")
    client.post_form(f"/admin/users/{admin.id}/roles/revoke", {"role": "admin"})
    db.session.refresh(admin)
    assert admin.has_role("admin")


def test_unknown_role_is_a_bad_request(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    user = make_user("p@example.kr")
    auth.login("admin@example.kr")
    assert client.post_form(f"/admin/users/{user.id}/roles/grant", {"role": "emperor"}).status_code == 400
    assert client.post_form(f"/admin/users/999999/roles/grant", {"role": "staff"}).status_code == 404


def test_invite_then_accept(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    auth.login("admin@example.kr")
    response = client.post_form("/admin/users/invite", {"email": "rev@example.kr", "name": "박심사", "roles": ["reviewer"]})
    assert response.status_code == 303
    invited = db.session.scalar(select(User).where(User.email == "rev@example.kr"))
    assert invited.roles == {"reviewer"} and not invited.has_password
    body = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "rev@example.kr")).body
    link = re.search(r"http://[^/]+(/invite/\S+)", body).group(1)
    auth.logout()

    bad = client.post_form(link, {"name": "박심사", "phone": "010-2222-3333", "password": "reviewer1!",
                                  "password_confirm": "reviewer1!"})
    assert bad.status_code == 422  # consent missing
    ok = client.post_form(link, {"name": "박심사", "phone": "010-2222-3333", "password": "reviewer1!",
                                 "password_confirm": "reviewer1!", "consent_privacy": "y"})
    assert ok.status_code == 303
    db.session.refresh(invited)
    assert invited.has_password and invited.phone == "01022223333"
    assert client.get(link).status_code == 410  # single use


def test_invite_form_errors_come_back_as_the_fragment(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    auth.login("admin@example.kr")
    response = client.htmx("POST", "/admin/users/invite", target="invite-form", data={"email": "bad", "name": ""})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert "이메일 주소 형식이 올바르지 않습니다" in body and "역할을 하나 이상 선택해 주세요." in body
    assert 'value="bad"' in body


def test_deactivated_user_is_signed_out(app, client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    user = make_user("p@example.kr")
    other = app.test_client()
    other.__class__ = client.__class__
    other.post_form("/login", {"email": "p@example.kr", "password": "pass1234!"})
    assert other.get("/dashboard").status_code == 200
    auth.login("admin@example.kr")
    assert client.post_form(f"/admin/users/{user.id}/active", {"active": "0"}).status_code == 303
    assert other.get("/dashboard").status_code == 302


def test_a_new_installation_gets_its_first_admin_from_the_console(app, client, runner):
    """No admin exists after `db upgrade`: `flask invite-admin` mails (and prints) a set-up link on
    the site's own address; following it makes an admin who proved the address, audited."""
    result = runner.invoke(args=["invite-admin", "--email", " Boss@Example.kr ", "--name", "김관리",
                                 "--site-url", "https://gongdong.example.kr/"])
    assert result.exit_code == 0, result.output
    link = re.search(r"https://gongdong\.example\.kr/\S+", result.output).group(0)
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "boss@example.kr"))
    assert link in mail.body and "관리자 역할로 초대" in mail.body
    user = db.session.scalar(select(User).where(User.email == "boss@example.kr"))
    assert user.has_role("admin") and not user.has_password and not user.is_verified
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.invited"))
    assert event.actor_id is None and "운영자 명령" in event.summary
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    response = client.post_form(path, {"name": "김관리", "phone": "010-1234-5678", "password": "abcd1234!",
                                       "password_confirm": "abcd1234!", "consent_privacy": "y"})
    assert response.status_code in (302, 303)
    db.session.refresh(user)
    assert user.is_verified and user.has_password


def test_the_console_gives_the_role_to_a_proved_account_and_refuses_the_rest(app, runner, make_user):
    make_user("staff@example.kr", roles=("staff",), name="박직원")
    args = ["invite-admin", "--name", "박직원", "--site-url", "http://localhost"]
    result = runner.invoke(args=[*args, "--email", "staff@example.kr"])
    assert result.exit_code == 0 and "관리자 역할을 주었습니다" in result.output
    assert db.session.scalar(select(User).where(User.email == "staff@example.kr")).has_role("admin")
    for email, message in (("staff@example.kr", "이미 관리자인 계정입니다."),
                           ("not-an-address", "이메일 주소 형식이 올바르지 않습니다")):
        result = runner.invoke(args=[*args, "--email", email])
        assert result.exit_code != 0 and message in result.output
    unproved = make_user("new@example.kr")
    unproved.email_verified_at = None
    db.session.commit()
    result = runner.invoke(args=[*args, "--email", "new@example.kr"])
    assert result.exit_code != 0 and "이메일 주소를 확인하지 않았습니다" in result.output
    assert not db.session.scalar(select(User).where(User.email == "new@example.kr")).has_role("admin")
