"""The audit trail: one event per state change, written in the same transaction.

Services call ``record(...)`` after they mutate; the view's single commit persists the
change and its event together, or neither.
"""
import json
from datetime import datetime

from flask import g, has_request_context, request
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .models import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(String(40), nullable=False)
    object_id: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    summary: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # JSON text of {"before": {...}, "after": {...}}: short, never passwords or full phone numbers.
    changes: Mapped[str | None] = mapped_column(Text)

    actor = relationship("User", lazy="joined")

    @property
    def changes_dict(self) -> dict:
        return json.loads(self.changes) if self.changes else {}


def client_ip() -> str | None:
    if not has_request_context():
        return None
    return request.remote_addr


def record(action: str, obj=None, *, object_type: str | None = None, object_id=None,
           summary: str = "", before: dict | None = None, after: dict | None = None,
           actor=None) -> AuditEvent:
    """Add an audit event to the current session (the caller's transaction)."""
    if actor is None and has_request_context():
        actor = getattr(g, "user", None)
    if obj is not None:
        object_type = object_type or getattr(obj, "audit_type", None) or obj.__tablename__
        if object_id is None:
            db.session.flush()  # make sure a new object has its id
            object_id = obj.id
    changes = None
    if before is not None or after is not None:
        changes = json.dumps({"before": before or {}, "after": after or {}},
                             ensure_ascii=False, default=str)
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type or "system",
        object_id=str(object_id) if object_id is not None else None,
        ip=client_ip(),
        summary=summary,
        changes=changes,
    )
    db.session.add(event)
    return event
