"""The long application form made short enough for a phone: the step bar (the current step as
"2/6 활동계획", links back to finished steps only), '이전 활동 복사', finished plan rows folded
with the plan's summary above them, and the budget summary above the save buttons."""
import re
from datetime import date

from sqlalchemy import func, select

from blueprints.applications import services
from blueprints.applications.models import DraftConflict
from blueprints.applications.steps import next_month_row, plan_summary
from extensions import db
from tests.applications.conftest import GOOD_SESSIONS


def step_nav(body: str) -> str:
    return re.search(r'<nav class="app-steps-nav".*?</nav>', body, re.S).group(0)


def step_links(body: str) -> list[str]:
    """The steps the bar links to, in order."""
    return re.findall(r'<a class="step-tit" href="/applications/\d+/edit/(\w+)"', step_nav(body))


def current_step(body: str) -> str:
    nav = step_nav(body)
    label = re.sub(r"<[^>]+>", "", re.search(r'<p class="app-steps__now"[^>]*>(.*?)</p>', nav, re.S).group(1))
    current = re.findall(r'aria-current="step">([^<]+)<', nav)
    return " ".join(label.split()), current


def plan_form(application, sessions=GOOD_SESSIONS, **extra):
    data = {"version": str(application.version)}
    for i, session in enumerate(sessions):
        data.update({f"sessions-{i}-{k}": str(v) for k, v in session.items()})
    data.update(extra)
    return data


def field_value(body, name):
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', body) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', body)
    return found.group(1) if found else None


def selected_month(body, index):
    select_html = re.search(rf'<select[^>]*name="sessions-{index}-month".*?</select>', body, re.S).group(0)
    found = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html)
    return found and (found.group(1) or found.group(2))


def textarea_value(body, name):
    return re.search(rf'<textarea[^>]*name="{name}"[^>]*>\s*(.*?)</textarea>', body, re.S).group(1)


# The step bar -----------------------------------------------------------------------------------

def test_the_step_bar_names_the_current_step_and_links_only_to_finished_steps(
        client, auth, open_programme, leader_group):
    programme = open_programme()
    leader, _, group = leader_group()
    application = services.start_application(group, programme, user=leader)
    db.session.commit()
    auth.login(leader.email)

    body = client.get(f"/applications/{application.id}/edit/purpose").get_data(as_text=True)
    assert current_step(body) == ("1/6 목적·필요성", ["목적·필요성"])
    assert step_links(body) == []  # nothing done yet: no step to jump to

    # A step reached by its address is not "finished" by being looked at.
    body = client.get(f"/applications/{application.id}/edit/budget").get_data(as_text=True)
    assert current_step(body) == ("3/6 예산계획", ["예산계획"])
    assert step_links(body) == ["purpose"]  # the first step not done yet, nothing beyond

    assert client.post_form(f"/applications/{application.id}/edit/purpose",
                            {"purpose": "함께 자라기", "need": "이웃 돌봄", "version": str(application.version),
                             "go": "next"}).status_code == 303
    body = client.get(f"/applications/{application.id}/edit/plan").get_data(as_text=True)
    assert current_step(body) == ("2/6 활동계획", ["활동계획"])
    assert step_links(body) == ["purpose"]  # back to the finished step; budget is not reachable yet
    assert "<title>신청서 작성 - 2/6 활동계획" in body
    assert "예산계획</span>" in step_nav(body)  # shown, as text


def test_every_finished_step_is_a_link_from_any_step(client, auth, complete_application):
    leader, _, application = complete_application()  # purpose, plan, budget, declaration done
    auth.login(leader.email)
    body = client.get(f"/applications/{application.id}/edit/plan").get_data(as_text=True)
    assert current_step(body) == ("2/6 활동계획", ["활동계획"])
    assert step_links(body) == ["purpose", "budget", "declaration", "attachments", "review"]
    assert body.count("(완료)") == 4  # purpose, budget, declaration, attachments (plan is the current one)
    body = client.get(f"/applications/{application.id}/edit/review").get_data(as_text=True)
    assert current_step(body) == ("6/6 검토·제출", ["검토·제출"])
    assert step_links(body) == ["purpose", "plan", "budget", "declaration", "attachments"]


# '이전 활동 복사' -----------------------------------------------------------------------------------

def test_copy_previous_activity_adds_its_fields_in_a_new_row_for_the_next_month(
        client, auth, complete_application, open_programme):
    leader, _, application = complete_application(open_programme(activity_end=date(2027, 7, 31)))
    auth.login(leader.email)
    url = f"/applications/{application.id}/edit/plan"
    typed = [dict(GOOD_SESSIONS[0]), dict(GOOD_SESSIONS[1], title="여름 만들기", place="마을 도서관")]

    response = client.post_form(url, plan_form(application, typed, row_action="copy"))  # no JavaScript
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert field_value(body, "sessions-2-title") == "여름 만들기"
    assert field_value(body, "sessions-2-place") == "마을 도서관"
    assert field_value(body, "sessions-2-expected_households") == "5"
    assert field_value(body, "sessions-2-expected_children") == "7"
    assert textarea_value(body, "sessions-2-content") == "재료 놀이"
    assert selected_month(body, 2) == "2027-06"  # the month after the copied one
    assert 'name="sessions-3-title"' not in body
    assert re.search(r'<details class="row-card" id="session-2" open data-focus>', body)  # the new row unfolded
    db.session.refresh(application)
    # What was typed is saved first (as every row button does); the copy waits for the next save.
    assert [s.title for s in application.sessions] == ["봄 숲놀이", "여름 만들기"]

    # With htmx only the plan's region comes back, the summary counting the copy.
    response = client.htmx("POST", url, target="plan-form-wrap",
                           data=plan_form(application, typed + [dict(typed[1], month="2027-06")], row_action="copy"))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert selected_month(body, 3) == "2027-07" and field_value(body, "sessions-3-title") == "여름 만들기"
    assert "활동 <strong>4개</strong>" in body and "4개월 중 <strong>4개월</strong>" in body


def test_copy_of_the_last_month_keeps_the_month():
    copy = next_month_row(["2027-04", "2027-05"])
    assert copy(dict(month="2027-05", title="a"))["month"] == "2027-05"
    assert copy(dict(month="", title="a")) == dict(month="", title="a")
    assert copy(dict(month="2027-04", title="a")) == dict(month="2027-05", title="a")


def test_copy_stops_at_the_most_rows_a_plan_may_have(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    sixty = [dict(GOOD_SESSIONS[i % 2], title=f"활동{i}") for i in range(60)]
    response = client.post_form(f"/applications/{application.id}/edit/plan",
                                plan_form(application, sixty, row_action="copy"))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="sessions-59-title"' in body and 'name="sessions-60-title"' not in body
    assert "줄은 60개까지 넣을 수 있습니다" in body
    db.session.refresh(application)
    assert len(application.sessions) == 60


def test_copy_on_a_stale_version_is_a_409_and_keeps_both_versions(client, auth, complete_application):
    leader, treasurer, application = complete_application()
    stale = application.version
    auth.login(leader.email)
    url = f"/applications/{application.id}/edit/plan"
    mine = [dict(GOOD_SESSIONS[0], title="대표의 봄 숲놀이"), GOOD_SESSIONS[1]]
    assert client.post_form(url, dict(plan_form(application, mine), go="stay")).status_code == 303
    auth.logout()
    auth.login(treasurer.email)
    theirs = [dict(GOOD_SESSIONS[0], title="회계의 봄 숲놀이"), GOOD_SESSIONS[1]]
    response = client.post_form(url, dict(plan_form(application, theirs), version=str(stale), row_action="copy"))
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "다른 담당자가 먼저 고쳤습니다" in body and "회계의 봄 숲놀이" in body  # kept aside
    assert field_value(body, "sessions-0-title") == "대표의 봄 숲놀이"  # the form as now stored
    assert 'name="sessions-2-title"' not in body  # no copy made on top of a version nobody saw
    db.session.refresh(application)
    assert [s.title for s in application.sessions] == ["대표의 봄 숲놀이", "만들기"]
    assert db.session.scalar(select(func.count(DraftConflict.id))) == 1
    # On the version now shown, the same button copies.
    response = client.post_form(url, dict(plan_form(application, theirs), row_action="copy"))
    assert response.status_code == 200 and field_value(response.get_data(as_text=True), "sessions-2-title") == "만들기"


def test_copy_on_another_groups_application_is_refused(client, auth, complete_application):
    leader, _, application = complete_application()
    complete_application(email="other@example.kr")
    auth.login(leader.email)  # the group's own officer: the copy is made
    response = client.htmx("POST", f"/applications/{application.id}/edit/plan", target="plan-form-wrap",
                           data=plan_form(application, row_action="copy"))
    assert response.status_code == 200 and 'name="sessions-2-title"' in response.get_data(as_text=True)
    auth.logout()
    db.session.refresh(application)
    before = application.version
    auth.login("other@example.kr")
    response = client.post_form(f"/applications/{application.id}/edit/plan",
                                plan_form(application, [dict(GOOD_SESSIONS[0], title="남의 활동")], row_action="copy"))
    assert response.status_code == 403
    response = client.htmx("POST", f"/applications/{application.id}/edit/plan", target="plan-form-wrap",
                           data=plan_form(application, row_action="copy"))
    assert response.status_code == 403
    db.session.refresh(application)
    assert application.version == before and [s.title for s in application.sessions] == ["봄 숲놀이", "만들기"]


# Folded rows and the summaries ---------------------------------------------------------------------

def test_finished_plan_rows_fold_and_the_summary_comes_first(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    url = f"/applications/{application.id}/edit/plan"
    body = client.get(url).get_data(as_text=True)
    assert re.search(r'<details class="row-card" id="session-0">', body)  # complete: one line, closed
    assert re.search(r'<details class="row-card" id="session-1">', body)
    assert "활동 1</strong> · 4월 · 봄 숲놀이 · 불광천" in body
    assert body.index('id="plan-summary"') < body.index('id="session-0"')
    assert "활동 <strong>2개</strong>" in body and "2개월 중 <strong>2개월</strong>" in body
    assert "활동 기간의 매달 활동을 계획했습니다" in body

    # An unfinished row stays open; the summary names what is missing.
    typed = [GOOD_SESSIONS[0], dict(GOOD_SESSIONS[1], title="")]
    body = client.post_form(url, dict(plan_form(application, typed), row_action="add")).get_data(as_text=True)
    assert re.search(r'<details class="row-card" id="session-0">', body)
    assert re.search(r'<details class="row-card" id="session-1" open>', body)
    assert re.search(r'<a href="#session-1">활동 2</a>: 활동명을 입력해 주세요', body)

    # The autosave sends the summary again, out of band.
    one_month = [GOOD_SESSIONS[0]]
    db.session.refresh(application)
    response = client.htmx("POST", url, target="save-status", data=plan_form(application, one_month))
    body = response.get_data(as_text=True)
    assert re.search(r'<section id="plan-summary"[^>]*hx-swap-oob="true"', body)
    assert "활동 <strong>1개</strong>" in body and "빠진 달: 5월" in body and "5월 없음" in body
    assert re.search(r'<span class="row-summary__text" id="session-0-summary" hx-swap-oob="true">'
                     r'<strong>활동 1</strong> · 4월 · 봄 숲놀이 · 불광천</span>', body)  # the folded line follows the typing


def test_plan_summary_counts_months_of_the_period(complete_application, open_programme):
    _, _, application = complete_application(open_programme(activity_start=date(2027, 11, 1),
                                                            activity_end=date(2028, 2, 29)))
    summary = plan_summary(application, [dict(month="2027-11", title="a", content="b"),
                                         dict(month="2027-11", title="c", content=""), dict(month="2028-01", title="d"),
                                         dict(month="", title="", content="")])
    assert summary.count == 3 and summary.total_months == 4 and summary.covered == 2
    assert summary.months == [("11월", 2), ("12월", 0), ("2028년 1월", 1), ("2028년 2월", 0)]
    assert summary.is_complete(0, dict(month="2027-11", title="a", content="b"))
    assert not summary.is_complete(1, dict(month="2027-11", title="c", content=""))


def test_the_budget_summary_comes_before_the_save_buttons(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    body = client.get(f"/applications/{application.id}/edit/budget").get_data(as_text=True)
    assert body.index('id="budget-summary"') < body.index('id="lines-0-category"') < body.index('name="go"')
    assert '<td class="num"><span class="money">200,000원</span></td>' in body  # amounts are kept on one line
    assert '<strong id="budget-total" class="money">360,000원</strong>' in body
