"""Server-side sessions: the signed cookie holds a random id, the database says whether it is
still good.

A cookie alone proves only that this app signed it once; it cannot be taken back. So every
sign-in opens a `UserSession` row and the cookie carries its random id (only the id's hash is
stored). On every request one indexed query reads the row with its user and roles; the session
ends when the row is revoked (logout, password change or reset, deactivation, second-factor
reset), when it has been idle longer than SESSION_IDLE_TIMEOUT, or when it is older than
SESSION_ABSOLUTE_LIFETIME however busy. `last_seen_at` is written at most once every
SESSION_TOUCH_INTERVAL, so ordinary requests stay read-only.
"""
import hashlib
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from blueprints.core.models import utcnow
from extensions import db

from .models import User, UserSession


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_user_session(user: User, *, second_factor: bool) -> str:
    """A new session row for ``user``; returns the random id for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(user_id=user.id, token_hash=_token_hash(token), created_at=now, last_seen_at=now,
                               second_factor_at=now if second_factor else None))
    db.session.flush()
    return token


def session_is_live(row: UserSession, now: datetime) -> bool:
    config = current_app.config
    return (row.revoked_at is None
            and now - row.created_at < config["SESSION_ABSOLUTE_LIFETIME"]
            and now - row.last_seen_at < config["SESSION_IDLE_TIMEOUT"])


def find_live_session(token: str) -> UserSession | None:
    """The live session of this cookie id with its user and roles (one query), else None."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    row = db.session.scalar(
        select(UserSession)
        .options(joinedload(UserSession.user).joinedload(User.role_rows))
        .where(UserSession.token_hash == _token_hash(token))
    )
    now = utcnow()
    if row is None or not session_is_live(row, now):
        return None
    if now - row.last_seen_at >= current_app.config["SESSION_TOUCH_INTERVAL"]:
        touch_session(row, now)
    return row


def touch_session(row: UserSession, now: datetime) -> None:
    """Note activity in a short transaction of its own (the idle clock), before the view runs."""
    db.session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    db.session.commit()


def revoke_session(token: str) -> None:
    if token and isinstance(token, str):
        db.session.execute(update(UserSession).where(
            UserSession.token_hash == _token_hash(token), UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def revoke_user_sessions(user: User) -> int:
    """End every session of ``user`` on every device."""
    return db.session.execute(update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)).values(revoked_at=utcnow())).rowcount

