"""Second factor: TOTP (RFC 6238, an authenticator app) with one-time recovery codes.

Staff, finance and admin must use it (`User.second_factor_required`); applicants and
reviewers may turn it on. The secret offered during enrolment is derived from the app key
and a random value of this sign-in, so showing the QR code (a GET) writes nothing; it is
stored only when the person proves, with a code, that their app has it. A code is accepted
for its own 30-second step or a neighbouring one, and never twice (`totp_last_step`).
Recovery codes are shown once and kept only as argon2 hashes; each works once.
These functions mutate, flush and record the audit event; the view commits.
"""
import base64
import hashlib
import hmac
import re
import secrets
import time

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from blueprints.core import audit
from blueprints.core.models import utcnow
from extensions import db

from .models import SECOND_FACTOR_ROLES, RecoveryCode, User
from .services import AccountError, hash_password, verify_hash
from .sessions import revoke_user_sessions

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_LENGTH = 10
_STEP_SECONDS = 30


# Enrolment -------------------------------------------------------------------------------

def enrolment_secret(user: User, nonce: str) -> str:
    """The secret offered to ``user`` in this sign-in (160 bits, base32), the same on every view."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"totp-enrol:{user.id}:{nonce}".encode(),
                      hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["SERVICE_NAME"])


def qr_code_data_uri(uri: str) -> str:
    """The QR code as an SVG data: URI (an <img>; no script, allowed by our CSP)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped(secret: str) -> str:
    """'ABCD EFGH …' for typing the key by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def enrol(user: User, secret: str, code: str) -> list[str] | None:
    """Store ``secret`` once ``code`` proves the app has it; returns the new recovery codes
    (to show once), or None when the code is wrong."""
    step = _matching_step(secret, code, after=None)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _replace_recovery_codes(user)
    audit.record("user.second_factor_enrolled", user, actor=user, summary="2단계 인증 등록",
                 after={"second_factor": True, "recovery_codes": len(codes)})
    return codes


# Verification ----------------------------------------------------------------------------

def _clean(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()[:64]


def _matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    code = _clean(code)
    if not secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // _STEP_SECONDS
    for step in (now - 1, now, now + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_step(user: User, step: int) -> bool:
    """Record that the app's code of ``step`` was used, unless a request that read the account
    at the same moment already did (one conditional UPDATE): a code is accepted once."""
    return bool(db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)).rowcount)


def verify(user: User, code: str) -> str | None:
    """'totp' or 'recovery' when ``code`` is a fresh app code or an unused recovery code of
    ``user`` (spent now), else None."""
    if not user.has_second_factor:
        return None
    step = _matching_step(user.totp_secret, code, after=user.totp_last_step)
    if step is not None:
        if not _spend_step(user, step):
            return None
        audit.record("user.second_factor_passed", user, actor=user, summary="2단계 인증 통과")
        return "totp"
    cleaned = _clean(code)
    if len(cleaned) != _RECOVERY_LENGTH or set(cleaned) - set(_RECOVERY_ALPHABET):
        return None
    for row in db.session.scalars(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)).order_by(RecoveryCode.id)):
        if verify_hash(row.code_hash, cleaned):
            # Spent once: of two requests with the same code only the first finds it unused here.
            if not db.session.execute(update(RecoveryCode).where(
                    RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None)).values(used_at=utcnow())).rowcount:
                return None
            left = remaining_recovery_codes(user)
            audit.record("user.recovery_code_used", user, actor=user,
                         summary=f"복구 코드로 2단계 인증 통과 (남은 코드 {left}개)", after={"remaining": left})
            return "recovery"
    return None


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_password(code)) for code in codes)
    db.session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def new_recovery_codes(user: User, code: str) -> list[str] | None:
    """A fresh set (the old ones stop working), after a current app code; None if it is wrong."""
    step = _matching_step(user.totp_secret, code, after=user.totp_last_step)
    if step is None or not _spend_step(user, step):
        return None
    codes = _replace_recovery_codes(user)
    audit.record("user.recovery_codes_renewed", user, actor=user, summary="복구 코드 새로 발급")
    return codes


# Turning it off --------------------------------------------------------------------------

def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def admin_reset(user: User, *, by: User) -> None:
    """Lost phone: the factor goes, every session ends, and the next sign-in enrols anew."""
    enrolled = user.has_second_factor
    _clear(user)
    revoke_user_sessions(user)
    audit.record("user.second_factor_reset", user, actor=by,
                 summary="2단계 인증 초기화 (다음 로그인 때 다시 등록)",
                 before={"second_factor": enrolled}, after={"second_factor": False})


def disable(user: User, code: str) -> bool:
    """Someone who opted in turns it off again, with a current app code. Roles that need it cannot."""
    if user.has_any_role(SECOND_FACTOR_ROLES):
        raise AccountError("사업담당·회계담당·관리자·시 담당관 계정은 2단계 인증을 끌 수 없습니다.")
    if _matching_step(user.totp_secret, code, after=user.totp_last_step) is None:
        return False
    _clear(user)
    audit.record("user.second_factor_disabled", user, actor=user, summary="2단계 인증 해제",
                 before={"second_factor": True}, after={"second_factor": False})
    return True
