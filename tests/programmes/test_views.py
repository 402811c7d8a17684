"""Programme set-up through the web: who may do what, copying, inline edits, validation,
changes after the window opens, and what the public pages show."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from blueprints.core.audit import AuditEvent
from blueprints.core.models import utcnow
from blueprints.core.timeutil import to_kst
from blueprints.programmes import rules as R
from blueprints.programmes.models import Programme, ProgrammeNotice
from extensions import db

from .conftest import category_index


def _reload(programme) -> Programme:
    db.session.expire_all()
    return db.session.get(Programme, programme.id)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# Who may do what ---------------------------------------------------------------------------

STAFF_PAGES = ["/programmes/manage", "/programmes/{id}/edit", "/programmes/{id}/edit?section=categories"]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_anonymous_users_are_sent_to_login_from_staff_pages(client, make_programme, url):
    programme = make_programme()
    response = client.get(url.format(id=programme.id))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("roles", [("applicant",), ("reviewer",), ("finance",), ("admin",)])
def test_only_staff_may_open_or_use_the_set_up_screens(client, auth, make_user, make_programme, roles):
    programme = make_programme()
    make_user("someone@example.kr", roles=roles)
    auth.login("someone@example.kr")
    for url in STAFF_PAGES:
        assert client.get(url.format(id=programme.id)).status_code == 403
    before = programme.rules
    assert client.post_form("/programmes/manage/new", {"source": "defaults", "year": "2028"}).status_code == 403
    assert client.post_form(f"/programmes/{programme.id}/edit/basic",
                            {"title": "바꾼 이름", "year": "2027", "operator": "x", "budget_total_won": "1"}).status_code == 403
    assert client.post_form(f"/programmes/{programme.id}/publish").status_code == 403
    assert db.session.scalar(select(db.func.count()).select_from(Programme)) == 1
    assert _reload(programme).title != "바꾼 이름" and _reload(programme).rules == before


def test_anonymous_posts_change_nothing(client, make_programme):
    programme = make_programme()
    response = client.post_form(f"/programmes/{programme.id}/edit/basic", {"title": "x", "year": "2027",
                                                                           "operator": "x", "budget_total_won": "1"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _reload(programme).title != "x"


def test_public_pages_are_open_to_everyone_but_drafts_are_not(client, auth, make_user, make_programme):
    published = make_programme(title="공개된 사업")
    draft = make_programme(title="준비 중인 사업")
    draft.rules = dict(draft.rules, status="draft")
    db.session.commit()
    for who in (None, "applicant"):
        if who:
            make_user("parent@example.kr", roles=("applicant",))
            auth.login("parent@example.kr")
        listing = _text(client.get("/programmes/"))
        assert "공개된 사업" in listing and "준비 중인 사업" not in listing
        assert client.get(f"/programmes/{published.id}").status_code == 200
        assert client.get(f"/programmes/{draft.id}").status_code == 404
    auth.logout()
    make_user("staff@example.kr", roles=("staff",))
    auth.login("staff@example.kr")
    preview = client.get(f"/programmes/{draft.id}")
    assert preview.status_code == 200 and "미리 보기" in _text(preview)


def test_staff_see_the_manage_link_and_others_do_not(client, auth, make_user):
    make_user("staff@example.kr", roles=("staff",))
    make_user("parent@example.kr", roles=("applicant",))
    auth.login("parent@example.kr")
    assert "사업 설정" not in _text(client.get("/dashboard"))
    auth.logout()
    auth.login("staff@example.kr")
    page = _text(client.get("/dashboard"))
    assert "사업 설정" in page and 'href="/programmes/manage"' in page


# Create and copy ---------------------------------------------------------------------------

def test_staff_create_a_draft_from_the_defaults(client, staff):
    response = client.post_form("/programmes/manage/new", {"source": "defaults", "year": "2028", "title": ""})
    assert response.status_code == 303
    programme = db.session.scalar(select(Programme))
    assert response.headers["Location"].endswith(f"/programmes/{programme.id}/edit")
    assert programme.title == "2028년 공동육아 자조모임 지원사업" and programme.year == 2028
    assert programme.status == "draft" and not programme.is_published
    assert to_kst(programme.opens_at).strftime("%Y-%m-%d %H:%M") == "2028-02-15 09:00"
    assert programme.activity_start == date(2028, 3, 25) and programme.settlement_due == date(2028, 11, 30)
    assert R.category(programme.rules, "snacks")["caps"]["share_of_total_max"] == 0.25
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "programme.created"))
    assert event.actor_id == staff.id and event.object_id == str(programme.id)


def _copy_for_next_year(client, source, **extra):
    return client.post_form("/programmes/manage/new", {"source": str(source.id), "year": str(source.year + 1), **extra})


def test_copying_this_years_programme_keeps_its_rules_and_moves_its_dates(client, staff, make_programme):
    this_year = make_programme(title="2027년 공동육아 자조모임 지원사업")
    rules = dict(this_year.rules)
    rules["prohibited_items"] = rules["prohibited_items"] + [{"label": "물총", "keywords": ["물총"]}]
    this_year.rules = rules
    db.session.commit()
    response = _copy_for_next_year(client, this_year)
    assert response.status_code == 303
    copy = db.session.scalar(select(Programme).where(Programme.year == 2028))
    assert copy.title == "2028년 공동육아 자조모임 지원사업" and copy.status == "draft"
    assert copy.opens_at == this_year.opens_at.replace(year=2028)
    assert copy.review_to == this_year.review_to.replace(year=2028)
    assert copy.rules["prohibited_items"][-1] == {"label": "물총", "keywords": ["물총"]}
    assert copy.max_per_group_won == this_year.max_per_group_won
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "programme.copied")) is not None
    # The original is untouched.
    assert _reload(this_year).status == "published"


def test_copy_with_a_title_already_used_that_year_is_refused(client, staff, make_programme):
    this_year = make_programme(title="사업")
    make_programme(title="사업", year=2028)
    response = _copy_for_next_year(client, this_year, title="사업")
    assert response.status_code == 422
    assert "같은 이름의 사업이 이미 있습니다" in _text(response)
    assert 'value="사업"' in _text(response)


def test_create_form_errors_are_korean_and_keep_the_input(client, staff):
    response = client.post_form("/programmes/manage/new", {"source": "defaults", "year": "이천이십팔", "title": "새 사업"})
    assert response.status_code == 422
    page = _text(response)
    assert "숫자로 입력해 주세요." in page and 'value="이천이십팔"' in page and 'value="새 사업"' in page


# The acceptance path: copy, change the snack cap, publish, see it in public ------------------

def test_copy_change_snack_cap_publish_and_the_public_page_shows_it(client, staff, make_programme, section_form):
    this_year = make_programme(title="2027년 공동육아 자조모임 지원사업")
    _copy_for_next_year(client, this_year)
    next_year = db.session.scalar(select(Programme).where(Programme.year == 2028))

    data = section_form(next_year, "categories")
    i = category_index(data, "간식비")
    assert data[f"categories-{i}-share_of_total_max"] == "25"
    data[f"categories-{i}-share_of_total_max"] = "20"
    data[f"categories-{i}-warn_above_share"] = "15"
    response = client.post_form(f"/programmes/{next_year.id}/edit/categories", data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/programmes/{next_year.id}/edit#section-categories")
    snacks = R.category(_reload(next_year).rules, "snacks")
    assert snacks["caps"]["share_of_total_max"] == 0.2 and snacks["caps"]["warn_above_share"] == 0.15
    assert snacks["caps"]["per_participant_per_session_won"] == 5000  # untouched fields stay
    assert len(_reload(next_year).rules["expense_categories"]) == len(this_year.rules["expense_categories"])
    # A draft (and a window not yet open) needs no reason and makes no notice.
    assert db.session.scalar(select(db.func.count()).select_from(ProgrammeNotice)) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "programme.categories_updated"))
    assert "간식비" in event.summary and "25%" in event.summary and "20%" in event.summary

    assert "2028년" not in _text(client.get("/programmes/"))  # still a draft
    assert client.post_form(f"/programmes/{next_year.id}/publish").status_code == 303
    assert _reload(next_year).is_published

    listing = _text(client.get("/programmes/"))
    card = listing[listing.index("2028년 공동육아"):]
    assert "간식비 예산 총액의 20% 이하 (15%를 넘으면 주의)" in card
    page = _text(client.get(f"/programmes/{next_year.id}"))
    assert "간식비</strong> — 예산 총액의 20% 이하 (15%를 넘으면 주의)" in page
    old = _text(client.get(f"/programmes/{this_year.id}"))
    assert "예산 총액의 25% 이하" in old


# Validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    ("150", "비율은 0%에서 100% 사이로 입력해 주세요."),
    ("-5", "비율은 0%에서 100% 사이로 입력해 주세요."),
    ("이십", "비율은 숫자로 입력해 주세요."),
])
def test_a_cap_outside_0_to_100_percent_is_refused(client, staff, make_programme, section_form, value, message):
    programme = make_programme()
    data = section_form(programme, "categories")
    i = category_index(data, "간식비")
    data[f"categories-{i}-share_of_total_max"] = value
    data[f"categories-{i}-label"] = "간식비(과일)"
    response = client.post_form(f"/programmes/{programme.id}/edit/categories", data)
    assert response.status_code == 422
    page = _text(response)
    assert message in page
    assert f'value="{value}"' in page and 'value="간식비(과일)"' in page
    assert R.category(_reload(programme).rules, "snacks")["caps"]["share_of_total_max"] == 0.25


def test_warning_above_the_cap_is_refused(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "categories")
    i = category_index(data, "간식비")
    data[f"categories-{i}-warn_above_share"] = "30"
    response = client.post_form(f"/programmes/{programme.id}/edit/categories", data)
    assert response.status_code == 422
    assert "경고 기준은 상한보다 낮거나 같아야 합니다." in _text(response)


def test_window_closing_before_it_opens_is_refused_and_the_input_kept(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "schedule")
    assert data["opens_at"] == "2027-02-15T09:00"  # shown in KST
    data.update(opens_at="2027-03-10T09:00", closes_at="2027-03-01T18:00")
    response = client.post_form(f"/programmes/{programme.id}/edit/schedule", data)
    assert response.status_code == 422
    page = _text(response)
    assert "신청 마감은 신청 시작보다 뒤여야 합니다." in page
    assert 'value="2027-03-10T09:00"' in page and 'value="2027-03-01T18:00"' in page
    assert to_kst(_reload(programme).opens_at).day == 15


def test_window_is_entered_and_judged_in_kst(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "schedule")
    data.update(opens_at="2027-02-20T00:30", closes_at="2027-03-08T23:59")
    assert client.post_form(f"/programmes/{programme.id}/edit/schedule", data).status_code == 303
    stored = _reload(programme)
    # 00:30 in Seoul is 15:30 UTC the day before.
    assert (stored.opens_at.day, stored.opens_at.hour, stored.opens_at.minute) == (19, 15, 30)
    assert stored.opens_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value, message", [
    ("백만원", "금액은 숫자로만 입력해 주세요."),
    ("1,000,00", "금액은 숫자로만 입력해 주세요."),
    ("-1000", "금액은 0원 이상이어야 합니다."),
    ("999,999,999,999,999", "금액이 너무 큽니다."),
])
def test_malformed_money_gets_a_korean_message_and_keeps_the_input(client, staff, make_programme, section_form,
                                                                    value, message):
    programme = make_programme()
    data = section_form(programme, "grant")
    data["max_per_group_won"] = value
    response = client.post_form(f"/programmes/{programme.id}/edit/grant", data)
    assert response.status_code == 422
    page = _text(response)
    assert message in page and f'value="{value}"' in page
    assert _reload(programme).max_per_group_won == 1_000_000


def test_grouped_money_is_saved_as_integer_won(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "grant")
    assert data["max_per_group_won"] == "1,000,000"
    data["max_per_group_won"] = "1,200,000원"
    data["tiers-2-max_won"] = "1,200,000"
    assert client.post_form(f"/programmes/{programme.id}/edit/grant", data).status_code == 303
    stored = _reload(programme)
    assert stored.max_per_group_won == 1_200_000 == stored.rules["grant"]["max_per_group_won"]
    assert stored.rules["grant"]["tiers"][2]["max_won"] == 1_200_000


def test_tier_above_the_group_maximum_is_refused(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "grant")
    data["tiers-2-max_won"] = "2,000,000"
    response = client.post_form(f"/programmes/{programme.id}/edit/grant", data)
    assert response.status_code == 422
    assert "모임당 최대 지원액(1,000,000원)을 넘을 수 없습니다." in _text(response)


def test_validation_error_over_htmx_returns_only_the_section(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "categories")
    i = category_index(data, "간식비")
    data[f"categories-{i}-share_of_total_max"] = "120"
    response = client.htmx("POST", f"/programmes/{programme.id}/edit/categories", target="section-categories",
                           data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" not in body and "0%에서 100% 사이" in body and 'value="120"' in body
    assert "HX-Request" in response.headers["Vary"]


def test_saving_over_htmx_returns_the_summary_and_announces_the_change(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "eligibility")
    data["min_households"] = "4"
    response = client.htmx("POST", f"/programmes/{programme.id}/edit/eligibility", target="section-eligibility",
                           data=data)
    assert response.status_code == 200
    body = _text(response)
    assert "<html" not in body and "4~15가구" in body and "<form" not in body
    assert response.headers["HX-Trigger"] == '{"programme-changed": null}'
    assert _reload(programme).rules["eligibility"]["min_households"] == 4


def test_rubric_total_is_shown_live_and_pass_mark_checked(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "review")
    data["rubric-0-max"] = "30"
    data["pass_mark"] = "200"
    live = client.htmx("POST", f"/programmes/{programme.id}/edit/review/total", target="rubric-total", data=data)
    assert live.status_code == 200
    assert "110점" in _text(live) and "합격 점수(200점)가 배점 합계보다 큽니다." in _text(live)
    assert _reload(programme).rules["review"]["rubric"][0]["max"] == 20  # nothing saved
    response = client.post_form(f"/programmes/{programme.id}/edit/review", data)
    assert response.status_code == 422
    assert "합격 점수는 배점 합계(110점)보다 클 수 없습니다." in _text(response)


def test_review_rubric_and_tie_break_are_saved(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "review")
    data.update({"rubric-1-remove": "y", "rubric-5-label": "지역 연계", "rubric-5-max": "30", "pass_mark": "65",
                 "tie_break-0": "budget", "tie_break-1": "submitted_at", "tie_break-2": "", "tie_break-3": ""})
    assert client.post_form(f"/programmes/{programme.id}/edit/review", data).status_code == 303
    review = _reload(programme).rules["review"]
    assert [c["label"] for c in review["rubric"]][-1] == "지역 연계"
    assert "plan" not in [c["code"] for c in review["rubric"]]
    assert R.rubric_total(review["rubric"]) == 100 and review["pass_mark"] == 65
    assert review["tie_break"] == ["budget", "submitted_at"]


def test_same_tie_break_twice_is_refused(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "review")
    data.update({"tie_break-0": "plan", "tie_break-1": "plan"})
    response = client.post_form(f"/programmes/{programme.id}/edit/review", data)
    assert response.status_code == 422 and "같은 기준을 두 번 고를 수 없습니다." in _text(response)


def test_prohibited_item_keywords_are_edited_and_used_for_matching(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "prohibited")
    assert "맥주" in data["items-0-keywords"]
    data["items-0-keywords"] = data["items-0-keywords"] + ", 칵테일"
    count = len(programme.rules["prohibited_items"])
    data[f"items-{count}-label"] = "물총 놀이 장난감"
    data[f"items-{count}-keywords"] = "물총"
    assert client.post_form(f"/programmes/{programme.id}/edit/prohibited", data).status_code == 303
    rules = _reload(programme).rules
    assert [f["label"] for f in R.match_prohibited("칵테일 파티", rules)] == ["주류"]
    assert R.match_prohibited("여름 물총 구입", rules) == [{"label": "물총 놀이 장난감", "keyword": "물총"}]


def test_add_row_shows_one_more_empty_row_and_saves_nothing(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "categories")
    rows = len([k for k in data if k.endswith("-label")])
    data["categories-0-label"] = "프로그램 참가비"
    data["add_row"] = "categories"
    response = client.post_form(f"/programmes/{programme.id}/edit/categories", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'name="categories-{rows}-label"' in page and 'value="프로그램 참가비"' in page
    assert _reload(programme).rules["expense_categories"][0]["label"] == "프로그램·체험 참가비"


def test_payment_methods_and_evidence(client, staff, make_programme, section_form):
    programme = make_programme()
    data = section_form(programme, "payment")
    data["accepted_methods"] = ["clean_card", "transfer"]
    data["per_session_evidence"] = "활동사진 2장\n참석자 명단"
    assert client.post_form(f"/programmes/{programme.id}/edit/payment", data).status_code == 303
    pay = _reload(programme).rules["payment_and_evidence"]
    assert pay["accepted_methods"] == ["clean_card", "transfer"]
    assert pay["per_session_evidence"] == ["활동사진 2장", "참석자 명단"]
    page = _text(client.get(f"/programmes/{programme.id}"))
    assert "<strong>클린카드</strong>, <strong>계좌이체</strong>으로 합니다. 현금 결제는 인정하지 않습니다." in page
    data.pop("accepted_methods")
    response = client.post_form(f"/programmes/{programme.id}/edit/payment", data)
    assert response.status_code == 422 and "결제 수단을 하나 이상 골라 주세요." in _text(response)


# After the window opens ---------------------------------------------------------------------

def test_changing_rules_after_opening_without_a_reason_is_refused(client, staff, open_programme, section_form):
    data = section_form(open_programme, "categories")
    assert "reason" in data  # the form asks for one
    i = category_index(data, "간식비")
    data[f"categories-{i}-share_of_total_max"] = "20"
    response = client.post_form(f"/programmes/{open_programme.id}/edit/categories", data)
    assert response.status_code == 422
    page = _text(response)
    assert "신청 기간이 시작된 사업의 규칙은 변경 사유를 적어야 바꿀 수 있습니다." in page
    assert 'value="20"' in page
    assert R.category(_reload(open_programme).rules, "snacks")["caps"]["share_of_total_max"] == 0.25
    assert db.session.scalar(select(db.func.count()).select_from(ProgrammeNotice)) == 0


def test_changing_rules_after_opening_with_a_reason_posts_a_notice(client, auth, staff, make_user, open_programme,
                                                                   section_form):
    data = section_form(open_programme, "categories")
    i = category_index(data, "간식비")
    data[f"categories-{i}-share_of_total_max"] = "20"
    data["reason"] = "시 지침 변경으로 간식비 비중을 낮춥니다."
    response = client.post_form(f"/programmes/{open_programme.id}/edit/categories", data)
    assert response.status_code == 303
    notice = db.session.scalar(select(ProgrammeNotice))
    assert notice.programme_id == open_programme.id and notice.created_by_id == staff.id
    assert notice.reason == "시 지침 변경으로 간식비 비중을 낮춥니다."
    assert "간식비" in notice.summary and "25%" in notice.summary and "20%" in notice.summary
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "programme.categories_updated"))
    assert "시 지침 변경" in event.changes

    auth.logout()
    make_user("parent@example.kr", roles=("applicant",))
    auth.login("parent@example.kr")
    page = _text(client.get(f"/programmes/{open_programme.id}"))
    assert "규칙 변경 공지" in page and "시 지침 변경으로 간식비 비중을 낮춥니다." in page
    assert "예산 총액의 20% 이하" in page
    assert "규칙 변경 공지 1건" in _text(client.get("/programmes/"))


def test_changes_after_opening_need_a_reason_over_htmx_too(client, staff, open_programme, section_form):
    data = section_form(open_programme, "eligibility")
    data["min_households"] = "3"
    response = client.htmx("POST", f"/programmes/{open_programme.id}/edit/eligibility",
                           target="section-eligibility", data=data)
    assert response.status_code == 422 and "변경 사유를 적어야" in response.get_data(as_text=True)
    assert _reload(open_programme).rules["eligibility"]["min_households"] == 5


def test_basic_information_needs_no_reason_after_opening(client, staff, open_programme, section_form):
    data = section_form(open_programme, "basic")
    assert "reason" not in data
    data["operator"] = "서울시육아종합지원센터 (공동육아팀)"
    assert client.post_form(f"/programmes/{open_programme.id}/edit/basic", data).status_code == 303
    assert _reload(open_programme).operator.endswith("(공동육아팀)")
    assert db.session.scalar(select(db.func.count()).select_from(ProgrammeNotice)) == 0


def test_a_draft_past_its_opening_time_needs_no_reason(client, staff, open_programme, section_form):
    open_programme.rules = dict(open_programme.rules, status="draft")
    db.session.commit()
    data = section_form(open_programme, "eligibility")
    assert "reason" not in data
    data["min_households"] = "3"
    assert client.post_form(f"/programmes/{open_programme.id}/edit/eligibility", data).status_code == 303
    assert _reload(open_programme).rules["eligibility"]["min_households"] == 3
    assert _reload(open_programme).status == "draft"


def test_saving_without_changes_records_nothing(client, staff, open_programme, section_form):
    data = section_form(open_programme, "categories")
    assert client.post_form(f"/programmes/{open_programme.id}/edit/categories", data).status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(ProgrammeNotice)) == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action.like("programme.%"))) is None


# Public pages --------------------------------------------------------------------------------

def test_public_list_shows_key_rules_countdown_and_apply_button(client, open_programme, make_programme):
    upcoming = make_programme(title="다음 달 사업", opens_at=utcnow() + timedelta(days=30),
                              closes_at=utcnow() + timedelta(days=40))
    closed = make_programme(title="지난 사업", opens_at=utcnow() - timedelta(days=40),
                            closes_at=utcnow() - timedelta(days=30))
    page = _text(client.get("/programmes/"))
    open_card = page[page.index(open_programme.title):page.index("다음 달 사업")]
    assert "신청 중" in open_card and "마감까지 9일" in open_card
    assert f'href="/programmes/{open_programme.id}/apply"' in open_card and "신청하기" in open_card
    assert "모임당 최대 1,000,000원" in open_card and "5가구 이상" in open_card
    assert "간식비 예산 총액의 25% 이하" in open_card
    upcoming_card = page[page.index("다음 달 사업"):page.index("지난 공모사업")]
    assert "신청 예정" in upcoming_card and "신청 시작까지 29일" in upcoming_card
    assert f"/programmes/{upcoming.id}/apply" not in page
    assert page.index("지난 공모사업") < page.index("지난 사업", page.index("지난 공모사업") + 6)
    assert f"/programmes/{closed.id}/apply" not in page


def test_programme_page_explains_the_rules_in_plain_korean(client, make_programme):
    programme = make_programme()
    page = _text(client.get(f"/programmes/{programme.id}"))
    for expected in ["누가 신청할 수 있나요?", "만 0세~6세 자녀를 둔 가정이 <strong>5가구 이상</strong>",
                     "무엇에 쓸 수 있나요?", "강사비</strong> — 시간당 50,000원 이하, 하루 100,000원 이하",
                     "꼭 지킬 것: 모임 구성원(대표·회계 포함)에게 지급 불가",
                     "무엇에 쓸 수 없나요?", "<li>주류</li>", "식비 (이번 사업에서는 쓸 수 없는 항목)",
                     "간이영수증은 인정하지 않습니다.", "현금 결제는 인정하지 않습니다.",
                     "어떻게 심사하나요?", "<strong>60점 이상</strong>", "7~9가구", "800,000원"]:
        assert expected in page, expected


def test_apply_sends_anonymous_users_to_login_and_others_to_the_rules(client, auth, make_user, open_programme,
                                                                      make_programme):
    response = client.get(f"/programmes/{open_programme.id}/apply")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    make_user("parent@example.kr", roles=("applicant",))
    auth.login("parent@example.kr")
    response = client.get(f"/programmes/{open_programme.id}/apply")
    assert response.status_code == 303
    # Wherever the hand-over goes (the application module, or the rules page), a link can follow it.
    assert client.get(response.headers["Location"]).status_code == 200
    upcoming = make_programme()
    response = client.get(f"/programmes/{upcoming.id}/apply", follow_redirects=True)
    assert "지금은 신청 기간이 아닙니다." in _text(response)


def test_publish_refuses_a_programme_whose_window_has_passed(client, staff, make_programme):
    programme = make_programme(opens_at=utcnow() - timedelta(days=20), closes_at=utcnow() - timedelta(days=10))
    programme.rules = dict(programme.rules, status="draft")
    db.session.commit()
    response = client.post_form(f"/programmes/{programme.id}/publish", follow_redirects=True)
    assert "신청 마감이 이미 지났습니다." in _text(response)
    assert _reload(programme).status == "draft"


def test_a_residency_scope_that_names_no_district_is_refused_and_kept(client, staff, make_programme, section_form):
    """The 거주 지역 decides who may submit: a typo ('마포') would have refused every group."""
    programme = make_programme()
    data = section_form(programme, "eligibility")
    data["residency_scope"] = "마포, 서대문구"
    response = client.post_form(f"/programmes/{programme.id}/edit/eligibility", data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "마포" in body and "알 수 없는 지역" in body and 'value="마포, 서대문구"' in body
    assert _reload(programme).rules["eligibility"]["residency"]["scope"] == "서울특별시"
    data["residency_scope"] = "서울특별시 마포구"
    assert client.post_form(f"/programmes/{programme.id}/edit/eligibility", data).status_code == 303
    assert _reload(programme).rules["eligibility"]["residency"]["scope"] == "서울특별시 마포구"
