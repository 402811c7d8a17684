"""The 회계 on a 360×740 phone (issue 14): a mistake keeps the chosen receipt photo and focuses
the error summary; expenses saved one after another update the ledger and the balance in place
(no page load); delete asks first and can be undone. axe finds nothing of any impact and the
primary actions are at least 44 px."""
from datetime import date

from playwright.sync_api import expect

from blueprints.awards.models import Award
from blueprints.core.models import utcnow
from blueprints.disbursement import services as disbursement
from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.browser.conftest import axe_violations, login
from tests.browser.test_settlement_journey import PAST, receipt_photo

ANY = ("minor", "moderate", "serious", "critical")


def paid_award(make_user, complete_application, open_programme, amount=800_000):
    finance = make_user("finance@example.kr", roles=("finance",), name="회계담당 박재무")
    programme = open_programme(**PAST)
    leader, treasurer, application = complete_application(programme)
    application.status, application.submitted_at = "selected", utcnow()
    award = Award(application_id=application.id, programme_id=programme.id, amount_won=amount, rank=1,
                  decided_at=utcnow())
    db.session.add(award)
    db.session.flush()
    disb = disbursement.accept_award(award, bank="신한은행", account_number="110123456789", holder="모임", user=leader)
    disbursement.record_payment(disb, instalment=1, amount_won=amount, paid_on=date(2026, 4, 2), reference="",
                                idempotency_key="phone-1", user=finance)
    db.session.commit()
    return treasurer, award


def no_axe_violations(page):
    before = len(page.js_errors)
    found = axe_violations(page, impacts=ANY)
    page.wait_for_timeout(50)
    del page.js_errors[before:]   # axe's own injected styles trip our CSP; they are not the page's
    assert found == [], "axe: " + "\n".join(found)


def assert_tap_targets(page, selectors):
    page.wait_for_load_state("load")   # measured with the stylesheets applied
    for selector in selectors:
        box = page.locator(selector).first.bounding_box()
        assert box is not None, selector
        assert box["height"] >= 44 and box["width"] >= 44, f"{selector}: {box['width']:.0f}×{box['height']:.0f}px"


def fill_expense(page, *, spent_on, amount, description):
    page.fill("#spent_on", spent_on)
    page.select_option("#category", "materials")
    page.fill("#amount_won", amount)
    page.fill("#vendor", "알파문구 망원점")
    page.fill("#description", description)
    page.fill("#participants", "10")


def mark_page(page):
    """A flag on the window: gone if the page is loaded again."""
    page.evaluate("window.__samePage = true")


def same_page(page) -> bool:
    return page.evaluate("window.__samePage === true")


def test_a_mistake_keeps_the_photo_and_focuses_the_summary(phone_page, live_url, shot, make_user, complete_application,
                                                           open_programme, tmp_path):
    treasurer, award = paid_award(make_user, complete_application, open_programme)
    page = phone_page
    login(page, live_url, treasurer.email)
    page.goto(f"{live_url}/settlement/awards/{award.id}/expenses")
    no_axe_violations(page)
    assert_tap_targets(page, ["#save-expense", "label[for=receipt_camera]", "label[for=receipt]",
                              "label[for=attachments_camera]", "label[for=attachments]"])
    mark_page(page)
    fill_expense(page, spent_on="2026-03-15", amount="50,000", description="만들기 재료(색종이)")   # before the period
    page.set_input_files("#receipt", str(receipt_photo(tmp_path / "IMG_2041.jpg")))
    expect(page.locator("#receipt-group [data-chosen] img")).to_have_count(1)        # a preview at once
    page.click("#save-expense")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("입력한 내용을 확인해 주세요")
    expect(summary).to_be_focused()
    assert same_page(page)                                                             # no full reload
    expect(page.locator("#spent_on")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#spent_on")).to_have_attribute("aria-describedby", "spent_on-error")
    thumb = page.locator("#receipt-group img.thumb")
    expect(thumb).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())   # it loads
    expect(page.locator("#vendor")).to_have_value("알파문구 망원점")                   # what was typed stays
    shot(page, "01-phone-expense-error")
    no_axe_violations(page)
    # The summary's link puts the cursor in the date field; fixing it saves with the same photo.
    page.click("#error-summary a[href='#spent_on']")
    expect(page.locator("#spent_on")).to_be_focused()
    page.fill("#spent_on", "2026-05-10")
    page.click("#save-expense")
    expect(page.locator("#balance-left")).to_have_text("750,000원")
    expect(page.locator(".expense-list")).to_contain_text("증빙-001")
    expect(page.locator(".expense-list img.thumb").first).to_be_visible()             # the kept photo is its receipt
    expect(page.locator("#flash-region")).to_contain_text("기록했습니다")
    assert same_page(page)
    shot(page, "02-phone-expense-saved")
    no_axe_violations(page)


def test_two_expenses_in_a_row_update_the_balance_in_place_and_delete_can_be_undone(
        phone_page, live_url, shot, make_user, complete_application, open_programme, tmp_path):
    treasurer, award = paid_award(make_user, complete_application, open_programme)
    page = phone_page
    login(page, live_url, treasurer.email)
    page.goto(f"{live_url}/settlement/awards/{award.id}/expenses")
    mark_page(page)
    for n, (amount, left) in enumerate([("50,000", "750,000원"), ("30,000", "720,000원")], 1):
        fill_expense(page, spent_on="2026-05-1" + str(n), amount=amount, description=f"만들기 재료 {n}")
        page.set_input_files("#receipt_camera", str(receipt_photo(tmp_path / f"IMG_{n}.jpg")))
        page.click("#save-expense")
        expect(page.locator("#balance-left")).to_have_text(left)
        expect(page.locator("#list-h")).to_have_text(f"기록한 지출 {n}건")
        expect(page.locator("#amount_won")).to_have_value("")                          # ready for the next one
    assert same_page(page)
    assert_tap_targets(page, ["#save-expense", ".expense-actions a:has-text('고치기')",
                              ".expense-actions a:has-text('삭제')", ".expense-files a"])
    no_axe_violations(page)
    # 삭제 asks first, in the line's place; then the line goes and 되돌리기 brings it back.
    line = page.locator(".expense-item").last
    line.locator("a:has-text('삭제')").click()
    expect(line.locator(".confirm-delete")).to_contain_text("삭제할까요?")
    assert_tap_targets(page, [".confirm-delete button:has-text('삭제')", ".confirm-delete a:has-text('취소')"])
    expect(page.locator(".confirm-delete p")).to_be_focused()
    line.scroll_into_view_if_needed()
    shot(page, "03-phone-delete-confirm")
    no_axe_violations(page)
    page.locator(".confirm-delete button:has-text('삭제')").click()
    expect(page.locator("#list-h")).to_have_text("기록한 지출 1건")
    expect(page.locator("#balance-left")).to_have_text("750,000원")
    undo = page.locator(".undo-box button:has-text('되돌리기')")
    expect(undo).to_be_visible()
    assert_tap_targets(page, [".undo-box button"])
    expect(page.locator(".undo-box p")).to_be_focused()
    shot(page, "04-phone-deleted-with-undo")
    no_axe_violations(page)
    undo.click()
    expect(page.locator("#list-h")).to_have_text("기록한 지출 2건")
    expect(page.locator("#balance-left")).to_have_text("720,000원")
    expect(page.locator(".undo-box")).to_have_count(0)
    assert same_page(page)
