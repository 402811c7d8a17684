"""A 자조모임, its households (members) and their children (birth year-month only)."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.models import TimestampMixin, UTCDateTime, utcnow
from blueprints.core.search import SearchKeyed, trigram_index
from blueprints.core.states import State
from extensions import db

MEMBER_ROLE_LABELS = {"leader": "대표", "treasurer": "회계", "member": "구성원"}
STAFF_ROLES = frozenset({"staff", "finance", "admin"})


class GroupState(State):
    active = "active", "활동 중"
    inactive = "inactive", "비활성"


class GroupAffiliation(State):
    """Where the group meets and is counted (the city plan's 붙임1 counts 센터 and 나눔터 apart)."""
    centre = "centre", "육아종합지원센터"
    sharing = "sharing", "공동육아나눔터"
    other = "other", "기타"


class Group(SearchKeyed, TimestampMixin, db.Model):
    __tablename__ = "groups"
    audit_type = "group"
    # The search box finds a group by name, registration number and 동 (core/search.py).
    search_fields = ("name", "reg_no", "dong")
    __table_args__ = (GroupState.check_constraint("status", "known_status"),
                      GroupAffiliation.check_constraint("affiliation", "known_affiliation"),
                      trigram_index("groups"))

    id: Mapped[int] = mapped_column(primary_key=True)
    reg_no: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    district: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    dong: Mapped[str] = mapped_column(String(30), nullable=False, default="")
    meeting_place: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    activity_type: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    affiliation: Mapped[str] = mapped_column(String(16), nullable=False, default=GroupAffiliation.other,
                                             server_default=GroupAffiliation.other.value)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=GroupState.active)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Consents, each separate (PIPA 제15조·제17조): collection is required to register at all.
    consent_collection_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_provision_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_photos_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optional: the group's name may appear on the public results page (never members' data).
    consent_publish_name_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by `flask retention` once the members' contact data is destroyed (core/retention.py).
    contacts_anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    members: Mapped[list["GroupMember"]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupMember.id")

    def officer(self, role: str):
        return next((m for m in self.members if m.role == role), None)

    def member_for(self, user):
        return next((m for m in self.members if user is not None and m.user_id == user.id), None)

    def is_officer(self, user) -> bool:
        member = self.member_for(user)
        return member is not None and member.role in {"leader", "treasurer"}

    @property
    def leader(self):
        return self.officer("leader")

    @property
    def treasurer(self):
        return self.officer("treasurer")

    @property
    def status_label(self) -> str:
        return GroupState.title_of(self.status)

    @property
    def affiliation_label(self) -> str:
        return GroupAffiliation.title_of(self.affiliation)

    def can(self, user, action: str) -> bool:
        """Per-object rights. Staff see everything and may fix officers and status; a parent
        acts only on a group they belong to, and only officers act for the group."""
        member = self.member_for(user)
        is_staff = user.has_any_role(STAFF_ROLES)
        if action in {"view", "view_contacts", "view_history"} and is_staff:
            return True
        if action in {"view", "view_self", "delete_self"}:
            return member is not None
        if action in {"view_contacts", "view_history", "edit", "invite", "apply"}:
            return member is not None and member.role in {"leader", "treasurer"}
        # Only the 대표 (or staff) changes officers and whose account a household is.
        if action in {"handover_leader", "handover_treasurer", "unlink"}:
            return is_staff or (member is not None and member.role == "leader")
        if action in {"set_status", "set_affiliation"}:
            return user.has_any_role({"staff", "admin"})
        # The group's own consent: only its 대표 gives or withdraws it, never staff for them.
        if action == "consent_publish_name":
            return member is not None and member.role == "leader"
        # Where households live: the officers, or staff helping them on the phone.
        if action == "edit_residences":
            return user.has_any_role({"staff", "admin"}) or (member is not None and member.role in {"leader", "treasurer"})
        return False


class GroupMember(db.Model):
    """One household of the group, represented by a parent."""

    __tablename__ = "group_members"
    audit_type = "group_member"
    __table_args__ = (
        CheckConstraint("role IN ('leader', 'treasurer', 'member')", name="known_role"),
        UniqueConstraint("group_id", "user_id"),
        # One 대표 and one 회계 per group, guarded by the database (partial unique index).
        Index("uq_group_members_one_officer", "group_id", "role", unique=True,
              sqlite_where=text("role IN ('leader', 'treasurer')"),
              postgresql_where=text("role IN ('leader', 'treasurer')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    parent_name: Mapped[str] = mapped_column(String(50), nullable=False)
    phone: Mapped[str] = mapped_column(String(20), nullable=False, default="", index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="member")
    resident_district: Mapped[str | None] = mapped_column(String(20))
    # When the registering 대표 confirmed this household was told and agreed (PIPA 제15조).
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Last invitation e-mail sent so this parent can sign in and act for the group.
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group: Mapped[Group] = relationship(back_populates="members")
    user = relationship("User")
    children: Mapped[list["Child"]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="Child.birth_ym")

    @property
    def role_label(self) -> str:
        return MEMBER_ROLE_LABELS[self.role]


class Child(db.Model):
    __tablename__ = "children"
    __table_args__ = (CheckConstraint("length(birth_ym) = 7", name="birth_ym_format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("group_members.id", ondelete="CASCADE"), nullable=False, index=True)
    birth_ym: Mapped[str] = mapped_column(String(7), nullable=False)  # 'YYYY-MM', never a full date

    member: Mapped[GroupMember] = relationship(back_populates="children")


INVITATION_STATE_LABELS = {"pending": "수락 대기", "accepted": "수락함", "declined": "거절함", "cancelled": "취소됨"}


class MemberInvitation(db.Model):
    """An officer's invitation of an account to a household of the group.

    The household is linked to the account only when the account's owner, with a confirmed
    address, accepts it; until then nobody is a member on someone else's say-so."""

    __tablename__ = "member_invitations"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'accepted', 'declined', 'cancelled')", name="known_state"),
        CheckConstraint("(state = 'pending') = (decided_at IS NULL)", name="decided_when_not_pending"),
        # One open invitation per household: a new one replaces the old.
        Index("uq_member_invitations_one_pending", "member_id", unique=True,
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), nullable=False, index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("group_members.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group: Mapped[Group] = relationship()
    member: Mapped[GroupMember] = relationship()
    user = relationship("User", foreign_keys=[user_id])

    @property
    def state_label(self) -> str:
        return INVITATION_STATE_LABELS[self.state]

    def is_open(self, now=None) -> bool:
        return self.state == "pending" and self.expires_at > (now or utcnow())

    def can(self, user, action: str) -> bool:
        """Only the invited account answers its invitation."""
        if action in {"accept", "decline"}:
            return user.id == self.user_id
        return False


class PhoneCheck(db.Model):
    """A distinct mobile number a user checked against other groups' 대표 (registration step 2),
    kept as a keyed hash only, to rate-limit probing numbers."""

    __tablename__ = "phone_checks"
    __table_args__ = (Index("ix_phone_checks_user_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    phone_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class RegistrationDraft(db.Model):
    """What a parent typed in the registration wizard and the step they were on, kept on the
    server (never in the cookie: it holds other households' names and numbers) so that leaving
    the wizard loses nothing. One per account; gone when the group is registered, when they
    start again, or REGISTRATION_DRAFT_DAYS after the last save (`flask retention`)."""

    __tablename__ = "registration_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True)
    step: Mapped[int] = mapped_column(nullable=False, default=1)
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
