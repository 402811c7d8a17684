"""No N+1: each page runs the same number of SQL statements whatever the data size.
(A count, not a time — the timings are in bench/.)"""
import contextlib

import pytest
from sqlalchemy import event

from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.review.conftest import make_reviewers, scored, spread, staff, submitted  # noqa: F401


@contextlib.contextmanager
def count_queries():
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def queries(client, url, method="GET", **kwargs):
    client.get("/privacy")  # warm the session (CSRF token) outside the count
    with count_queries() as statements:
        response = client.open(url, method=method, **kwargs)
    assert response.status_code < 400, (url, response.status_code)
    return len(statements)


PAGES = {
    "staff application list": ("staff", "/applications/programme/{programme}?sort=requested&page=1"),
    "application page": ("staff", "/applications/{app}"),
    "budget step": ("leader", "/applications/{app}/edit/budget"),
    "reviewer queue": ("reviewer", "/review/mine"),
    "score matrix": ("staff", "/review/programme/{programme}/matrix"),
    "score matrix (filtered, sorted, all reviewers)": (
        "staff", "/review/programme/{programme}/matrix?district=마포구&status=complete&min_spread=0&sort=spread"
                 "&calibration=all"),
    "ranking": ("staff", "/review/programme/{programme}/ranking"),
    "group page": ("leader", "/groups/{group}"),
    "dashboard": ("leader", "/dashboard"),
}


@pytest.fixture
def sized(submitted, make_reviewers, staff):  # noqa: F811
    """sized(n, prefix) -> ids and people of a programme with n applications, each scored by
    three reviewers of its own (so two sizes can live side by side in one database)."""
    from blueprints.review import services

    def make(n, prefix):
        programme, apps = submitted(n)
        reviewers = make_reviewers(3, prefix=prefix)
        rubric = services.rubric(programme)
        for application in apps:
            for reviewer, total in zip(reviewers, (70, 80, 75)):
                item = services.assign(application, reviewer, user=staff)
                check = services.check_for(item, spread(total, rubric), {c["code"]: "의견" for c in rubric}, final=True)
                services.save_scores(item, check, user=reviewer, submit=True)
        db.session.commit()
        app = apps[0]
        ids = dict(programme=programme.id, app=app.id, group=app.group_id)
        return ids, {"staff": staff, "leader": app.group.officer("leader").user, "reviewer": reviewers[0]}

    return make


@pytest.mark.parametrize("page", sorted(PAGES))
def test_same_query_count_at_two_sizes(page, app, client, auth, sized):
    role, template = PAGES[page]
    worlds = [sized(2, "p"), sized(6, "q")]
    counts = []
    for ids, people in worlds:
        auth.logout()
        auth.login(people[role].email)
        counts.append(queries(client, template.format(**ids)))
    assert counts[0] == counts[1], f"{page}: {counts[0]} queries with 2 applications, {counts[1]} with 6 (N+1)"
