"""A parent registers a group of five households on a phone and watches the eligibility panel
turn green (leaving half-way and coming back finds everything typed); then the same form
without JavaScript. axe finds nothing of any impact on the wizard's steps at 360×740."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.groups.models import Group
from extensions import db
from tests.browser.conftest import LAPTOP, axe_violations, login

ANY_IMPACT = ("minor", "moderate", "serious", "critical")

HOUSEHOLDS = [
    # name, phone, role, child birth year-month, 거주 자치구
    ("김대표", None, "leader", "2024-05", "마포구"),
    ("이회계", "010-3333-0001", "treasurer", "2023-11", "마포구"),
    ("박구성", "010-3333-0002", "member", "2022-02", "서대문구"),
    ("최구성", "010-3333-0003", "member", "2025-07", "마포구"),
    ("정구성", "010-3333-0004", "member", "2021-04", "은평구"),
]


def no_axe_violations(page):
    violations = axe_violations(page, impacts=ANY_IMPACT)
    page.wait_for_timeout(50)
    page.js_errors[:] = [e for e in page.js_errors if "Content Security Policy" not in e and "CSP violation" not in e]
    assert violations == [], "axe: " + "\n".join(violations)


def panel(page):
    return page.locator("#eligibility-panel")


def fill_step_one(page):
    page.fill("#name", "햇살품앗이")
    page.select_option("#district", "마포구")
    page.fill("#dong", "망원동")
    page.fill("#meeting_place", "망원동 공동육아방")
    page.select_option("#activity_type", "놀이·체험")
    page.click("label[for=affiliation-1]")  # 공동육아나눔터
    page.fill("#description", "망원동 영유아 가정이 매달 함께 놀고 책을 읽습니다.")


def test_register_five_households_on_a_phone(phone_page, live_url, shot, make_user, make_programme):
    make_programme()
    make_user("parent@example.kr", name="김대표", phone="01022220000")
    page = phone_page
    login(page, live_url, "parent@example.kr")
    page.click("main a:has-text('모임 등록')")
    page.wait_for_url(f"{live_url}/groups/register")
    assert "1단계" in page.locator("li.active").inner_text()
    no_axe_violations(page)
    shot(page, "01-step1-empty")

    # Step 1, with a mistake first: the message is in Korean and what was typed stays.
    fill_step_one(page)
    page.fill("#dong", "")
    page.click("button.krds-btn:has-text('다음')")
    page.wait_for_selector("#dong-error")
    assert page.locator("#dong-error").inner_text() == "필수 입력 항목입니다."
    assert page.input_value("#name") == "햇살품앗이"
    assert page.is_checked("#affiliation-1")
    no_axe_violations(page)
    shot(page, "02-step1-error")
    page.fill("#dong", "망원동")
    page.click("button.krds-btn:has-text('다음')")
    page.wait_for_selector("text=2단계 · 가구")
    assert "미충족" in panel(page).inner_text()

    # The parent leaves (a call, another app) and comes back: the wizard resumes at step 2
    # with step 1 kept; going back shows it in the boxes.
    page.goto(f"{live_url}/dashboard")
    page.goto(f"{live_url}/groups/register")
    expect(page.locator(".register__draft")).to_contain_text("이어서 보여 드립니다")
    assert "2단계" in page.locator("li.active").inner_text()
    page.click("button.krds-btn:has-text('이전')")
    page.wait_for_selector("text=1단계 · 기본 정보")
    assert page.input_value("#name") == "햇살품앗이" and page.input_value("#dong") == "망원동"
    assert page.is_checked("#affiliation-1")
    shot(page, "02b-draft-resumed")
    page.click("button.krds-btn:has-text('다음')")
    page.wait_for_selector("text=2단계 · 가구")

    # Step 2: the parent is the first household; add four more inline.
    assert page.input_value("#households-0-parent_name") == "김대표"
    page.fill("#households-0-child_1", HOUSEHOLDS[0][3])
    page.select_option("#households-0-resident_district", HOUSEHOLDS[0][4])
    for index, (name, phone, role, birth, district) in enumerate(HOUSEHOLDS[1:], start=1):
        page.click("button.household__add")
        page.wait_for_selector(f"#households-{index}-parent_name")
        assert page.evaluate("document.activeElement.id") == f"households-{index}-parent_name"
        page.fill(f"#households-{index}-parent_name", name)
        page.fill(f"#households-{index}-phone", phone)
        page.select_option(f"#households-{index}-role", role)
        page.select_option(f"#households-{index}-resident_district", district)
        page.fill(f"#households-{index}-child_1", birth)
        if index == 3:
            page.wait_for_selector("#eligibility-panel .eligibility--todo")
            assert "2가구가 더 있어야 합니다" in panel(page).inner_text() or "1가구가 더" in panel(page).inner_text()
            shot(page, "03-three-more-to-go")

    # A sixth row added and removed again: the five typed rows are untouched.
    page.click("button.household__add")
    page.wait_for_selector("#households-5-parent_name")
    page.fill("#households-5-parent_name", "잘못 추가")
    page.click("button:has-text('6번째 가구 삭제')")
    page.wait_for_selector("#households-5-parent_name", state="detached")
    assert [page.input_value(f"#households-{i}-parent_name") for i in range(5)] == [h[0] for h in HOUSEHOLDS]
    assert page.input_value("#households-4-child_1") == "2021-04"

    page.locator("#households-4-child_1").press("Tab")  # leave the last field: the panel re-checks
    page.wait_for_selector("#eligibility-panel .eligibility--ok")
    assert "모든 지원 요건을 충족합니다." in panel(page).inner_text()
    assert "서울특별시 거주 가구가 5가구 중 5가구(100%)로" in panel(page).inner_text()
    no_axe_violations(page)
    shot(page, "04-five-households-green")

    # Step 3: officers and an invitation for the 회계.
    page.click("button.krds-btn:has-text('다음')")
    page.wait_for_selector("text=3단계 · 대표·회계와 초대")
    assert "이회계" in page.locator(".officer-summary").inner_text()
    page.fill("#households-1-email", "treasurer@example.kr")
    no_axe_violations(page)
    shot(page, "05-step3-officers")

    # Step 4: the consents, each separately; collection is required.
    page.click("button.krds-btn:has-text('다음')")
    page.wait_for_selector("text=4단계 · 개인정보 동의")
    page.click("button.krds-btn:has-text('모임 등록하기')")
    page.wait_for_selector("#consent_collection-error")
    page.click("label[for=consent_collection]")
    page.click("label[for=consent_provision]")
    page.click("label[for=consent_publish_name]")
    no_axe_violations(page)
    shot(page, "06-step4-consents")
    page.click("button.krds-btn:has-text('모임 등록하기')")
    page.wait_for_url(re.compile(rf"{live_url}/groups/\d+$"))

    group = db.session.scalar(select(Group))
    assert group.reg_no in page.locator("h1 + p").inner_text()
    expect(page.locator("#flash-region")).to_contain_text("모임을 등록했습니다")  # swapped in just after the URL
    assert len(group.members) == 5
    assert group.affiliation == "sharing" and group.consent_publish_name_at is not None
    assert [m.resident_district for m in group.members] == [h[4] for h in HOUSEHOLDS]
    assert page.locator(".group-side .eligibility--ok").count() == 1
    no_axe_violations(page)  # the group page: every control its own id and label
    shot(page, "07-group-page")


def test_register_without_javascript_on_a_laptop(nojs_page, live_url, shot, make_user, make_programme):
    make_programme()
    make_user("parent@example.kr", name="김대표", phone="01022220000")
    page = nojs_page
    page.set_viewport_size(LAPTOP)
    login(page, live_url, "parent@example.kr")
    page.goto(f"{live_url}/groups/register")
    fill_step_one(page)
    page.click("button.krds-btn:has-text('다음')")
    page.wait_for_selector("text=2단계 · 가구")
    page.fill("#households-0-child_1", "2024-05")
    page.select_option("#households-0-resident_district", "마포구")
    page.click("button.household__add")  # a plain form post: the page comes back with one more row
    page.wait_for_selector("#households-1-parent_name")
    assert page.input_value("#households-0-child_1") == "2024-05"
    page.fill("#households-1-parent_name", "이회계")
    page.fill("#households-1-phone", "010-3333-0001")
    page.select_option("#households-1-role", "treasurer")
    page.select_option("#households-1-resident_district", "서울 밖")
    page.fill("#households-1-child_1", "2023-11")
    page.click("button.krds-btn:has-text('다음')")
    page.wait_for_selector("text=3단계")
    assert "서울특별시 거주 가구가 2가구 중 1가구(50%)로, 최소 100%에 못 미칩니다." in panel(page).inner_text()
    assert "2가구입니다" in panel(page).inner_text()  # the panel is there without JavaScript too
    page.click("button.krds-btn:has-text('다음')")
    page.wait_for_selector("text=4단계")
    page.check("#consent_collection", force=True)
    shot(page, "nojs-step4")
    page.click("button.krds-btn:has-text('모임 등록하기')")
    page.wait_for_url(re.compile(rf"{live_url}/groups/\d+$"))
    expect(page.locator("#flash-region")).to_contain_text("모임을 등록했습니다")  # swapped in just after the URL
    shot(page, "nojs-group-page")
