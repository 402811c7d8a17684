"""A new staff member enrols the second factor at first sign-in (with and without JavaScript),
keeps the recovery codes, and is asked for the app's code the next time."""
import pyotp
import pytest

from tests.browser.conftest import PHONE, assert_accessible, login


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_staff_enrols_at_first_sign_in_then_signs_in_with_the_code(open_page, live_url, shot, make_user, javascript):
    make_user("new-staff@example.kr", roles=("staff",), name="김새담당", second_factor=False)
    page = open_page(PHONE, javascript)
    page.goto(f"{live_url}/login")
    page.fill("#email", "new-staff@example.kr")
    page.fill("#password", "pass1234!")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_url}/login/second-factor/setup")
    assert page.locator("h1").inner_text() == "2단계 인증 등록"
    assert page.locator("img[alt='인증 앱에 등록할 QR 코드']").is_visible()
    shot(page, f"01-enrol-{'js' if javascript else 'nojs'}")
    if javascript:
        assert_accessible(page)
    secret = page.locator("code.secret-key").inner_text().replace(" ", "")

    page.fill("#code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click("main form.card-form button[type=submit]")
    assert "인증 코드가 맞지 않습니다" in page.locator("#code-error").inner_text()

    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("main form.card-form button[type=submit]")
    page.locator("ul.recovery-codes").wait_for()
    assert page.locator("ul.recovery-codes li").count() == 10
    shot(page, f"02-recovery-codes-{'js' if javascript else 'nojs'}")
    if javascript:
        assert_accessible(page)
    page.click("text=적어 두었습니다. 계속하기")
    page.wait_for_url(f"{live_url}/dashboard")

    page.click("header button:has-text('로그아웃')")
    page.wait_for_url(f"{live_url}/login")
    login(page, live_url, "new-staff@example.kr")  # the helper answers the code step
    assert page.locator("h1").inner_text() == "내 업무"
