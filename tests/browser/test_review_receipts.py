"""Finance on a 1280 × 800 laptop reviews a settlement: every photo receipt shows as a thumbnail,
a click opens it large in a dialog, Esc closes it and focus is back on the thumbnail; a PDF
receipt is a labelled link. axe finds nothing, of any impact, with the dialog shut or open."""
from datetime import date

from playwright.sync_api import expect

from blueprints.settlement import services as s
from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.browser.conftest import all_axe_violations, login
from tests.settlement.conftest import (Upload, _frozen_today, awarded, expense_in, finance,  # noqa: F401
                                      jpeg_bytes, paid_award)
from tests.settlement.test_pdf import receipt_pdf

LAPTOP_800 = {"width": 1280, "height": 800}


def _no_violations(page):
    violations = all_axe_violations(page)
    assert violations == [], "\n".join(violations)


def test_finance_opens_a_receipt_large_and_closes_it_with_escape(open_page, live_url, shot, paid_award, finance):  # noqa: F811
    _, treasurer, award = paid_award()
    photo = s.save_expense(award, expense_in(vendor="하나로마트 망원점", spent_on=date(2027, 4, 3), amount_won=45_000),
                           user=treasurer, receipt=Upload(jpeg_bytes(size=(1200, 1600), color=(240, 236, 226)), "a.jpg"))
    s.save_expense(award, expense_in(vendor="알파문구", description="색종이", amount_won=12_000),
                   user=treasurer, receipt=Upload(receipt_pdf(), "세금계산서.pdf"))
    s.save_expense(award, expense_in(vendor="다이소 망원점", description="풀", amount_won=3_000),
                   user=treasurer, receipt=Upload(jpeg_bytes(size=(1600, 1200)), "b.jpg"))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()

    page = open_page(LAPTOP_800)
    login(page, live_url, finance.email)
    page.goto(f"{live_url}/settlement/review/{settlement.id}")
    thumbs = page.locator("article.review-line a.receipt-thumb img")
    expect(thumbs).to_have_count(2)
    for i in range(2):   # loaded, not a broken image
        thumbs.nth(i).scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbs.nth(i).element_handle())
    expect(thumbs.first).to_have_attribute("alt", "하나로마트 망원점 영수증, 2027. 4. 3., 45,000원")
    expect(page.locator("a.receipt-pdf")).to_have_text("PDF 영수증 보기: 알파문구 영수증, 2027. 4. 10., 12,000원")
    _no_violations(page)
    shot(page, "01-review-thumbnails")

    link = page.locator(f"#line-{photo.id} a.receipt-thumb")
    link.click()
    dialog = page.locator("dialog.viewer")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("하나로마트 망원점 영수증, 2027. 4. 3., 45,000원")
    large = dialog.locator("img.viewer__img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=large.element_handle())
    assert large.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [1200, 1600]   # the full image
    box = large.bounding_box()
    assert box["height"] >= 500 and box["height"] <= 800, box      # large, and within the 800-px window
    assert page.evaluate("document.activeElement.closest('dialog') !== null")   # focus moved into the dialog
    assert page.url.endswith(f"/settlement/review/{settlement.id}")            # same page, no navigation
    _no_violations(page)
    shot(page, "02-receipt-large")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('a.receipt-thumb')")
    assert page.evaluate(f"document.activeElement.closest('article').id") == f"line-{photo.id}"
    # the keyboard opens it too (Enter on the focused thumbnail), and 닫기 closes it
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.locator("button:has-text('닫기')").click()
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('a.receipt-thumb')")
