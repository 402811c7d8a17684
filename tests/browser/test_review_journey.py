"""A reviewer on a laptop scores an application and watches the total change without a page
load, then submits; staff run the selection simulator, adjust an amount with a reason
(the budget bar follows), and publish the decision."""
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.applications import services as applications
from blueprints.awards.models import Award
from blueprints.review import services
from blueprints.review.models import SelectionEntry
from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.browser.conftest import all_axe_violations, login
from tests.review.conftest import close_window


def test_reviewer_scores_live_and_staff_publish(laptop_page, live_url, shot, make_user, complete_application):
    staff = make_user("staff@example.kr", roles=("staff",), name="김담당")
    me = make_user("reviewer@example.kr", roles=("reviewer",), name="박심사", phone="01055550001")
    other = make_user("reviewer2@example.kr", roles=("reviewer",), name="최심사", phone="01055550002")
    leader1, _, first = complete_application(email="one@example.kr", name="햇살품앗이")
    programme = first.programme
    programme.budget_total_won = 700_000
    leader2, _, second = complete_application(programme, email="two@example.kr", name="숲속놀이터")
    for leader, application in ((leader1, first), (leader2, second)):
        applications.submit(application, user=leader)
    db.session.commit()
    mine = services.assign(first, me, user=staff)
    theirs = services.assign(second, other, user=staff)
    rubric = services.rubric(programme)
    values = {"need": "14", "plan": "20", "budget": "14", "participation": "10", "sustainability": "10"}  # 68
    services.save_scores(theirs, services.check_for(theirs, values, {c["code"]: "보통" for c in rubric}, final=True),
                         user=other, submit=True)
    db.session.commit()

    page = laptop_page
    login(page, live_url, "reviewer@example.kr")
    assert "제출 0 / 배정 1건" in page.locator("#dash-reviewer ~ .dash-progress, .dash-progress").first.inner_text()
    page.click("#dash-reviewer ~ a:has-text('내 심사')")
    page.wait_for_url(f"{live_url}/review/mine")
    page.click("text=심사하기")
    page.wait_for_url(f"{live_url}/review/assignment/{mine.id}")
    main = page.locator("main").inner_text()
    assert "햇살품앗이" not in main and "블라인드 심사" in main  # blind review by default
    page.evaluate("window.__no_reload = true")
    total = page.locator("#score-total")
    page.fill("#score-need", "18")
    expect(total).to_contain_text("총점 18점")
    page.fill("#score-plan", "27")
    expect(total).to_contain_text("총점 45점")
    page.fill("#score-budget", "17")
    page.fill("#score-participation", "13")
    page.fill("#score-sustainability", "8")  # 8/15 = 53 %: needs a comment
    expect(total).to_contain_text("총점 83점")
    assert page.evaluate("window.__no_reload") is True  # the total changed without a page load
    shot(page, "01-scoring-live-total")
    page.click("button[value=submit]")
    expect(page.locator("#score-sustainability-error")).to_have_text("배점의 60% 미만 점수에는 의견을 적어 주세요.")
    assert page.input_value("#score-plan") == "27"  # typed values kept
    page.fill("#comment-sustainability", "지역 연계 계획이 구체적이지 않습니다.")
    page.click("button[value=submit]")
    confirm = page.locator("#submit-confirm")        # the scores and the total, before they are final
    expect(confirm).to_contain_text("83점 / 100점")
    expect(confirm).to_contain_text("더 고칠 수 없습니다")
    expect(confirm.get_by_role("heading", name="이 점수로 심사를 제출할까요?")).to_be_focused()
    assert all_axe_violations(page) == []
    shot(page, "01b-submit-confirmation")
    confirm.get_by_role("button", name="제출", exact=True).click()
    page.wait_for_url(f"{live_url}/review/mine")
    expect(page.locator("#review-progress")).to_have_text("제출 1 / 배정 1건")
    shot(page, "02-submitted")

    page.click("header button:has-text('로그아웃')")
    page.locator("header a:has-text('로그인')").wait_for()  # the logout finished before the next login
    close_window(programme)   # the results come after the application window
    db.session.commit()
    login(page, live_url, "staff@example.kr")
    page.click("nav a:has-text('심사·선정')")
    page.click(f"text={programme.title}")
    page.click(".review-tabs a:has-text('순위')")
    expect(page.locator("main table")).to_contain_text("83.00")
    shot(page, "03-ranking")
    page.click(".review-tabs a:has-text('선정 시뮬레이터')")
    page.fill("#name", "기본안")
    page.click("button:has-text('시뮬레이션 실행')")
    page.wait_for_url(f"{live_url}/review/scenario/*")
    expect(page.locator("#sum-used")).to_have_text("360,000원")
    expect(page.locator("#sum-left")).to_have_text("340,000원")
    row = db.session.scalar(select(SelectionEntry.id).where(SelectionEntry.application_id == second.id))
    expect(page.locator(f"#entry-{row}")).to_contain_text("예산 잔액 부족")
    page.evaluate("window.__no_reload = true")
    page.click(f"label[for=e{row}-selected]")
    page.fill(f"#e{row}-amount_won", "340,000")
    page.click(f"#entry-{row} button:has-text('적용')")
    expect(page.locator(f"#e{row}-error")).to_have_text("조정하려면 사유를 적어 주세요.")
    page.fill(f"#e{row}-reason", "예산 잔액에 맞춰 감액하여 추가 선정")
    page.click(f"#entry-{row} button:has-text('적용')")
    expect(page.locator("#sum-left")).to_have_text("0원")  # the budget bar followed the event
    expect(page.locator("#sum-count")).to_have_text("2개 모임")
    assert page.evaluate("window.__no_reload") is True
    shot(page, "04-simulator-adjusted")
    page.click("label[for=confirm]")
    page.click("button:has-text('결과 공개')")
    expect(page.locator("#flash-region")).to_contain_text("선정 결과를 공개했습니다. 2개 모임")
    shot(page, "05-published")
    db.session.expire_all()
    amounts = sorted(a.amount_won for a in db.session.scalars(select(Award)))
    assert amounts == [340_000, 360_000]
