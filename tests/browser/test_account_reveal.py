"""계좌번호 보기 on a laptop: the full number appears (audited), and it is never kept by the
browser's history cache: htmx saves a snapshot of the page in sessionStorage when finance staff
move on (a boosted link), which kept the number in the tab after sign-out and showed it again
on 뒤로 without an audit record."""
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import func, select

from blueprints.awards.models import Award
from blueprints.core.audit import AuditEvent
from blueprints.core.models import utcnow
from blueprints.disbursement import services as disbursement
from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.browser.conftest import login

PAST = dict(activity_start=date(2026, 4, 1), activity_end=date(2026, 10, 31), settlement_due=date(2026, 11, 30))


def test_a_revealed_account_number_never_reaches_the_history_cache(laptop_page, live_url, make_user,
                                                                 complete_application, open_programme):
    finance = make_user("finance@example.kr", roles=("finance",), name="회계담당 박재무")
    programme = open_programme(**PAST)
    leader, _, application = complete_application(programme)
    application.status, application.submitted_at = "selected", utcnow()
    award = Award(application_id=application.id, programme_id=programme.id, amount_won=800_000, rank=1,
                  decided_at=utcnow())
    db.session.add(award)
    db.session.flush()
    disbursement.accept_award(award, bank="신한은행", account_number="110-987-654321", holder="모임", user=leader)
    db.session.commit()

    page = laptop_page
    login(page, live_url, finance.email)
    page.goto(f"{live_url}/disbursement/awards/{award.id}")
    expect(page.locator("#account")).to_contain_text("********4321")
    page.get_by_role("button", name="계좌번호 보기").click()
    expect(page.locator("#account-number")).to_have_text("110987654321")
    db.session.expire_all()
    assert db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.action == "disbursement.account_viewed")) == 1
    page.goto(f"{live_url}/disbursement/")   # a boosted visit would snapshot the page first
    page.locator(f'a[href="/disbursement/awards/{award.id}"]').first.click()
    page.wait_for_load_state("networkidle")
    page.go_back()
    page.wait_for_load_state("networkidle")
    stored = page.evaluate("() => JSON.stringify([Object.assign({}, window.localStorage), Object.assign({}, window.sessionStorage)])")
    assert "110987654321" not in stored
    page.goto(f"{live_url}/disbursement/awards/{award.id}")
    page.get_by_role("button", name="계좌번호 보기").click()
    expect(page.locator("#account-number")).to_have_text("110987654321")
    page.locator('a[href="/disbursement/"]').first.click()   # boosted: htmx saves this page's snapshot
    page.wait_for_load_state("networkidle")
    stored = page.evaluate("() => JSON.stringify([Object.assign({}, window.localStorage), Object.assign({}, window.sessionStorage)])")
    assert "110987654321" not in stored
    page.go_back()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#account")).not_to_contain_text("110987654321")
