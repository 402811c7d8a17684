"""An application (신청서): one per group per programme, its activity plan, budget plan and
attachments. The submitted version is frozen as a snapshot for review and the PDF."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.models import Money, TimestampMixin, UTCDateTime, utcnow
from blueprints.core.states import State
from blueprints.groups.models import Group
from extensions import db


class ApplicationState(State):
    draft = "draft", "작성중"
    submitted = "submitted", "제출"
    returned = "returned", "보완 요청"
    under_review = "under_review", "심사중"
    selected = "selected", "선정"
    not_selected = "not_selected", "미선정"
    withdrawn = "withdrawn", "철회"
    ineligible = "ineligible", "부적격"

    @classmethod
    def editable(cls) -> frozenset["ApplicationState"]:
        """The applicant may change and (re)submit the application."""
        return frozenset({cls.draft, cls.returned})

    @classmethod
    def lodged(cls) -> frozenset["ApplicationState"]:
        """Submitted to staff, whatever happened since (returned for changes, reviewed,
        decided, found ineligible) — every state but a draft and a withdrawal."""
        return frozenset(cls) - {cls.draft, cls.withdrawn}


class Application(TimestampMixin, db.Model):
    __tablename__ = "applications"
    audit_type = "application"
    __table_args__ = (
        UniqueConstraint("group_id", "programme_id"),
        ApplicationState.check_constraint("status", "known_status"),
        CheckConstraint("requested_won >= 0", name="requested_nonnegative"),
        CheckConstraint("(status IN ('draft', 'withdrawn')) OR submitted_at IS NOT NULL", name="submitted_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), nullable=False, index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="RESTRICT"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ApplicationState.draft, index=True)
    purpose: Mapped[str] = mapped_column(Text, nullable=False, default="")
    need: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # 중복지원 신고: None = not answered yet, False = no other public funding, True = declared.
    other_funding: Mapped[bool | None] = mapped_column()
    other_funding_detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
    requested_won: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    warning_count: Mapped[int] = mapped_column(nullable=False, default=0)
    # Optimistic locking: every save bumps it; a save based on an older version is refused.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Per section: the version its last save produced and which open form (a random id per
    # page view) made it. A save conflicts only with a later save of the same section by
    # another form; its own autosaves overtaking each other, or another section, never do.
    section_marks: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submission_count: Mapped[int] = mapped_column(nullable=False, default=0)
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    staff_message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __mapper_args__ = {"version_id_col": version}

    group = relationship("Group", lazy="joined")
    # Not joined: every row would decode the programme's rules JSON (~13 KB) again; a lazy load
    # finds the programme already in the session (one query per programme, not per row).
    programme = relationship("Programme")
    sessions: Mapped[list["PlannedSession"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="PlannedSession.position")
    lines: Mapped[list["BudgetLine"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="BudgetLine.position")
    attachments: Mapped[list["ApplicationAttachment"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationAttachment.id")

    @property
    def status_label(self) -> str:
        return ApplicationState.title_of(self.status)

    @property
    def is_editable(self) -> bool:
        return self.status in ApplicationState.editable()

    def can(self, user, action: str) -> bool:
        officer = self.group.is_officer(user)
        if action == "view":
            return officer or user.has_any_role({"staff", "finance", "admin"})
        if action in {"edit", "submit"}:
            return officer and self.is_editable
        if action == "withdraw":
            return officer and self.status in {ApplicationState.draft, ApplicationState.submitted, ApplicationState.returned}
        if action in {"return", "mark_ineligible"}:
            return user.has_role("staff") and self.status in {ApplicationState.submitted, ApplicationState.under_review}
        if action == "download_pdf":
            return (officer or user.has_any_role({"staff", "finance"})) and self.snapshot is not None
        return False


class PlannedSession(db.Model):
    """One planned activity (활동계획): at least one a month across the activity period."""

    __tablename__ = "planned_sessions"
    __table_args__ = (
        CheckConstraint("expected_households >= 0 AND expected_children >= 0", name="counts_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    month: Mapped[str] = mapped_column(String(7), nullable=False, default="")  # 'YYYY-MM'
    title: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    place: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    expected_households: Mapped[int] = mapped_column(nullable=False, default=0)
    expected_children: Mapped[int] = mapped_column(nullable=False, default=0)

    application: Mapped[Application] = relationship(back_populates="sessions")


class BudgetLine(db.Model):
    """A budget plan line: unit price × quantity = amount, all in 원."""

    __tablename__ = "budget_lines"
    __table_args__ = (
        CheckConstraint("unit_price_won >= 0 AND quantity >= 0", name="nonnegative"),
        CheckConstraint("amount_won = unit_price_won * quantity", name="amount_is_product"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    category: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    item: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    unit_price_won: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    quantity: Mapped[int] = mapped_column(nullable=False, default=0)
    amount_won: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    note: Mapped[str] = mapped_column(String(300), nullable=False, default="")

    application: Mapped[Application] = relationship(back_populates="lines")


class ApplicationAttachment(db.Model):
    __tablename__ = "application_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    application: Mapped[Application] = relationship(back_populates="attachments")
    stored_file = relationship("StoredFile", lazy="joined")


class DraftConflict(db.Model):
    """A save that lost an optimistic-locking race: the person's version is kept, not dropped."""

    __tablename__ = "draft_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    section: Mapped[str] = mapped_column(String(16), nullable=False)
    based_on_version: Mapped[int] = mapped_column(nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


# The group page lists the group's applications: the link is declared here, since applications
# depends on groups and not the other way round. Read-only; applications are written as such.
Group.applications = relationship(Application, viewonly=True, order_by=Application.id.desc())
