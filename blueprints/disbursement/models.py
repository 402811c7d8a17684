"""A disbursement: the accepted award with its grant account and payment schedule, and the
payments made against it.

The sum of payments never exceeds the award, enforced by the database: ``paid_won`` is
raised by the same statement that records a payment (``UPDATE … SET paid_won = paid_won +
:amount``) and a CHECK keeps ``paid_won <= amount_won``. An instalment may be paid in parts
(100,000원 now, the rest later) up to its amount in the schedule; what is unpaid stays
payable. A payment is recorded once: its idempotency key, made by the server for one payment
form of one disbursement, is unique per disbursement.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.models import Money, TimestampMixin, UTCDateTime, utcnow
from extensions import db

BANKS = ["KB국민은행", "신한은행", "우리은행", "하나은행", "NH농협은행", "IBK기업은행", "SC제일은행",
         "카카오뱅크", "토스뱅크", "케이뱅크", "새마을금고", "신협", "우체국", "수협은행", "부산은행", "대구은행"]


class Disbursement(TimestampMixin, db.Model):
    __tablename__ = "disbursements"
    audit_type = "disbursement"
    __table_args__ = (
        CheckConstraint("amount_won > 0", name="amount_positive"),
        CheckConstraint("paid_won >= 0 AND paid_won <= amount_won", name="paid_within_award"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="RESTRICT"), unique=True, nullable=False)
    amount_won: Mapped[int] = mapped_column(Money, nullable=False)
    paid_won: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    bank: Mapped[str] = mapped_column(String(40), nullable=False)
    account_number: Mapped[str] = mapped_column(String(30), nullable=False)   # digits only
    account_holder: Mapped[str] = mapped_column(String(60), nullable=False)
    # [{"instalment": 1, "amount_won": 560000, "after": null | "mid_check"}, …]
    schedule: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    mid_check_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    award = relationship("Award", backref=db.backref("disbursement", uselist=False), lazy="joined")
    payments: Mapped[list["Payment"]] = relationship(back_populates="disbursement",
                                                     order_by="[Payment.instalment, Payment.id]")

    @property
    def masked_account(self) -> str:
        digits = self.account_number
        if len(digits) <= 4:
            return "*" * len(digits)
        return "*" * (len(digits) - 4) + digits[-4:]

    @property
    def unpaid_won(self) -> int:
        return self.amount_won - self.paid_won

    def instalments(self) -> list[dict]:
        """The schedule with what was paid on each instalment and what is left of it:
        [{instalment, after, planned, paid, left, payments}]."""
        rows = []
        for step in self.schedule:
            mine = [p for p in self.payments if p.instalment == step["instalment"]]
            paid = sum(p.amount_won for p in mine)
            rows.append(dict(instalment=step["instalment"], after=step.get("after"), planned=step["amount_won"],
                             paid=paid, left=step["amount_won"] - paid, payments=mine))
        return rows

    def next_instalment(self) -> dict | None:
        """The first instalment not paid in full (a row of ``instalments()``)."""
        return next((row for row in self.instalments() if row["left"] > 0), None)

    def can(self, user, action: str) -> bool:
        return self.award.can(user, action) if action == "view" else False


class Payment(db.Model):
    __tablename__ = "payments"
    audit_type = "payment"
    __table_args__ = (
        # The key comes from the server's payment form of this disbursement (services.new_payment_key).
        UniqueConstraint("disbursement_id", "idempotency_key"),
        CheckConstraint("amount_won > 0", name="amount_positive"),
        CheckConstraint("instalment >= 1", name="instalment_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    disbursement_id: Mapped[int] = mapped_column(ForeignKey("disbursements.id", ondelete="RESTRICT"), nullable=False, index=True)
    instalment: Mapped[int] = mapped_column(Integer, nullable=False)
    amount_won: Mapped[int] = mapped_column(Money, nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    reference: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    idempotency_key: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    disbursement: Mapped[Disbursement] = relationship(back_populates="payments")
    recorded_by = relationship("User")
