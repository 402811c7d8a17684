"""Sign-up, sign-in, throttling, passwords and invitations through the web."""
import re

import pytest
from sqlalchemy import func, select

from blueprints.accounts.models import AuthToken, User
from blueprints.core.audit import AuditEvent
from blueprints.core.mail import OutboxMessage
from extensions import db

SIGNUP = {
    "email": "Parent@Example.kr", "name": "박부모", "phone": "010-1234-5678",
    "password": "abcd1234!", "password_confirm": "abcd1234!", "consent_privacy": "y",
}


def events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_signup_creates_an_unverified_applicant_and_asks_to_confirm_the_address(client):
    response = client.post_form("/signup", SIGNUP)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/verify")
    user = db.session.scalar(select(User))
    assert user.email == "parent@example.kr"  # normalised
    assert user.phone == "01012345678"
    assert user.roles == {"applicant"}
    assert user.privacy_consent_at is not None and user.privacy_consent_version
    assert user.password_hash.startswith("$argon2id$")
    assert "abcd1234!" not in user.password_hash
    assert not user.is_verified
    assert len(events("user.signup")) == 1
    page = client.get("/account/verify").get_data(as_text=True)
    assert "이메일 주소를 확인해 주세요" in page and "parent@example.kr" in page and "다시 보내기" in page
    mail = db.session.scalar(select(OutboxMessage))
    assert mail.recipient == "parent@example.kr" and "http://localhost/account/verify/" in mail.body


def test_signup_without_consent_is_refused_and_keeps_the_input(client):
    data = dict(SIGNUP, consent_privacy="")
    response = client.post_form("/signup", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "개인정보 수집·이용에 동의해야 가입할 수 있습니다." in page
    assert 'value="Parent@Example.kr"' in page and 'value="박부모"' in page
    assert db.session.scalar(select(func.count(User.id))) == 0


@pytest.mark.parametrize("field, value, message", [
    ("email", "not-an-email", "이메일 주소 형식이 올바르지 않습니다"),
    ("phone", "02-123-4567", "휴대전화번호 형식이 올바르지 않습니다"),
    ("password", "short1!", "8자 이상"),
    ("password", "onlyletters", "두 가지 이상"),
    ("password_confirm", "different1!", "비밀번호가 서로 다릅니다"),
    ("name", "", "필수 입력 항목입니다"),
])
def test_signup_field_errors_are_korean_and_next_to_the_field(client, field, value, message):
    response = client.post_form("/signup", dict(SIGNUP, **{field: value}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="form-hint-invalid" id="{field}-error">([^<]+)</p>', page)
    assert error and message in error.group(1)
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_signup_with_a_finished_account_answers_like_a_new_address_and_mails_the_owner(client, make_user):
    make_user("parent@example.kr")
    response = client.post_form("/signup", SIGNUP)
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/verify")
    assert "이미 가입된" not in client.get("/account/verify").get_data(as_text=True)
    mail = db.session.scalar(select(OutboxMessage))
    assert mail.recipient == "parent@example.kr" and "http://localhost/login" in mail.body
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_login_logout(client, auth, make_user):
    user = make_user("a@example.kr")
    response = auth.login("a@example.kr")
    assert response.status_code == 303
    assert client.get("/dashboard").status_code == 200
    assert user.last_login_at is not None
    auth.logout()
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_wrong_password_says_so_without_revealing_which(client, auth, make_user):
    make_user("a@example.kr")
    wrong_password = auth.login("a@example.kr", "wrong-pass1")
    unknown_email = auth.login("nobody@example.kr", "wrong-pass1")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 422
        assert "이메일 또는 비밀번호가 맞지 않습니다." in response.get_data(as_text=True)


def test_login_redirects_only_to_local_next(client, make_user):
    make_user("a@example.kr")
    ok = client.post_form("/login", {"email": "a@example.kr", "password": "pass1234!", "next": "/admin/users"})
    assert ok.headers["Location"] == "/admin/users"
    client.post_form("/logout")
    evil = client.post_form("/login", {"email": "a@example.kr", "password": "pass1234!", "next": "//evil.example/x"})
    assert evil.headers["Location"] == "/dashboard"


def test_inactive_user_cannot_sign_in(auth, make_user):
    make_user("gone@example.kr", active=False)
    assert auth.login("gone@example.kr").status_code == 422


def test_login_is_throttled_per_account_and_address(app, client, auth, make_user):
    make_user("a@example.kr")
    limit = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(limit):
        assert auth.login("a@example.kr", "wrong-pass1").status_code == 422
    # Even the right password is refused while throttled; the message is Korean, not a crash.
    response = auth.login("a@example.kr")
    assert response.status_code == 429
    assert "로그인 시도가 너무 많습니다" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_login_is_throttled_per_ip_across_accounts(app, auth, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_IP", 3)
    make_user("victim@example.kr")
    for n in range(3):
        auth.login(f"guess{n}@example.kr", "wrong-pass1")
    assert auth.login("victim@example.kr").status_code == 429


def test_successful_login_clears_the_account_failures(app, auth, make_user):
    make_user("a@example.kr")
    for _ in range(app.config["LOGIN_FREE_FAILURES"] - 1):
        auth.login("a@example.kr", "wrong-pass1")
    assert auth.login("a@example.kr").status_code == 303
    auth.logout()
    assert auth.login("a@example.kr", "wrong-pass1").status_code == 422  # not 429


def test_change_password_ends_other_sessions(app, client, auth, make_user):
    make_user("a@example.kr")
    auth.login("a@example.kr")
    other = app.test_client()
    other.__class__ = client.__class__
    other.post_form("/login", {"email": "a@example.kr", "password": "pass1234!"})
    assert other.get("/dashboard").status_code == 200

    wrong = client.post_form("/account/password", {"current_password": "nope", "password": "newpass12!",
                                                   "password_confirm": "newpass12!"})
    assert wrong.status_code == 422 and "현재 비밀번호가 맞지 않습니다" in wrong.get_data(as_text=True)
    ok = client.post_form("/account/password", {"current_password": "pass1234!", "password": "newpass12!",
                                                "password_confirm": "newpass12!"})
    assert ok.status_code == 303
    assert client.get("/dashboard").status_code == 200  # this session goes on
    assert other.get("/dashboard").status_code == 302   # the other one ended
    assert len(events("user.password_changed")) == 1


def _reset_link():
    body = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().body
    return re.search(r"http://[^/]+(/password/reset/\S+)", body).group(1)


def test_password_reset_by_emailed_link_single_use(client, auth, make_user):
    make_user("a@example.kr")
    response = client.post_form("/password/forgot", {"email": "a@example.kr"})
    assert response.status_code == 303
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient == "a@example.kr" and message.status == "sent"  # console delivery in tests
    link = _reset_link()
    token = link.rsplit("/", 1)[1]
    assert db.session.scalar(select(AuthToken)).token_hash != token  # only the hash is stored

    assert client.get(link).status_code == 200
    response = client.post_form(link, {"password": "brandnew1!", "password_confirm": "brandnew1!"})
    assert response.status_code == 303
    assert auth.login("a@example.kr", "brandnew1!").status_code == 303
    auth.logout()
    # Used once: the same link no longer works.
    assert client.get(link).status_code == 410
    assert client.post_form(link, {"password": "again123!", "password_confirm": "again123!"}).status_code == 410


def test_password_reset_link_expires(app, client, make_user):
    from datetime import timedelta

    from blueprints.core.models import utcnow

    make_user("a@example.kr")
    client.post_form("/password/forgot", {"email": "a@example.kr"})
    link = _reset_link()
    row = db.session.scalar(select(AuthToken))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 410
    assert "유효 기간이 지난" in response.get_data(as_text=True)


def test_password_reset_for_unknown_email_looks_the_same_and_sends_nothing(client):
    response = client.post_form("/password/forgot", {"email": "nobody@example.kr"})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_password_reset_requests_are_throttled(app, client, make_user):
    make_user("a@example.kr")
    for _ in range(app.config["RESET_MAX_PER_WINDOW"]):
        assert client.post_form("/password/forgot", {"email": "a@example.kr"}).status_code == 303
    response = client.post_form("/password/forgot", {"email": "a@example.kr"})
    assert response.status_code == 429
    assert "재설정 요청이 너무 많습니다" in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_lax(client, make_user):
    make_user("a@example.kr")
    response = client.post_form("/login", {"email": "a@example.kr", "password": "pass1234!"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
