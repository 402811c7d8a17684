"""Issue 12 (Accounts): logout ends the session on the server; idle and absolute lifetimes."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.accounts.models import UserSession
from blueprints.core.models import utcnow
from extensions import db
from tests.test_query_counts import count_queries


def _copy_of(client, app):
    """Another browser holding the same session cookie (a stolen or copied cookie)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _signed_in(response):
    return response.status_code == 200


def test_a_copied_cookie_stops_working_after_logout(app, client, auth, make_user):
    make_user("a@example.kr")
    auth.login("a@example.kr")
    thief = _copy_of(client, app)
    assert _signed_in(thief.get("/dashboard"))  # the copy works while the session lives …

    auth.logout()
    replay = thief.get("/dashboard")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]  # … and not after
    row = db.session.scalar(select(UserSession))
    assert row.revoked_at is not None


def test_a_forged_cookie_signed_with_the_key_but_without_a_session_record_is_refused(app, make_user):
    """What a cookie alone used to be (user id + version, correctly signed) is not enough."""
    user = make_user("a@example.kr")
    serializer = app.session_interface.get_signing_serializer(app)
    forged = app.test_client()
    forged.set_cookie("session", serializer.dumps({"user_id": user.id, "session_version": user.session_version}))
    response = forged.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    made_up = app.test_client()
    made_up.set_cookie("session", serializer.dumps({"user_id": user.id, "session_version": user.session_version,
                                                    "sid": "made-up"}))
    assert made_up.get("/dashboard").status_code == 302


def test_changing_the_password_ends_the_other_sessions_but_keeps_this_one(app, client, auth, make_user):
    make_user("a@example.kr")
    auth.login("a@example.kr")
    other_device = _copy_of(client, app)
    response = client.post_form("/account/password", {"current_password": "pass1234!", "password": "newpass12!",
                                                     "password_confirm": "newpass12!"})
    assert response.status_code == 303
    assert _signed_in(client.get("/dashboard"))
    assert other_device.get("/dashboard").status_code == 302


def test_deactivation_revokes_every_session_row(app, client, auth, make_user):
    from blueprints.accounts import services

    admin = make_user("admin@example.kr", roles=("admin",))
    user = make_user("a@example.kr")
    auth.login("a@example.kr")
    services.set_active(user, False, by=admin)
    db.session.commit()
    assert all(row.revoked_at is not None for row in db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id)))
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("created_ago, seen_ago, alive", [
    (timedelta(hours=11), timedelta(minutes=1), True),
    (timedelta(hours=12, minutes=1), timedelta(minutes=1), False),   # absolute lifetime, however busy
    (timedelta(hours=9), timedelta(hours=8, minutes=1), False),      # idle too long
    (timedelta(hours=9), timedelta(hours=7, minutes=59), True),
])
def test_idle_and_absolute_session_lifetimes(app, client, auth, make_user, created_ago, seen_ago, alive):
    assert app.config["SESSION_ABSOLUTE_LIFETIME"] == timedelta(hours=12)
    assert app.config["SESSION_IDLE_TIMEOUT"] == timedelta(hours=8)
    make_user("a@example.kr")
    auth.login("a@example.kr")
    row = db.session.scalar(select(UserSession))
    row.created_at, row.last_seen_at = utcnow() - created_ago, utcnow() - seen_ago
    db.session.commit()
    assert _signed_in(client.get("/dashboard")) is alive


def test_activity_is_noted_at_most_every_few_minutes(client, auth, make_user):
    make_user("a@example.kr")
    auth.login("a@example.kr")
    row = db.session.scalar(select(UserSession))
    recent = utcnow() - timedelta(minutes=1)
    row.last_seen_at = recent
    db.session.commit()
    client.get("/dashboard")
    db.session.refresh(row)
    assert row.last_seen_at == recent  # no write for a request a minute later
    row.last_seen_at = utcnow() - timedelta(minutes=6)
    db.session.commit()
    client.get("/dashboard")
    db.session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_the_session_check_is_one_statement(client, auth, make_user):
    make_user("a@example.kr")
    client.get("/privacy")
    with count_queries() as anonymous:
        client.get("/privacy")
    auth.login("a@example.kr")
    client.get("/privacy")
    with count_queries() as signed_in:
        assert client.get("/privacy").status_code == 200
    assert len(signed_in) - len(anonymous) == 1
    assert "user_sessions" in next(s for s in signed_in if s not in anonymous)


def test_an_anonymised_account_keeps_no_session_nor_second_factor(app, client, auth, make_user):
    from blueprints.accounts import second_factor
    from blueprints.accounts.models import RecoveryCode, User
    from blueprints.privacy.retention import Destroyed, anonymise_account

    user = make_user("a@example.kr")
    auth.login("a@example.kr")
    with app.test_request_context():
        user.totp_secret, user.totp_enabled_at = "JBSWY3DPEHPK3PXP", utcnow()
        second_factor._replace_recovery_codes(user)
        anonymise_account(user, now=utcnow(), out=Destroyed())
        db.session.commit()
    user = db.session.get(User, user.id)
    assert (user.totp_secret, user.totp_enabled_at) == (None, None)
    assert db.session.scalars(select(UserSession)).all() == []
    assert db.session.scalars(select(RecoveryCode)).all() == []
    assert client.get("/dashboard").status_code == 302
