"""The whole cycle as its users live it, in a real browser, and again with JavaScript off:

a parent signs up on a 360 px phone and registers a group (inviting the 회계) → applies to the
open programme → staff assign three reviewers on a laptop, each scores it → staff select and
publish → the leader accepts the award, finance record the payment (교부) → the 회계 (a separate
account, invited by e-mail at registration) records expenses with receipt photos and submits the
settlement → finance return one line, the 회계 fixes it and resubmits, finance approve → finance
download the settlement PDF, which holds the group, the approved amounts and the fixed line.

Only the programme and the staff, reviewer and finance accounts are seeded; every step of the
journey goes through pages, links, buttons and labelled fields."""
import io
import re
import time
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from blueprints.core.mail import OutboxMessage
from blueprints.core.timeutil import now_utc, today_kst
from blueprints.review import services as review
from extensions import db
from tests.browser.conftest import LAPTOP, PHONE, assert_accessible, login
from tests.review.conftest import close_window

GROUP = "햇살품앗이"
HOUSEHOLDS = [  # parent name, phone, role, child's birth year-month; the first is the parent signing up
    ("김대표", "010-2222-0000", "leader", "2024-05"),
    ("이회계", "010-3333-0001", "treasurer", "2023-11"),
    ("박구성", "010-3333-0002", "member", "2022-02"),
    ("최구성", "010-3333-0003", "member", "2025-01"),
    ("정구성", "010-3333-0004", "member", "2021-09"),
]
BUDGET = [  # 비목, 품목, 단가, 수량: 200,000 + 100,000 + 60,000 = 360,000원 (간식비 16.7 %)
    ("program_fee", "숲체험 참가비", "10000", "20"),
    ("materials", "만들기 재료", "5000", "20"),
    ("snacks", "과일 간식", "3000", "20"),
]
EXPENSES = [  # 비목, 금액, 사용처, 내용 — 340,000원 spent of 360,000원 paid
    ("program_fee", "200,000", "숲체험학교", "숲체험 참가비"),
    ("materials", "90,000", "알파문구 망원점", "만들기 재료"),
    ("snacks", "50,000", "망원시장 과일가게", "과일 간식"),
]
SCORES = [  # three reviewers, each criterion at least 60 % of its maximum (no comment needed)
    {"need": 16, "plan": 24, "budget": 16, "participation": 12, "sustainability": 12},  # 80
    {"need": 18, "plan": 27, "budget": 17, "participation": 13, "sustainability": 11},  # 86
    {"need": 14, "plan": 21, "budget": 15, "participation": 10, "sustainability": 10},  # 70
]


class Journey:
    """The people of the cycle, each in a browser context of their own, and the record of what
    was seen: a screenshot of every step, axe on every distinct page (JavaScript only: axe is a
    script), and the time each stage took."""

    def __init__(self, open_page, live_url, shot, javascript):
        self.open_page, self.url, self._shot, self.js = open_page, live_url, shot, javascript
        self.step = 0
        self.scanned: dict[str, list] = {}  # page → its minor and moderate axe findings
        self.timings: list[tuple[str, float]] = []
        self._started = time.monotonic()

    def person(self, viewport):
        return self.open_page(viewport, javascript=self.js)

    def see(self, page, name, page_kind=None):
        """Screenshot the step; run axe once per distinct page (by page_kind). Measured once the
        page has loaded: after a redirect the text can be there before the stylesheets."""
        page.wait_for_load_state("load")
        self.step += 1
        self._shot(page, f"{self.step:02d}-{name}")
        if self.js and page.viewport_size["width"] == PHONE["width"]:
            wide = page.evaluate(OVERFLOW)
            assert not wide, f"{name}: the page scrolls sideways on a 360 px phone: {wide}"
        if self.js and page_kind and page_kind not in self.scanned:
            self.scanned[page_kind] = assert_accessible(page)

    def lap(self, stage):
        now = time.monotonic()
        self.timings.append((stage, round(now - self._started, 1)))
        self._started = now


OVERFLOW = """() => {  // the elements that stick out past the right edge, when the page scrolls sideways
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 0.5)
    .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
}"""


def tick(page, label_text):
    """Tick a KRDS checkbox or radio: the native input is hidden, its label is what people press.
    As a person does, look that it is ticked and press again if the press did not take (once, in a
    CI run under load, both consents stayed empty after their labels were pressed)."""
    label = page.locator("label").filter(has_text=label_text).first
    label.click()
    target = label.get_attribute("for")
    box = page.locator(f"[id='{target}']") if target else label.locator("input")
    try:
        expect(box).to_be_checked(timeout=2000)
    except AssertionError:
        label.click()
        expect(box).to_be_checked()


def labelled(scope, text):
    """The field labelled exactly `text` (a required field's label ends in an asterisk)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(text)}\s*\*?$"))


def nav(page, name):
    """Follow a link of the main menu (주 메뉴) and wait for the new page: the next step may look for a
    link the old page also has (the settlement page's 정산 link once raced the dashboard's)."""
    follow(page, page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name=name, exact=True))


def follow(page, link):
    """Click a link and wait for the page it opens, so that the next lookup cannot find the old page's copy."""
    with page.expect_navigation(wait_until="load"):
        link.click()


def activity_months():
    """The first days of this month and the next."""
    first = today_kst().replace(day=1)
    return first, (first + timedelta(days=31)).replace(day=1)


def receipt_photo(name, shade):
    """A small phone-photo-like JPEG, generated: (name, mime, bytes) for set_input_files."""
    buffer = io.BytesIO()
    Image.new("RGB", (240, 320), (250, shade, 236)).save(buffer, "JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


# The seeded world: an open programme and the city's people ------------------------------------------

def seed(make_user, make_programme):
    # The activity period is this month and the next (a session a month): it has begun, so the
    # 회계 can date spending today, inside the period and not in the future.
    first, following = activity_months()
    end = (following + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    programme = make_programme(title=f"{first.year} 공동육아 자조모임 지원사업", year=first.year, opens_at=now_utc() - timedelta(days=1),
                               closes_at=now_utc() + timedelta(days=10), activity_start=first,
                               activity_end=end, settlement_due=end + timedelta(days=30))
    make_user("staff@example.kr", roles=("staff",), name="김담당")
    make_user("finance@example.kr", roles=("finance",), name="박재무")
    for n in range(3):
        make_user(f"reviewer{n + 1}@example.kr", roles=("reviewer",), name=f"심사위원{n + 1}", phone=f"0105555000{n}")
    return programme


# 1. A parent signs up on a phone -----------------------------------------------------------------

def sign_up(j, page):
    page.goto(j.url + "/")
    follow(page, page.get_by_role("main").get_by_role("link", name="회원가입"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("회원가입")
    j.see(page, "parent-signup-empty", "signup")
    page.get_by_label("이메일").fill("parent@example.kr")
    page.get_by_label("이름").fill(HOUSEHOLDS[0][0])
    page.get_by_label("휴대전화번호").fill(HOUSEHOLDS[0][1])
    labelled(page, "비밀번호").fill("abcd1234!")
    page.get_by_label("비밀번호 확인").fill("abcd1234!")
    tick(page, "개인정보 수집·이용에 동의합니다. (필수)")
    j.see(page, "parent-signup-filled")
    page.get_by_role("button", name="가입하기").click()
    page.wait_for_url(f"{j.url}/account/verify")
    j.see(page, "parent-verify-address", "verify-notice")
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "parent@example.kr"))
    page.goto(re.search(r"https?://\S+/account/verify/\S+", message.body).group(0))  # the link in the e-mail
    labelled(page, "가입할 때 정한 비밀번호").fill("abcd1234!")
    page.get_by_role("button", name="주소 확인").click()
    page.wait_for_url(f"{j.url}/dashboard")
    expect(page.locator("header")).to_contain_text(f"{HOUSEHOLDS[0][0]}님")
    j.see(page, "parent-dashboard", "dashboard-applicant")


# 2. The parent registers the group (four steps) and invites the 회계 -------------------------------------

def register_group(j, page):
    follow(page, page.get_by_role("link", name="모임 등록"))
    page.wait_for_url(f"{j.url}/groups/register")
    page.get_by_label("모임 이름").fill(GROUP)
    page.get_by_label("자치구").select_option("마포구")
    labelled(page, "동").fill("망원동")
    page.get_by_label("주로 모이는 곳").fill("망원동 공동육아방")
    page.get_by_label("활동 유형").select_option("놀이·체험")
    tick(page, "공동육아나눔터")
    page.get_by_label("모임 소개").fill("망원동 영유아 가정이 매달 함께 놀고 책을 읽습니다.")
    j.see(page, "register-step1", "register-step1")
    page.get_by_role("button", name="다음").click()
    expect(page.get_by_role("heading", name="2단계 · 가구")).to_be_visible()

    def household(index):
        return page.get_by_role("group", name=re.compile(rf"^{index + 1}번째 가구"))

    expect(labelled(household(0), "보호자 이름")).to_have_value(HOUSEHOLDS[0][0])
    household(0).get_by_label(re.compile(r"^자녀 출생 연월")).fill(HOUSEHOLDS[0][3])
    labelled(household(0), "거주 자치구").select_option("마포구")
    for index, (name, phone, role, birth) in enumerate(HOUSEHOLDS[1:], start=1):
        page.get_by_role("button", name="+ 가구 추가").click()
        row = household(index)
        labelled(row, "보호자 이름").fill(name)
        labelled(row, "휴대전화번호").fill(phone)
        row.get_by_label("역할").select_option(role)
        labelled(row, "거주 자치구").select_option("마포구")
        row.get_by_label(re.compile(r"^자녀 출생 연월")).fill(birth)
    j.see(page, "register-step2-households", "register-step2")
    page.get_by_role("button", name="다음").click()
    expect(page.get_by_role("heading", name="3단계 · 대표·회계와 초대")).to_be_visible()
    expect(page.locator("#eligibility-panel")).to_contain_text("모든 지원 요건을 충족합니다.")
    page.get_by_label("이회계 (회계) 이메일").fill("treasurer@example.kr")
    j.see(page, "register-step3-invite", "register-step3")
    page.get_by_role("button", name="다음").click()
    expect(page.get_by_role("heading", name="4단계 · 개인정보 동의")).to_be_visible()
    tick(page, "개인정보 수집·이용에 동의합니다. 함께 적은 가구의")
    tick(page, "자치구·서울시에 개인정보를 제공하는 데 동의합니다.")
    j.see(page, "register-step4-consents", "register-step4")
    page.get_by_role("button", name="모임 등록하기").click()
    page.wait_for_url(re.compile(rf"{j.url}/groups/\d+$"))
    expect(page.locator("#flash-region")).to_contain_text("1가구에 초대 메일을 보냈습니다")
    j.see(page, "group-page", "group")


# 3. The parent applies to the open programme ----------------------------------------------------------

def apply(j, page, programme):
    nav(page, "내 업무")
    follow(page, page.get_by_role("link", name="공모사업 보기"))
    j.see(page, "programme-list", "programmes")
    follow(page, page.get_by_role("link", name="신청하기").first)
    page.get_by_role("button", name="이 모임으로 신청서 작성").click()
    page.wait_for_url("**/edit/purpose")
    page.get_by_label("사업 목적").fill("아이들이 이웃과 함께 자라는 모임을 만듭니다.")
    page.get_by_label("필요성").fill("맞벌이 가정이 많아 주말 공동 돌봄이 필요합니다.")
    j.see(page, "apply-purpose", "apply-purpose")
    page.get_by_role("button", name="저장하고 다음").click()
    page.wait_for_url("**/edit/plan")

    months = [day.strftime("%Y-%m") for day in activity_months()]
    for index, (month, title) in enumerate(zip(months, ("숲놀이", "만들기 놀이"))):
        if index:
            page.get_by_role("button", name="활동 추가").click()
        row = page.get_by_role("group", name=f"활동 {index + 1}")
        row.get_by_label("월").select_option(month)
        row.get_by_label("활동명").fill(title)
        row.get_by_label("장소").fill("망원동 공동육아방")
        row.get_by_label("예상 가구").fill("5")
        row.get_by_label("예상 아동").fill("7")
    j.see(page, "apply-plan", "apply-plan")
    page.get_by_role("button", name="저장하고 다음").click()
    page.wait_for_url("**/edit/budget")

    for index, (category, item, price, quantity) in enumerate(BUDGET):
        if index:
            page.get_by_role("button", name="항목 추가").click()
        row = page.get_by_role("group", name=f"항목 {index + 1}")
        row.get_by_label("비목").select_option(category)
        row.get_by_label("품목").fill(item)
        row.get_by_label("단가(원)").fill(price)
        row.get_by_label("수량").fill(quantity)
    if not j.js:
        page.get_by_role("button", name="저장", exact=True).click()
    expect(page.locator("#budget-total")).to_have_text("360,000원")
    j.see(page, "apply-budget", "apply-budget")
    page.get_by_role("button", name="저장하고 다음").click()
    page.wait_for_url("**/edit/declaration")
    tick(page, "아니요")
    page.get_by_role("button", name="저장하고 다음").click()
    page.wait_for_url("**/edit/attachments")
    follow(page, page.get_by_role("link", name="다음 단계"))
    page.wait_for_url("**/edit/review")
    expect(page.locator("main")).to_contain_text("모든 필수 조건을 갖추었습니다")
    tick(page, "입력한 내용이 사실이며")
    j.see(page, "apply-review", "apply-review")
    page.get_by_role("button", name="제출하기").click()
    page.wait_for_url(re.compile(rf"{j.url}/applications/\d+$"))
    expect(page.locator("#flash-region")).to_contain_text("신청서를 제출했습니다")
    j.see(page, "application-submitted", "application")


# 4. Staff assign three reviewers; each scores on a laptop -------------------------------------------------

def assign_reviewers(j, page, programme):
    login(page, j.url, "staff@example.kr")
    nav(page, "심사·선정")
    follow(page, page.get_by_role("link", name=programme.title))
    j.see(page, "staff-review-overview", "review-overview")
    follow(page, page.get_by_role("navigation", name="심사·선정 메뉴").get_by_role("link", name="배정"))
    page.get_by_role("button", name="빈 자리 자동 배정").click()
    expect(page.locator("#flash-region")).to_contain_text("자동 배정 3건을 했습니다.")
    for n in range(3):
        expect(page.locator("main table")).to_contain_text(f"심사위원{n + 1}")
    j.see(page, "staff-assigned", "review-assignments")


def score(j, page, n, programme):
    login(page, j.url, f"reviewer{n + 1}@example.kr")
    nav(page, "내 심사")
    follow(page, page.get_by_role("link", name="심사하기"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("심사: 신청서 #")  # blind by default
    for criterion in review.rubric(programme):
        page.get_by_label(f"{criterion['label']} (0~{criterion['max']}점)", exact=True).fill(
            str(SCORES[n][criterion["code"]]))
    if j.js:
        expect(page.locator("#score-total")).to_contain_text(f"총점 {sum(SCORES[n].values())}점")
    j.see(page, f"reviewer{n + 1}-scored", "review-score")
    page.get_by_role("button", name="심사 제출").click()
    confirm = page.locator(".confirm-box")          # the total it submits for good, then 제출
    expect(confirm).to_contain_text(f"총점{sum(SCORES[n].values())}점".replace("총점", ""))
    if n == 0:
        j.see(page, "reviewer1-confirm", "review-confirm")
    confirm.get_by_role("button", name="제출", exact=True).click()
    page.wait_for_url(f"{j.url}/review/mine")
    expect(page.locator("#review-progress")).to_have_text("제출 1 / 배정 1건")
    j.see(page, f"reviewer{n + 1}-submitted", "review-mine")


# 5. Staff rank, select and publish -------------------------------------------------------------------------

def select_and_publish(j, page):
    tabs = page.get_by_role("navigation", name="심사·선정 메뉴")
    follow(page, tabs.get_by_role("link", name="순위"))
    mean = f"{sum(sum(s.values()) for s in SCORES) / 3:.2f}"  # 78.67
    expect(page.locator("main table")).to_contain_text(mean)
    j.see(page, "staff-ranking", "review-ranking")
    follow(page, page.get_by_role("navigation", name="심사·선정 메뉴").get_by_role("link", name="선정 시뮬레이터"))
    page.get_by_label("시나리오 이름").fill("기본안")
    page.get_by_role("button", name="시뮬레이션 실행").click()
    page.wait_for_url(re.compile(rf"{j.url}/review/scenario/\d+$"))
    row = page.locator("tr", has_text=GROUP)
    expect(row.get_by_label("선정")).to_be_checked()
    expect(page.locator("#sum-used")).to_have_text("360,000원")
    tick(page, "결과를 공개하면 되돌릴 수 없음을 확인했습니다")
    j.see(page, "staff-scenario", "review-scenario")
    page.get_by_role("button", name="결과 공개").click()
    expect(page.locator("#flash-region")).to_contain_text("선정 결과를 공개했습니다. 1개 모임")
    j.see(page, "staff-published")


# 6. The leader accepts the award; finance record the payment (교부) ------------------------------------

def accept_award(j, page):
    nav(page, "내 업무")
    follow(page, page.get_by_role("link", name=re.compile(rf"^{GROUP} · ")))
    expect(page.get_by_role("heading", level=1)).to_contain_text("교부")
    page.get_by_label("은행").select_option("신한은행")
    page.get_by_label("보조금 전용 계좌번호").fill("110-123-456789")
    page.get_by_label("예금주").fill(f"{GROUP}(김대표)")
    tick(page, "교부 조건을 읽었고 지키겠습니다.")
    j.see(page, "leader-accepts-award", "award-accept")
    page.get_by_role("button", name="교부 신청").click()
    expect(page.locator("#flash-region")).to_contain_text("교부 신청을 했습니다")
    j.see(page, "leader-award-accepted")


def record_payment(j, page):
    login(page, j.url, "finance@example.kr")
    follow(page, page.get_by_role("link", name="교부·정산 현황"))
    j.see(page, "finance-dashboard", "finance-dashboard")
    follow(page, page.get_by_role("link", name=GROUP))
    expect(page.get_by_label("지급액(원)")).to_have_value("360,000")
    j.see(page, "finance-payment-form", "award-finance")
    page.get_by_label("지출결의·이체 참조번호").fill("지출-2026-0412")
    page.get_by_role("button", name="지급 기록").click()
    expect(page.locator("#flash-region")).to_contain_text("지급을 기록했습니다.")
    expect(page.locator("main")).to_contain_text("360,000원 / 360,000원")
    j.see(page, "finance-paid")


# 7. The 회계 accepts the invitation, records expenses with receipts, submits ------------------------------

def treasurer_joins(j, page):
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "treasurer@example.kr"))
    link = re.search(r"https?://\S+/invite/\S+", message.body).group(0)  # the link in the invitation e-mail
    page.goto(link)
    expect(page.get_by_label("이름")).to_have_value("이회계")
    page.get_by_label("휴대전화번호").fill(HOUSEHOLDS[1][1])
    labelled(page, "비밀번호").fill("efgh5678!")
    page.get_by_label("비밀번호 확인").fill("efgh5678!")
    tick(page, "개인정보 수집·이용에 동의합니다. (필수)")
    j.see(page, "treasurer-accepts-invite", "accept-invite")
    page.get_by_role("button", name="계정 만들기").click()
    page.wait_for_url(f"{j.url}/dashboard")
    # Linked only once the 회계 accepts the invitation shown on the dashboard.
    expect(page.locator("#invitations")).to_contain_text(GROUP)
    j.see(page, "treasurer-invitation", "dashboard-invitation")
    page.locator("#invitations").get_by_role("button", name="수락").click()
    expect(page.locator("#flash-region")).to_contain_text("회계 가구로 연결되었습니다")
    page.goto(f"{j.url}/dashboard")
    expect(page.locator("main")).to_contain_text(GROUP)
    j.see(page, "treasurer-dashboard")


def fill_expense(page, spent_on, category, amount, vendor, description, photo):
    page.set_input_files("#receipt", photo)   # 파일에서 고르기 (사진 찍기 is #receipt_camera)
    page.fill("#spent_on", spent_on.isoformat())
    page.select_option("#category", category)
    page.fill("#amount_won", amount)
    page.fill("#vendor", vendor)
    page.fill("#description", description)
    page.select_option("#method", "grant_check_card")
    page.fill("#participants", "10")


def record_expenses_and_submit(j, page):
    follow(page, page.get_by_role("link", name="집행내역").first)
    expect(page.locator("#balance-left")).to_have_text("360,000원")
    spent_on = today_kst()
    for index, (category, amount, vendor, description) in enumerate(EXPENSES):
        fill_expense(page, spent_on, category, amount, vendor, description,
                     receipt_photo(f"IMG_20{index + 41}.jpg", 200 + index * 10))
        if index == 0:
            j.see(page, "treasurer-expense-form", "expenses")
        page.locator("form").filter(has=page.get_by_label("사용일")).get_by_role("button", name="저장").click()
        expect(page.locator(".expense-list")).to_contain_text(f"증빙-00{index + 1}")
    expect(page.locator("#balance-left")).to_have_text("20,000원")
    j.see(page, "treasurer-three-expenses")

    follow(page, page.get_by_role("link", name="정산", exact=True).first)
    page.get_by_label("사업실적(결과보고)").fill("숲놀이와 만들기 놀이를 두 차례 열었고 다섯 가구가 모두 참여했습니다.")
    page.get_by_label("통장 발생이자(원)").fill("0")
    page.get_by_role("button", name="저장", exact=True).click()
    expect(page.get_by_role("button", name="정산서 제출")).to_be_enabled()
    j.see(page, "treasurer-settlement", "settlement")
    page.get_by_role("button", name="정산서 제출").click()
    confirm = page.locator(".confirm-box")          # the numbers first, then 제출
    expect(confirm).to_contain_text("340,000원 (3건, 집행률 94%)")
    j.see(page, "treasurer-submit-confirm", "settlement-confirm")
    confirm.get_by_role("button", name="제출", exact=True).click()
    expect(page.locator("#flash-region")).to_contain_text("정산서를 제출했습니다")
    j.see(page, "treasurer-submitted")


# 8. Finance return one line; the 회계 fixes it and resubmits; finance approve --------------------------------

def decide(page, evidence_no, decision, reason=""):
    line = page.locator("article.review-line", has_text=evidence_no)
    line.locator("label").filter(has_text=re.compile(rf"^{decision}$")).click()
    if reason:
        line.get_by_label(f"{evidence_no} 사유").fill(reason)
    line.get_by_role("button", name="저장").click()
    expect(page.locator("article.review-line", has_text=evidence_no).locator(".line-status")).to_contain_text(decision)


def open_submitted_settlement(page):
    nav(page, "교부·정산")
    follow(page, page.locator("tr", has_text=GROUP).get_by_role("link", name=re.compile("제출")))
    expect(page.get_by_role("heading", level=1)).to_contain_text("정산 검토")


def finance_return_one_line(j, page):
    open_submitted_settlement(page)
    decide(page, "증빙-001", "인정")
    decide(page, "증빙-002", "보완 요청", "영수증 금액(95,000원)과 다릅니다. 금액과 품목을 고쳐 주세요.")
    decide(page, "증빙-003", "인정")
    j.see(page, "finance-review-lines", "settlement-review")
    page.get_by_label("보완 요청 내용").fill("증빙-002의 금액을 영수증대로 고쳐 다시 제출해 주세요.")
    page.get_by_role("button", name="보완 요청 보내기").click()
    expect(page.locator("#flash-region")).to_contain_text("보완 요청을 보냈습니다.")
    j.see(page, "finance-returned")


def treasurer_fixes(j, page):
    nav(page, "내 업무")
    follow(page, page.get_by_role("link", name="정산", exact=True).first)
    notice = page.get_by_role("alert").filter(has_text="보완 요청")
    expect(notice).to_contain_text("영수증 금액(95,000원)과 다릅니다")
    j.see(page, "treasurer-sees-return")
    follow(page, notice.get_by_role("link", name="고치기"))
    expect(page.get_by_label("금액(원)")).to_have_value("90,000")
    page.get_by_label("금액(원)").fill("95,000")
    page.get_by_label("내용·품목").fill("만들기 재료(색종이·풀)")
    j.see(page, "treasurer-fixing-line", "expense-edit")
    page.locator("form").filter(has=page.get_by_label("사용일")).get_by_role("button", name="저장").click()
    notice = page.locator("#returned")               # the last fix: submit again, right here
    expect(notice).to_contain_text("이제 다시 제출하세요")
    j.see(page, "treasurer-fixed-all", "settlement")
    notice.get_by_role("button", name="정산서 다시 제출").click()
    confirm = page.locator(".confirm-box")
    expect(confirm).to_contain_text("2차 제출 (다시 검토받을 줄 1건)")
    confirm.get_by_role("button", name="제출", exact=True).click()
    expect(page.locator("#flash-region")).to_contain_text("정산서를 제출했습니다")
    expect(page.locator("main")).to_contain_text("(2차)")
    j.see(page, "treasurer-resubmitted")


def finance_approve_and_download(j, page, tmp_path):
    open_submitted_settlement(page)
    expect(page.locator("article.review-line", has_text="증빙-002")).to_contain_text("만들기 재료(색종이·풀)")
    expect(page.locator(".diff")).to_contain_text("금액 90,000원 → 95,000원")
    decide(page, "증빙-002", "인정")
    j.see(page, "finance-second-review")
    page.get_by_role("button", name="정산 승인").click()
    confirm = page.locator(".confirm-box")          # the sums it fixes for good, then 승인
    expect(confirm).to_contain_text("반환액15,000원".replace("반환액", ""))
    j.see(page, "finance-approve-confirm", "approve-confirm")
    confirm.get_by_role("button", name="승인", exact=True).click()
    expect(page.locator("#flash-region")).to_contain_text("정산을 승인했습니다. 인정액 345,000원, 반환액 15,000원.")
    j.see(page, "finance-approved")
    with page.expect_download() as download:
        page.get_by_role("link", name="정산보고서 PDF").click()
    path = tmp_path / "settlement.pdf"
    download.value.save_as(path)
    text = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(path).pages))
    return text


def run_cycle(j, programme, tmp_path):
    parent = j.person(PHONE)
    sign_up(j, parent)
    register_group(j, parent)
    j.lap("1–2 sign-up and group registration (phone)")
    apply(j, parent, programme)
    j.lap("3 application (phone)")

    staff = j.person(LAPTOP)
    assign_reviewers(j, staff, programme)
    for n in range(3):
        score(j, j.person(LAPTOP), n, programme)
    j.lap("4 assignment and three reviews (laptop)")
    close_window(programme)   # the results come after the application window
    db.session.commit()
    select_and_publish(j, staff)
    j.lap("5 selection and publication (laptop)")

    accept_award(j, parent)
    finance = j.person(LAPTOP)
    record_payment(j, finance)
    j.lap("6 acceptance (phone) and payment (laptop)")

    treasurer = j.person(PHONE)
    treasurer_joins(j, treasurer)
    record_expenses_and_submit(j, treasurer)
    j.lap("7 회계: invitation, three expenses with receipts, submission (phone)")
    finance_return_one_line(j, finance)
    treasurer_fixes(j, treasurer)
    text = finance_approve_and_download(j, finance, tmp_path)
    j.lap("8–9 return, fix, approval and PDF (laptop + phone)")

    assert f"모임명 {GROUP}" in text
    assert "인정액 345,000원" in text and re.search(r"반환액[^0-9]*15,000원", text)  # the approved amounts
    assert re.search(r"만들기 재료\(색종이·풀\).{0,30}95,000원.{0,40}증빙-002 인정", text)  # the fixed line, approved
    assert "90,000원" not in text                                               # and not its first version
    assert re.search(r"숲체험 참가비.{0,30}200,000원.{0,40}증빙-001 인정", text)
    return text


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_whole_cycle(javascript, open_page, live_url, shot, make_user, make_programme, tmp_path):
    programme = seed(make_user, make_programme)
    journey = Journey(open_page, live_url, shot, javascript)
    started = time.monotonic()
    run_cycle(journey, programme, tmp_path)
    print(f"\nwhole cycle ({'js' if javascript else 'no-js'}): {time.monotonic() - started:.1f} s")
    for stage, seconds in journey.timings:
        print(f"  {seconds:6.1f} s  {stage}")
    if javascript:
        print(f"  axe on {len(journey.scanned)} pages, no serious or critical; minor/moderate:",
              {page: found for page, found in journey.scanned.items() if found})
