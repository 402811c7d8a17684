"""Concurrency against a live server: the app served over HTTP by a threaded werkzeug server on
a free loopback port (each request in its own thread, its own app context and DB session), and
client threads with their own cookie jars that fetch the CSRF token first and then fire at
once (threading.Barrier). Only the standard library talks HTTP (urllib), so nothing is added.

On PostgreSQL the requests really overlap inside the database (row locks, conditional
UPDATEs); on SQLite writers queue on the database lock (busy_timeout), which the same tests
check never turns into a 500 or a lost update."""
import http.cookiejar
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from werkzeug.serving import WSGIRequestHandler, make_server

from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.conftest import CSRF_RE
from tests.review.conftest import make_reviewers, staff, submitted  # noqa: F401
from tests.settlement.conftest import _frozen_today, awarded, finance, paid_award  # noqa: F401

REQUEST_TIMEOUT = 20  # seconds a single request may take before we call it a hang


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass  # hundreds of lines per test otherwise; failures show the answers themselves


@pytest.fixture(scope="session")
def _live_server(_session_app):
    server = make_server("127.0.0.1", 0, _session_app, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def live_url(app, _live_server):
    """Base URL of the running app; the `app` fixture empties the tables after the test."""
    return _live_server


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # we look at the 303 itself


@dataclass
class Answer:
    status: int
    body: str
    location: str
    seconds: float


class Browser:
    """One browser (cookie jar). `tab()` opens another tab of it: the same session cookie in a
    jar of its own, so tabs can fire at the same moment."""

    def __init__(self, base: str, jar: http.cookiejar.CookieJar | None = None):
        self.base = base
        self.jar = jar or http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)
        self.token = None

    def _open(self, req) -> Answer:
        start = time.monotonic()
        try:
            with self._opener.open(req, timeout=REQUEST_TIMEOUT) as resp:
                status, body, headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as exc:  # 3xx (no redirect followed), 4xx, 5xx
            status, body, headers = exc.code, exc.read(), exc.headers
        return Answer(status, body.decode("utf-8", "replace"), headers.get("Location", ""),
                      time.monotonic() - start)

    def get(self, path: str) -> Answer:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict | None = None, files: dict | None = None) -> Answer:
        """A form POST; with `files` ({field: (filename, bytes)}) a multipart one."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        if not files:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in data.items()]
        for field, (filename, content) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"}))

    def fetch_token(self, path: str = "/privacy") -> str:
        page = self.get(path)
        assert page.status == 200, (path, page.status)
        self.token = CSRF_RE.search(page.body).group(1)
        return self.token

    def login(self, email: str, password: str = "pass1234!") -> "Browser":
        self.fetch_token("/login")
        answer = self.post("/login", {"email": email, "password": password})
        assert answer.status in (302, 303), (email, answer.status)
        if answer.location.endswith("/login/second-factor"):  # staff, finance, admin: the app's code
            from tests.factories import fresh_totp_code

            self.fetch_token("/login/second-factor")
            answer = self.post("/login/second-factor", {"code": fresh_totp_code(email)})
            assert answer.status == 303, (email, answer.status)
        self.fetch_token()  # the signed-in session's token, as a form page would carry it
        return self

    def tab(self) -> "Browser":
        jar = http.cookiejar.CookieJar()
        for cookie in self.jar:
            jar.set_cookie(cookie)
        other = Browser(self.base, jar)
        other.token = self.token
        return other


@pytest.fixture
def browser(live_url):
    """browser(email) -> a signed-in Browser on the live server."""
    def make(email):
        return Browser(live_url).login(email)

    return make


def fire(calls, timeout: float = 60) -> list[Answer]:
    """Run each call (a no-argument function doing one request) in its own thread, all released
    by one barrier; every thread must end within `timeout` (no hang, no deadlock left waiting)."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            answers[i] = call()
        except Exception as exc:  # noqa: BLE001 - a timeout or a dropped connection is a failure
            answers[i] = exc

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, timeout - (time.monotonic() - start)))
    assert not any(t.is_alive() for t in threads), "a request hung (deadlock or lock never released)"
    failed = [a for a in answers if not isinstance(a, Answer)]
    assert not failed, f"requests failed: {failed}"
    errors = [(a.status, a.body[:300]) for a in answers if a.status >= 500]
    assert not errors, f"server errors: {errors}"
    assert all(a.seconds < REQUEST_TIMEOUT for a in answers)
    db.session.commit()  # end the test's transaction: what follows reads what the requests wrote
    db.session.expire_all()
    return answers


def row_counts() -> dict[str, int]:
    """Rows in every table, to prove a race left no extra row behind."""
    db.session.commit()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def added_rows(before: dict[str, int]) -> dict[str, int]:
    after = row_counts()
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}
