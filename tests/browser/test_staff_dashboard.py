"""Staff on a laptop (1280×800) see what waits for them on the dashboard and get there in one
click: the count on the dashboard is the number of rows on the list it opens. The same
dashboard on a phone (360 px) for the screenshot. axe: no violation of any impact."""
import re

from playwright.sync_api import expect

from blueprints.review import services as review
from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.browser.conftest import PHONE, axe_violations, login
from tests.review.conftest import make_reviewers, staff, submitted  # noqa: F401

ANY = ("minor", "moderate", "serious", "critical")


def no_violations(page):
    before = len(page.js_errors)
    violations = axe_violations(page, impacts=ANY)
    page.wait_for_timeout(50)
    del page.js_errors[before:]   # axe's own injected styles trip our CSP; they are not the page's
    return violations


def test_staff_dashboard_counts_lead_to_lists_of_that_many_rows(open_page, live_url, shot, submitted, make_reviewers,
                                                                 staff):
    programme, apps = submitted(4)
    reviewer = make_reviewers(1, prefix="b")[0]
    review.assign(apps[0], reviewer, user=staff)      # under review, its review not submitted yet
    db.session.commit()

    page = open_page({"width": 1280, "height": 800})
    login(page, live_url, staff.email)
    tasks = page.locator("#staff-tasks")
    expect(tasks).to_contain_text(programme.title)
    check = tasks.locator("a[data-task=check]")
    expect(check).to_contain_text("확인할 신청서")
    expect(check.locator(".task-count")).to_have_text("3건")
    expect(tasks.locator("a[data-task=reviews] .task-count")).to_have_text("1건")
    assert no_violations(page) == []
    shot(page, "01-staff-dashboard-1280")

    check.click()
    page.wait_for_url(re.compile(rf"/applications/programme/{programme.id}\?status=submitted$"))
    expect(page.locator("#app-results tbody tr")).to_have_count(3)
    expect(page.locator("#status")).to_have_value("submitted")
    assert no_violations(page) == []
    shot(page, "02-applications-to-check")

    phone = open_page(PHONE)
    login(phone, live_url, staff.email)
    expect(phone.locator("#staff-tasks a[data-task=check] .task-count")).to_have_text("3건")
    phone.wait_for_load_state("load")   # measured with the stylesheets applied
    box = phone.locator("#staff-tasks a[data-task=check]").bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= 360   # a whole-row tap target, inside the screen
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert no_violations(phone) == []
    shot(phone, "03-staff-dashboard-360")
