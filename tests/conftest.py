"""Fixtures in the flaskr style (app, client, runner, auth) plus factories.

The schema comes from the migrations (run once per session), on SQLite by default or on
PostgreSQL when TEST_DATABASE_URL is set. Every test starts from empty tables.
"""
import os
import re
import tempfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from jinja2 import StrictUndefined
from sqlalchemy import text

# The task queue's own file, per run (tests run tasks at once, but the queue opens its file on
# import): never the instance/ one a developer's worker uses, nor one shared with a side-by-side run.
os.environ.setdefault("HUEY_SQLITE_PATH", str(Path(tempfile.mkdtemp(prefix="gongdong-huey-")) / "huey.db"))

from app import create_app  # noqa: E402
from config import TestConfig  # noqa: E402
from extensions import db  # noqa: E402

CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')


def _test_config(tmp_dir: Path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.db'}"
        UPLOAD_DIR = str(tmp_dir / "uploads")
        BACKUP_DIR = str(tmp_dir / "backups")
        SERVER_NAME = None

    return Config


def _reset_schema(app):
    """Empty database -> migrations to head (also proves the migrations run)."""
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade(directory=str(Path(app.root_path) / "migrations"))


@pytest.fixture(scope="session")
def _session_app():
    tmp_dir = Path(tempfile.mkdtemp(prefix="gongdong-test-"))
    app = create_app(_test_config(tmp_dir))
    app.jinja_env.undefined = StrictUndefined
    _reset_schema(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_all_tables():
    """DELETE, children first: a test leaves a few rows, and PostgreSQL's TRUNCATE of every
    table (new files for each table and index) cost ~90 ms a test. Ids start at 1 again on
    both databases (SQLite reuses them by itself)."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c "
                                "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"))
    db.session.commit()


@pytest.fixture
def app(_session_app):
    with _session_app.app_context():
        yield _session_app
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()


class Client(FlaskClient):
    """A test client that can fetch its CSRF token and post forms with it.

    Each request runs in its own application context, as in production: its own `g` and
    its own database session. The test's session ends its transaction first (so the
    request sees the test's writes and the test then sees the request's).
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        page = self.get("/privacy").get_data(as_text=True)
        return CSRF_RE.search(page).group(1)

    def post_form(self, url, data=None, headers=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, headers=headers, **kwargs)

    def htmx(self, method, url, target=None, trigger=None, data=None, **kwargs):
        headers = {"HX-Request": "true"}
        if target:
            headers["HX-Target"] = target
        if trigger:
            headers["HX-Trigger"] = trigger
        if method.upper() == "GET":
            return self.get(url, headers=headers, query_string=data, **kwargs)
        headers["X-CSRFToken"] = self.csrf_token()
        return self.open(url, method=method, headers=headers, data=data, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email, password="pass1234!"):
        """Sign in; for an account with a second factor also answer that step with the app's
        current code (tests.factories.fresh_totp_code) and return its answer."""
        from tests.factories import fresh_totp_code

        response = self._client.post_form("/login", {"email": email, "password": password})
        if response.status_code == 303 and response.headers["Location"].endswith("/login/second-factor"):
            response = self._client.post_form("/login/second-factor", {"code": fresh_totp_code(email)})
        return response

    def logout(self):
        return self._client.post_form("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


from tests.factories import *  # noqa: E402,F401,F403  (factory fixtures)
