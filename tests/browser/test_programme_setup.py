"""Staff copy this year's programme for next year, lower the snack cap inline (htmx), publish,
and the public page shows the new cap. Laptop width; screenshots in test-artifacts/."""
import re

from playwright.sync_api import expect

from blueprints.programmes.models import Programme
from extensions import db
from tests.browser.conftest import login


def test_copy_programme_change_snack_cap_and_see_it_public(laptop_page, live_url, make_user, make_programme, shot):
    make_user("staff@example.kr", roles=("staff",), name="김담당")
    make_programme(title="2027년 공동육아 자조모임 지원사업")
    page = laptop_page
    login(page, live_url, "staff@example.kr")

    page.click("nav >> text=사업 설정")
    page.wait_for_url(f"{live_url}/programmes/manage")
    assert page.locator("#source").input_value() != "defaults"  # copying last year's is the default choice
    assert page.input_value("#year") == "2028"
    shot(page, "01-manage")
    page.click("#create-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/programmes/\d+/edit$"))
    assert page.locator("h1").inner_text() == "2028년 공동육아 자조모임 지원사업"
    assert "초안" in page.locator("#programme-header").inner_text()
    shot(page, "02-draft-editor")

    # Inline edit: the categories card turns into a form without leaving the page.
    editor_url = page.url
    page.click("#section-categories a:has-text('수정')")
    snacks = page.locator("#section-categories .prog-row", has=page.locator("input[value='간식비']"))
    share = snacks.locator("input[name$='-share_of_total_max']")
    share.wait_for()
    assert page.url == editor_url
    assert share.input_value() == "25"
    share.fill("150")
    page.click("#section-categories button:has-text('저장')")
    error = page.locator("#section-categories .form-hint-invalid", has_text="0%에서 100% 사이")
    error.wait_for()
    assert share.input_value() == "150"
    shot(page, "03-cap-out-of-range")

    share.fill("20")
    snacks.locator("input[name$='-warn_above_share']").fill("15")
    page.click("#section-categories button:has-text('저장')")
    summary = page.locator("#section-categories .facts")
    summary.wait_for()
    assert "예산 총액의 20% 이하 (15%를 넘으면 주의)" in summary.inner_text()
    expect(page.locator("#flash-region")).to_contain_text("저장했습니다")  # swapped in just after the URL
    assert page.url == editor_url
    shot(page, "04-saved-inline")

    page.click("#programme-header button:has-text('공개하기')")
    page.wait_for_load_state()
    page.locator("#flash-region", has_text="공개했습니다").wait_for()
    shot(page, "05-published")

    page.goto(f"{live_url}/programmes/")
    card = page.locator(".programme-card", has_text="2028년 공동육아 자조모임 지원사업")
    assert "간식비 예산 총액의 20% 이하" in card.inner_text()
    assert "간식비 예산 총액의 25% 이하" in page.locator(".programme-card", has_text="2027년").inner_text()
    shot(page, "06-public-list")
    card.locator("a:has-text('자세히 보기')").click()
    page.locator("h1", has_text="2028년").wait_for()
    assert "간식비 — 예산 총액의 20% 이하" in page.locator("main").inner_text()
    shot(page, "07-public-programme")

    db.session.expire_all()
    copy = db.session.query(Programme).filter_by(year=2028).one()
    assert copy.is_published
