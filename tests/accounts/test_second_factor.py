"""Issue 12 (Accounts): a second factor (TOTP + recovery codes) for staff, finance and admin;
applicants and reviewers may opt in."""
import re
import time

import pyotp
import pytest
from sqlalchemy import select

from blueprints.accounts.models import RecoveryCode, UserSession
from blueprints.core.audit import AuditEvent
from blueprints.core.mail import OutboxMessage
from extensions import db
from tests.factories import TOTP_SECRET, fresh_totp_code

STAFF_PAGE = "/programmes/manage"


def events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def wrong_code(secret=TOTP_SECRET):
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + offset) for offset in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def password_step(client, email, password="pass1234!", next_path=None):
    data = {"email": email, "password": password}
    if next_path:
        data["next"] = next_path
    return client.post_form("/login", data)


def goes_to_login(response):
    return response.status_code == 302 and "/login" in response.headers["Location"]


def secret_on(page: str) -> str:
    return re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")


# Enrolment -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["staff", "finance", "admin"])
def test_staff_finance_and_admin_must_enrol_at_first_login_and_reach_nothing_before(client, make_user, role):
    user = make_user(f"{role}@example.kr", roles=(role,), second_factor=False)
    response = password_step(client, user.email)
    assert response.status_code == 303 and response.headers["Location"].endswith("/login/second-factor/setup")
    for url in ("/dashboard", STAFF_PAGE, "/admin/users", "/account/security"):
        assert goes_to_login(client.get(url)), url
    assert client.get("/login").headers["Location"].endswith("/login/second-factor")  # back to the step
    assert client.get("/login/second-factor").headers["Location"].endswith("/login/second-factor/setup")

    page = client.get("/login/second-factor/setup").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page and "2단계 인증 등록" in page
    secret = secret_on(page)
    assert secret_on(client.get("/login/second-factor/setup").get_data(as_text=True)) == secret  # a GET writes nothing
    db.session.refresh(user)
    assert user.totp_secret is None

    refused = client.post_form("/login/second-factor/setup", {"code": wrong_code(secret)})
    assert refused.status_code == 422 and "인증 코드가 맞지 않습니다" in refused.get_data(as_text=True)
    assert goes_to_login(client.get("/dashboard"))

    done = client.post_form("/login/second-factor/setup", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/dashboard").status_code == 200
    db.session.refresh(user)
    assert user.totp_secret == secret and user.has_second_factor
    hashes = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(code.replace("-", "") in h for code in codes for h in hashes)
    assert len(events("user.second_factor_enrolled")) == 1
    assert db.session.scalar(select(UserSession)).second_factor_at is not None


def test_an_invited_staff_member_enrols_right_after_setting_the_password(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    auth.login("admin@example.kr")
    client.post_form("/admin/users/invite", {"email": "new@example.kr", "name": "새담당", "roles": ["staff"]})
    auth.logout()
    body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.recipient == "new@example.kr"))
    link = re.search(r"http://[^/]+(/invite/\S+)", body).group(1)
    response = client.post_form(link, {"name": "새담당", "phone": "010-2222-3333", "password": "abcd1234!",
                                       "password_confirm": "abcd1234!", "consent_privacy": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/login/second-factor/setup")
    assert goes_to_login(client.get(STAFF_PAGE))


# The step at sign-in ---------------------------------------------------------------------

def test_a_wrong_code_is_refused_and_five_send_you_back_to_the_password(app, client, make_user):
    make_user("staff@example.kr", roles=("staff",))
    response = password_step(client, "staff@example.kr", next_path="/programmes/manage")
    assert response.headers["Location"].endswith("/login/second-factor")
    for attempt in range(app.config["SECOND_FACTOR_MAX_FAILURES"] - 1):
        refused = client.post_form("/login/second-factor", {"code": wrong_code()})
        assert refused.status_code == 422
        assert "인증 코드가 맞지 않습니다" in refused.get_data(as_text=True)
        assert goes_to_login(client.get(STAFF_PAGE))
    last = client.post_form("/login/second-factor", {"code": wrong_code()})
    assert last.status_code == 303 and last.headers["Location"].endswith("/login")
    # The pending step is gone: even the right code now needs the password again.
    late = client.post_form("/login/second-factor", {"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert late.status_code == 302 and late.headers["Location"].endswith("/login")
    assert goes_to_login(client.get(STAFF_PAGE))


def test_the_right_code_signs_in_and_keeps_next(client, make_user):
    make_user("staff@example.kr", roles=("staff",))
    password_step(client, "staff@example.kr", next_path="/programmes/manage")
    response = client.post_form("/login/second-factor", {"code": fresh_totp_code("staff@example.kr")})
    assert response.status_code == 303 and response.headers["Location"] == "/programmes/manage"
    assert client.get(STAFF_PAGE).status_code == 200
    assert len(events("user.second_factor_passed")) == 1


def test_a_code_is_never_accepted_twice(client, auth, make_user):
    make_user("staff@example.kr", roles=("staff",))
    password_step(client, "staff@example.kr")
    code = fresh_totp_code("staff@example.kr")
    assert client.post_form("/login/second-factor", {"code": code}).status_code == 303
    auth.logout()
    password_step(client, "staff@example.kr")
    replay = client.post_form("/login/second-factor", {"code": code})
    assert replay.status_code == 422
    assert goes_to_login(client.get(STAFF_PAGE))


def test_the_step_between_password_and_code_expires(app, client, make_user):
    make_user("staff@example.kr", roles=("staff",))
    password_step(client, "staff@example.kr")
    with client.session_transaction() as cookie:
        pending = dict(cookie["second_factor"])
        pending["at"] -= int(app.config["SECOND_FACTOR_PENDING_TTL"].total_seconds()) + 1
        cookie["second_factor"] = pending
    response = client.post_form("/login/second-factor", {"code": fresh_totp_code("staff@example.kr")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_a_recovery_code_works_once(app, client, auth, make_user):
    from blueprints.accounts import second_factor

    user = make_user("finance@example.kr", roles=("finance",))
    with app.test_request_context():
        codes = second_factor._replace_recovery_codes(user)
        db.session.commit()
    password_step(client, user.email)
    response = client.post_form("/login/second-factor", {"code": codes[3].upper()})  # case and hyphen forgiven
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    assert "남은 복구 코드는 9개입니다" in client.get("/dashboard").get_data(as_text=True)
    assert [e.changes_dict["after"]["remaining"] for e in events("user.recovery_code_used")] == [9]
    auth.logout()

    password_step(client, user.email)
    again = client.post_form("/login/second-factor", {"code": codes[3]})
    assert again.status_code == 422
    assert goes_to_login(client.get("/dashboard"))
    assert client.post_form("/login/second-factor", {"code": codes[4]}).status_code == 303


# A password-only session never reaches staff pages ---------------------------------------

def test_a_session_that_passed_only_the_password_cannot_reach_staff_pages(client, auth, make_user):
    """Someone signed in with the password only (an applicant) is granted the staff role: the
    session does not carry over to staff pages until the second factor is done."""
    from blueprints.accounts import services

    admin = make_user("admin@example.kr", roles=("admin",))
    user = make_user("a@example.kr")
    auth.login("a@example.kr")
    assert client.get("/dashboard").status_code == 200
    services.grant_role(user, "staff", by=admin)
    db.session.commit()

    assert goes_to_login(client.get(STAFF_PAGE))
    assert client.get("/login").headers["Location"].endswith("/login/second-factor")
    assert client.get("/login/second-factor").headers["Location"].endswith("/login/second-factor/setup")


def test_a_forged_cookie_claiming_the_second_factor_is_refused(app, make_user):
    user = make_user("staff@example.kr", roles=("staff",))
    serializer = app.session_interface.get_signing_serializer(app)
    forged = app.test_client()
    forged.set_cookie("session", serializer.dumps({"user_id": user.id, "session_version": user.session_version,
                                                   "sid": "x" * 43, "second_factor_at": 1}))
    assert goes_to_login(forged.get(STAFF_PAGE))


# Admin reset -----------------------------------------------------------------------------

def test_admin_reset_is_audited_ends_the_sessions_and_the_user_enrols_again(app, client, auth, make_user):
    admin = make_user("admin@example.kr", roles=("admin",))
    staff = make_user("staff@example.kr", roles=("staff",))
    staff_browser = app.test_client()
    staff_browser.__class__ = client.__class__
    staff_browser.post_form("/login", {"email": staff.email, "password": "pass1234!"})
    staff_browser.post_form("/login/second-factor", {"code": fresh_totp_code(staff.email)})
    assert staff_browser.get(STAFF_PAGE).status_code == 200

    auth.login(admin.email)
    assert f"/admin/users/{staff.id}/second-factor/reset" in client.get("/admin/users").get_data(as_text=True)
    response = client.post_form(f"/admin/users/{staff.id}/second-factor/reset")
    assert response.status_code == 303
    [event] = events("user.second_factor_reset")
    assert event.actor_id == admin.id and event.changes_dict["before"] == {"second_factor": True}
    db.session.refresh(staff)
    assert not staff.has_second_factor and staff.totp_secret is None
    assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == staff.id)).all() == []

    assert goes_to_login(staff_browser.get(STAFF_PAGE))  # the phone's session ended
    again = staff_browser.post_form("/login", {"email": staff.email, "password": "pass1234!"})
    assert again.headers["Location"].endswith("/login/second-factor/setup")  # enrols anew


def test_only_an_admin_may_reset_a_second_factor(client, auth, make_user):
    staff = make_user("staff@example.kr", roles=("staff",))
    other = make_user("finance@example.kr", roles=("finance",))
    auth.login(staff.email)
    assert client.post_form(f"/admin/users/{other.id}/second-factor/reset").status_code == 403
    db.session.refresh(other)
    assert other.has_second_factor and not events("user.second_factor_reset")


# Opting in --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_applicants_and_reviewers_may_opt_in_and_out(client, auth, make_user, role):
    user = make_user("a@example.kr", roles=(role,))
    assert auth.login(user.email).headers["Location"] == "/dashboard"  # no second factor by default
    assert "2단계 인증 켜기" in client.get("/account/security").get_data(as_text=True)
    secret = secret_on(client.get("/login/second-factor/setup").get_data(as_text=True))
    done = client.post_form("/login/second-factor/setup", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "복구 코드" in done.get_data(as_text=True)
    assert client.get("/account/security").status_code == 200  # this session carries on
    auth.logout()

    assert password_step(client, user.email).headers["Location"].endswith("/login/second-factor")
    assert goes_to_login(client.get("/dashboard"))
    assert client.post_form("/login/second-factor", {"code": fresh_totp_code(user.email)}).status_code == 303

    wrong = client.post_form("/account/security/disable", {"code": wrong_code(secret)})
    assert wrong.status_code == 422
    off = client.post_form("/account/security/disable", {"code": fresh_totp_code(user.email)})
    assert off.status_code == 303
    db.session.refresh(user)
    assert not user.has_second_factor
    assert [len(events(a)) for a in ("user.second_factor_enrolled", "user.second_factor_disabled")] == [1, 1]


def test_staff_cannot_turn_the_second_factor_off(client, auth, make_user):
    user = make_user("staff@example.kr", roles=("staff",))
    auth.login(user.email)
    response = client.post_form("/account/security/disable", {"code": fresh_totp_code(user.email)})
    assert response.status_code == 422
    assert "2단계 인증을 끌 수 없습니다" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.has_second_factor


def test_new_recovery_codes_replace_the_old_ones(app, client, auth, make_user):
    from blueprints.accounts import second_factor

    user = make_user("staff@example.kr", roles=("staff",))
    with app.test_request_context():
        old = second_factor._replace_recovery_codes(user)
        db.session.commit()
    auth.login(user.email)
    page = client.post_form("/account/security/recovery-codes", {"code": fresh_totp_code(user.email)})
    new = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    auth.logout()
    password_step(client, user.email)
    assert client.post_form("/login/second-factor", {"code": old[0]}).status_code == 422
    assert client.post_form("/login/second-factor", {"code": new[0]}).status_code == 303


def test_demo_staff_follow_the_real_flow_and_enrol_at_first_login(runner, client):
    result = runner.invoke(args=["demo"])
    assert "2단계 인증" in result.output
    for email in ("staff@demo.kr", "finance@demo.kr", "admin@demo.kr"):
        response = client.post_form("/login", {"email": email, "password": "demo1234!"})
        assert response.headers["Location"].endswith("/login/second-factor/setup"), email
        client.post_form("/logout")
    assert client.post_form("/login", {"email": "applicant@demo.kr", "password": "demo1234!"}
                            ).headers["Location"] == "/dashboard"
