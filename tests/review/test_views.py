"""Review pages: who may read what, blind review, score validation and lock, live total,
the staff's pages, the simulator and publishing, minutes."""
import io
import re

import pytest
from sqlalchemy import select

from blueprints.awards.models import Award
from blueprints.review import services
from blueprints.review.models import ReviewAssignment, SelectionScenario
from extensions import db
from tests.review.conftest import spread


@pytest.fixture
def two_reviewers(submitted, make_reviewers, staff):
    """Two applications; reviewer 1 on the first, reviewer 2 on the second."""
    programme, apps = submitted(2)
    r1, r2 = make_reviewers(2)
    a1 = services.assign(apps[0], r1, user=staff)
    a2 = services.assign(apps[1], r2, user=staff)
    db.session.commit()
    return programme, apps, (r1, r2), (a1, a2)


def _form(programme, total, comment="의견"):
    data = {f"score-{k}": v for k, v in spread(total, services.rubric(programme)).items()}
    data.update({f"comment-{c['code']}": comment for c in services.rubric(programme)})
    return data


def test_reviewer_reads_only_their_own_assignments(client, auth, two_reviewers):
    programme, apps, (r1, r2), (a1, a2) = two_reviewers
    auth.login(r1.email)
    page = client.get("/review/mine").get_data(as_text=True)
    assert f"신청서 #{apps[0].id}" in page and f"신청서 #{apps[1].id}" not in page
    assert "제출 0 / 배정 1건" in page
    assert client.get(f"/review/assignment/{a1.id}").status_code == 200
    assert client.get(f"/review/assignment/{a2.id}").status_code == 403
    assert client.post_form(f"/review/assignment/{a2.id}", _form(programme, 80)).status_code == 403
    assert client.htmx("POST", f"/review/assignment/{a2.id}/total", target="score-total", data={}).status_code == 403
    assert client.get(f"/review/assignment/{a2.id}/decline").status_code == 403
    # Staff pages are not for reviewers.
    assert client.get(f"/review/programme/{programme.id}/matrix").status_code == 403


def test_applicant_cannot_open_review_pages(client, auth, two_reviewers):
    programme, apps, _, (a1, _a2) = two_reviewers
    leader = apps[0].group.leader.user
    auth.login(leader.email)
    assert client.get(f"/review/assignment/{a1.id}").status_code == 403
    assert client.get("/review/mine").status_code == 403
    assert client.get(f"/review/programme/{programme.id}").status_code == 403


def test_reviewer_never_sees_other_reviewers_scores(client, auth, submitted, make_reviewers, staff):
    programme, (application,) = submitted(1)
    r1, r2 = make_reviewers(2)
    a1 = services.assign(application, r1, user=staff)
    a2 = services.assign(application, r2, user=staff)
    services.save_scores(a2, services.check_for(a2, spread(77, services.rubric(programme)),
                                                {"need": "다른 위원의 비밀 의견"}, final=False), user=r2)
    db.session.commit()
    auth.login(r1.email)
    page = client.get(f"/review/assignment/{a1.id}").get_data(as_text=True)
    assert "다른 위원의 비밀 의견" not in page
    assert "총점 <strong>0</strong>점" in page  # my own (empty) total, not the other's 77
    for code in ("need", "plan", "budget", "participation", "sustainability"):
        assert f'name="score-{code}"\n                   value=""' in page


def test_blind_review_hides_group_names_and_contacts(client, auth, two_reviewers):
    programme, apps, (r1, _), (a1, _) = two_reviewers
    group = apps[0].group
    auth.login(r1.email)
    page = client.get(f"/review/assignment/{a1.id}").get_data(as_text=True)
    assert "블라인드 심사" in page
    for secret in (group.name, group.reg_no, group.leader.parent_name, group.dong, group.members[2].phone):
        assert secret not in page
    mine = client.get("/review/mine").get_data(as_text=True)
    assert group.name not in mine
    settings = services.settings_for(programme)
    settings.blind = False
    db.session.commit()
    page = client.get(f"/review/assignment/{a1.id}").get_data(as_text=True)
    assert group.name in page and group.leader.parent_name in page


def test_score_validation_keeps_typed_values_with_messages(client, auth, two_reviewers):
    programme, apps, (r1, _), (a1, _) = two_reviewers
    auth.login(r1.email)
    data = _form(programme, 70)
    data["score-need"] = "25"
    data["score-plan"] = "열"
    data["comment-budget"] = ""
    data["score-budget"] = "5"  # 25 % of 20: comment required
    data["action"] = "submit"
    response = client.post_form(f"/review/assignment/{a1.id}", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "배점(20점)을 넘을 수 없습니다." in page
    assert "0에서 30 사이의 정수로 입력해 주세요." in page
    assert "배점의 60% 미만 점수에는 의견을 적어 주세요." in page
    assert 'value="열"' in page and 'value="25"' in page
    assert db.session.get(ReviewAssignment, a1.id).status == "assigned"


def test_draft_then_submit_then_locked(client, auth, two_reviewers):
    programme, apps, (r1, _), (a1, _) = two_reviewers
    auth.login(r1.email)
    draft = {"score-need": "12", "action": "save"}
    response = client.post_form(f"/review/assignment/{a1.id}", draft)
    assert response.status_code == 303
    item = db.session.get(ReviewAssignment, a1.id)
    assert item.status == "assigned" and item.total == 12
    asked = client.post_form(f"/review/assignment/{a1.id}", {**_form(programme, 81), "action": "submit"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "이 점수로 심사를 제출할까요?" in page and "총점</dt><dd>81점 / 100점" in page
    assert 'name="confirm" value="1"' in page and "더 고칠 수 없습니다" in page
    item = db.session.get(ReviewAssignment, a1.id)
    assert item.status == "assigned" and item.total == 12          # asking changed nothing
    response = client.post_form(f"/review/assignment/{a1.id}", {**_form(programme, 81), "action": "submit", "confirm": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/review/mine")
    item = db.session.get(ReviewAssignment, a1.id)
    assert item.status == "submitted" and item.total == 81
    page = client.get(f"/review/assignment/{a1.id}").get_data(as_text=True)
    assert "고칠 수 없습니다" in page and "심사 제출</button>" not in page
    again = client.post_form(f"/review/assignment/{a1.id}", {**_form(programme, 10), "action": "submit", "confirm": "1"})
    assert again.status_code == 422 and "제출한 심사는 고칠 수 없습니다" in again.get_data(as_text=True)
    assert db.session.get(ReviewAssignment, a1.id).total == 81
    assert "제출 <strong>1</strong> / 배정 1건" in client.get("/dashboard").get_data(as_text=True)


def test_queue_shows_each_assignments_own_total(client, auth, two_reviewers, make_reviewers, staff):
    """The queue sums score rows in the database (not loading them): a draft's partial total,
    a submitted total, and '-' where nothing was scored, each on its own row."""
    programme, apps, (r1, _), (a1, _) = two_reviewers
    extra = services.assign(apps[1], r1, user=staff)
    db.session.commit()
    auth.login(r1.email)
    client.post_form(f"/review/assignment/{a1.id}", {"score-need": "12", "score-plan": "9", "action": "save"})
    rows = re.findall(r"<tr>(.*?)</tr>", client.get("/review/mine").get_data(as_text=True), re.S)
    by_app = {app.id: next(r for r in rows if f"신청서 #{app.id}<" in r) for app in apps}
    assert "<td>21</td>" in by_app[apps[0].id]
    assert "<td>-</td>" in by_app[apps[1].id]
    client.post_form(f"/review/assignment/{extra.id}", {**_form(programme, 77), "action": "submit", "confirm": "1"})
    rows = re.findall(r"<tr>(.*?)</tr>", client.get("/review/mine").get_data(as_text=True), re.S)
    assert "<td>77</td>" in next(r for r in rows if f"신청서 #{apps[1].id}<" in r)
    assert "<td>21</td>" in next(r for r in rows if f"신청서 #{apps[0].id}<" in r)


def test_live_total_is_a_fragment(client, auth, two_reviewers):
    programme, apps, (r1, _), (a1, _) = two_reviewers
    auth.login(r1.email)
    response = client.htmx("POST", f"/review/assignment/{a1.id}/total", target="score-total",
                           data={"score-need": "15", "score-plan": "22"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "총점 <strong>37</strong>점" in body and "아직 3개 항목이 비어 있습니다." in body
    assert "HX-Request" in response.headers["Vary"]
    assert db.session.get(ReviewAssignment, a1.id).scores == []  # nothing saved


def test_reviewer_declines_and_staff_see_it(client, auth, two_reviewers, staff):
    programme, apps, (r1, _), (a1, _) = two_reviewers
    auth.login(r1.email)
    response = client.post_form(f"/review/assignment/{a1.id}/decline", {"kind": "unavailable", "reason": ""})
    assert response.status_code == 422 and "사유를 적어 주세요." in response.get_data(as_text=True)
    response = client.post_form(f"/review/assignment/{a1.id}/decline",
                                {"kind": "unavailable", "reason": "해외 출장", "conflict_kind": "recusal"})
    assert response.status_code == 303
    assert db.session.get(ReviewAssignment, a1.id).status == "declined"
    auth.logout()
    auth.login(staff.email)
    assert "해외 출장" in client.get(f"/review/programme/{programme.id}").get_data(as_text=True)
    page = client.get(f"/review/application/{apps[0].id}/assign").get_data(as_text=True)
    assert "해외 출장" in page


def test_staff_assign_page_shows_why_not_and_refuses_conflicts(client, auth, submitted, make_user, make_reviewers, staff):
    programme, (application,) = submitted(1)
    member = make_user("member@example.kr", roles=("reviewer",), name="구성원위원",
                       phone=application.group.members[3].phone)
    make_reviewers(1)
    auth.login(staff.email)
    page = client.get(f"/review/application/{application.id}/assign").get_data(as_text=True)
    assert "구성원과 휴대전화번호가 같습니다(같은 가구)" in page
    response = client.post_form(f"/review/application/{application.id}/assign", {"do": "assign", "reviewer_id": member.id})
    assert response.status_code == 422 and "배정할 수 없습니다" in response.get_data(as_text=True)
    assert db.session.scalar(select(ReviewAssignment)) is None


def test_assign_page_has_one_route_per_action(client, auth, submitted, make_reviewers, staff):
    from blueprints.review.models import ConflictDeclaration

    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    auth.login(staff.email)
    page_url = f"/review/application/{application.id}/assign"
    conflict_url = f"/review/application/{application.id}/conflict"
    page = client.get(page_url).get_data(as_text=True)
    assert f'action="{page_url}"' in page and f'action="{conflict_url}"' in page and 'name="do"' not in page
    conflict = {"c-csrf_token": client.csrf_token(), "c-reviewer_id": reviewer.id, "c-kind": "recusal", "c-reason": " "}
    response = client.post_form(conflict_url, conflict)
    assert response.status_code == 422 and "사유를 적어 주세요." in response.get_data(as_text=True)
    response = client.post_form(conflict_url, dict(conflict, **{"c-reason": "같은 어린이집 학부모"}))
    assert response.status_code == 303 and response.headers["Location"].endswith(page_url)
    assert db.session.scalar(select(ConflictDeclaration.kind)) == "recusal"
    response = client.post_form(page_url, {"reviewer_id": reviewer.id})   # the conflict now blocks the assignment
    assert response.status_code == 422 and "배정할 수 없습니다" in response.get_data(as_text=True)
    assert db.session.scalar(select(ReviewAssignment)) is None
    assert client.post_form(page_url, {"reviewer_id": "x"}).status_code == 422


def test_staff_pages_render(client, auth, scored, staff):
    programme, apps, _ = scored([[90, 50], [70, 72]])
    auth.login(staff.email)
    for url in ["/review/", f"/review/programme/{programme.id}", f"/review/programme/{programme.id}/settings",
                f"/review/programme/{programme.id}/assignments", f"/review/programme/{programme.id}/matrix",
                f"/review/programme/{programme.id}/ranking", f"/review/programme/{programme.id}/scenarios"]:
        response = client.get(url)
        assert response.status_code == 200, url
    matrix = client.get(f"/review/programme/{programme.id}/matrix").get_data(as_text=True)
    assert "위원 간 편차 큼" in matrix and "71.00" in matrix


def test_settings_validation_and_save(client, auth, submitted, staff):
    programme, _ = submitted(1)
    auth.login(staff.email)
    bad = {"comment_rule": "below", "comment_below_pct": "150", "aggregate": "mean", "disagreement_points": "x",
           "calibration_points": "10", "remind_days_before": "3", "deadline": ""}
    response = client.post_form(f"/review/programme/{programme.id}/settings", bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "0에서 100 사이로 입력해 주세요." in page and "숫자로 입력해 주세요." in page
    good = dict(bad, comment_below_pct="50", disagreement_points="15", aggregate="trimmed_mean", same_dong_rule="y",
                deadline="2027-03-19T18:00")
    assert client.post_form(f"/review/programme/{programme.id}/settings", good).status_code == 303
    settings = services.settings_for(programme)
    assert (settings.comment_below_pct, settings.aggregate, settings.same_dong_rule, settings.blind) == (50, "trimmed_mean", True, False)
    assert settings.deadline.hour == 9  # 18:00 KST


def test_simulator_adjust_publish_and_minutes(client, auth, scored, staff):
    programme, apps, _ = scored([[90, 88], [75, 70], [40, 30]])
    auth.login(staff.email)
    response = client.post_form(f"/review/programme/{programme.id}/scenarios", {"name": "기본안"})
    assert response.status_code == 303
    scenario = db.session.scalar(select(SelectionScenario))
    first = scenario.entries[0]
    # Without a reason: refused, 422, the row comes back with the message (htmx row swap).
    response = client.htmx("POST", f"/review/scenario/{scenario.id}/entry/{first.id}", target=f"entry-{first.id}",
                           data={f"e{first.id}-selected": "y", f"e{first.id}-amount_won": "300,000", f"e{first.id}-reason": ""})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<tr id="entry-{first.id}"') and "조정하려면 사유를 적어 주세요." in body
    assert 'value="300,000"' in body
    response = client.htmx("POST", f"/review/scenario/{scenario.id}/entry/{first.id}", target=f"entry-{first.id}",
                           data={f"e{first.id}-selected": "y", f"e{first.id}-amount_won": "300,000",
                                 f"e{first.id}-reason": "강사비 중복 감액"})
    assert response.status_code == 200 and "budget-changed" in response.headers["HX-Trigger"]
    summary = client.htmx("GET", f"/review/scenario/{scenario.id}", target="budget-summary").get_data(as_text=True)
    assert "660,000원" in summary and "<html" not in summary
    # Publish needs the confirmation box.
    response = client.post_form(f"/review/scenario/{scenario.id}/publish", {"conditions": "7일 이내 수락"})
    assert response.status_code == 422 and "확인란에 표시해 주세요." in response.get_data(as_text=True)
    response = client.post_form(f"/review/scenario/{scenario.id}/publish",
                                {"conditions": "7일 이내 수락", "confirm": "y", "share_feedback": "y"})
    assert response.status_code == 303
    awards = db.session.scalars(select(Award).order_by(Award.rank)).all()
    assert [a.amount_won for a in awards] == [300_000, 360_000]
    pdf = client.get(f"/review/programme/{programme.id}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = client.get(f"/review/programme/{programme.id}/minutes.xlsx")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.data))
    rows = list(book["순위"].values)
    assert rows[1][2] == apps[0].group.name and "강사비 중복 감액" in rows[1]
    reviewers = {r[2] for r in list(book["심사위원별 점수"].values)[1:]}
    assert reviewers == {"심사위원 A", "심사위원 B"}  # names hidden by default
    shown = load_workbook(io.BytesIO(client.get(f"/review/programme/{programme.id}/minutes.xlsx?names=show").data))
    assert {r[2] for r in list(shown["심사위원별 점수"].values)[1:]} == {"심사위원s1", "심사위원s2"}


def test_not_selected_group_sees_anonymised_feedback_only_when_shared(client, auth, scored, staff):
    from blueprints.awards import services as awards

    programme, apps, people = scored([[90], [30]])
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    awards.publish_decision(scenario, user=staff, share_feedback=False)
    db.session.commit()
    leader = apps[1].group.leader.user
    auth.login(leader.email)
    assert client.get(f"/review/feedback/{apps[1].id}").status_code == 404
    scenario.share_feedback = True
    db.session.commit()
    page = client.get(f"/review/feedback/{apps[1].id}").get_data(as_text=True)
    assert "의견" in page and people[0].name not in page
    assert client.get(f"/review/feedback/{apps[0].id}").status_code == 403  # another group's
