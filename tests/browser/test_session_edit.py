"""The 회계 corrects an activity session in its row on a 360 px phone (htmx swaps only that row),
deletes another after confirming, and without JavaScript the same edit goes through the page."""
from datetime import date

from playwright.sync_api import expect

from blueprints.awards.models import Award
from blueprints.core.models import utcnow
from blueprints.disbursement import services as disbursement
from blueprints.settlement import services as s
from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.browser.conftest import assert_accessible, login

PAST = dict(activity_start=date(2026, 4, 1), activity_end=date(2026, 10, 31), settlement_due=date(2026, 11, 30))


def _award_with_sessions(make_user, complete_application, open_programme):
    finance = make_user("finance@example.kr", roles=("finance",))
    leader, treasurer, application = complete_application(open_programme(**PAST))
    application.status, application.submitted_at = "selected", utcnow()
    award = Award(application_id=application.id, programme_id=application.programme_id, amount_won=800_000, rank=1,
                  decided_at=utcnow())
    db.session.add(award)
    db.session.flush()
    disb = disbursement.accept_award(award, bank="신한은행", account_number="110123456789", holder="모임", user=leader)
    disbursement.record_payment(disb, instalment=1, amount_won=800_000, paid_on=date(2026, 4, 2), reference="",
                                idempotency_key="browser-sessions", user=finance)
    rows = [s.save_session(award, held_on=date(2026, 5, day), title=title, place="놀이터", content="", households=5,
                           adults=5, children=6, outcome="", user=treasurer)
            for day, title in ((10, "숲놀이"), (24, "만들기"))]
    db.session.commit()
    return treasurer, award, rows


def test_edit_in_the_row_and_delete_with_htmx(phone_page, live_url, shot, make_user, complete_application,
                                             open_programme):
    treasurer, award, (first, second) = _award_with_sessions(make_user, complete_application, open_programme)
    page = phone_page
    login(page, live_url, treasurer.email)
    page.goto(f"{live_url}/settlement/awards/{award.id}/sessions")
    url_before = page.url
    row = page.locator(f"#session-{first.id}")
    row.get_by_role("link", name="고치기").click()
    expect(row.locator("#edit-title")).to_have_value("숲놀이")
    shot(page, "sessions-01-phone-row-form")
    assert_accessible(page)
    row.locator("#edit-title").fill("숲놀이 (우천 실내)")
    row.locator("#edit-households").fill("4")
    row.get_by_role("button", name="저장").click()
    expect(page.locator(f"#session-{first.id}")).to_contain_text("숲놀이 (우천 실내)")
    expect(page.locator(f"#session-{first.id}")).to_contain_text("4가구")
    expect(page.locator("#edit-title")).to_have_count(0)
    assert page.url == url_before                       # the row swapped, the page stayed

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#session-{second.id}").get_by_role("button", name="삭제").click()
    expect(page.locator(f"#session-{second.id}")).to_have_count(0)
    expect(page.locator(f"#session-{first.id}")).to_be_visible()
    shot(page, "sessions-02-phone-after-delete")


def test_edit_without_javascript(nojs_page, live_url, make_user, complete_application, open_programme):
    treasurer, award, (first, _) = _award_with_sessions(make_user, complete_application, open_programme)
    page = nojs_page
    login(page, live_url, treasurer.email)
    page.goto(f"{live_url}/settlement/awards/{award.id}/sessions")
    page.locator(f"#session-{first.id}").get_by_role("link", name="고치기").click()
    page.fill("#edit-title", "숲놀이 고침")
    page.locator(f"#session-{first.id}").get_by_role("button", name="저장").click()
    expect(page.locator(f"#session-{first.id}")).to_contain_text("숲놀이 고침")
    assert page.url.endswith(f"/settlement/awards/{award.id}/sessions#session-{first.id}")
