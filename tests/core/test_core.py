"""Cross-cutting behaviour: CSRF, errors as page or fragment, headers, the authorisation helper,
the audit trail and the outbox."""
import smtplib

import pytest
from flask import g
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from blueprints.core import auth as core_auth
from blueprints.core.audit import AuditEvent, record
from blueprints.core.mail import OutboxMessage, deliver_pending, queue_email
from extensions import db


def test_post_without_csrf_token_is_400_in_korean(client, make_user):
    make_user("a@example.kr")
    response = client.post("/login", data={"email": "a@example.kr", "password": "pass1234!"})
    assert response.status_code == 400
    assert "보안 토큰이 없거나 만료되었습니다" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # not signed in


def test_htmx_post_without_csrf_header_is_400_as_a_fragment(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    target = make_user("p@example.kr")
    auth.login("admin@example.kr")
    response = client.post(f"/admin/users/{target.id}/roles/grant", data={"role": "staff"},
                           headers={"HX-Request": "true", "HX-Target": f"user-{target.id}"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "<html" not in body and "보안 토큰" in body
    assert response.headers["HX-Retarget"] == "#flash-region"
    db.session.refresh(target)
    assert target.roles == {"applicant"}


def test_htmx_post_with_csrf_header_is_accepted(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    target = make_user("p@example.kr")
    auth.login("admin@example.kr")
    response = client.post(f"/admin/users/{target.id}/roles/grant", data={"role": "staff"},
                           headers={"HX-Request": "true", "HX-Target": f"user-{target.id}",
                                    "X-CSRFToken": client.csrf_token()})
    assert response.status_code == 200
    db.session.refresh(target)
    assert "staff" in target.roles


def test_a_background_fragment_leaves_the_message_meant_for_the_next_page(client, auth, make_user):
    """A live search (or check, autosave, poll) landing between a POST and the page it
    redirects to must not take that POST's message: the page would show nothing (it did,
    once in CI, after registering a group)."""
    make_user("admin@example.kr", roles=("admin",))
    auth.login("admin@example.kr")
    client.get("/dashboard")  # the welcome message shown and gone
    invited = client.post_form("/admin/users/invite", {"email": "new@example.kr", "name": "새직원", "roles": "staff"})
    assert invited.status_code == 303
    search = client.htmx("GET", "/admin/users", target="user-table", data={"q": "new"})
    assert "new@example.kr" in search.get_data(as_text=True)
    assert "초대 메일을 보냈습니다" not in search.get_data(as_text=True)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "new@example.kr에 초대 메일을 보냈습니다." in page
    assert "초대 메일을 보냈습니다" not in client.get("/admin/users").get_data(as_text=True)  # once


def test_a_fragment_shows_the_messages_its_own_request_flashed(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    target = make_user("p@example.kr", name="박신청")
    auth.login("admin@example.kr")
    response = client.htmx("POST", f"/admin/users/{target.id}/roles/grant", target=f"user-{target.id}",
                           data={"role": "staff"})
    body = response.get_data(as_text=True)
    assert 'hx-swap-oob' in body and "박신청: 사업담당 역할을 부여했습니다." in body
    assert "역할을 부여했습니다" not in client.get("/admin/users").get_data(as_text=True)  # not shown twice


def test_not_found_is_a_korean_page_or_fragment(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "페이지를 찾을 수 없습니다" in page.get_data(as_text=True)
    assert '<html lang="ko">' in page.get_data(as_text=True)
    fragment = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert fragment.status_code == 404
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize("code, title", [(403, "접근 권한이 없습니다"), (409, "다른 변경과 충돌했습니다"),
                                         (413, "파일이 너무 큽니다"), (422, "입력 내용을 처리할 수 없습니다")])
def test_error_pages_in_korean(app, code, title):
    from blueprints.core.errors import render_error

    with app.test_request_context("/"):
        g.user = None
        response = render_error(code)
        assert response.status_code == code
        assert title in response.get_data(as_text=True)


def test_unexpected_error_rolls_back_and_shows_500_page(make_user):
    from app import create_app
    from tests.conftest import _test_config
    import tempfile
    from pathlib import Path

    tmp = Path(tempfile.mkdtemp())
    config = _test_config(tmp)
    config.HANDLE_UNEXPECTED_IN_TESTS = True
    config.SQLALCHEMY_DATABASE_URI = "sqlite://"
    app = create_app(config)

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "일시적인 오류가 발생했습니다" in response.get_data(as_text=True)


def test_a_database_error_is_logged_without_personal_data(app, caplog):
    """PostgreSQL puts the duplicate value in the error's message; SQLite names the column."""
    from sqlalchemy.exc import IntegrityError

    from blueprints.accounts.models import User
    from blueprints.core.errors import handle_unexpected

    for _ in range(2):
        db.session.add(User(email="private.person@example.kr", name="홍길동", phone="01012345678"))
    with pytest.raises(IntegrityError) as excinfo:
        db.session.flush()
    with app.test_request_context("/"), caplog.at_level("ERROR"):
        g.user = None
        response = handle_unexpected(excinfo.value)
    assert response.status_code == 500
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "IntegrityError" in logged and "INSERT INTO users" in logged  # still there to debug with
    for private in ("private.person@example.kr", "홍길동", "01012345678"):
        assert private not in logged


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client):
    for url in ("/", "/login", "/signup", "/privacy", "/programmes/"):
        body = client.get(url).get_data(as_text=True)
        assert "<script>" not in body and "<script " not in body.replace('<script src="', "")
        assert " style=" not in body and "<style" not in body


# The authorisation helper -----------------------------------------------------------------

class Doc:
    def __init__(self, owner_id):
        self.owner_id = owner_id

    def can(self, user, action):
        return action == "read" and user.id == self.owner_id


def test_authorize_asks_the_object_not_only_the_role(app, make_user):
    alice = make_user("alice@example.kr")
    bob = make_user("bob@example.kr")
    doc = Doc(owner_id=alice.id)
    with app.test_request_context("/"):
        g.user = alice
        assert core_auth.authorize("read", doc) is doc
        with pytest.raises(Forbidden):
            core_auth.authorize("write", doc)
        g.user = bob  # same role, other object owner
        with pytest.raises(Forbidden):
            core_auth.authorize("read", doc)


def test_authorize_role_permissions_and_anonymous(app, make_user):
    admin = make_user("admin@example.kr", roles=("admin",))
    staff = make_user("staff@example.kr", roles=("staff",))
    with app.test_request_context("/"):
        g.user = admin
        core_auth.authorize("manage_users")
        g.user = staff
        with pytest.raises(Forbidden):
            core_auth.authorize("manage_users")
        g.user = None
        with pytest.raises(Exception) as excinfo:
            core_auth.authorize("manage_users")
        assert excinfo.value.response.status_code == 302  # sent to login
    assert core_auth.can(None, "manage_users") is False


def test_inactive_user_can_do_nothing(app, make_user):
    admin = make_user("admin@example.kr", roles=("admin",), active=False)
    assert core_auth.can(admin, "manage_users") is False


def test_unregistered_permission_is_a_programming_error(app, make_user):
    user = make_user()
    with pytest.raises(LookupError):
        core_auth.can(user, "no_such_action")


# Audit -------------------------------------------------------------------------------------

def test_audit_event_is_part_of_the_callers_transaction(app, make_user):
    user = make_user()
    record("test.thing", user, summary="will be rolled back")
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0
    record("test.thing", user, summary="kept", before={"a": 1}, after={"a": 2})
    db.session.commit()
    event = db.session.scalar(select(AuditEvent))
    assert (event.object_type, event.object_id, event.summary) == ("user", str(user.id), "kept")
    assert event.changes_dict == {"before": {"a": 1}, "after": {"a": 2}}


def test_every_account_change_writes_one_event(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    user = make_user("p@example.kr")
    auth.login("admin@example.kr")
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    client.post_form(f"/admin/users/{user.id}/roles/grant", {"role": "finance"})
    client.post_form(f"/admin/users/{user.id}/active", {"active": "0"})
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id).offset(before)).all()
    assert actions == ["user.role_granted", "user.deactivated"]
    ips = set(db.session.scalars(select(AuditEvent.ip).offset(before)))
    assert ips == {"127.0.0.1"}


def test_audit_browser_filters_and_fragment(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",), name="관리자")
    user = make_user("p@example.kr")
    auth.login("admin@example.kr")
    client.post_form(f"/admin/users/{user.id}/roles/grant", {"role": "finance"})
    full = client.get("/admin/audit/?object_type=user&object_id=%d" % user.id)
    assert full.status_code == 200 and "user.role_granted" in full.get_data(as_text=True)
    assert "user.login" not in full.get_data(as_text=True)
    fragment = client.htmx("GET", "/admin/audit/", target="audit-results", data={"who": "admin@example.kr"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "user.role_granted" in body and "user.login" in body
    bad_dates = client.get("/admin/audit/?date_from=not-a-date")
    assert bad_dates.status_code == 200


def test_only_admins_browse_the_audit_trail(client, auth, make_user):
    make_user("finance@example.kr", roles=("finance",))
    auth.login("finance@example.kr")
    assert client.get("/admin/audit/").status_code == 403


# Outbox ------------------------------------------------------------------------------------

def test_mail_waits_in_the_outbox_and_retries_after_smtp_failure(app, monkeypatch):
    queue_email("a@example.kr", "제목", "본문")
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")

    class Refusing:
        def __init__(self, *args, **kwargs):
            raise smtplib.SMTPConnectError(421, "busy")

    monkeypatch.setattr(smtplib, "SMTP", Refusing)
    assert deliver_pending() == 0
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == "pending" and message.attempts == 1 and "busy" in message.last_error

    sent = []

    class Accepting:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            pass

        def send_message(self, email):
            sent.append(email)

    monkeypatch.setattr(smtplib, "SMTP", Accepting)
    assert deliver_pending() == 1
    assert sent[0]["To"] == "a@example.kr" and sent[0]["Subject"] == "제목"
    assert db.session.scalar(select(OutboxMessage)).status == "sent"


def test_a_broken_mailer_never_undoes_the_committed_change(client, make_user, monkeypatch):
    """Mail is delivered after the commit; if delivery blows up the change stays and the
    message waits in the outbox."""
    import blueprints.core.mail as mail

    def explode(message):
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr(mail, "_deliver", explode)
    make_user("a@example.kr")
    response = client.post_form("/password/forgot", {"email": "a@example.kr"})
    assert response.status_code == 303
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == "pending" and "on fire" in message.last_error


def test_hsts_only_in_production(client, tmp_path):
    from app import create_app

    assert "Strict-Transport-Security" not in client.get("/login").headers   # development runs on http://
    production = create_app({"APP_ENV": "production", "SECRET_KEY": "p" * 40, "UPLOAD_DIR": str(tmp_path),
                             "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    response = production.test_client().get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
