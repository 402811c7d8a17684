"""Two 관리자 remove each other's admin role (or deactivate each other) at the same moment on
the live server: each passed the permission check before either committed, and the last
active admin must still remain."""
import pytest
from sqlalchemy import select

from blueprints.accounts.models import User, UserRole
from extensions import db
from tests.concurrency.conftest import fire


@pytest.mark.parametrize("how", ["revoke", "deactivate"])
def test_two_admins_removing_each_other_at_once_leave_one(how, make_user, browser):
    for _ in range(3):
        a = make_user(roles=("admin",))
        b = make_user(roles=("admin",))
        tabs = [browser(a.email), browser(b.email)]
        posts = {"revoke": lambda tab, other: tab.post(f"/admin/users/{other.id}/roles/revoke", {"role": "admin"}),
                 "deactivate": lambda tab, other: tab.post(f"/admin/users/{other.id}/active", {"active": "0"})}[how]
        answers = fire([lambda: posts(tabs[0], b), lambda: posts(tabs[1], a)])
        # 302: the other went first and this admin, deactivated, is signed out
        assert {x.status for x in answers} <= {302, 303, 403}, [(x.status, x.body[:200]) for x in answers]
        active_admins = db.session.scalars(
            select(User.id).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "admin", User.is_active.is_(True))).all()
        assert len(active_admins) >= 1
        # start the next round from two fresh admins only
        for row in db.session.scalars(select(UserRole).where(UserRole.role == "admin")):
            db.session.delete(row)
        db.session.commit()


def test_two_admins_granting_each_other_roles_and_one_role_twice_at_once(make_user, browser):
    """No deadlock (each request's audit row points at its admin, whose row the other holds)
    and no 500 on the unique (user, role): every answer is the redirect."""
    a = make_user(roles=("admin",))
    b = make_user(roles=("admin",))
    tab_a, tab_b = browser(a.email), browser(b.email)
    answers = fire([lambda: tab_a.post(f"/admin/users/{b.id}/roles/grant", {"role": "reviewer"}),
                    lambda: tab_b.post(f"/admin/users/{a.id}/roles/grant", {"role": "reviewer"}),
                    lambda: tab_a.tab().post(f"/admin/users/{b.id}/roles/grant", {"role": "reviewer"})])
    assert [x.status for x in answers] == [303, 303, 303]
    for user in (a, b):
        roles = db.session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)).all()
        assert sorted(roles) == ["admin", "reviewer"]
