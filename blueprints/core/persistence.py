"""The one commit per request, then what must happen only after it (mail delivery); and the
row lock that makes concurrent requests on one object take turns."""
from flask import abort, flash, g
from sqlalchemy import inspect, select, text
from werkzeug.routing import IntegerConverter

from extensions import db

from .mail import deliver_pending


def commit() -> None:
    db.session.commit()
    if g.pop("mail_queued", False):
        deliver_pending()


def commit_change(change, refusal: type[Exception], *, errors: list | None = None) -> bool:
    """Run a button's state change and commit it. When the domain refuses (raises ``refusal``)
    nothing is kept and its message is shown: flashed, or added to ``errors`` (a field's
    list). True when the change was committed."""
    try:
        change()
    except refusal as exc:
        db.session.rollback()
        if errors is None:
            flash(str(exc), "error")
        else:
            errors.append(str(exc))
        return False
    commit()
    return True


MAX_ID = 2_147_483_647   # a database INTEGER (PostgreSQL refuses a parameter past it: a 500)


class IdConverter(IntegerConverter):
    """``<int:…>`` in every URL: an id past the database's INTEGER does not match the route
    (404), rather than reaching PostgreSQL as 'integer out of range' (500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def id_arg(value) -> int | None:
    """An id from a query string or form (``request.args.get(…, type=int)``), or None when it
    cannot be one (past INTEGER, zero or negative): a filter on it then matches nothing known."""
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


def get_or_404(model, ident):
    """Fetch by primary key or answer 404 (the object check comes after, via authorize)."""
    if isinstance(ident, int) and not -MAX_ID - 1 <= ident <= MAX_ID:
        abort(404)
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def lock_row(model, ident):
    """Hold the row until the commit and read it (and what it eager-loads) fresh: a second
    request for the same object waits here, then sees what the first one did.

    PostgreSQL: SELECT … FOR UPDATE OF the row. SQLite has no row locks: a no-op UPDATE of the
    row takes the database's write lock instead (other writers wait, busy_timeout), so the
    checks after it read committed data there too. Returns None when there is no such row."""
    db.session.flush()
    key = inspect(model).primary_key[0]
    if db.session.get_bind().dialect.name == "sqlite":
        table = model.__table__.name
        db.session.execute(text(f'UPDATE "{table}" SET "{key.name}" = "{key.name}" WHERE "{key.name}" = :ident'),
                           {"ident": ident})
    return db.session.scalar(select(model).where(key == ident).with_for_update(of=model)
                             .execution_options(populate_existing=True))
