"""The one commit per request, then what must happen only after it (mail delivery)."""
from flask import abort, g

from extensions import db

from .mail import deliver_pending


def commit() -> None:
    db.session.commit()
    if g.pop("mail_queued", False):
        deliver_pending()


def get_or_404(model, ident):
    """Fetch by primary key or answer 404 (the object check comes after, via authorize)."""
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj
