"""A parent on a 360×740 phone: the step bar says where they are ("2/6 활동계획") and takes them
back to a finished step; '이전 활동 복사' fills the next month; finished activities fold to a
line; the budget summary sits above the save buttons with no amount broken over two lines."""
from datetime import date, timedelta

from blueprints.applications import services
from blueprints.core.timeutil import now_utc
from extensions import db
from tests.browser.conftest import ARTIFACTS, all_axe_violations, login



def no_axe_violations(page):
    violations = all_axe_violations(page)
    assert violations == [], "\n".join(violations)


def assert_tap_targets(page, selector, minimum=44):
    page.wait_for_load_state("load")   # measured with the stylesheets applied
    boxes = [(page.locator(selector).nth(i).inner_text(), page.locator(selector).nth(i).bounding_box())
             for i in range(page.locator(selector).count())]
    assert boxes, f"nothing matches {selector}"
    small = [(text, box) for text, box in boxes if box["height"] < minimum or box["width"] < minimum]
    assert not small, f"tap targets under {minimum} px: {small}"


def test_plan_and_budget_on_a_phone(phone_page, live_url, shot, make_user, make_group, make_programme):
    leader = make_user("leader@example.kr", name="김대표")
    group = make_group(leader=leader, treasurer=make_user("treasurer@example.kr"), households=5, name="햇살품앗이")
    programme = make_programme(opens_at=now_utc() - timedelta(days=1), closes_at=now_utc() + timedelta(days=7),
                               activity_start=date(2027, 4, 1), activity_end=date(2027, 7, 31),
                               settlement_due=date(2027, 8, 31))
    application = services.start_application(group, programme, user=leader)
    db.session.commit()
    page = phone_page
    login(page, live_url, "leader@example.kr")
    page.goto(f"{live_url}/applications/{application.id}/edit/purpose")
    page.fill("#purpose", "아이들이 이웃과 함께 자랍니다.")
    page.fill("#need", "주말 공동 돌봄이 필요합니다.")
    page.click("button[value=next]")
    page.wait_for_url("**/edit/plan")

    # The step bar: the current step by number and name; the finished step is a tappable link.
    now = page.locator(".app-steps__now")
    assert now.is_visible() and " ".join(now.inner_text().split()) == "2/6 활동계획"
    bar = page.locator("nav.app-steps-nav")
    bar.screenshot(path=str(shot(page, "01-plan-empty").parent / "step-bar-360.png"))
    assert bar.locator("a").count() == 1
    assert bar.locator("[aria-current=step]").inner_text().startswith("활동계획")
    assert_tap_targets(page, "nav.app-steps-nav a")

    # Fill one activity, then copy it three times: April to July.
    page.select_option("#sessions-0-month", "2027-04")
    page.fill("#sessions-0-title", "숲놀이")
    page.fill("#sessions-0-place", "불광천")
    page.fill("#sessions-0-content", "숲에서 함께 놀고 점심을 나눕니다.")
    for index, month in ((1, "2027-05"), (2, "2027-06"), (3, "2027-07")):
        page.click("button[value=copy]")
        page.locator(f"#sessions-{index}-month").wait_for()
        assert page.input_value(f"#sessions-{index}-month") == month
        assert page.input_value(f"#sessions-{index}-title") == "숲놀이"
        assert page.evaluate("document.activeElement.id") == f"sessions-{index}-month"  # ready to change
    page.fill("#sessions-3-title", "물놀이")
    page.locator("#session-3-summary").get_by_text("물놀이").wait_for()  # the one-line summary follows the typing
    summary = page.locator("#plan-summary")
    summary.get_by_text("4개월 중").wait_for()
    assert "활동 기간의 매달 활동을 계획했습니다" in summary.inner_text()
    # Finished rows are one line each; the last copy stays open until the next change.
    assert [page.locator(f"#session-{i}").get_attribute("open") for i in range(3)] == [None, None, None]
    page.locator("#session-0 summary").click()  # 고치기
    assert page.locator("#sessions-0-title").is_visible()
    assert_tap_targets(page, ".row-summary")
    assert_tap_targets(page, "#session-0 .row-actions button")
    assert_tap_targets(page, ".row-adders button")
    assert_tap_targets(page, ".save-bar button")
    page.locator("#save-status").get_by_text("저장됨").wait_for()
    no_axe_violations(page)
    page.locator("#session-0 summary").click()  # fold it again
    shot(page, "02-plan-four-months")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2600, f"the plan of four activities is {height} px tall at 360 px"

    # Back to the finished first step by its dot, and forward to the plan again.
    bar.locator("a[href$='/edit/purpose']").click()
    page.wait_for_url("**/edit/purpose")
    assert page.input_value("#purpose") == "아이들이 이웃과 함께 자랍니다."
    assert " ".join(page.locator(".app-steps__now").inner_text().split()) == "1/6 목적·필요성"
    no_axe_violations(page)
    page.locator("nav.app-steps-nav a[href$='/edit/plan']").click()
    page.wait_for_url("**/edit/plan")
    assert page.locator("#sessions-3-title").input_value() == "물놀이"  # the autosave kept the copies
    page.click("button[value=next]")
    page.wait_for_url("**/edit/budget")

    page.select_option("#lines-0-category", "program_fee")
    page.fill("#lines-0-item", "숲체험 참가비")
    page.fill("#lines-0-unit_price_won", "12000")
    page.fill("#lines-0-quantity", "20")
    page.locator("#budget-summary").get_by_text("240,000원").first.wait_for()
    money = page.locator("#budget-summary .money")
    line_height = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#budget-summary td.num')).lineHeight)")
    for i in range(money.count()):
        box = money.nth(i).bounding_box()
        assert box["height"] < 1.5 * line_height, f"{money.nth(i).inner_text()!r} wraps: {box}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing runs off the side
    summary_box = page.locator("#budget-summary").bounding_box()
    assert summary_box["y"] + summary_box["height"] < page.locator(".save-bar").bounding_box()["y"]
    assert_tap_targets(page, ".save-bar button")
    no_axe_violations(page)
    shot(page, "03-budget")
    assert (ARTIFACTS / "test_plan_and_budget_on_a_phone" / "step-bar-360.png").exists()
