"""An award: the selected application, the amount decided, its rank and conditions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.models import Money, TimestampMixin, UTCDateTime
from blueprints.core.states import State
from extensions import db


class AwardState(State):
    offered = "offered", "교부결정 통지"
    accepted = "accepted", "수락"
    paid = "paid", "교부"
    settling = "settling", "정산 중"
    settled = "settled", "정산 완료"
    closed = "closed", "종료"


class Award(TimestampMixin, db.Model):
    __tablename__ = "awards"
    audit_type = "award"
    __table_args__ = (
        CheckConstraint("amount_won > 0", name="amount_positive"),
        AwardState.check_constraint("status", "known_status"),
        CheckConstraint("rank > 0", name="rank_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="RESTRICT"), unique=True, nullable=False)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="RESTRICT"), nullable=False, index=True)
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("selection_scenarios.id", ondelete="SET NULL"))
    amount_won: Mapped[int] = mapped_column(Money, nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=AwardState.offered)
    conditions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    application = relationship("Application", lazy="joined")
    programme = relationship("Programme")

    @property
    def status_label(self) -> str:
        return AwardState.title_of(self.status)

    def can(self, user, action: str) -> bool:
        if action == "view":
            return self.application.group.is_officer(user) or user.has_any_role({"staff", "finance"})
        return False
