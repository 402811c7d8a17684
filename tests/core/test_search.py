"""The search boxes answer the same on SQLite and PostgreSQL: case ignored, % and _ literal."""
from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.accounts.services import search_users
from blueprints.core.search import contains_text
from extensions import db


def _emails(typed):
    return sorted(db.session.scalars(select(User.email).where(contains_text(typed, User.email, User.name))))


def test_case_is_ignored_and_wildcards_are_literal(make_user):
    make_user("Kim.Parent@Example.kr", name="Kim Parent")
    make_user("rate100%@example.kr", name="백퍼센트")
    make_user("a_b@example.kr", name="밑줄")
    make_user("axb@example.kr", name="엑스")
    db.session.commit()
    assert _emails("kim.PARENT") == ["Kim.Parent@Example.kr"]
    assert _emails("  parent ") == ["Kim.Parent@Example.kr"]  # what a person types around it
    assert _emails("100%") == ["rate100%@example.kr"]
    assert _emails("%") == ["rate100%@example.kr"]  # not every row
    assert _emails("a_b") == ["a_b@example.kr"]  # not axb
    assert _emails("퍼센") == ["rate100%@example.kr"]  # by name too
    assert _emails("back\\slash") == []


def test_admin_user_search_ignores_case(make_user):
    make_user("Treasurer@Example.KR", name="이회계")
    make_user("other@example.kr", name="박구성")
    db.session.commit()
    assert [u.email for u in search_users("treasurer@example.kr").items] == ["Treasurer@Example.KR"]
