"""E-mail goes to an outbox table inside the caller's transaction, and is delivered after
the commit: to SMTP when MAIL_SERVER is set, otherwise to the console log (development).
A later notifier (SMS, KakaoTalk) can read the same outbox."""
import smtplib
from datetime import datetime
from email.message import EmailMessage

from flask import current_app, g, has_request_context
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db

from .models import UTCDateTime, utcnow
from .states import State


class OutboxState(State):
    pending = "pending", "발송 대기"
    sent = "sent", "발송 완료"
    failed = "failed", "발송 실패"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    channel: Mapped[str] = mapped_column(String(16), default="email", nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=OutboxState.pending, nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


def queue_email(recipient: str, subject: str, body: str) -> OutboxMessage:
    message = OutboxMessage(recipient=recipient, subject=subject, body=body)
    db.session.add(message)
    if has_request_context():
        g.mail_queued = True  # core.db.commit() delivers after the transaction
    return message


def deliver_pending(limit: int = 50) -> int:
    """Send what is waiting in the outbox. Safe to call after every commit; a failed
    delivery stays pending with its error and is tried again next time."""
    pending = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxState.pending).order_by(OutboxMessage.id).limit(limit)
    ).all()
    sent = 0
    for message in pending:
        message.attempts += 1
        try:
            _deliver(message)
        except Exception as exc:  # noqa: BLE001 - a broken mailer must never undo committed work
            current_app.logger.warning("메일 발송 실패(outbox #%s): %s", message.id, type(exc).__name__)
            message.last_error = str(exc)[:500]
            if message.attempts >= 5:
                message.status = OutboxState.failed
        else:
            message.status = OutboxState.sent
            message.sent_at = utcnow()
            sent += 1
    db.session.commit()
    return sent


def _deliver(message: OutboxMessage) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        # Development: the console is the mailbox. The recipient is shown; nothing else personal.
        current_app.logger.info("메일(개발용 출력) → %s\n제목: %s\n%s", message.recipient, message.subject, message.body)
        return
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)
