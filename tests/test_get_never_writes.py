"""GET never writes (issue 12): every GET route of the access-control table, called as every
role on its shared world, leaves every table as it was — no INSERT, UPDATE or DELETE reaches
the database and no audit event is recorded. A row that an action needs is made by the POST of
that action, not by the first visit to its page."""
import re

import pytest
from sqlalchemy import event, func, select

from blueprints.core.audit import AuditEvent
from extensions import db
from tests.test_access_control import ROLES, ROUTES, world  # noqa: F401  (fixture)

GET_ROUTES = sorted(key for key in ROUTES if key[1] == "GET" and key[0] != "static")
WRITE_RE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|UPSERT)\b", re.IGNORECASE)

class WriteLog:
    """Every INSERT/UPDATE/DELETE sent to the database while it listens."""

    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if WRITE_RE.match(statement):
            self.statements.append(" ".join(statement.split())[:160])


def _counts():
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


@pytest.mark.parametrize("role", ROLES)
def test_get_never_writes(role, client, auth, world):  # noqa: F811
    """One role, every GET route (the world is built once a role: 8 worlds, not one a route)."""
    users, ids = world
    if role != "anon":
        auth.login(users[role].email)
    for key in GET_ROUTES:
        url = ROUTES[key][0].format(**ids)
        db.session.commit()
        before, events = _counts(), db.session.scalar(select(func.count(AuditEvent.id)))
        log = WriteLog()
        event.listen(db.engine, "before_cursor_execute", log)
        try:
            response = client.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", log)
        db.session.rollback()
        assert response.status_code < 500, (role, url, response.status_code)
        assert log.statements == [], f"GET {url} as {role} wrote: {log.statements}"
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events, (role, url)
        assert _counts() == before, (role, url)
