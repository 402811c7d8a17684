"""Issue 12 (Accounts): login throttling by back-off per (account, address), not a lock a
stranger can put on someone else's account; the client's address behind trusted proxies."""
import re
from datetime import timedelta

from sqlalchemy import select

from blueprints.accounts.models import LoginAttempt
from blueprints.core.mail import OutboxMessage
from extensions import db

STRANGER, OWNER = "203.0.113.66", "198.51.100.7"


def _login(client, ip, password, email="owner@example.kr"):
    return client.post_form("/login", {"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip})


def _age_failures(by: timedelta):
    for row in db.session.scalars(select(LoginAttempt)):
        row.created_at -= by
    db.session.commit()


def test_a_strangers_failures_do_not_lock_out_the_owner_from_another_address(app, client, make_user):
    make_user("owner@example.kr")
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        assert _login(client, STRANGER, "wrong-pass1").status_code == 422
    assert _login(client, STRANGER, "wrong-pass1").status_code == 429  # the stranger waits …
    # … and many more strangers' failures (a botnet, over the window) change nothing for the owner.
    db.session.add_all(LoginAttempt(email="owner@example.kr", ip=f"192.0.2.{n}") for n in range(100))
    db.session.commit()

    response = _login(client, OWNER, "pass1234!")
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200


def test_repeated_failures_from_one_address_get_slower_then_refused(app, client, make_user):
    make_user("owner@example.kr")
    free = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free):
        assert _login(client, STRANGER, "wrong-pass1").status_code == 422

    waits = []
    for _ in range(4):
        refused = _login(client, STRANGER, "wrong-pass1")
        assert refused.status_code == 429
        assert re.search(r"로그인 시도가 너무 많습니다\. \d+(초|분) 뒤에 다시", refused.get_data(as_text=True))
        waits.append(int(refused.headers["Retry-After"]))
        _age_failures(timedelta(seconds=waits[-1]))  # wait it out …
        assert _login(client, STRANGER, "wrong-pass1").status_code == 422  # … and one more try is heard
    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0]  # every wait longer than the last

    # Deep into the back-off even the right password from that address is refused, unchecked.
    for _ in range(8):
        db.session.add(LoginAttempt(email="owner@example.kr", ip=STRANGER))
    db.session.commit()
    refused = _login(client, STRANGER, "pass1234!")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 60
    assert "분 뒤에" in refused.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_refused_tries_are_not_counted(app, client, make_user):
    make_user("owner@example.kr")
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        _login(client, STRANGER, "wrong-pass1")
    before = db.session.query(LoginAttempt).count()
    for _ in range(5):
        assert _login(client, STRANGER, "wrong-pass1").status_code == 429
    assert db.session.query(LoginAttempt).count() == before


def test_success_clears_only_its_own_address(app, client, make_user):
    make_user("owner@example.kr")
    for _ in range(3):
        _login(client, STRANGER, "wrong-pass1")
        _login(client, OWNER, "wrong-pass1")
    assert _login(client, OWNER, "pass1234!").status_code == 303
    assert {row.ip for row in db.session.scalars(select(LoginAttempt))} == {STRANGER}


def _proxied_app(app, tmp_path, count):
    from app import create_app

    return create_app({"APP_ENV": "test", "TESTING": True, "SECRET_KEY": "s" * 40, "WTF_CSRF_ENABLED": False,
                       "TRUSTED_PROXY_COUNT": count, "UPLOAD_DIR": str(tmp_path / "uploads"),
                       "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})


def _failed_login_ip(app, tmp_path, count):
    proxied = _proxied_app(app, tmp_path, count)
    # The client claims 10.9.9.9; the proxy (at 127.0.0.1) appended the address it really saw.
    headers = {"X-Forwarded-For": "10.9.9.9, 203.0.113.5", "X-Forwarded-Proto": "https"}
    with proxied.app_context():
        response = proxied.test_client().post("/login", data={"email": "x@example.kr", "password": "wrong-pass1"},
                                              headers=headers)
        db.session.remove()
        db.engine.dispose()  # a second engine left open on the SQLite file breaks a later restore
    assert response.status_code == 422
    return db.session.scalar(select(LoginAttempt.ip).order_by(LoginAttempt.id.desc()))


def test_behind_one_trusted_proxy_the_client_address_is_the_one_the_proxy_saw(app, tmp_path):
    assert app.config["TRUSTED_PROXY_COUNT"] == 0
    assert _failed_login_ip(app, tmp_path, 1) == "203.0.113.5"   # never the client's own claim
    assert _failed_login_ip(app, tmp_path, 0) == "127.0.0.1"     # default: headers ignored


def test_behind_a_trusted_proxy_links_in_mail_use_the_forwarded_scheme(app, tmp_path, make_user):
    make_user("a@example.kr")
    proxied = _proxied_app(app, tmp_path, 1)
    with proxied.app_context():
        proxied.test_client().post("/password/forgot", data={"email": "a@example.kr"},
                                   headers={"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"})
        db.session.remove()
        db.engine.dispose()
    body = db.session.scalar(select(OutboxMessage.body))
    assert "https://localhost/password/reset/" in body


def test_one_ipv6_network_is_one_address_for_the_back_off(app, client, make_user):
    """A home or a cloud host gets a whole IPv6 /64: a new address for each try must not
    start the back-off afresh (nor IPv4 written as an IPv4-mapped IPv6 address)."""
    make_user("owner@example.kr")
    free = app.config["LOGIN_FREE_FAILURES"]
    for n in range(free):
        assert _login(client, f"2001:db8:5:6::{n + 1:x}", "wrong-pass1").status_code == 422
    assert _login(client, "2001:db8:5:6:ffff:1:2:3", "wrong-pass1").status_code == 429
    assert _login(client, "2001:db8:5:7::1", "pass1234!").status_code == 303  # another network: the owner
    client.post_form("/logout")

    for _ in range(free):
        assert _login(client, STRANGER, "wrong-pass1", email="other@example.kr").status_code == 422
    assert _login(client, f"::ffff:{STRANGER}", "wrong-pass1", email="other@example.kr").status_code == 429


def test_spelling_the_address_differently_neither_resets_the_back_off_nor_signs_in(app, client, make_user):
    """Case, surrounding space and Unicode look-alikes: what names the account for sign-in names
    it for the back-off, and what does not name it (full-width letters, a trailing dot, a
    composed look-alike) never signs in, so it cannot be used to keep guessing."""
    make_user("owner@example.kr")
    spellings = ["OWNER@example.kr", " owner@EXAMPLE.kr ", "Owner@Example.Kr", "owner@example.kr", "oWnEr@example.KR"]
    for email in spellings[:app.config["LOGIN_FREE_FAILURES"]]:
        assert _login(client, STRANGER, "wrong-pass1", email=email).status_code == 422
    assert _login(client, STRANGER, "pass1234!", email="OwNeR@eXaMpLe.kr").status_code == 429
    for email in ["ｏｗｎｅｒ@example.kr", "owner@example.kr.", "owner@ｅｘａｍｐｌｅ.kr", "owner\u200b@example.kr"]:
        assert _login(client, OWNER, "pass1234!", email=email).status_code == 422
