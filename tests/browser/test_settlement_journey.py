"""The group's 회계 on a 360 px phone records an expense with a receipt photo (the live check
warns first, the balance drops after saving) and submits the settlement; finance staff on a
laptop recognise the line, approve, and download the settlement PDF."""
import io
from datetime import date

from PIL import Image
from playwright.sync_api import expect

from blueprints.awards.models import Award
from blueprints.core.models import utcnow
from blueprints.disbursement import services as disbursement
from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.browser.conftest import all_axe_violations, assert_accessible, login, tap_target_ok

PAST = dict(activity_start=date(2026, 4, 1), activity_end=date(2026, 10, 31), settlement_due=date(2026, 11, 30))


def receipt_photo(path):
    image = Image.new("RGB", (1200, 1600), (250, 246, 236))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 20.0), 3: "E", 4: (126.0, 58.0, 40.0)}
    image.save(path, "JPEG", exif=exif)
    return path


def test_treasurer_records_expense_and_finance_approves(phone_page, laptop_page, live_url, shot, make_user,
                                                      complete_application, open_programme, tmp_path):
    finance = make_user("finance@example.kr", roles=("finance",), name="회계담당 박재무")
    programme = open_programme(**PAST)
    leader, treasurer, application = complete_application(programme)
    application.status, application.submitted_at = "selected", utcnow()
    award = Award(application_id=application.id, programme_id=programme.id, amount_won=800_000, rank=1,
                  decided_at=utcnow())
    db.session.add(award)
    db.session.flush()
    disb = disbursement.accept_award(award, bank="신한은행", account_number="110123456789", holder="모임", user=leader)
    disbursement.record_payment(disb, instalment=1, amount_won=800_000, paid_on=date(2026, 4, 2), reference="",
                                idempotency_key="browser-1", user=finance)
    db.session.commit()

    page = phone_page
    login(page, live_url, treasurer.email)
    page.goto(f"{live_url}/settlement/awards/{award.id}/expenses")
    expect(page.locator("#balance-left")).to_have_text("800,000원")
    page.fill("#spent_on", "2026-05-10")
    page.select_option("#category", "materials")
    page.fill("#amount_won", "50,000")
    page.fill("#vendor", "알파문구 망원점")
    page.fill("#biz_no", "124-82-10324")
    page.fill("#description", "맥주")
    page.locator("#description").blur()
    expect(page.locator("#expense-check")).to_contain_text("주류")          # the live check, before saving
    page.fill("#description", "만들기 재료(색종이)")
    page.fill("#participants", "10")
    page.locator("#participants").blur()
    expect(page.locator("#expense-check")).not_to_contain_text("주류")
    page.set_input_files("#receipt_camera", str(receipt_photo(tmp_path / "IMG_2041.jpg")))
    assert page.get_attribute("#receipt_camera", "capture") == "environment"
    assert page.get_attribute("#receipt", "capture") is None            # a gallery photo or a PDF too
    shot(page, "01-phone-expense-form")
    page.click("form button[type=submit]:has-text('저장')")
    expect(page.locator("#balance-left")).to_have_text("750,000원")
    expect(page.locator(".expense-list")).to_contain_text("증빙-001")
    shot(page, "02-phone-balance-after")
    assert_accessible(page)

    page.goto(f"{live_url}/settlement/awards/{award.id}")
    page.click("section[aria-labelledby=report-h] button:has-text('저장')")   # the first save makes the settlement
    expect(page.locator("#flash-region")).to_contain_text("정산서를 저장했습니다")
    page.click("button:has-text('정산서 제출')")
    # The confirmation, under the button: the numbers and what cannot be changed afterwards.
    confirm = page.locator("#submit-confirm")
    expect(confirm.get_by_role("heading", name="정산서를 제출할까요?")).to_be_focused()
    expect(confirm).to_contain_text("집행액50,000원 (1건, 집행률 6%)".replace("집행액", ""))
    for text in ("잔액", "750,000원", "반환 예정액", "고칠 수 없습니다"):
        expect(confirm).to_contain_text(text)
    db.session.expire_all()
    assert db.session.get(Award, award.id).settlement.status == "draft"      # asking changed nothing
    assert all_axe_violations(page) == []
    button = confirm.get_by_role("button", name="제출", exact=True)
    tap_target_ok(button)                                                  # a phone-sized tap target
    shot(page, "03-phone-submit-confirmation")
    button.click()
    expect(page.locator("h1")).to_contain_text("제출")
    expect(page.locator("#flash-region")).to_contain_text("정산서를 제출했습니다")
    shot(page, "03b-phone-settlement-submitted")

    laptop = laptop_page
    login(laptop, live_url, finance.email)
    laptop.goto(f"{live_url}/disbursement/")
    expect(laptop.locator("#dash-body")).to_contain_text("800,000원")      # awarded and paid
    db.session.expire_all()   # the settlement was made by the server's session
    settlement_id = db.session.get(Award, award.id).settlement.id
    laptop.goto(f"{live_url}/settlement/review/{settlement_id}")
    line = laptop.locator("article.review-line").first
    line.locator("label:has-text('인정')").first.click()
    line.locator("button:has-text('저장')").click()
    expect(laptop.locator("article.review-line").first.locator(".line-status")).to_contain_text("인정")
    assert_accessible(laptop)
    shot(laptop, "04-laptop-review")
    laptop.click("button:has-text('정산 승인')")
    approve = laptop.locator("#approve-confirm")
    expect(approve).to_contain_text("인정1건 50,000원".replace("인정", ""))
    expect(approve).to_contain_text("되돌릴 수 없습니다")
    approve.get_by_role("button", name="승인", exact=True).click()
    expect(laptop.locator("h1")).to_contain_text("승인")
    expect(laptop.locator(".review-side")).to_contain_text("750,000원")   # refund: 800,000 − 50,000
    with laptop.expect_download() as info:
        laptop.click("a:has-text('정산보고서 PDF')")
    pdf_path = tmp_path / "settlement.pdf"
    info.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    shot(laptop, "05-laptop-approved")


def test_expense_and_refund_work_without_javascript(nojs_page, live_url, make_user, complete_application,
                                                     open_programme, tmp_path):
    finance = make_user("finance@example.kr", roles=("finance",))
    programme = open_programme(**PAST)
    leader, treasurer, application = complete_application(programme)
    application.status, application.submitted_at = "selected", utcnow()
    award = Award(application_id=application.id, programme_id=programme.id, amount_won=600_000, rank=1,
                  decided_at=utcnow())
    db.session.add(award)
    db.session.flush()
    disb = disbursement.accept_award(award, bank="신한은행", account_number="110123456789", holder="모임", user=leader)
    disbursement.record_payment(disb, instalment=1, amount_won=600_000, paid_on=date(2026, 4, 2), reference="",
                                idempotency_key="nojs-1", user=finance)
    db.session.commit()
    page = nojs_page
    login(page, live_url, treasurer.email)
    page.goto(f"{live_url}/settlement/awards/{award.id}/expenses")
    page.fill("#spent_on", "2026-06-01")
    page.select_option("#category", "program_fee")
    page.fill("#amount_won", "10만원")                      # unreadable: kept, with a message
    page.fill("#vendor", "숲체험학교")
    page.fill("#description", "숲체험 참가비")
    page.set_input_files("#receipt", str(receipt_photo(tmp_path / "r.jpg")))
    page.click("form button[type=submit]:has-text('저장')")
    expect(page.locator("#amount_won")).to_have_value("10만원")
    expect(page.locator("#amount_won-error")).to_contain_text("숫자")
    expect(page.locator("#error-summary a[href='#amount_won']")).to_be_visible()
    expect(page.locator("#receipt-group img.thumb")).to_be_visible()     # the photo is kept: not chosen again
    page.fill("#amount_won", "100,000")
    page.click("form button[type=submit]:has-text('저장')")
    expect(page.locator("#balance-left")).to_have_text("500,000원")
