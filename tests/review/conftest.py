"""Review fixtures: reviewers, staff, and a programme with submitted applications."""
import itertools

import pytest

from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401

_n = itertools.count(1)


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.kr", roles=("staff",), name="김담당")


@pytest.fixture
def make_reviewers(make_user):
    def make(count=3, prefix="r"):
        return [make_user(f"{prefix}{i}@example.kr", roles=("reviewer",), name=f"심사위원{prefix}{i}",
                          phone=f"0105555{i:04d}") for i in range(1, count + 1)]

    return make


@pytest.fixture
def submitted(complete_application, open_programme):
    """submitted(count, programme=None, **group_kwargs) -> (programme, [applications])."""
    from blueprints.applications import services

    def make(count=1, programme=None, **group_kwargs):
        programme = programme or open_programme()
        apps = []
        for i in range(count):
            leader, _treasurer, application = complete_application(programme, email=f"leader{next(_n)}@example.kr",
                                                                 **group_kwargs)
            assert services.submit(application, user=leader)
            db.session.commit()
            apps.append(application)
        return programme, apps

    return make


@pytest.fixture
def scored(submitted, make_reviewers, staff):
    """scored(totals_per_app) : each application gets one reviewer per total given, each
    submitting scores that add up to that total. Returns (programme, apps, reviewers)."""
    from blueprints.review import services

    def make(totals_per_app, **kwargs):
        programme, apps = submitted(len(totals_per_app), **kwargs)
        width = max(len(t) for t in totals_per_app)
        people = make_reviewers(width, prefix="s")
        rubric = services.rubric(programme)
        for application, totals in zip(apps, totals_per_app):
            for reviewer, total in zip(people, totals):
                item = services.assign(application, reviewer, user=staff)
                values = spread(total, rubric)
                check = services.check_for(item, values, {c["code"]: "의견" for c in rubric}, final=True)
                assert check.ok, check.errors
                services.save_scores(item, check, user=reviewer, submit=True)
        close_window(programme)
        db.session.commit()
        return programme, apps, people

    return make


def close_window(programme):
    """The application window ended a minute ago (results are published after it)."""
    from datetime import timedelta

    from blueprints.core.models import utcnow

    programme.opens_at = min(programme.opens_at, utcnow() - timedelta(days=20))
    programme.closes_at = utcnow() - timedelta(minutes=1)
    db.session.flush()


def spread(total, rubric):
    """Scores per criterion adding up to ``total`` (filled criterion by criterion)."""
    values, left = {}, total
    for c in rubric:
        take = min(left, int(c["max"]))
        values[c["code"]] = str(take)
        left -= take
    assert left == 0, "total above the rubric's maximum"
    return values
