"""Attacks on review and selection found by an adversarial pass: a conflict of interest that
appears after the assignment, comments typed decomposed, an application returned while in
review and sent again."""
import unicodedata

import pytest
from sqlalchemy import func, select

from blueprints.applications import services as app_services
from blueprints.applications.models import ApplicationState
from blueprints.review import services
from blueprints.awards.models import Award
from blueprints.review.models import AssignmentState, ReviewAssignment, SelectionScenario
from extensions import db
from tests.review.conftest import spread


def _form(programme, total, comment="의견", action="save"):
    data = {f"score-{k}": v for k, v in spread(total, services.rubric(programme)).items()}
    data.update({f"comment-{c['code']}": comment for c in services.rubric(programme)})
    data["action"] = action
    return data


def test_a_reviewer_who_becomes_a_household_of_the_group_no_longer_sees_or_scores_it(client, auth, submitted,
                                                                                     make_reviewers, staff):
    """Assigned without a conflict; then a household of the group is given the reviewer's
    mobile number (the reviewer joined the group, or the group corrected its list). The
    conflict is there now: the reviewer must not read the submission nor score it."""
    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    item = services.assign(application, reviewer, user=staff)
    db.session.commit()
    application.group.members[2].phone = reviewer.phone
    db.session.commit()
    auth.login(reviewer.email)
    page = client.get(f"/review/assignment/{item.id}")
    assert page.status_code == 403
    assert application.snapshot["purpose"] not in page.get_data(as_text=True)
    assert client.post_form(f"/review/assignment/{item.id}", _form(programme, 80)).status_code == 403
    assert client.htmx("POST", f"/review/assignment/{item.id}/total", target="score-total",
                       data=_form(programme, 80)).status_code == 403
    db.session.expire_all()
    assert db.session.get(ReviewAssignment, item.id).scores == []
    mine = client.get("/review/mine").get_data(as_text=True)
    assert f'href="/review/assignment/{item.id}"' not in mine
    assert "이해충돌이 있어 이 신청서는 심사할 수 없습니다." in mine
    assert "휴대전화번호" not in mine   # blind review: not which household, nor the group's 동
    assert f'href="/review/assignment/{item.id}/decline"' in mine   # the reviewer can record it
    # Staff see why on the application's assignment panel (to record it or cancel the assignment).
    auth.logout()
    auth.login(staff.email)
    panel = client.get(f"/review/application/{application.id}/assign").get_data(as_text=True)
    row = panel.split(f'id="reviewer-{reviewer.id}"')[1].split("</tr>")[0]
    assert "구성원과 휴대전화번호가 같습니다(같은 가구)" in row and "배정 취소" in row
    db.session.expire_all()
    check = services.check_for(item, spread(80, services.rubric(programme)), {}, final=False)
    with pytest.raises(services.ReviewError, match="이해충돌"):
        services.save_scores(db.session.get(ReviewAssignment, item.id), check, user=reviewer)


def test_a_conflict_declared_after_the_review_was_submitted_takes_the_review_out(client, auth, submitted,
                                                                                 make_reviewers, staff):
    """Staff learn of a 제척 after the reviewer submitted: the declaration must take that review
    out of the score (and out of the reviewer's sight), not merely be recorded beside it."""
    programme, (application,) = submitted(1)
    r1, r2 = make_reviewers(2)
    a1 = services.assign(application, r1, user=staff)
    a2 = services.assign(application, r2, user=staff)
    rubric = services.rubric(programme)
    for item, reviewer, total in ((a1, r1, 95), (a2, r2, 60)):
        services.save_scores(item, services.check_for(item, spread(total, rubric), {c["code"]: "의견" for c in rubric},
                                                      final=True), user=reviewer, submit=True)
    db.session.commit()
    services.declare_conflict(application, r1, kind="exclusion", reason="대표의 배우자", user=staff)
    db.session.commit()
    db.session.expire_all()
    a1 = db.session.get(ReviewAssignment, a1.id)
    assert a1.status == AssignmentState.declined
    (row,) = services.ranking(programme)
    assert row["reviewers"] == 1 and float(row["item"].score) == 60.0
    auth.login(r1.email)
    assert client.get(f"/review/assignment/{a1.id}").status_code == 403


def test_comments_typed_decomposed_are_stored_composed(client, auth, submitted, make_reviewers, staff):
    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    item = services.assign(application, reviewer, user=staff)
    db.session.commit()
    auth.login(reviewer.email)
    decomposed = unicodedata.normalize("NFD", "활동 계획이 구체적입니다")
    assert decomposed != "활동 계획이 구체적입니다"
    response = client.post_form(f"/review/assignment/{item.id}", _form(programme, 80, comment=decomposed))
    assert response.status_code == 303
    db.session.expire_all()
    comments = {s.comment for s in db.session.get(ReviewAssignment, item.id).scores}
    assert comments == {"활동 계획이 구체적입니다"}


def test_an_application_returned_during_review_and_sent_again_goes_back_to_its_reviewers(submitted, make_reviewers,
                                                                                         staff):
    """Staff return an application in review for changes; the group sends it again. Its
    reviewers are still on it: it is in review again (they can score the new submission),
    not left '제출' with every place filled, where nothing ever moves it on and publishing
    waits for it for good."""
    programme, (application,) = submitted(1)
    people = make_reviewers(3)
    rubric = services.rubric(programme)
    items = [services.assign(application, r, user=staff) for r in people]
    services.save_scores(items[0], services.check_for(items[0], spread(70, rubric), {c["code"]: "의견" for c in rubric},
                                                      final=True), user=people[0], submit=True)
    db.session.commit()
    app_services.return_for_changes(application, "예산계획을 보완해 주세요.", user=staff)
    db.session.commit()
    leader = application.group.officer("leader").user
    assert app_services.submit(application, user=leader)
    db.session.commit()
    # Until staff act, publishing says what to press (not that it has no reviewers).
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    blockers = services.publish_blockers(programme, scenario)
    assert any("다시 제출" in b and "‘빈 자리 자동 배정’" in b for b in blockers), blockers
    assert not any("배정되지 않은" in b for b in blockers), blockers
    services.auto_assign(programme, user=staff)   # every place is filled: nothing to add
    db.session.commit()
    db.session.expire_all()
    assert application.status == ApplicationState.under_review
    # The open reviews can be scored again, and staff can reopen the one submitted on the earlier version.
    items = [db.session.get(ReviewAssignment, i.id) for i in items]
    assert items[1].can(people[1], "score")
    assert items[0].can(staff, "reopen")


@pytest.mark.postgres_only
def test_two_officers_selecting_at_once_cannot_take_a_scenario_over_the_budget(app, scored, staff):
    """Two officers each select another group in the same scenario, each within the budget
    alone, together over it: the second waits for the first and is refused with what is left."""
    import threading
    import time

    from blueprints.review.models import SelectionEntry, SelectionScenario

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    programme, apps, _ = scored([[90], [85], [80]])
    programme.budget_total_won = 100_000_000
    db.session.commit()
    scenario = services.create_scenario(programme, name="A", quota_per_district=None, user=staff)
    first, second, third = scenario.entries
    for entry in (second, third):
        services.adjust_entry(entry, selected=False, amount_won=entry.proposed_won, reason="예비", user=staff)
    programme.budget_total_won = first.amount_won + max(second.proposed_won, third.proposed_won)
    db.session.commit()
    budget, ids, staff_id = programme.budget_total_won, (second.id, third.id), staff.id
    first_done = threading.Event()
    outcomes = {}

    def select_entry(entry_id, name):
        from blueprints.accounts.models import User

        with app.app_context():
            try:
                if name == "second":
                    first_done.wait(10)
                entry = db.session.get(SelectionEntry, entry_id)
                entry.scenario.entries  # the page had loaded them before the other officer saved
                services.adjust_entry(entry, selected=True, amount_won=entry.proposed_won, reason="추가 선정",
                                      user=db.session.get(User, staff_id))
                if name == "first":
                    first_done.set()
                    time.sleep(0.5)
                db.session.commit()
                outcomes[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - the loser's error is the point
                db.session.rollback()
                outcomes[name] = type(exc).__name__
                first_done.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=select_entry, args=(ids[0], "first")),
               threading.Thread(target=select_entry, args=(ids[1], "second"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.expire_all()
    assert outcomes == {"first": "ok", "second": "ReviewError"}
    assert db.session.get(SelectionScenario, scenario.id).total_selected_won <= budget


def test_an_officer_who_is_a_household_of_a_group_cannot_steer_its_review_or_selection(client, auth, scored,
                                                                                      make_reviewers, staff, make_user):
    """A 사업담당 whose own household is in an applying group (their account is the member's):
    they may not choose or remove its reviewers, record a conflict that drops one, reopen a
    review, or change its selection or amount. Another officer does it."""
    programme, apps, _people = scored([[30], [90]])
    own, other = apps
    member = own.group.members[2]
    member.user_id = staff.id
    db.session.commit()
    (extra,) = make_reviewers(1, prefix="x")
    with pytest.raises(services.ReviewError, match="구성원"):
        services.assign(own, extra, user=staff)
    item = db.session.scalar(select(ReviewAssignment).where(ReviewAssignment.application_id == own.id))
    with pytest.raises(services.ReviewError, match="구성원"):
        services.declare_conflict(own, item.reviewer, kind="challenge", reason="점수가 낮아서", user=staff)
    with pytest.raises(services.ReviewError, match="구성원"):
        services.reopen(item, reason="다시 보세요", user=staff)
    db.session.rollback()
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    entry = next(e for e in scenario.entries if e.application_id == own.id)
    auth.login(staff.email)
    response = client.htmx("POST", f"/review/scenario/{scenario.id}/entry/{entry.id}", target=f"entry-{entry.id}",
                           data={f"e{entry.id}-selected": "y", f"e{entry.id}-amount_won": f"{entry.proposed_won:,}",
                                 f"e{entry.id}-reason": "지역 안배"})
    assert response.status_code == 422
    assert "구성원으로 있는 모임" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(type(entry), entry.id).selected
    # The other group's row is theirs to adjust as before.
    mine = next(e for e in db.session.get(type(scenario), scenario.id).entries if e.application_id == other.id)
    response = client.htmx("POST", f"/review/scenario/{scenario.id}/entry/{mine.id}", target=f"entry-{mine.id}",
                           data={f"e{mine.id}-selected": "y", f"e{mine.id}-amount_won": f"{mine.proposed_won:,}",
                                 f"e{mine.id}-reason": ""})
    assert response.status_code == 200


def test_a_second_scenario_cannot_be_published_after_the_results(client, auth, scored, staff):
    """After the results are out, a new scenario (empty: nothing is in review any more) sent
    to 결과 공개 by a crafted POST is refused with the reason, not a 500 from the database's
    one-published-scenario index; the scenario page shows the button disabled with it."""
    from blueprints.awards import services as awards

    programme, apps, _ = scored([[90], [30]])
    first = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    awards.publish_decision(first, user=staff)
    db.session.commit()
    auth.login(staff.email)
    response = client.post_form(f"/review/programme/{programme.id}/scenarios", {"name": "다시"})
    assert response.status_code == 303
    second = db.session.scalar(select(SelectionScenario).where(SelectionScenario.id != first.id))
    page = client.get(f"/review/scenario/{second.id}").get_data(as_text=True)
    assert "이미 선정 결과를 공개했습니다" in page
    response = client.post_form(f"/review/scenario/{second.id}/publish", {"confirm": "y", "conditions": ""})
    assert response.status_code == 422
    assert "이미 선정 결과를 공개했습니다" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SelectionScenario, second.id).status == "draft"
    assert len(db.session.scalars(select(Award)).all()) == 1


def test_messages_take_the_particle_of_the_name_or_number_before_them(client, auth, scored, staff):
    """‘자치구별 1개’를 (not 을), 신청서 #2를 / #1을: the particle follows what is read aloud."""
    programme, apps, _ = scored([[90], [80]])
    auth.login(staff.email)
    response = client.post_form(f"/review/programme/{programme.id}/scenarios", {"name": "자치구별 1개"},
                                follow_redirects=True)
    assert "시나리오 ‘자치구별 1개’를 만들었습니다." in response.get_data(as_text=True)
    scenario = db.session.scalar(select(SelectionScenario))
    for entry in scenario.entries:
        response = client.post_form(f"/review/scenario/{scenario.id}/entry/{entry.id}",
                                    {f"e{entry.id}-selected": "y", f"e{entry.id}-amount_won": f"{entry.proposed_won:,}",
                                     f"e{entry.id}-reason": ""}, follow_redirects=True)
        expected = {"1": "을", "2": "를"}[str(entry.application_id)[-1]] if str(entry.application_id)[-1] in "12" else None
        if expected:
            assert f"신청서 #{entry.application_id}{expected} 조정했습니다." in response.get_data(as_text=True)


def test_scores_sent_after_the_application_left_review_get_the_reason_not_a_403(client, auth, submitted,
                                                                               make_reviewers, staff):
    """The reviewer's tab was open when staff marked the application ineligible (or the results
    went out): saving answers the read-only page with why, and nothing is saved."""
    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    item = services.assign(application, reviewer, user=staff)
    db.session.commit()
    app_services.mark_ineligible(application, "중복 지원", user=staff)
    db.session.commit()
    auth.login(reviewer.email)
    response = client.post_form(f"/review/assignment/{item.id}", _form(programme, 80))
    assert response.status_code == 422
    assert "심사가 끝난 신청서입니다" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ReviewAssignment, item.id).scores == []


@pytest.mark.postgres_only
def test_two_officers_pressing_auto_assign_at_once_fill_each_place_once(app, submitted, make_reviewers, staff):
    """Both plans are made from the same empty start: the second waits for the first and then
    finds every place filled (not a 500 from the unique pair, nor a fourth reviewer)."""
    import threading
    import time

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    programme, apps = submitted(2)
    make_reviewers(4)
    db.session.commit()
    programme_id, staff_id = programme.id, staff.id
    first_done = threading.Event()
    outcomes = {}

    def press(name):
        from blueprints.accounts.models import User
        from blueprints.programmes.models import Programme

        with app.app_context():
            try:
                if name == "second":
                    first_done.wait(10)
                plan = services.auto_assign(db.session.get(Programme, programme_id), user=db.session.get(User, staff_id))
                if name == "first":
                    first_done.set()
                    time.sleep(0.5)
                db.session.commit()
                outcomes[name] = len(plan.pairs)
            except Exception as exc:  # noqa: BLE001 - a 500 is what this guards against
                db.session.rollback()
                outcomes[name] = type(exc).__name__
                first_done.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press, args=(name,)) for name in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    n = services.reviewers_per_application(programme)
    assert outcomes == {"first": 2 * n, "second": 0}
    db.session.expire_all()
    counts = db.session.execute(select(ReviewAssignment.application_id, func.count()).group_by(
        ReviewAssignment.application_id)).all()
    assert sorted(c for _a, c in counts) == [n, n]


@pytest.mark.postgres_only
def test_a_decline_sent_twice_at_once_is_recorded_once(app, submitted, make_reviewers, staff):
    """A double tap on '거절' (no JavaScript): the second waits for the first and is told the
    assignment is no longer open, not a 500 from the one-declaration-per-pair index."""
    import threading
    import time

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    item = services.assign(application, reviewer, user=staff)
    db.session.commit()
    item_id, reviewer_id = item.id, reviewer.id
    first_done = threading.Event()
    outcomes = {}

    def decline(name):
        from blueprints.accounts.models import User

        with app.app_context():
            try:
                if name == "second":
                    first_done.wait(10)
                services.decline(db.session.get(ReviewAssignment, item_id), kind="conflict", reason="대표와 친척",
                                 conflict_kind="recusal", user=db.session.get(User, reviewer_id))
                if name == "first":
                    first_done.set()
                    time.sleep(0.5)
                db.session.commit()
                outcomes[name] = "ok"
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                outcomes[name] = type(exc).__name__
                first_done.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decline, args=(name,)) for name in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == {"first": "ok", "second": "ReviewError"}


def test_results_wait_while_a_counted_review_has_a_conflict_found_later(client, auth, scored, staff):
    """A review submitted before a household of the group took the reviewer's number still
    holds a score: publishing waits until staff record the conflict (which takes it out)."""
    from blueprints.awards import services as awards

    programme, (application, _other), people = scored([[90], [80]])
    application.group.members[2].phone = people[0].phone
    db.session.commit()
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    blockers = services.publish_blockers(programme, scenario)
    assert any("이해충돌" in b and "1건" in b for b in blockers), blockers
    with pytest.raises(awards.AwardError, match="이해충돌"):
        awards.publish_decision(scenario, user=staff)
    db.session.rollback()
    services.declare_conflict(application, people[0], kind="exclusion", reason="같은 가구", user=staff)
    db.session.commit()
    blockers = services.publish_blockers(programme, scenario)
    assert not any("이해충돌" in b for b in blockers), blockers


def test_scores_saved_after_the_assignment_was_cancelled_meanwhile_get_the_reason(submitted, make_reviewers, staff):
    """Staff cancel the assignment between the reviewer's page load and their save: the save
    is refused with a message (the view shows it), not a 500 from refreshing a deleted row."""
    from sqlalchemy import delete

    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    item = services.assign(application, reviewer, user=staff)
    db.session.commit()
    check = services.check_for(item, spread(80, services.rubric(programme)), {}, final=False)
    db.session.execute(delete(ReviewAssignment).where(ReviewAssignment.id == item.id)   # the other request's
                       .execution_options(synchronize_session=False))
    db.session.commit()
    with pytest.raises(services.ReviewError, match="배정을 취소했습니다"):
        services.save_scores(item, check, user=reviewer)
