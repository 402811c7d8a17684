"""Attacks on one-time links and on role management (the second adversarial pass): a password
set by any way spends the account's other links; an admin gives no role to themself and the
last admin is never removed."""
import re

from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.core.mail import OutboxMessage
from extensions import db

NEW = {"password": "new1234!x", "password_confirm": "new1234!x"}
SETUP = {"name": "박심사", "phone": "010-2222-3333", "password": "setup123!", "password_confirm": "setup123!",
         "consent_privacy": "y"}


def _link(to, path):
    bodies = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == to)
                                .order_by(OutboxMessage.id.desc())).all()
    body = next(b for b in bodies if "/" + path in b)
    return re.search(r"http://[^/]+(/" + path + r"\S+)", body).group(1)


def test_a_reset_link_dies_when_the_owner_changes_the_password(client, auth, make_user):
    """Someone who once read the mailbox asked for a reset; the owner changed the password
    since: the old link in the mailbox must not set it again."""
    make_user("me@example.kr")
    client.post_form("/password/forgot", {"email": "me@example.kr"})
    reset = _link("me@example.kr", "password/reset/")
    auth.login("me@example.kr")
    assert client.post_form("/account/password", {"current_password": "pass1234!", **NEW}).status_code == 303
    auth.logout()
    assert client.get(reset).status_code == 410
    assert client.post_form(reset, {"password": "evil1234!", "password_confirm": "evil1234!"}).status_code == 410
    assert auth.login("me@example.kr", "new1234!x").status_code == 303


def test_a_password_set_through_one_link_spends_the_accounts_other_links(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    auth.login("admin@example.kr")
    client.post_form("/admin/users/invite", {"email": "rev@example.kr", "name": "박심사", "roles": ["reviewer"]})
    auth.logout()
    invite = _link("rev@example.kr", "invite/")
    client.post_form("/password/forgot", {"email": "rev@example.kr"})
    reset = _link("rev@example.kr", "password/reset/")

    assert client.post_form(reset, NEW).status_code == 303  # the account is set by the reset link …
    assert client.get(invite).status_code == 410  # … so the invitation link is spent
    assert client.post_form(invite, SETUP).status_code == 410
    user = db.session.scalar(select(User).where(User.email == "rev@example.kr"))
    assert auth.login("rev@example.kr", "new1234!x").status_code == 303 and user.name == "박심사"

    # and the other way round: set up through the invitation, an earlier reset link is spent
    auth.logout()
    auth.login("admin@example.kr")
    client.post_form("/admin/users/invite", {"email": "fin@example.kr", "name": "최회계", "roles": ["reviewer"]})
    auth.logout()
    invite = _link("fin@example.kr", "invite/")
    client.post_form("/password/forgot", {"email": "fin@example.kr"})
    reset = _link("fin@example.kr", "password/reset/")
    assert client.post_form(invite, SETUP).status_code == 303
    auth.logout()
    assert client.get(reset).status_code == 410
