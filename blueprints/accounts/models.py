"""People, their roles, one-time tokens and login attempts."""
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.auth import ROLE_LABELS, ROLES
from blueprints.core.models import TimestampMixin, UTCDateTime, utcnow
from blueprints.core.search import SearchKeyed, trigram_index
from extensions import db

CONSENT_VERSION = "2027-01"
SECOND_FACTOR_ROLES = frozenset({"staff", "finance", "admin", "city"})
_ROLE_CHECK = "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")"


class User(SearchKeyed, TimestampMixin, db.Model):
    __tablename__ = "users"
    audit_type = "user"
    # The user and audit searches find a person by e-mail and name (core/search.py).
    search_fields = ("email", "name")
    __table_args__ = (trigram_index("users"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True, nullable=False)
    # Bumped on password change: sessions signed with an older value stop working.
    session_version: Mapped[int] = mapped_column(default=1, nullable=False)
    privacy_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    privacy_consent_version: Mapped[str | None] = mapped_column(String(20))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by `flask retention`: deactivated, e-mail/name/phone scrubbed, row kept for foreign keys.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Second factor (TOTP, RFC 6238): the shared secret once enrolment is confirmed, and the last
    # 30-second step a code was accepted for (a code is never accepted twice).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # When the owner proved the address (verification link, invitation link or password reset
    # link). Until then the account can't be linked to a group nor be granted a role.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    role_rows: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin",
        foreign_keys="UserRole.user_id",
    )

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_any_role(self, roles) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS[r] for r in ROLES if r in self.roles]

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def second_factor_required(self) -> bool:
        """Staff, finance and admin must use a second factor; anyone who turned it on, too."""
        return self.has_any_role(SECOND_FACTOR_ROLES) or self.has_second_factor

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def can(self, user, action: str) -> bool:
        if action == "view":
            return user.id == self.id or user.has_role("admin")
        if action in {"grant_role", "revoke_role", "deactivate", "reset_second_factor"}:
            return user.has_role("admin")
        return False

    def __repr__(self):
        return f"<User {self.id}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role"),
        CheckConstraint(_ROLE_CHECK, name="known_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="role_rows", foreign_keys=[user_id])


class AuthToken(db.Model):
    """A single-use, expiring token (password reset, invitation, address verification).
    Only its hash is stored."""

    __tablename__ = "auth_tokens"
    __table_args__ = (CheckConstraint("purpose IN ('reset', 'invite', 'verify')", name="known_purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """Failed sign-ins (and reset requests), counted per account and per IP for throttling."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "created_at"),
        Index("ix_login_attempts_ip_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="login")
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    ip: Mapped[str] = mapped_column(String(45), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


# Server-side sessions and the second factor ------------------------------------------------

class UserSession(db.Model):
    """One signed-in browser. The signed cookie carries a random id whose hash is stored here;
    logging out, a password change, deactivation or a second-factor reset revoke the row, and a
    copied cookie then leads nowhere. Read once per request with the user and roles."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # When this session passed the second factor (None: password only).
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A one-time code for when the authenticator app is lost. Shown once; only a hash is kept."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
