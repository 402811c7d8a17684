"""core.persistence.commit_change: a button's state change is committed, or refused and undone."""
from flask import session
from sqlalchemy import select

from blueprints.accounts.models import User
from extensions import db


class Refused(Exception):
    pass


def rename(user, name, refuse=False):
    user.name = name
    db.session.flush()
    if refuse:
        raise Refused(f"{name}(으)로 바꿀 수 없습니다.")


def stored_name(user_id):
    db.session.expire_all()
    return db.session.scalar(select(User.name).where(User.id == user_id))


def test_a_change_is_committed(app, make_user):
    from blueprints.core.persistence import commit_change

    user = make_user("a@example.kr", name="처음")
    with app.test_request_context():
        assert commit_change(lambda: rename(user, "나중"), Refused) is True
        assert "_flashes" not in session
    db.session.rollback()  # what was committed stays
    assert stored_name(user.id) == "나중"


def test_a_refused_change_is_undone_and_its_message_flashed_or_put_beside_the_field(app, make_user):
    from blueprints.core.persistence import commit_change

    user = make_user("a@example.kr", name="처음")
    with app.test_request_context():
        assert commit_change(lambda: rename(user, "나중", refuse=True), Refused) is False
        assert session["_flashes"] == [("error", "나중(으)로 바꿀 수 없습니다.")]
        assert stored_name(user.id) == "처음"
        errors = []
        assert commit_change(lambda: rename(user, "다른", refuse=True), Refused, errors=errors) is False
        assert errors == ["다른(으)로 바꿀 수 없습니다."] and len(session["_flashes"]) == 1  # not flashed
    assert stored_name(user.id) == "처음"


def test_other_errors_are_not_swallowed(app, make_user):
    import pytest

    from blueprints.core.persistence import commit_change

    user = make_user("a@example.kr", name="처음")
    with app.test_request_context(), pytest.raises(ZeroDivisionError):
        commit_change(lambda: rename(user, 1 / 0), Refused)
