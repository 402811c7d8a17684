"""Account operations: they mutate, flush and record the audit event; the view commits."""
import hashlib
import ipaddress
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, url_for
from sqlalchemy import delete, func, select, update

from blueprints.core import audit
from blueprints.core.auth import ROLE_LABELS, ROLES
from blueprints.core.mail import queue_email
from blueprints.core.models import utcnow
from blueprints.core.search import matches
from extensions import db

from .models import CONSENT_VERSION, AuthToken, LoginAttempt, User, UserRole
from .sessions import revoke_user_sessions


class AccountError(Exception):
    """A rule of the account domain was broken; the message is shown to the user."""


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def normalize_phone(phone: str) -> str:
    """Keep digits only: '010-1234-5678', '01012345678' and '010 1234 5678' are the same."""
    return re.sub(r"\D", "", phone or "")


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def verify_hash(hashed: str, secret: str) -> bool:
    """An argon2 hash (password or recovery code) against a candidate."""
    try:
        return _hasher().verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


# A real hash to compare against when the e-mail is unknown, so both paths take as long.
_DUMMY = {}


def _dummy_verify(password: str) -> None:
    if "hash" not in _DUMMY:
        _DUMMY["hash"] = hash_password(secrets.token_hex(8))
    try:
        _hasher().verify(_DUMMY["hash"], password)
    except VerificationError:
        pass


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def register_applicant(*, email: str, password: str, name: str, phone: str) -> User:
    email = normalize_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError("이미 가입된 이메일입니다. 로그인하거나 비밀번호 찾기를 이용해 주세요.")
    user = User(
        email=email,
        name=name.strip(),
        phone=normalize_phone(phone),
        password_hash=hash_password(password),
        privacy_consent_at=utcnow(),
        privacy_consent_version=CONSENT_VERSION,
    )
    user.role_rows.append(UserRole(role="applicant"))
    db.session.add(user)
    db.session.flush()
    audit.record("user.signup", user, actor=user, summary="신청자 회원가입",
                 after={"email": email, "roles": ["applicant"], "consent": CONSENT_VERSION})
    return user


# Throttling ------------------------------------------------------------------------------

def throttle_address(ip: str | None) -> str:
    """The client as throttling counts it: an IPv4 address as it is (also when written as an
    IPv4-mapped IPv6 address), an IPv6 address by its /64 network. One home line or cloud host
    holds a whole /64, so counting single IPv6 addresses gave a fresh back-off to every try."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return (ip or "-")[:45]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _failures_since(column, value, kind: str) -> int:
    since = utcnow() - current_app.config["LOGIN_WINDOW"]
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.kind == kind, LoginAttempt.created_at >= since
        )
    )


def login_wait(email: str, ip: str) -> timedelta | None:
    """How long this address must wait before trying this account again (None: go ahead).

    The policy — back-off, never a lock someone else can put on your account:
    - Failures count per (account, address) within LOGIN_WINDOW. The first
      LOGIN_FREE_FAILURES cost nothing (typos); after that each further try must wait
      LOGIN_BACKOFF_BASE × 2^(failures − free) since the last failure, up to the window itself
      (2 s, 4 s, 8 s … 15 min). Guessing from one address quickly becomes hopeless, while the
      owner, from any address where they have not failed, signs in at once.
    - An address with LOGIN_MAX_FAILURES_PER_IP failures on any accounts in the window is
      refused until the oldest of them ages out (password spraying from one place).
    - There is no account-wide lock: a stranger's failures from their addresses never refuse
      the owner elsewhere. Guessing spread over many addresses is slowed by the per-address
      back-off and argon2; staff, finance and admin also need the second factor.
    - A refused try is not counted (waiting it out always works) and is never checked against
      the password (the right password tells nothing during the wait). A success clears the
      failures of its own (account, address) pair only.
    """
    config = current_app.config
    now = utcnow()
    since = now - config["LOGIN_WINDOW"]
    per_ip, oldest = db.session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.created_at)).where(
            LoginAttempt.ip == ip, LoginAttempt.kind == "login", LoginAttempt.created_at >= since)).one()
    if per_ip >= config["LOGIN_MAX_FAILURES_PER_IP"]:
        return oldest + config["LOGIN_WINDOW"] - now
    failures, last = db.session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == normalize_email(email)[:254], LoginAttempt.ip == ip, LoginAttempt.kind == "login",
            LoginAttempt.created_at >= since)).one()
    free = config["LOGIN_FREE_FAILURES"]
    if failures < free:
        return None
    delay = min(config["LOGIN_BACKOFF_BASE"] * 2 ** min(failures - free, 20), config["LOGIN_WINDOW"])
    ready = last + delay
    return ready - now if ready > now else None


def note_attempt(email: str, ip: str, kind: str = "login") -> None:
    db.session.add(LoginAttempt(email=normalize_email(email)[:254], ip=ip or "-", kind=kind))


def authenticate(email: str, password: str, ip: str) -> User | None:
    """The user if the password is right and the account active, else None (attempt noted)."""
    user = find_user_by_email(email)
    if user is None:
        _dummy_verify(password)
    elif user.is_active and verify_password(user, password):
        db.session.execute(delete(LoginAttempt).where(
            LoginAttempt.email == user.email, LoginAttempt.ip == (ip or "-"), LoginAttempt.kind == "login"))
        user.last_login_at = utcnow()
        audit.record("user.login", user, actor=user, summary="로그인")
        return user
    note_attempt(email, ip)
    return None


def _set_password(user: User, new_password: str) -> None:
    """However a password is set (changed, reset, set up through an invitation): every session
    of the account ends and every unused link of it is spent, so a reset or set-up link still
    lying in the mailbox cannot set the password again."""
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    revoke_user_sessions(user)
    revoke_outstanding_tokens(user)


def change_password(user: User, new_password: str) -> None:
    _set_password(user, new_password)
    audit.record("user.password_changed", user, summary="비밀번호 변경")


# One-time tokens --------------------------------------------------------------------------

_TOKEN_TTL_SETTING = {"reset": "PASSWORD_RESET_TTL", "invite": "INVITE_TTL", "verify": "EMAIL_VERIFY_TTL"}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, purpose: str) -> str:
    ttl = current_app.config[_TOKEN_TTL_SETTING.get(purpose, "INVITE_TTL")]
    # A new token replaces any unused one of the same purpose.
    for old in db.session.scalars(select(AuthToken).where(
            AuthToken.user_id == user.id, AuthToken.purpose == purpose, AuthToken.used_at.is_(None))):
        old.used_at = utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(AuthToken(user_id=user.id, purpose=purpose, token_hash=_token_hash(token),
                             expires_at=utcnow() + ttl))
    return token


def find_valid_token(token: str, purpose: str) -> AuthToken | None:
    row = db.session.scalar(select(AuthToken).where(AuthToken.token_hash == _token_hash(token or "")))
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= utcnow():
        return None
    if not row.user.is_active:  # a deactivated account's links are dead (see revoke_outstanding_tokens)
        return None
    return row


class LinkSpent(AccountError):
    """The one-time link was used by another request after this one had found it unused."""


def consume_token(row: AuthToken) -> None:
    """Spend the link, once: one conditional UPDATE decides, so of two requests that both found
    it unused (a double press, or two people with the link) only the first goes on."""
    spent = db.session.execute(update(AuthToken).where(AuthToken.id == row.id, AuthToken.used_at.is_(None))
                               .values(used_at=utcnow())).rowcount
    if not spent:
        raise LinkSpent("이미 사용한 링크입니다. 필요하면 새 링크를 받아 주세요.")


def reset_is_throttled(email: str, ip: str) -> bool:
    limit = current_app.config["RESET_MAX_PER_WINDOW"]
    return (_failures_since(LoginAttempt.email, normalize_email(email), "reset") >= limit
            or _failures_since(LoginAttempt.ip, ip, "reset") >= limit * 4)


def request_password_reset(email: str, ip: str) -> None:
    """Queue a reset link if the account exists. Says nothing either way (no account probing)."""
    note_attempt(email, ip, kind="reset")
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    if not user.is_verified:
        _send_fresh_setup_link(user)
        return
    token = issue_token(user, "reset")
    link = url_for("accounts.reset_password", token=token, _external=True)
    queue_email(user.email, "[공동육아 자조모임] 비밀번호 재설정 안내",
                f"{user.name}님, 아래 링크에서 새 비밀번호를 설정해 주세요. 링크는 1시간 동안 한 번만 쓸 수 있습니다.\n\n{link}\n\n"
                "요청하지 않았다면 이 메일을 무시하셔도 됩니다.")
    audit.record("user.password_reset_requested", user, actor=user, summary="비밀번호 재설정 메일 발송")


def reset_password(row: AuthToken, new_password: str) -> User:
    user = row.user
    consume_token(row)
    _set_password(user, new_password)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    audit.record("user.password_reset", user, actor=user, summary="비밀번호 재설정 완료")
    mark_verified(user)  # the link came to the address
    return user


# Roles and invitations -------------------------------------------------------------------

def grant_role(user: User, role: str, *, by: User) -> bool:
    if role not in ROLES:
        raise AccountError("알 수 없는 역할입니다.")
    if user.id == by.id:
        # An admin who gave themself 회계담당 or 사업담당 would pay out and approve on their own
        # word: a role always comes from another admin.
        raise AccountError("자기 자신에게는 역할을 부여할 수 없습니다. 다른 관리자에게 요청해 주세요.")
    _lock_account(user)  # the same grant twice at once: the second waits, then finds the role
    require_verified(user, "이메일 주소를 확인하지 않은 계정에는 역할을 줄 수 없습니다. 본인이 주소를 확인한 뒤 다시 시도해 주세요.")
    if user.has_role(role):
        return False
    user.role_rows.append(UserRole(role=role, granted_by_id=by.id))
    db.session.flush()
    audit.record("user.role_granted", user, summary=f"{ROLE_LABELS[role]} 역할 부여",
                 before={"roles": sorted(user.roles - {role})}, after={"roles": sorted(user.roles)})
    return True


def revoke_role(user: User, role: str, *, by: User) -> bool:
    if role == "admin" and user.id == by.id:
        raise AccountError("자기 자신의 관리자 역할은 회수할 수 없습니다.")
    if role == "admin" and user.has_role("admin"):
        keep_an_admin(user)  # the first lock taken: two admins removing each other take turns here
    _lock_account(user)
    row = next((r for r in user.role_rows if r.role == role), None)
    if row is None:
        return False
    before = sorted(user.roles)
    user.role_rows.remove(row)
    db.session.flush()
    audit.record("user.role_revoked", user, summary=f"{ROLE_LABELS[role]} 역할 회수",
                 before={"roles": before}, after={"roles": sorted(user.roles)})
    return True


def _lock_account(user: User) -> None:
    """Hold the account's row to the commit and read it (with its roles) afresh. FOR NO KEY
    UPDATE, not FOR UPDATE: the audit rows and role rows other requests insert point at users
    (a foreign key takes KEY SHARE), and two admins changing each other's roles would otherwise
    deadlock. SQLite: a no-op UPDATE takes the database's write lock."""
    db.session.flush()
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(User).where(User.id == user.id).values(id=User.id))
    db.session.scalar(select(User).where(User.id == user.id).with_for_update(key_share=True)
                      .execution_options(populate_existing=True))


def keep_an_admin(leaving: User) -> None:
    """Refuse when ``leaving`` is the last active 관리자. The admins' role rows are locked
    first, so two admins removing each other at the same moment take turns and the second
    sees the first's change (each had passed the permission check before either committed)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(UserRole).where(UserRole.role == "admin").values(role=UserRole.role))
    db.session.execute(select(UserRole.id).where(UserRole.role == "admin").with_for_update())
    others = db.session.scalar(
        select(func.count(UserRole.id)).join(User, User.id == UserRole.user_id)
        .where(UserRole.role == "admin", UserRole.user_id != leaving.id, User.is_active.is_(True)))
    if not others:
        raise AccountError("마지막 관리자입니다. 다른 관리자가 있어야 이 관리자의 역할을 회수하거나 계정을 비활성화할 수 있습니다.")


def invite_user(*, email: str, name: str, roles: list[str], by: User) -> User:
    return _invite(email=email, name=name, roles=roles, by=by)[0]


def _invite(*, email: str, name: str, roles: list[str], by: User | None) -> tuple[User, str]:
    """An account to set up, with roles, by an e-mailed link; returns it and the link (``by``
    None: the operator's console, ``flask invite-admin``, which prints the link too)."""
    email = normalize_email(email)
    user = find_user_by_email(email)
    if user is not None and user.has_password:
        raise AccountError("이미 가입된 이메일입니다. 사용자 목록에서 역할을 부여해 주세요.")
    if user is None:
        user = User(email=email, name=name.strip())
        db.session.add(user)
        db.session.flush()
    for role in roles:
        if not user.has_role(role):
            user.role_rows.append(UserRole(role=role, granted_by_id=by.id if by else None))
    token = issue_token(user, "invite")
    link = url_for("accounts.accept_invite", token=token, _external=True)
    labels = ", ".join(ROLE_LABELS[r] for r in roles)
    queue_email(email, "[공동육아 자조모임] 시스템 초대 안내",
                f"{name}님, 공동육아 자조모임 지원사업 시스템에 {labels} 역할로 초대되었습니다.\n"
                f"아래 링크에서 7일 안에 계정을 설정해 주세요.\n\n{link}")
    audit.record("user.invited", user, actor=by, summary=f"초대 ({labels})" + ("" if by else ", 운영자 명령"),
                 after={"email": email, "roles": roles})
    return user, link


EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def admin_from_console(*, email: str, name: str) -> tuple[User, str | None]:
    """``flask invite-admin``: the first administrator of a new installation, or another one
    when none can be reached. A new address is invited (the link proves the address; the second
    factor is enrolled at the first sign-in, as for every admin); an account that has proved its
    address gets the role at once. Returns the account and the set-up link (None: no link)."""
    email = normalize_email(email)
    if not EMAIL_SHAPE.match(email) or len(email) > 254:
        raise AccountError("이메일 주소 형식이 올바르지 않습니다. 예: admin@example.kr")
    if not name.strip():
        raise AccountError("이름을 적어 주세요.")
    user = find_user_by_email(email)
    if user is None or not user.has_password:
        return _invite(email=email, name=name, roles=["admin"], by=None)
    require_verified(user, "이 주소의 계정은 이메일 주소를 확인하지 않았습니다. 본인이 주소를 확인한 뒤 다시 실행해 주세요.")
    if not user.is_active:
        raise AccountError("비활성화된 계정입니다. 다른 주소를 쓰거나 계정을 다시 활성화해 주세요.")
    if user.has_role("admin"):
        raise AccountError("이미 관리자인 계정입니다.")
    user.role_rows.append(UserRole(role="admin", granted_by_id=None))
    audit.record("user.role_granted", user, actor=None, summary="관리자 역할 부여(운영자 명령)",
                 after={"role": "admin"})
    return user, None


def accept_invite(row: AuthToken, *, name: str, phone: str, password: str) -> User:
    user = row.user
    consume_token(row)
    user.name = name.strip()
    user.phone = normalize_phone(phone)
    _set_password(user, password)
    user.privacy_consent_at = utcnow()
    user.privacy_consent_version = CONSENT_VERSION
    audit.record("user.invite_accepted", user, actor=user, summary="초대 수락, 계정 설정")
    mark_verified(user)  # the link came to the address
    return user


def set_active(user: User, active: bool, *, by: User) -> None:
    if user.id == by.id and not active:
        raise AccountError("자기 자신의 계정은 비활성화할 수 없습니다.")
    if not active and user.is_active and user.has_role("admin"):
        keep_an_admin(user)
    before = user.is_active
    user.is_active = active
    user.session_version += 1
    if not active:
        revoke_outstanding_tokens(user)
        revoke_user_sessions(user)
    audit.record("user.activated" if active else "user.deactivated", user,
                 summary="계정 활성화" if active else "계정 비활성화",
                 before={"is_active": before}, after={"is_active": active})


def revoke_outstanding_tokens(user: User) -> int:
    """Every unused one-time link of the account (reset, invitation, verification, any purpose)
    is spent now: reactivating the account later never brings one back."""
    return db.session.execute(
        update(AuthToken).where(AuthToken.user_id == user.id, AuthToken.used_at.is_(None)).values(used_at=utcnow())
    ).rowcount


def search_users(query: str = "", role: str = "", page: int = 1, per_page: int = 20):
    stmt = select(User)
    if query:
        stmt = stmt.where(matches(query, User.search_key))
    if role in ROLES:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return db.paginate(stmt.order_by(User.id.desc()), page=page, per_page=per_page, error_out=False)


def purge_old_attempts(before: datetime) -> int:
    return db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < before)).rowcount


# Proving the address --------------------------------------------------------------------
# An account counts only once its owner proved the address: the verification link (with the
# account's password, so neither the address alone nor the password alone will do), an
# invitation link or a password-reset link. Until then it can't be linked to a group nor be
# granted a role, and every page leads to "이메일 주소를 확인해 주세요".

def mark_verified(user: User) -> bool:
    if user.email_verified_at is not None:
        return False
    user.email_verified_at = utcnow()
    audit.record("user.email_verified", user, actor=user, summary="이메일 주소 확인")
    return True


def require_verified(user: User, message: str = "이메일 주소를 먼저 확인해 주세요.") -> None:
    if not user.is_verified:
        raise AccountError(message)


def verify_mail_is_throttled(email: str, ip: str) -> bool:
    """Sign-up and resend mails per address (and per IP): nobody floods someone's mailbox."""
    config = current_app.config
    limit = config["VERIFY_MAIL_MAX_PER_WINDOW"]
    since = utcnow() - config["VERIFY_MAIL_WINDOW"]

    def count(column, value):
        return db.session.scalar(select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.kind == "verify", LoginAttempt.created_at >= since))

    return count(LoginAttempt.email, normalize_email(email)) >= limit or count(LoginAttempt.ip, ip) >= limit * 4


def _send_verification(user: User) -> None:
    token = issue_token(user, "verify")
    link = url_for("accounts.verify_email", token=token, _external=True)
    queue_email(user.email, "[공동육아 자조모임] 이메일 주소 확인 안내",
                f"{user.name}님, 공동육아 자조모임 지원사업 가입을 마치려면 아래 링크를 열고 가입할 때 정한 비밀번호로 "
                f"이메일 주소를 확인해 주세요. 링크는 24시간 동안 한 번만 쓸 수 있습니다.\n\n{link}\n\n"
                "직접 가입하지 않으셨다면 링크의 페이지에서 '가입하지 않았습니다'를 눌러 주세요. "
                "확인하지 않은 계정은 모임에 연결되거나 역할을 받을 수 없습니다.")


def _send_setup_link(user: User) -> None:
    token = issue_token(user, "invite")
    link = url_for("accounts.accept_invite", token=token, _external=True)
    queue_email(user.email, "[공동육아 자조모임] 계정 설정 안내",
                "이 주소로 공동육아 자조모임 지원사업 가입을 요청하셨습니다. 이 주소에는 초대받았거나 설정을 마치지 않은 "
                f"계정이 있습니다. 아래 링크에서 7일 안에 이름·휴대전화번호·비밀번호를 정하면 가입이 끝납니다.\n\n{link}\n\n"
                "요청하지 않았다면 이 메일을 무시하셔도 됩니다.")


def _send_fresh_setup_link(user: User) -> None:
    """비밀번호 찾기 for an account whose address was never proved: whoever signed up typed its
    name and number, perhaps not the address's owner. The link (like an invitation's) proves the
    address and asks for everything anew; the set-up page offers nothing from the sign-up."""
    token = issue_token(user, "invite")
    link = url_for("accounts.accept_invite", token=token, _external=True)
    queue_email(user.email, "[공동육아 자조모임] 비밀번호 재설정 안내",
                "이 주소의 계정은 아직 이메일 주소를 확인하지 않았습니다. 아래 링크에서 7일 안에 이름·휴대전화번호·비밀번호를 "
                f"정하면 계정을 쓸 수 있습니다(가입할 때 적은 비밀번호는 더는 쓰이지 않습니다).\n\n{link}\n\n"
                "요청하지 않았다면 이 메일을 무시하셔도 됩니다.")
    audit.record("user.password_reset_requested", user, actor=None, summary="확인 전 계정의 비밀번호 찾기: 계정 설정 메일 발송")


def _send_already_registered(user: User) -> None:
    login = url_for("accounts.login", _external=True)
    forgot = url_for("accounts.forgot_password", _external=True)
    queue_email(user.email, "[공동육아 자조모임] 이미 가입된 주소입니다",
                "이 주소로 가입을 요청하셨지만 이미 가입이 끝난 주소입니다. 아래에서 로그인해 주세요.\n\n"
                f"{login}\n\n비밀번호가 기억나지 않으면: {forgot}\n\n요청하지 않았다면 이 메일을 무시하셔도 됩니다.")


def send_address_mail(user: User) -> None:
    """The one mail that moves an address on from where it stands: an account still to be set
    up (invited, or disowned) gets the set-up link, an unverified one the verification link,
    a finished one a reminder to sign in. A deactivated account gets nothing."""
    if not user.is_active:
        return
    if not user.has_password:
        _send_setup_link(user)
    elif not user.is_verified:
        _send_verification(user)
    else:
        _send_already_registered(user)


def request_signup(*, email: str, password: str, name: str, phone: str, ip: str) -> None:
    """Sign-up answers the same whatever the address: a new one gets an unverified account
    and the verification link; an address with an invitation or an unverified account gets
    its link again; a finished account a reminder. The caller shows one page for all."""
    note_attempt(email, ip, kind="verify")
    user = find_user_by_email(email)
    if user is None:
        user = register_applicant(email=email, password=password, name=name, phone=phone)
        _send_verification(user)
        return
    hash_password(password)  # the same work as a new account: no timing tells the address is known
    send_address_mail(user)
    audit.record("user.signup_repeated", user, actor=None, summary="가입된 주소로 다시 가입 요청: 안내 메일 발송")


def resend_address_mail(user: User, ip: str) -> None:
    note_attempt(user.email, ip, kind="verify")
    send_address_mail(user)


def verify_email(row: AuthToken) -> User:
    user = row.user
    consume_token(row)
    mark_verified(user)
    return user


def disown_signup(row: AuthToken) -> User:
    """The address's owner says they never signed up: the password someone else chose stops
    working, and the address can be set up by its owner through sign-up or an invitation."""
    user = row.user
    consume_token(row)
    if user.is_verified:
        raise AccountError("이미 확인을 마친 계정입니다. 비밀번호가 기억나지 않으면 비밀번호 찾기를 이용해 주세요.")
    user.password_hash = None
    # What the stranger typed goes too: the set-up form would offer their name and keep their
    # number as 'the number on file' when left empty.
    user.name, user.phone = "", None
    user.privacy_consent_at = user.privacy_consent_version = None
    user.session_version += 1
    audit.record("user.signup_disowned", user, actor=None, summary="주소의 주인이 가입하지 않았다고 알림: 비밀번호 무효화")
    return user
