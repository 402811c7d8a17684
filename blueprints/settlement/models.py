"""Expenses (집행내역), activity results (활동실적), the settlement (정산) with its per-line
review, the refund (반환) and the background export jobs."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.awards.models import AwardState
from blueprints.core.models import Money, TimestampMixin, UTCDateTime, utcnow
from blueprints.core.states import State
from extensions import db


class ExpenseReviewState(State):
    """Finance's judgement of one expense line in the settlement review."""

    pending = "pending", "검토 전"
    recognised = "recognised", "인정"
    not_recognised = "not_recognised", "불인정"
    needs_fix = "needs_fix", "보완 요청"


class SettlementState(State):
    draft = "draft", "작성 중"
    submitted = "submitted", "제출"
    needs_changes = "needs_changes", "보완 요청"
    approved = "approved", "승인"
    closed = "closed", "종결"

    @classmethod
    def editable(cls) -> frozenset["SettlementState"]:
        """The group may change its spending and (re)submit."""
        return frozenset({cls.draft, cls.needs_changes})


class AttachmentKind(State):
    """A file kept with an expense besides its receipt (영수증: ``Expense.receipt``)."""

    book_list = "book_list", "도서목록"
    statement = "statement", "거래명세서"
    attendees = "attendees", "참석자 명단"
    other = "other", "기타"


class ExportJobState(State):
    queued = "queued", "대기 중"
    running = "running", "만드는 중"
    done = "done", "완료"
    failed = "failed", "실패"


def _in(column, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _group_of(award):
    return award.application.group


class ActivitySession(TimestampMixin, db.Model):
    """One session actually held (활동실적): feeds the results report."""

    __tablename__ = "activity_sessions"
    __table_args__ = (CheckConstraint("households >= 0 AND adults >= 0 AND children >= 0", name="counts_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), nullable=False, index=True)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    place: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    households: Mapped[int] = mapped_column(nullable=False, default=0)
    adults: Mapped[int] = mapped_column(nullable=False, default=0)
    children: Mapped[int] = mapped_column(nullable=False, default=0)
    outcome: Mapped[str] = mapped_column(Text, nullable=False, default="")

    award = relationship("Award")
    photos: Mapped[list["ActivityPhoto"]] = relationship(back_populates="session", cascade="all, delete-orphan",
                                                         order_by="ActivityPhoto.id")

    def can(self, user, action: str) -> bool:
        return expense_rights(self.award, user, action)


class ActivityPhoto(db.Model):
    __tablename__ = "activity_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id", ondelete="CASCADE"), nullable=False, index=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"), nullable=False)

    session: Mapped[ActivitySession] = relationship(back_populates="photos")
    stored_file = relationship("StoredFile", lazy="joined")


class Expense(TimestampMixin, db.Model):
    """One spending line with its receipt; finance staff judge it in the settlement review."""

    __tablename__ = "expenses"
    audit_type = "expense"
    __table_args__ = (
        UniqueConstraint("award_id", "seq"),
        CheckConstraint("amount_won > 0", name="amount_positive"),
        CheckConstraint("participants >= 0", name="participants_nonnegative"),
        CheckConstraint("hours IS NULL OR hours > 0", name="hours_positive"),
        CheckConstraint(_in("method", ("clean_card", "grant_check_card", "zeropay", "transfer", "cash")), name="known_method"),
        ExpenseReviewState.check_constraint("review_status", "known_review"),
        CheckConstraint("review_status IN ('pending', 'recognised') OR review_reason <> ''", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)          # 증빙번호, per award
    spent_on: Mapped[date] = mapped_column(Date, nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    vendor: Mapped[str] = mapped_column(String(100), nullable=False)
    biz_no: Mapped[str] = mapped_column(String(12), nullable=False, default="")
    description: Mapped[str] = mapped_column(String(300), nullable=False)
    amount_won: Mapped[int] = mapped_column(Money, nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    approval_no: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    cash_reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    evidence_kind: Mapped[str] = mapped_column(String(20), nullable=False, default="card_slip")
    participants: Mapped[int] = mapped_column(nullable=False, default=0)
    hours: Mapped[int | None] = mapped_column()
    session_id: Mapped[int | None] = mapped_column(ForeignKey("activity_sessions.id", ondelete="SET NULL"))
    receipt_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))
    hard_count: Mapped[int] = mapped_column(nullable=False, default=0)
    warn_count: Mapped[int] = mapped_column(nullable=False, default=0)
    review_status: Mapped[str] = mapped_column(String(16), nullable=False, default=ExpenseReviewState.pending)
    review_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    award = relationship("Award")
    session = relationship("ActivitySession")
    # The 영수증 stays a column of its own (settlement checks, PDF, line review, retention read
    # it); the other evidence files of the line are ExpenseAttachment rows with their kind.
    receipt = relationship("StoredFile", lazy="joined")
    attachments: Mapped[list["ExpenseAttachment"]] = relationship(
        back_populates="expense", cascade="all, delete-orphan", lazy="selectin",
        order_by="ExpenseAttachment.id")

    @property
    def review_label(self) -> str:
        return ExpenseReviewState.title_of(self.review_status)

    @property
    def method_label(self) -> str:
        from .checks import METHOD_LABELS

        return METHOD_LABELS.get(self.method, self.method)

    @property
    def evidence_no(self) -> str:
        return f"증빙-{self.seq:03d}"

    def can(self, user, action: str) -> bool:
        return expense_rights(self.award, user, action)

    @staticmethod
    def can_on(award, user) -> bool:
        """May ``user`` record spending for ``award`` now?"""
        return expense_rights(award, user, "edit")


class ExpenseAttachment(db.Model):
    """Another evidence file of an expense: 도서목록, 거래명세서, 참석자 명단, 기타."""

    __tablename__ = "expense_attachments"
    __table_args__ = (AttachmentKind.check_constraint("kind", "known_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expenses.id", ondelete="CASCADE"), nullable=False, index=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default=AttachmentKind.other)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    expense: Mapped[Expense] = relationship(back_populates="attachments")
    stored_file = relationship("StoredFile", lazy="joined")

    @property
    def kind_label(self) -> str:
        return AttachmentKind.title_of(self.kind)


class DeletedExpense(db.Model):
    """An expense just deleted, kept for its undo (되돌리기) until ``undo_until``: the line's
    values, judgement and files (the StoredFile rows stay while this row names them), so that
    undoing puts back the same line (same id and 증빙번호 when free). Purged once the time has
    passed (services.purge_deleted) and by retention."""

    __tablename__ = "deleted_expenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), nullable=False, index=True)
    expense_id: Mapped[int] = mapped_column(Integer, nullable=False)
    summary: Mapped[str] = mapped_column(String(400), nullable=False, default="")
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    undo_until: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


def expense_rights(award, user, action: str) -> bool:
    """The group's officers record and fix spending while the settlement is open; finance and
    programme staff read everything."""
    officer = _group_of(award).is_officer(user)
    if action == "view":
        return officer or user.has_any_role({"staff", "finance", "admin"})
    if action == "edit":
        settlement = getattr(award, "settlement", None)
        open_ = settlement is None or settlement.status in SettlementState.editable()
        return officer and award.status not in {AwardState.offered, AwardState.closed, AwardState.settled} and open_
    return False


class Settlement(TimestampMixin, db.Model):
    __tablename__ = "settlements"
    audit_type = "settlement"
    __table_args__ = (
        SettlementState.check_constraint("status", "known_status"),
        CheckConstraint("interest_won >= 0", name="interest_nonnegative"),
        CheckConstraint("(status IN ('approved', 'closed')) = (approved_at IS NOT NULL)", name="approved_has_time"),
        CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        CheckConstraint("refund_due_won IS NULL OR refund_due_won >= 0", name="refund_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="RESTRICT"), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=SettlementState.draft, index=True)
    report_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # False while the report is the draft made from the numbers (services.report_text drafts
    # it again at every reading); True once the group wrote its own, then report_basis holds
    # the numbers it was written against (the page says which changed since).
    report_edited: Mapped[bool] = mapped_column(nullable=False, default=False)
    report_basis: Mapped[dict | None] = mapped_column(JSON)
    interest_won: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    interest_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submission_count: Mapped[int] = mapped_column(nullable=False, default=0)
    is_late: Mapped[bool] = mapped_column(nullable=False, default=False)
    # The settlement as submitted (this time and the time before): the diff finance staff see.
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    previous_snapshot: Mapped[dict | None] = mapped_column(JSON)
    staff_message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recognised_won: Mapped[int | None] = mapped_column(Money)
    refund_due_won: Mapped[int | None] = mapped_column(Money)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reminded_on: Mapped[date | None] = mapped_column(Date)
    # Bumped by every change to the settlement or its lines: the PDF cache key.
    content_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Set by `flask retention` five years after closing: free text, receipts and photos gone.
    records_anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    award = relationship("Award", backref=db.backref("settlement", uselist=False), lazy="joined")
    interest_file = relationship("StoredFile")
    refund: Mapped["Refund | None"] = relationship(back_populates="settlement", uselist=False)
    approved_by = relationship("User", foreign_keys=[approved_by_id])

    @property
    def status_label(self) -> str:
        return SettlementState.title_of(self.status)

    @property
    def is_editable(self) -> bool:
        return self.status in SettlementState.editable()

    def can(self, user, action: str) -> bool:
        officer = _group_of(self.award).is_officer(user)
        finance = user.has_role("finance")
        if action == "view":
            return officer or user.has_any_role({"staff", "finance", "admin"})
        if action in {"edit", "submit"}:
            return officer and self.is_editable
        if action in {"review", "return", "approve"}:
            return finance and self.status == SettlementState.submitted
        if action == "record_refund":
            return finance and self.status == SettlementState.approved
        if action == "download_pdf":
            return officer or user.has_any_role({"staff", "finance"})
        return False


class Refund(db.Model):
    __tablename__ = "refunds"
    audit_type = "refund"
    __table_args__ = (CheckConstraint("amount_won >= 0", name="amount_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id", ondelete="RESTRICT"), unique=True, nullable=False)
    amount_won: Mapped[int] = mapped_column(Money, nullable=False)
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    depositor: Mapped[str] = mapped_column(String(120), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    settlement: Mapped[Settlement] = relationship(back_populates="refund")


class ExportJob(db.Model):
    """A background export (all settlement PDFs of a programme as one ZIP), polled for progress."""

    __tablename__ = "settlement_export_jobs"
    __table_args__ = (ExportJobState.check_constraint("status", "known_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=ExportJobState.queued)
    total: Mapped[int] = mapped_column(nullable=False, default=0)
    done: Mapped[int] = mapped_column(nullable=False, default=0)
    file_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def status_label(self) -> str:
        return ExportJobState.title_of(self.status)

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == ExportJobState.done else 0)

    def can(self, user, action: str) -> bool:
        return user.has_role("finance") and self.created_by_id in {user.id, None} or user.has_role("finance")
