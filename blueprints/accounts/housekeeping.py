"""Sign-in records kept only as long as they serve: failed sign-ins (throttling), finished
sessions and spent tokens hold e-mail addresses and IP addresses (personal data, 개인정보 보호법
제21조) and would otherwise grow for ever. Run with the daily retention job.

SIGN_IN_RECORD_DAYS (default 30) is far longer than any window the rows are read for (throttling
looks back 15 minutes, a session lives at most 12 hours, a token a week), so a month of them is
left for looking into an incident and nothing a live check needs is ever removed.
"""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_

from blueprints.core import audit
from extensions import db

from .models import AuthToken, LoginAttempt, UserSession


def purge_stale_sign_in_records(now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Delete failed sign-ins, ended sessions and expired tokens older than the record period,
    with one audit event of counts (no commit; a dry run rolls back). Returns how many of each."""
    config = current_app.config
    cutoff = now - timedelta(days=config["SIGN_IN_RECORD_DAYS"])
    # A session ends when revoked, or when idle too long or too old; one that could still be
    # live, or ended within the period, stays.
    session_ended = or_(
        UserSession.revoked_at < cutoff,
        and_(UserSession.revoked_at.is_(None),
             or_(UserSession.last_seen_at < cutoff - config["SESSION_IDLE_TIMEOUT"],
                 UserSession.created_at < cutoff - config["SESSION_ABSOLUTE_LIFETIME"])),
    )
    statements = {
        "login_attempts": delete(LoginAttempt).where(LoginAttempt.created_at < cutoff),
        "user_sessions": delete(UserSession).where(session_ended),
        # used or not, a token is spent once expired (they live a week at most)
        "tokens": delete(AuthToken).where(AuthToken.expires_at < cutoff),
    }
    counts = {name: db.session.execute(statement).rowcount or 0 for name, statement in statements.items()}
    if any(counts.values()):
        audit.record("retention.sign_in_records_purged", object_type="system",
                     summary=f"로그인 기록 정리({config['SIGN_IN_RECORD_DAYS']}일 경과): 로그인 실패 "
                             f"{counts['login_attempts']}건, 세션 {counts['user_sessions']}건, 토큰 {counts['tokens']}건",
                     after=counts)
    if dry_run:
        db.session.rollback()
    return counts
