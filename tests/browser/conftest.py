"""Browser fixtures: the app served on a free loopback port in a thread, and Playwright
driving Debian's chromium. Screenshots go to test-artifacts/<database>/ (git-ignored) for people to see."""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

# One folder per database: CI runs the SQLite and PostgreSQL suites side by side.
ARTIFACTS = (Path(__file__).resolve().parents[2] / "test-artifacts"
             / ("postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"))
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


class InFlight:
    """WSGI wrapper counting requests being served, so a test's end can wait for the last one
    (a request the closed browser left running must not meet the emptying of the tables: on
    PostgreSQL its transaction and the emptying would wait on each other)."""

    def __init__(self, app):
        self.app, self.count, self.changed = app, 0, threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.count += 1
        try:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                getattr(body, "close", lambda: None)()
        finally:
            with self.changed:
                self.count -= 1
                self.changed.notify_all()

    def wait_idle(self, timeout=15):
        with self.changed:
            assert self.changed.wait_for(lambda: self.count == 0, timeout), "a request is still running"


@pytest.fixture(scope="session")
def _server(_session_app):
    served = InFlight(_session_app)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", served
    server.shutdown()


@pytest.fixture
def live_url(app, _server):
    """Base URL of the running app; the `app` fixture empties the tables after the test, once
    the last request (the browser contexts are closed first) has finished."""
    url, served = _server
    yield url
    served.wait_idle()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: the test command installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _expected(text: str) -> bool:
    """Status codes our pages answer on purpose (a form with errors is 422)."""
    return "Failed to load resource" in text and any(f"status of {code}" in text for code in (410, 422, 429))


def _new_page(browser, viewport, javascript=True):
    context = browser.new_context(viewport=viewport, locale="ko-KR", java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    # Report CSP violations with the element that caused them.
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error('CSP violation',"
        " e.violatedDirective, e.sourceFile, e.lineNumber, (e.target && e.target.outerHTML || '').slice(0, 160)))")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and not _expected(msg.text) else None)
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.request.method} {r.url}")
            if r.status >= 500 or r.status == 409 else None)
    page.js_errors = errors
    return context, page


@pytest.fixture
def phone_page(browser, live_url):
    context, page = _new_page(browser, PHONE)
    yield page
    context.close()
    assert not page.js_errors, f"browser console errors: {page.js_errors}"


@pytest.fixture
def laptop_page(browser, live_url):
    context, page = _new_page(browser, LAPTOP)
    yield page
    context.close()
    assert not page.js_errors, f"browser console errors: {page.js_errors}"


@pytest.fixture
def nojs_page(browser, live_url):
    context, page = _new_page(browser, PHONE, javascript=False)
    yield page
    context.close()


@pytest.fixture
def open_page(browser, live_url):
    """open_page(viewport, javascript=True) -> a page in a context of its own (one signed-in person
    each). Every page must end without console errors (like phone_page/laptop_page) and, with or
    without JavaScript, without a 5xx or 409 answer."""
    opened = []

    def make(viewport, javascript=True):
        context, page = _new_page(browser, viewport, javascript)
        opened.append((context, page))
        return page

    yield make
    for context, _ in opened:
        context.close()
    errors = [error for _, page in opened for error in page.js_errors]
    assert not errors, f"browser console errors: {errors}"


@pytest.fixture
def shot(request):
    """shot(page, "step-name") saves test-artifacts/<database>/<test>/<step>.png (full page)."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def login(page, live_url, email, password="pass1234!"):
    """Sign in through the form; staff, finance and admin (factory users have a second factor)
    also type the authenticator app's current code."""
    from tests.factories import fresh_totp_code

    page.goto(f"{live_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(live_url) + r"/(dashboard|login/second-factor)$"))
    if page.url.endswith("/login/second-factor"):
        page.fill("#code", fresh_totp_code(email))
        page.click("main form.card-form button[type=submit]")
        page.wait_for_url(f"{live_url}/dashboard")


def axe_violations(page, impacts=("serious", "critical")):
    """Run axe-core (served from our own static files, so the CSP allows it) on the page."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe/axe.min.js")
    results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
            for v in results if v["impact"] in impacts]


def assert_accessible(page):
    """No serious or critical axe violation; returns every violation (minor and moderate too)."""
    before = len(page.js_errors)
    violations = axe_violations(page, impacts=("minor", "moderate", "serious", "critical"))
    page.wait_for_timeout(50)
    del page.js_errors[before:]  # axe's own injected styles trip our CSP; they are not the page's
    serious = [v for v in violations if "(serious)" in v or "(critical)" in v]
    assert not serious, "axe: " + "\n".join(serious)
    return violations


def all_axe_violations(page):
    """Every axe violation of any impact (minor to critical) on the page, without the CSP
    console noise axe's own injected styles make: the check for "0 violations of any impact"."""
    before = len(page.js_errors)
    violations = axe_violations(page, impacts=("minor", "moderate", "serious", "critical"))
    page.wait_for_timeout(50)
    del page.js_errors[before:]
    return violations


def tap_target_ok(locator, minimum=44):
    """The element is at least ``minimum`` CSS px high and wide (a primary action on a phone).
    Measured once the page's stylesheets have loaded: the DOM can be there before them on a busy
    machine, and an unstyled button is 21 px high."""
    locator.page.wait_for_load_state("load")
    box = locator.bounding_box()
    assert box is not None and box["height"] >= minimum and box["width"] >= minimum, box
    return box
