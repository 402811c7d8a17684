"""Review services against the database: conflicts, assignment, state changes, scoring and
locking, reminders, scenarios and publishing within the budget."""
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.applications.models import Application
from blueprints.awards import services as awards
from blueprints.awards.models import Award
from blueprints.core.audit import AuditEvent
from blueprints.core.mail import OutboxMessage
from blueprints.core.timeutil import now_utc
from blueprints.review import services
from blueprints.review.models import ReminderLog, ReviewAssignment, ReviewerProfile
from extensions import db
from tests.review.conftest import spread


def _comments(programme):
    return {c["code"]: "의견" for c in services.rubric(programme)}


def events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


# Conflicts and assignment --------------------------------------------------------------------

def test_member_same_phone_declared_and_same_dong_are_never_assigned(submitted, make_user, make_reviewers, staff):
    programme, (application,) = submitted(1)
    group = application.group
    member_reviewer = make_user("m@example.kr", roles=("reviewer",), name="구성원위원")
    group.members[2].user_id = member_reviewer.id
    same_phone = make_user("p@example.kr", roles=("reviewer",), name="같은번호", phone=group.members[3].phone)
    neighbour, declared, free = make_reviewers(3)
    db.session.add(ReviewerProfile(user_id=neighbour.id, district=group.district, dong=group.dong))
    db.session.commit()
    services.declare_conflict(application, declared, kind="exclusion", reason="배우자가 구성원", user=staff)
    settings = services.settings_for(programme)
    settings.same_dong_rule = True
    db.session.commit()

    for person, reason in [(member_reviewer, "모임 구성원"), (same_phone, "휴대전화번호"), (declared, "제척"),
                           (neighbour, "같은 동")]:
        with pytest.raises(services.ReviewError, match=reason):
            services.assign(application, person, user=staff)
    panel = {row["reviewer"].id: row for row in services.assignment_panel(application)}
    assert panel[neighbour.id]["state"] == "conflict" and "같은 동(망원동) 거주" in panel[neighbour.id]["reasons"]
    assert panel[free.id]["state"] == "available"

    plan = services.auto_assign(programme, user=staff)
    db.session.commit()
    assert plan.pairs == [(application.id, free.id)]
    assert plan.shortfall == {application.id: 2}


def test_assigning_moves_the_application_under_review_once_with_audit(submitted, make_reviewers, staff):
    programme, (application,) = submitted(1)
    a, b = make_reviewers(2)
    services.assign(application, a, user=staff)
    services.assign(application, b, user=staff)
    db.session.commit()
    assert application.status == "under_review"
    assert len(events("application.under_review")) == 1
    assert len(events("review.assigned")) == 2
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.recipient == a.email)) == 1
    with pytest.raises(services.ReviewError, match="이미"):
        services.assign(application, a, user=staff)


def test_auto_assign_balances_across_the_programme(submitted, make_reviewers, staff):
    programme, apps = submitted(5)
    people = make_reviewers(4)
    services.auto_assign(programme, user=staff)
    db.session.commit()
    load = services.loads(programme)
    assert sum(load.values()) == 15  # 5 applications × 3
    assert max(load.values()) - min(load.values()) <= 1
    assert all(a.status == "under_review" for a in apps)
    # One e-mail per reviewer, not one per assignment.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.subject.like("%심사 배정%"))) == 4
    # Running it again fills nothing new.
    assert services.auto_assign(programme, user=staff).pairs == []


def test_decline_for_conflict_records_a_declaration_and_frees_the_place(submitted, make_reviewers, staff):
    programme, (application,) = submitted(1)
    a, b, c, d = make_reviewers(4)
    services.auto_assign(programme, user=staff)
    db.session.commit()
    item = next(i for i in services.assignments_of_programme(programme) if i.reviewer_id in (a.id, b.id, c.id))
    reviewer = item.reviewer
    services.decline(item, kind="conflict", reason="대표와 같은 어린이집 운영위원", user=reviewer)
    db.session.commit()
    assert item.status == "declined" and item.decline_kind == "conflict"
    assert "이해충돌 신고(회피)" in services.conflicts_for(application, [reviewer], services.settings_for(programme))[reviewer.id]
    plan = services.auto_assign(programme, user=staff)
    assert plan.pairs == [(application.id, d.id)]
    with pytest.raises(services.ReviewError):
        services.decline(item, kind="unavailable", reason="", user=reviewer)


# Scoring -------------------------------------------------------------------------------------

def test_scores_lock_after_submission_and_reopen_is_audited(submitted, make_reviewers, staff):
    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    item = services.assign(application, reviewer, user=staff)
    draft = services.check_for(item, {"need": "15"}, {}, final=False)
    services.save_scores(item, draft, user=reviewer)
    db.session.commit()
    assert item.status == "assigned" and item.total == 15
    final = services.check_for(item, spread(80, services.rubric(programme)), _comments(programme), final=True)
    services.save_scores(item, final, user=reviewer, submit=True)
    db.session.commit()
    assert item.status == "submitted" and item.total == 80 and len(item.scores) == 5
    again = services.check_for(item, spread(10, services.rubric(programme)), _comments(programme), final=True)
    with pytest.raises(services.ReviewError, match="고칠 수 없습니다"):
        services.save_scores(item, again, user=reviewer, submit=True)
    db.session.rollback()
    assert db.session.get(ReviewAssignment, item.id).total == 80

    with pytest.raises(services.ReviewError, match="사유"):
        services.reopen(item, reason=" ", user=staff)
    services.reopen(item, reason="배점 착오 확인", user=staff)
    db.session.commit()
    assert item.status == "assigned" and item.submitted_at is None and item.reopened_count == 1
    (event,) = events("review.reopened")
    assert event.actor_id == staff.id and "배점 착오 확인" in event.summary


def test_a_score_row_per_criterion_is_unique(submitted, make_reviewers, staff):
    from sqlalchemy.exc import IntegrityError

    from blueprints.review.models import Score

    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    item = services.assign(application, reviewer, user=staff)
    db.session.add_all([Score(assignment_id=item.id, criterion="need", score=1),
                        Score(assignment_id=item.id, criterion="need", score=2)])
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# Matrix, ranking -----------------------------------------------------------------------------

def test_matrix_and_ranking_use_the_programme_settings(scored, staff):
    programme, apps, people = scored([[90, 50, 85], [70, 72, 74], [40, 45, 50]])
    data = services.matrix(programme)
    rows = {r["application"].id: r for r in data["rows"]}
    assert rows[apps[0].id]["disagree"] is True and rows[apps[1].id]["disagree"] is False
    assert float(rows[apps[1].id]["score"]) == 72.0
    ranked = services.ranking(programme)
    assert [r["application"].id for r in ranked] == [apps[0].id, apps[1].id, apps[2].id]
    assert [r["item"].passes for r in ranked] == [True, True, False]


# Selection and publishing --------------------------------------------------------------------

def test_scenario_adjustment_needs_a_reason_and_stays_within_budget(scored, staff):
    programme, apps, _ = scored([[90], [80], [70]])
    programme.budget_total_won = 700_000
    db.session.commit()
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    entries = {e.application_id: e for e in scenario.entries}
    # GOOD_LINES ask for 360,000원; five households → tier 600,000: proposed 360,000 each.
    assert [e.selected for e in scenario.entries] == [True, False, False]
    assert entries[apps[1].id].note == "예산 잔액 부족"
    with pytest.raises(services.ReviewError, match="사유"):
        services.adjust_entry(entries[apps[0].id], selected=True, amount_won=300_000, reason="", user=staff)
    services.adjust_entry(entries[apps[0].id], selected=True, amount_won=340_000, reason="간식비 과다 감액", user=staff)
    services.adjust_entry(entries[apps[1].id], selected=True, amount_won=360_000, reason="잔액으로 추가 선정", user=staff)
    with pytest.raises(services.ReviewError, match="예산을 넘습니다"):
        services.adjust_entry(entries[apps[2].id], selected=True, amount_won=10_000, reason="추가", user=staff)
    with pytest.raises(services.ReviewError, match="단위"):
        services.adjust_entry(entries[apps[0].id], selected=True, amount_won=335_000, reason="x", user=staff)
    with pytest.raises(services.ReviewError, match="한도"):
        services.adjust_entry(entries[apps[0].id], selected=True, amount_won=400_000, reason="x", user=staff)
    db.session.commit()
    assert scenario.total_selected_won == 700_000


def test_database_refuses_an_adjustment_without_reason(scored, staff):
    from sqlalchemy.exc import IntegrityError

    programme, apps, _ = scored([[90]])
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    entry = scenario.entries[0]
    entry.amount_won = entry.proposed_won - 10_000
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_publish_creates_awards_sets_results_and_notifies(scored, staff):
    programme, apps, _ = scored([[90, 88], [75, 70], [40, 30]])
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    made = awards.publish_decision(scenario, user=staff, share_feedback=True, conditions="7일 이내 수락")
    db.session.commit()
    assert [a.application_id for a in made] == [apps[0].id, apps[1].id]
    assert [a.status for a in apps] == ["selected", "selected", "not_selected"]
    award = made[0]
    assert award.amount_won == 360_000 and award.rank == 1 and award.status == "offered"
    assert len(events("award.offered")) == 2 and len(events("application.not_selected")) == 1
    bodies = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.subject.like("%선정 결과%"))).all()
    assert any("교부결정액: 360,000원" in b and "7일 이내 수락" in b for b in bodies)
    assert any("선정되지 않았습니다" in b and "심사 의견" in b for b in bodies)
    feedback = services.feedback_for(apps[2])
    assert feedback and feedback["criteria"][0]["comments"] == ["의견", "의견"]
    assert services.feedback_for(apps[0]) is None
    with pytest.raises(awards.AwardError, match="이미 공개"):
        awards.publish_decision(scenario, user=staff)


def test_publish_refuses_when_scores_changed_or_reviews_are_open(scored, make_reviewers, staff):
    programme, apps, people = scored([[90], [80]])
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    extra = make_reviewers(1, prefix="late")[0]
    services.assign(apps[0], extra, user=staff)
    db.session.commit()
    with pytest.raises(awards.AwardError, match="심사 1건이 아직 끝나지 않았습니다"):
        awards.publish_decision(scenario, user=staff)
    db.session.rollback()
    item = services.assignment_of(apps[0], extra)
    services.save_scores(item, services.check_for(item, spread(10, services.rubric(programme)), _comments(programme),
                                                  final=True), user=extra, submit=True)
    db.session.commit()
    with pytest.raises(awards.AwardError, match="점수나 대상이 바뀌었습니다"):
        awards.publish_decision(scenario, user=staff)


def test_publish_never_exceeds_the_budget_even_with_earlier_awards(scored, staff):
    programme, apps, _ = scored([[90], [80]])
    programme.budget_total_won = 1_000_000
    db.session.commit()
    scenario = services.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    assert scenario.total_selected_won == 720_000
    # An award already exists for this programme (say, an earlier round) of 500,000원.
    db.session.add(Award(application_id=apps[0].id, programme_id=programme.id, amount_won=500_000, rank=1,
                         decided_at=now_utc(), decided_by_id=staff.id))
    db.session.commit()
    with pytest.raises(awards.AwardError, match="예산을 넘습니다"):
        awards.publish_decision(scenario, user=staff)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Award)) == 1
    assert db.session.get(Application, apps[1].id).status == "under_review"


# Reminders -----------------------------------------------------------------------------------

def test_reminders_go_once_a_day_to_reviewers_with_open_work(submitted, make_reviewers, staff):
    programme, (application,) = submitted(1)
    busy, done = make_reviewers(2)
    services.assign(application, busy, user=staff)
    item = services.assign(application, done, user=staff)
    services.save_scores(item, services.check_for(item, spread(70, services.rubric(programme)), _comments(programme),
                                                  final=True), user=done, submit=True)
    settings = services.settings_for(programme)
    settings.deadline = now_utc() + timedelta(days=5)
    settings.remind_days_before = 3
    db.session.commit()
    assert services.send_reminders(date(2027, 3, 10)) == 0  # too early
    settings.deadline = now_utc() + timedelta(days=2)
    db.session.commit()
    assert services.send_reminders(date(2027, 3, 10)) == 1
    assert services.send_reminders(date(2027, 3, 10)) == 0  # same day: not again
    assert services.send_reminders(date(2027, 3, 11)) == 1
    db.session.commit()
    reminders = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("%심사 기한%"))).all()
    assert {m.recipient for m in reminders} == {busy.email} and len(reminders) == 2
    assert db.session.scalar(select(func.count()).select_from(ReminderLog)) == 2


def test_reminder_cli_command(runner, submitted, make_reviewers, staff):
    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    services.assign(application, reviewer, user=staff)
    services.settings_for(programme).deadline = now_utc() + timedelta(days=1)
    db.session.commit()
    result = runner.invoke(args=["review-reminders"])
    assert result.exit_code == 0 and "1건" in result.output
    result = runner.invoke(args=["review-reminders"])
    assert "0건" in result.output


# Concurrency (PostgreSQL) --------------------------------------------------------------------

@pytest.mark.postgres_only
def test_concurrent_publishes_cannot_exceed_the_budget(app, scored, staff):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    programme, apps, _ = scored([[90], [80]])
    programme.budget_total_won = 1_000_000
    db.session.commit()
    # Two scenarios, each within budget alone (720,000원), together over it.
    first = services.create_scenario(programme, name="A", quota_per_district=None, user=staff)
    second = services.create_scenario(programme, name="B", quota_per_district=None, user=staff)
    db.session.commit()
    staff_id = staff.id
    first_published = threading.Event()
    outcomes = {}

    def publish(scenario_id, name):
        from blueprints.accounts.models import User
        from blueprints.review.models import SelectionScenario

        with app.app_context():
            try:
                if name == "second":
                    first_published.wait(10)  # the first holds its transaction open now
                scenario = db.session.get(SelectionScenario, scenario_id)
                user = db.session.get(User, staff_id)
                awards.publish_decision(scenario, user=user)
                if name == "first":
                    first_published.set()
                    time.sleep(0.5)  # the second publisher runs into the lock meanwhile
                db.session.commit()
                outcomes[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - the loser's error is the point
                db.session.rollback()
                outcomes[name] = type(exc).__name__
                first_published.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish, args=(first.id, "first")),
               threading.Thread(target=publish, args=(second.id, "second"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.expire_all()
    # The second waited for the programme lock, then saw the first's decision and was refused.
    assert outcomes == {"first": "ok", "second": "AwardError"}
    total = db.session.scalar(select(func.coalesce(func.sum(Award.amount_won), 0)))
    assert total == 720_000 <= programme.budget_total_won
