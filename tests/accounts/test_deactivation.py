"""Issue 12 (Accounts): deactivation spends every outstanding link; an old invitation never
brings a deactivated account back."""
import re

import pytest
from sqlalchemy import select

from blueprints.accounts.models import AuthToken, User
from blueprints.core.mail import OutboxMessage
from extensions import db

PROFILE = {"name": "박심사", "phone": "010-2222-3333", "password": "abcd1234!", "password_confirm": "abcd1234!",
           "consent_privacy": "y"}


def _link(recipient, path):
    body = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == recipient)
                              .order_by(OutboxMessage.id.desc())).first().body
    return re.search(rf"http://[^/]+({path}/\S+)", body).group(1)


def _set_active(client, auth, admin, user, active):
    auth.logout()
    auth.login(admin.email)
    response = client.post_form(f"/admin/users/{user.id}/active", {"active": "1" if active else "0"})
    assert response.status_code == 303
    auth.logout()


@pytest.mark.parametrize("reactivate", [False, True], ids=["deactivated", "reactivated"])
def test_an_invitation_sent_before_deactivation_is_dead(client, auth, make_user, reactivate):
    admin = make_user("admin@example.kr", roles=("admin",))
    auth.login(admin.email)
    client.post_form("/admin/users/invite", {"email": "rev@example.kr", "name": "박심사", "roles": ["reviewer"]})
    link = _link("rev@example.kr", "/invite")
    invited = db.session.scalar(select(User).where(User.email == "rev@example.kr"))
    _set_active(client, auth, admin, invited, False)
    if reactivate:
        _set_active(client, auth, admin, invited, True)

    assert client.get(link).status_code == 410
    response = client.post_form(link, PROFILE)
    assert response.status_code == 410
    db.session.refresh(invited)
    assert invited.is_active is reactivate  # the link never switched it back on
    assert not invited.has_password
    assert client.get("/dashboard").status_code == 302  # nobody signed in


@pytest.mark.parametrize("reactivate", [False, True], ids=["deactivated", "reactivated"])
def test_a_reset_link_sent_before_deactivation_is_dead(client, auth, make_user, reactivate):
    admin = make_user("admin@example.kr", roles=("admin",))
    user = make_user("a@example.kr")
    client.post_form("/password/forgot", {"email": "a@example.kr"})
    link = _link("a@example.kr", "/password/reset")
    old_hash = user.password_hash
    _set_active(client, auth, admin, user, False)
    if reactivate:
        _set_active(client, auth, admin, user, True)

    response = client.post_form(link, {"password": "newpass12!", "password_confirm": "newpass12!"})
    assert response.status_code == 410
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_deactivation_spends_every_purpose_of_token(app, make_user):
    from blueprints.accounts import services

    admin = make_user("admin@example.kr", roles=("admin",))
    user = make_user("a@example.kr")
    with app.test_request_context():
        tokens = [services.issue_token(user, "reset"), services.issue_token(user, "invite")]
        db.session.commit()
        services.set_active(user, False, by=admin)
        db.session.commit()
        assert all(row.used_at is not None for row in db.session.scalars(select(AuthToken)))
        services.set_active(user, True, by=admin)
        db.session.commit()
        assert [services.find_valid_token(t, p) for t, p in zip(tokens, ["reset", "invite"])] == [None, None]


def test_a_token_of_a_deactivated_account_is_not_valid_even_if_unspent(app, make_user):
    """Belt and braces: an account switched off some other way (retention) has no live link."""
    from blueprints.accounts import services

    user = make_user("a@example.kr")
    with app.test_request_context():
        token = services.issue_token(user, "invite")
        user.is_active = False
        db.session.commit()
        assert services.find_valid_token(token, "invite") is None
