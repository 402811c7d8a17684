"""A programme (공모사업): one funding round with its dates, budget and rules as data."""
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.models import Money, TimestampMixin, UTCDateTime, utcnow
from blueprints.core.states import State
from extensions import db


class ProgrammeState(State):
    """Set-up state, kept in ``rules["status"]``: a draft is seen by staff only."""

    draft = "draft", "초안"
    published = "published", "공개"


class Programme(TimestampMixin, db.Model):
    __tablename__ = "programmes"
    audit_type = "programme"
    __table_args__ = (
        UniqueConstraint("year", "title"),
        CheckConstraint("closes_at > opens_at", name="window_order"),
        CheckConstraint("activity_end >= activity_start", name="activity_order"),
        CheckConstraint("budget_total_won >= 0", name="budget_nonnegative"),
        CheckConstraint("max_per_group_won >= 0", name="max_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    year: Mapped[int] = mapped_column(nullable=False, index=True)
    operator: Mapped[str] = mapped_column(String(120), nullable=False)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    review_from: Mapped[date | None] = mapped_column(Date)
    review_to: Mapped[date | None] = mapped_column(Date)
    activity_start: Mapped[date] = mapped_column(Date, nullable=False)
    activity_end: Mapped[date] = mapped_column(Date, nullable=False)
    settlement_due: Mapped[date] = mapped_column(Date, nullable=False)
    budget_total_won: Mapped[int] = mapped_column(Money, nullable=False)
    max_per_group_won: Mapped[int] = mapped_column(Money, nullable=False)
    # Eligibility, tiers, categories, prohibited items, rubric…: staff-edited data, not code.
    rules: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # When the selection results were published (set by the awards' publication). Kept on the
    # programme so that applying and the schedule can ask without reaching up into review.
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Declared here, not as a backref: a backref exists only once the mappers are configured,
    # so the first request of a fresh process could not name Programme.notices in a query.
    notices: Mapped[list["ProgrammeNotice"]] = relationship(back_populates="programme")

    # Draft or published lives in rules["status"] (the schema is fixed); a programme made
    # outside the set-up screens (demo data, old rows) has no status and counts as published.
    @property
    def status(self) -> str:
        return (self.rules or {}).get("status", ProgrammeState.published)

    @property
    def is_published(self) -> bool:
        return self.status == ProgrammeState.published

    @property
    def results_published(self) -> bool:
        """Once the selection results are out, nobody applies or submits to the programme any
        more, even if its window is opened again."""
        return self.results_published_at is not None

    def is_open(self, at: datetime | None = None) -> bool:
        at = at or utcnow()
        return self.opens_at <= at < self.closes_at

    def window_opened(self, at: datetime | None = None) -> bool:
        return (at or utcnow()) >= self.opens_at

    def is_closed(self, at: datetime | None = None) -> bool:
        return (at or utcnow()) >= self.closes_at

    @property
    def changes_need_reason(self) -> bool:
        """Applicants may have relied on the rules: changes need a written reason and a notice."""
        return self.is_published and self.window_opened()

    def can(self, user, action: str) -> bool:
        if action == "view":
            return self.is_published or user.has_role("staff")
        if action in {"edit", "copy", "publish"}:
            return user.has_role("staff")
        return False


class ProgrammeNotice(db.Model):
    """A change to an open programme's rules, with the staff member's written reason;
    applicants see these on the programme page."""

    __tablename__ = "programme_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(String(300), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)

    programme: Mapped[Programme] = relationship(back_populates="notices")
