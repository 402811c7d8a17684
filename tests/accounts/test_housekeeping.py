"""Sign-in records (failed sign-ins, sessions, tokens) leave the database SIGN_IN_RECORD_DAYS after
they stopped mattering, with the daily retention run; nothing a live check reads is touched."""
from datetime import timedelta

from sqlalchemy import func, select

from blueprints.accounts.housekeeping import purge_stale_sign_in_records
from blueprints.accounts.models import AuthToken, LoginAttempt, UserSession
from blueprints.core.audit import AuditEvent
from blueprints.core.models import utcnow
from blueprints.privacy.retention import run
from extensions import db


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _session(user, n, *, created, last_seen=None, revoked=None):
    db.session.add(UserSession(user_id=user.id, token_hash=f"{n:064d}", created_at=created,
                               last_seen_at=last_seen or created, revoked_at=revoked))


def _world(app, make_user):
    """Rows on each side of the 30-day line (config: SIGN_IN_RECORD_DAYS)."""
    user = make_user("a@example.kr")
    now = utcnow()
    day = timedelta(days=1)
    db.session.add_all([LoginAttempt(email="a@example.kr", ip="1.2.3.4", created_at=now - 31 * day),
                        LoginAttempt(email="a@example.kr", ip="1.2.3.4", created_at=now - 29 * day),
                        LoginAttempt(email="b@example.kr", ip="1.2.3.4", created_at=now)])
    _session(user, 1, created=now - 40 * day, revoked=now - 31 * day)          # ended long ago: goes
    _session(user, 2, created=now - 40 * day, revoked=now - 29 * day)          # revoked recently: stays
    _session(user, 3, created=now - 40 * day, last_seen=now - 31 * day)        # idle for a month: goes
    _session(user, 4, created=now - 30 * day - timedelta(hours=7))             # idle since; ended 30 days ago less an hour: stays
    _session(user, 5, created=now - timedelta(hours=1))                        # live: stays
    db.session.add_all([AuthToken(user_id=user.id, purpose="reset", token_hash="a" * 64,
                                  created_at=now - 32 * day, expires_at=now - 31 * day),
                        AuthToken(user_id=user.id, purpose="invite", token_hash="b" * 64,
                                  created_at=now - 35 * day, expires_at=now - 28 * day, used_at=now - 34 * day),
                        AuthToken(user_id=user.id, purpose="verify", token_hash="c" * 64,
                                  created_at=now, expires_at=now + day)])
    db.session.commit()
    return now


def test_records_past_the_period_go_and_the_rest_stay(app, make_user):
    now = _world(app, make_user)
    counts = purge_stale_sign_in_records(now)
    db.session.commit()
    assert counts == {"login_attempts": 1, "user_sessions": 2, "tokens": 1}
    assert sorted(db.session.scalars(select(UserSession.token_hash))) == [f"{n:064d}" for n in (2, 4, 5)]
    assert _count(LoginAttempt) == 2 and _count(AuthToken) == 2
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.sign_in_records_purged"))
    assert "로그인 실패 1건, 세션 2건, 토큰 1건" in event.summary
    assert purge_stale_sign_in_records(now) == {"login_attempts": 0, "user_sessions": 0, "tokens": 0}


def test_the_period_is_a_setting(app, make_user, monkeypatch):
    now = _world(app, make_user)
    monkeypatch.setitem(app.config, "SIGN_IN_RECORD_DAYS", 60)
    assert purge_stale_sign_in_records(now) == {"login_attempts": 0, "user_sessions": 0, "tokens": 0}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "retention.sign_in_records_purged")) == 0


def test_the_daily_retention_run_does_it_and_a_dry_run_only_reports(app, make_user):
    _world(app, make_user)
    lines = []
    report = run(dry_run=True, echo=lines.append)
    assert lines == ["[시험] 로그인 기록 정리 (로그인 실패 1, 로그인 세션 2, 토큰 1)"]
    assert _count(UserSession) == 5 and _count(LoginAttempt) == 3 and _count(AuthToken) == 3
    report = run()
    assert report.done == [("로그인 기록 정리", {"login_attempts": 1, "user_sessions": 2, "tokens": 1})]
    assert _count(UserSession) == 3 and _count(LoginAttempt) == 2 and _count(AuthToken) == 2
