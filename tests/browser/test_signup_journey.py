"""A parent signs up on a phone, logs out, logs in, and sees the dashboard."""
import re

from sqlalchemy import select

from blueprints.core.mail import OutboxMessage
from extensions import db
from tests.browser.conftest import LAPTOP, assert_accessible, login


def test_signup_login_dashboard_on_phone(phone_page, live_url, shot):
    page = phone_page
    page.goto(f"{live_url}/signup")
    shot(page, "01-signup-empty")
    assert_accessible(page)
    # A mistake first: the Korean message appears next to the field, the typing stays.
    page.fill("#email", "parent@example.kr")
    page.fill("#name", "박부모")
    page.fill("#phone", "010-1234")
    page.fill("#password", "abcd1234!")
    page.fill("#password_confirm", "abcd1234!")
    page.click("label[for=consent_privacy]")
    page.click("main button[type=submit]")
    assert page.locator("#phone-error").inner_text().startswith("휴대전화번호 형식이 올바르지 않습니다")
    assert page.input_value("#email") == "parent@example.kr"
    assert page.input_value("#name") == "박부모"
    shot(page, "02-signup-error")
    assert_accessible(page)

    page.fill("#phone", "010-1234-5678")
    page.fill("#password", "abcd1234!")
    page.fill("#password_confirm", "abcd1234!")
    page.click("main button[type=submit]")
    # The address is proved first: the page says so, the link in the mail (with the password) finishes.
    page.wait_for_url(f"{live_url}/account/verify")
    assert page.locator("h1").inner_text() == "이메일 주소를 확인해 주세요"
    shot(page, "03-verify-your-address")
    assert_accessible(page)
    body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.recipient == "parent@example.kr"))
    page.goto(re.search(r"https?://\S+/account/verify/\S+", body).group(0))
    page.fill("#password", "abcd1234!")
    page.click("main button:has-text('주소 확인')")
    page.wait_for_url(f"{live_url}/dashboard")
    assert "박부모님" in page.locator("header").inner_text()
    assert "신청자" in page.locator("header").inner_text()
    shot(page, "03-dashboard-after-signup")

    page.click("header button:has-text('로그아웃')")
    page.wait_for_url(f"{live_url}/login")
    page.fill("#email", "parent@example.kr")
    page.fill("#password", "abcd1234!")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_url}/dashboard")
    assert page.locator("h1").inner_text() == "내 업무"
    shot(page, "04-dashboard-after-login")
    assert_accessible(page)


def test_login_and_dashboard_on_laptop_without_javascript(nojs_page, live_url, make_user, shot):
    make_user("staff@example.kr", roles=("staff",), name="김담당")
    page = nojs_page
    page.set_viewport_size(LAPTOP)
    login(page, live_url, "staff@example.kr")   # the password, then the authenticator app's code
    assert page.url == f"{live_url}/dashboard"
    assert "사업담당" in page.locator("main").inner_text()
    shot(page, "dashboard-laptop-nojs")
