"""The 회계 on a 360 px phone learns from the dashboard that finance sent a line back, reaches
it in one tap, fixes it, is told "이제 다시 제출하세요" with the button right there, and submits
again after the confirmation with the numbers."""
from datetime import date

from playwright.sync_api import expect

from blueprints.awards.models import Award
from blueprints.core.models import utcnow
from blueprints.disbursement import services as disbursement
from blueprints.settlement import services as settlement_services
from blueprints.settlement.checks import ExpenseIn
from blueprints.settlement.models import Settlement
from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.browser.conftest import all_axe_violations, login, tap_target_ok
from tests.settlement.conftest import Upload, jpeg_bytes

PAST = dict(activity_start=date(2026, 4, 1), activity_end=date(2026, 10, 31), settlement_due=date(2026, 11, 30))


def test_returned_line_is_one_tap_from_the_dashboard_and_fixed(phone_page, live_url, shot, make_user,
                                                              complete_application, open_programme):
    finance = make_user("finance@example.kr", roles=("finance",), name="회계담당 박재무")
    programme = open_programme(**PAST)
    leader, treasurer, application = complete_application(programme)
    application.status, application.submitted_at = "selected", utcnow()
    award = Award(application_id=application.id, programme_id=programme.id, amount_won=600_000, rank=1,
                  decided_at=utcnow())
    db.session.add(award)
    db.session.flush()
    disb = disbursement.accept_award(award, bank="신한은행", account_number="110123456789", holder="모임", user=leader)
    disbursement.record_payment(disb, instalment=1, amount_won=600_000, paid_on=date(2026, 4, 2), reference="",
                                idempotency_key="fix-1", user=finance)
    for i, (description, amount) in enumerate((("숲체험 참가비", 200_000), ("만들기 재료", 90_000))):
        settlement_services.save_expense(
            award, ExpenseIn(spent_on=date(2026, 5, 10 + i), category="program_fee" if i == 0 else "materials",
                             vendor="숲체험학교" if i == 0 else "알파문구", biz_no="124-82-10324", description=description,
                             amount_won=amount, method="clean_card", participants=10, approval_no="12345678"),
            user=treasurer, receipt=Upload(jpeg_bytes(color=(200, 100 + i * 50, 90)), f"r{i}.jpg"))
    row = settlement_services.settlement_for(award, create=True)
    settlement_services.submit(row, user=treasurer)
    first, second = settlement_services.expenses(award)
    settlement_services.review_line(first, decision="recognised", reason="", user=finance)
    settlement_services.review_line(second, decision="needs_fix", reason="영수증 금액(95,000원)과 다릅니다", user=finance)
    settlement_services.return_for_changes(row, message="증빙-002 금액을 고쳐 주세요.", user=finance)
    db.session.commit()

    page = phone_page
    login(page, live_url, treasurer.email)
    fixes = page.locator("#settlement-fixes")
    expect(fixes).to_contain_text("보완 요청 1건")
    expect(fixes).to_contain_text("영수증 금액(95,000원)과 다릅니다")
    first_fix = fixes.get_by_role("link", name="첫 줄부터 고치기")
    tap_target_ok(first_fix)
    assert all_axe_violations(page) == []
    shot(page, "01-dashboard-fix-asked")

    first_fix.click()                                                   # one tap: the line's form
    expect(page.get_by_role("heading", level=2, name="집행내역 고치기 (증빙-002)")).to_be_visible()
    expect(page.get_by_label("금액(원)")).to_have_value("90,000")
    assert all_axe_violations(page) == []
    page.get_by_label("금액(원)").fill("95,000")
    shot(page, "02-fixing-the-line")
    page.locator("form").filter(has=page.get_by_label("사용일")).get_by_role("button", name="저장").click()

    # the last returned line fixed: the settlement page says to submit again, button right there
    notice = page.locator("#returned")
    expect(notice).to_contain_text("이제 다시 제출하세요")
    resubmit = notice.get_by_role("button", name="정산서 다시 제출")
    tap_target_ok(resubmit)
    assert all_axe_violations(page) == []
    shot(page, "03-submit-again")
    resubmit.click()
    confirm = page.locator("#resubmit-confirm")
    expect(confirm).to_contain_text("정산서를 다시 제출할까요?")
    expect(confirm).to_contain_text("295,000원 (2건, 집행률 49%)")     # 200,000 + 95,000 of 600,000
    expect(confirm).to_contain_text("2차 제출 (다시 검토받을 줄 1건)")
    assert all_axe_violations(page) == []
    shot(page, "04-resubmit-confirmation")
    confirm.get_by_role("button", name="제출", exact=True).click()
    expect(page.locator("#flash-region")).to_contain_text("정산서를 제출했습니다")
    db.session.expire_all()
    assert db.session.get(Settlement, row.id).status == "submitted"
    assert db.session.get(Settlement, row.id).submission_count == 2
