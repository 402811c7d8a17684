"""Review: per-programme review settings, reviewer profiles, assignments, declared conflicts,
score rows (one per assignment and criterion), selection scenarios and reminders sent."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, event, inspect, select, text)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from blueprints.applications.models import ApplicationState
from blueprints.core.models import Money, TimestampMixin, UTCDateTime, utcnow
from blueprints.core.states import State
from blueprints.core.timeutil import end_of_day_kst
from blueprints.programmes.models import Programme
from extensions import db

DECLINE_KINDS = {"conflict": "이해충돌", "unavailable": "일정 등 사정"}
STAFF = "staff"


class AssignmentState(State):
    assigned = "assigned", "심사 중"
    declined = "declined", "거절"
    submitted = "submitted", "제출 완료"


class ScenarioState(State):
    draft = "draft", "검토 중"
    published = "published", "결과 공개"


class ReviewSettings(db.Model):
    """Review rules that the programme's rules JSON does not hold yet; one row per programme."""

    __tablename__ = "review_settings"
    __table_args__ = (
        CheckConstraint("comment_rule IN ('always', 'below')", name="known_comment_rule"),
        CheckConstraint("aggregate IN ('mean', 'trimmed_mean')", name="known_aggregate"),
        CheckConstraint("comment_below_pct BETWEEN 0 AND 100", name="pct_range"),
        CheckConstraint("disagreement_points >= 0 AND calibration_points >= 0", name="thresholds_nonnegative"),
        CheckConstraint("remind_days_before >= 0", name="remind_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), unique=True, nullable=False)
    blind: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    comment_rule: Mapped[str] = mapped_column(String(16), nullable=False, default="below")
    comment_below_pct: Mapped[int] = mapped_column(Integer, nullable=False, default=60)
    aggregate: Mapped[str] = mapped_column(String(16), nullable=False, default="mean")
    disagreement_points: Mapped[int] = mapped_column(Integer, nullable=False, default=20)
    calibration_points: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    same_dong_rule: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remind_days_before: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    programme = relationship("Programme")
    audit_type = "review_settings"


def default_deadline(review_to: date | None) -> datetime | None:
    return end_of_day_kst(review_to) if review_to else None


def new_settings(programme: Programme) -> ReviewSettings:
    """A programme's review settings from its rules and review dates."""
    rule = str(((programme.rules or {}).get("review") or {}).get("aggregate", ""))
    return ReviewSettings(programme=programme, aggregate="trimmed_mean" if "trimmed" in rule else "mean",
                          deadline=default_deadline(programme.review_to))


@event.listens_for(Session, "before_flush")
def _settings_with_the_programme(session, _context, _instances):
    """Every programme gets its review settings row in the flush that inserts it, however it
    is made (set-up screens, copy, demo), so no page has to create one. Until staff set
    another deadline, the deadline follows the programme's review end date."""
    with session.no_autoflush:
        for obj in list(session.new):
            if isinstance(obj, Programme):
                session.add(new_settings(obj))
        for obj in list(session.dirty):
            history = inspect(obj).attrs.review_to.history if isinstance(obj, Programme) else None
            if history is None or not history.deleted or not history.added:
                continue
            settings = session.scalar(select(ReviewSettings).where(ReviewSettings.programme_id == obj.id))
            if settings is not None and settings.deadline == default_deadline(history.deleted[0]):
                settings.deadline = default_deadline(obj.review_to)


class ReviewerProfile(db.Model):
    """Where a reviewer lives (for the optional same-동 rule); staff keep it."""

    __tablename__ = "reviewer_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False)
    district: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    dong: Mapped[str] = mapped_column(String(30), nullable=False, default="")
    affiliation: Mapped[str] = mapped_column(String(100), nullable=False, default="")

    user = relationship("User")


class ReviewAssignment(TimestampMixin, db.Model):
    __tablename__ = "review_assignments"
    audit_type = "review_assignment"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id"),
        AssignmentState.check_constraint("status", "known_status"),
        CheckConstraint("(status = 'declined') = (decline_kind IS NOT NULL)", name="declined_has_kind"),
        CheckConstraint("status <> 'declined' OR length(decline_reason) > 0", name="declined_has_reason"),
        CheckConstraint("decline_kind IS NULL OR decline_kind IN ('conflict', 'unavailable')", name="known_decline"),
        CheckConstraint("(status = 'submitted') = (submitted_at IS NOT NULL)", name="submitted_has_time"),
        Index("ix_review_assignments_reviewer_status", "reviewer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), nullable=False, index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=AssignmentState.assigned)
    decline_kind: Mapped[str | None] = mapped_column(String(16))
    decline_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    auto: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    application = relationship("Application", lazy="joined")
    reviewer = relationship("User", foreign_keys=[reviewer_id], lazy="joined")
    scores: Mapped[list["Score"]] = relationship(back_populates="assignment", cascade="all, delete-orphan",
                                                 order_by="Score.id")

    @property
    def status_label(self) -> str:
        return AssignmentState.title_of(self.status)

    @property
    def is_locked(self) -> bool:
        return self.status != AssignmentState.assigned

    @property
    def total(self) -> int:
        return sum(s.score for s in self.scores if s.score is not None)

    def score_for(self, code: str):
        return next((s for s in self.scores if s.criterion == code), None)

    def can(self, user, action: str) -> bool:
        mine = user.id == self.reviewer_id and user.has_role("reviewer")
        if action == "view":
            return mine and self.status != AssignmentState.declined or user.has_role(STAFF)
        if action in {"score", "decline"}:
            return mine and self.status == AssignmentState.assigned and self.application.status == ApplicationState.under_review
        if action == "reopen":
            return user.has_role(STAFF) and self.status == AssignmentState.submitted and self.application.status == ApplicationState.under_review
        if action == "unassign":
            return user.has_role(STAFF) and self.status != AssignmentState.submitted and self.application.status == ApplicationState.under_review
        return False


class ConflictDeclaration(db.Model):
    """A declared conflict (제척·기피·회피) of a reviewer with an application, with its reason."""

    __tablename__ = "conflict_declarations"
    audit_type = "conflict_declaration"
    __table_args__ = (
        UniqueConstraint("reviewer_id", "application_id"),
        CheckConstraint("kind IN ('exclusion', 'challenge', 'recusal')", name="known_kind"),
        CheckConstraint("length(reason) > 0", name="has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    reviewer = relationship("User", foreign_keys=[reviewer_id])


class Score(db.Model):
    """One reviewer's score for one rubric criterion (0..max), with the comment."""

    __tablename__ = "review_scores"
    __table_args__ = (
        UniqueConstraint("assignment_id", "criterion"),
        CheckConstraint("score IS NULL OR score >= 0", name="score_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignments.id", ondelete="CASCADE"), nullable=False)
    criterion: Mapped[str] = mapped_column(String(40), nullable=False)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="scores")


class SelectionScenario(db.Model):
    """One run of the selection simulator, with staff adjustments; at most one is published."""

    __tablename__ = "selection_scenarios"
    audit_type = "selection_scenario"
    __table_args__ = (
        ScenarioState.check_constraint("status", "known_status"),
        CheckConstraint("quota_per_district IS NULL OR quota_per_district > 0", name="quota_positive"),
        CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name="published_has_time"),
        Index("uq_selection_scenarios_one_published", "programme_id", unique=True,
              sqlite_where=text("status = 'published'"), postgresql_where=text("status = 'published'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    quota_per_district: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ScenarioState.draft)
    # application id -> aggregate as text, when the scenario was made: publishing refuses if scores moved since.
    basis: Mapped[dict] = mapped_column(db.JSON, nullable=False, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    share_feedback: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    conditions: Mapped[str] = mapped_column(Text, nullable=False, default="")

    entries: Mapped[list["SelectionEntry"]] = relationship(back_populates="scenario", cascade="all, delete-orphan",
                                                           order_by="SelectionEntry.rank")
    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def status_label(self) -> str:
        return ScenarioState.title_of(self.status)

    @property
    def total_selected_won(self) -> int:
        return sum(e.amount_won for e in self.entries if e.selected)

    @property
    def selected_count(self) -> int:
        return sum(1 for e in self.entries if e.selected)


class SelectionEntry(db.Model):
    """One application in a scenario: what the simulator proposed and what staff decided.
    Any difference from the simulator needs a written reason (guarded by the database)."""

    __tablename__ = "selection_entries"
    audit_type = "selection_entry"
    __table_args__ = (
        UniqueConstraint("scenario_id", "application_id"),
        CheckConstraint("amount_won >= 0 AND proposed_won >= 0", name="amounts_nonnegative"),
        CheckConstraint("NOT selected OR amount_won > 0", name="selected_has_amount"),
        CheckConstraint("(selected = auto_selected AND amount_won = proposed_won) OR length(reason) > 0",
                        name="adjustment_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("selection_scenarios.id", ondelete="CASCADE"), nullable=False, index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[str] = mapped_column(String(20), nullable=False, default="")  # the aggregate shown, e.g. "78.33"
    passes: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    auto_selected: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    proposed_won: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    selected: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    amount_won: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    scenario: Mapped[SelectionScenario] = relationship(back_populates="entries")
    application = relationship("Application", lazy="joined")

    @property
    def adjusted(self) -> bool:
        return self.selected != self.auto_selected or self.amount_won != self.proposed_won


class ReminderLog(db.Model):
    """A deadline reminder e-mailed to a reviewer for a programme on a day (one per day)."""

    __tablename__ = "review_reminders"
    __table_args__ = (UniqueConstraint("programme_id", "reviewer_id", "sent_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), nullable=False)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    sent_on: Mapped[date] = mapped_column(Date, nullable=False)
    open_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
