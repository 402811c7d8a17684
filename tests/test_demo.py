from sqlalchemy import func, select

from blueprints.accounts.models import User
from blueprints.groups.models import Group
from blueprints.programmes.models import Programme
from extensions import db


def test_demo_command_is_idempotent_and_prints_the_accounts(runner, monkeypatch):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for email in ("applicant@demo.kr", "treasurer@demo.kr", "reviewer1@demo.kr", "reviewer3@demo.kr",
                  "staff@demo.kr", "finance@demo.kr", "admin@demo.kr"):
        assert email in result.output
    assert "demo1234!" in result.output
    counts = (db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(Group.id))),
              db.session.scalar(select(func.count(Programme.id))))
    assert counts[1] >= 12 and counts[2] >= 1
    assert len(set(db.session.scalars(select(Group.district)))) >= 5

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert (db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(Group.id))),
            db.session.scalar(select(func.count(Programme.id)))) == counts


def test_demo_has_applications_in_several_states_and_an_open_window(runner):
    from blueprints.applications.models import Application

    assert runner.invoke(args=["demo"]).exit_code == 0
    states = set(db.session.scalars(select(Application.status)))
    assert {"draft", "submitted", "returned", "withdrawn"} <= states
    # the open programme (the demo also has a finished 2026 one; rows come back in no set order)
    assert any(p.is_open() for p in db.session.scalars(select(Programme)))
    submitted = db.session.scalars(select(Application).where(Application.status == "submitted")).all()
    assert all(a.snapshot and a.snapshot["total_won"] == 540_000 for a in submitted)


def test_demo_accounts_can_sign_in_with_the_demo_password(runner, client):
    runner.invoke(args=["demo"])
    response = client.post_form("/login", {"email": "applicant@demo.kr", "password": "demo1234!"})
    assert response.status_code == 303
    leader = db.session.scalar(select(User).where(User.email == "applicant@demo.kr"))
    group = db.session.scalars(select(Group).order_by(Group.id)).first()
    assert group.officer("leader").user_id == leader.id


def _production_app(app, tmp_path):
    """The same database as the test app, configured as production (a real-length secret)."""
    from app import create_app

    return create_app({"APP_ENV": "production", "SECRET_KEY": "p" * 40, "UPLOAD_DIR": str(tmp_path / "uploads"),
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})


def test_demo_refuses_to_run_in_production(app, tmp_path):
    production = _production_app(app, tmp_path)
    with production.app_context():   # as `flask demo` runs: inside the production app
        result = production.test_cli_runner().invoke(args=["demo"])
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code != 0
    assert "운영(production) 환경에서는 데모 데이터를 만들 수 없습니다" in result.output
    assert "demo1234!" not in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == 0   # no known-password account was made


def test_on_the_day_it_is_built_every_role_can_take_its_step(runner):
    """The demo's dates follow the day it is built (Asia/Seoul): each role's next step is allowed
    by the app's own rules that day — the step is taken through the services, as the screen would."""
    from datetime import date

    from blueprints.applications import services as applications
    from blueprints.applications.models import Application
    from blueprints.awards import services as awards
    from blueprints.awards.models import Award
    from blueprints.core.timeutil import today_kst
    from blueprints.disbursement import services as disbursement
    from blueprints.review import services as review
    from blueprints.review.models import AssignmentState, ReviewAssignment
    from blueprints.settlement import services as settlement
    from blueprints.settlement.checks import ExpenseIn
    from blueprints.settlement.models import Expense, Settlement

    assert runner.invoke(args=["demo"]).exit_code == 0
    today = today_kst()
    assert today != date(2026, 11, 10)   # (not the day the old demo pretended it was)

    def user(email):
        return db.session.scalar(select(User).where(User.email == email))

    # An applicant applies to the open programme: a new application, and the 대표's draft submitted.
    open_programme = next(p for p in db.session.scalars(select(Programme)) if p.is_open())
    assert open_programme.closes_at > open_programme.opens_at and open_programme.activity_start > today
    without = next(g for g in db.session.scalars(select(Group).order_by(Group.id))
                   if db.session.scalar(select(Application.id).where(Application.group_id == g.id,
                                                                     Application.programme_id == open_programme.id)) is None)
    assert applications.start_application(without, open_programme, user=without.officer("leader").user).id
    leader = user("applicant@demo.kr")
    draft = db.session.scalar(select(Application).where(Application.programme_id == open_programme.id,
                                                        Application.created_by_id == leader.id))
    assert draft.status == "draft" and applications.submit(draft, user=leader) is True

    # A reviewer has scoring to do, and may do it.
    reviewer = user("reviewer1@demo.kr")
    todo = db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == reviewer.id,
                                                             ReviewAssignment.status == AssignmentState.assigned)).all()
    assert todo and all(item.can(reviewer, "score") for item in todo)
    programme = todo[0].application.programme
    rubric = review.rubric(programme)
    for item in todo:
        values = {c["code"]: str(int(c["max"]) * 3 // 4) for c in rubric}
        check = review.check_for(item, values, {c["code"]: "좋습니다" for c in rubric}, final=True)
        review.save_scores(item, check, user=reviewer, submit=True)
    # Staff may then publish: the window has closed, nothing else holds the results back.
    staff = user("staff@demo.kr")
    scenario = review.create_scenario(programme, name="데모", quota_per_district=None, user=staff)
    assert review.publish_blockers(programme, scenario) == []
    assert awards.publish_decision(scenario, user=staff)

    # Finance can pay the group that accepted its award.
    finance = user("finance@demo.kr")
    accepted = db.session.scalar(select(Award).where(Award.status == "accepted"))
    assert disbursement.payments_closed_reason(accepted) is None
    payment, created = disbursement.record_payment(accepted.disbursement, instalment=1, amount_won=100_000, paid_on=today,
                                                   reference="데모", idempotency_key="demo-test", user=finance)
    assert created

    # The 회계 records an expense dated today, inside the open activity period.
    treasurer = user("treasurer@demo.kr")
    spending = next(a for a in db.session.scalars(select(Award)) if Expense.can_on(a, treasurer))
    assert spending.programme.activity_start <= today <= spending.programme.activity_end
    from demo.settlements import _Upload, receipt_image

    data = ExpenseIn(spent_on=today, category="materials", vendor="알파문구", biz_no="124-82-10324", description="색종이",
                     amount_won=12_000, method="clean_card", approval_no="12345678", participants=10, has_receipt=True)
    assert settlement.check(spending, data).hard == []
    expense = settlement.save_expense(spending, data, user=treasurer, receipt=_Upload(
        receipt_image("알파문구", "색종이", 12_000, today, "124-82-10324"), "receipt.jpg"))
    assert expense.hard_count == 0 and expense.spent_on == today

    # A draft settlement can be submitted, and a submitted one reviewed.
    draft_settlement = db.session.scalar(select(Settlement).where(Settlement.status == "draft"))
    group = draft_settlement.award.application.group
    officer = group.officer("treasurer").user or group.officer("leader").user
    assert draft_settlement.can(officer, "submit") and settlement.submission_blockers(draft_settlement) == []
    settlement.submit(draft_settlement, user=officer)
    submitted = db.session.scalars(select(Settlement).where(Settlement.status == "submitted")).first()
    assert submitted.can(finance, "review")
    line = settlement.expenses(submitted.award)[0]
    settlement.review_line(line, decision="recognised", reason="", user=finance)
    db.session.rollback()
def test_demo_awards_follow_the_programmes_own_rules(runner):
    """The 2026 demo's awards: the amount the group's household tier allows, conditions written
    from the programme's rules (not a text that says otherwise), and every spending line passes
    the rule checks those conditions describe; the 60-line settlement is there."""
    from blueprints.applications.checks import grant_limit
    from blueprints.awards.conditions import conditions_from_rules
    from blueprints.awards.models import Award
    from blueprints.settlement.models import Expense
    from demo.settlements import TITLE

    assert runner.invoke(args=["demo"]).exit_code == 0
    programme = db.session.scalar(select(Programme).where(Programme.title == TITLE))
    awards = db.session.scalars(select(Award).where(Award.programme_id == programme.id)).all()
    assert len(awards) == 12
    expected = conditions_from_rules(programme.rules, activity_start=programme.activity_start,
                                     activity_end=programme.activity_end)
    assert "계좌이체로 결제합니다" in expected and "간식비는 지원금의 25%" in expected
    for award in awards:
        group = award.application.group
        assert award.conditions == expected
        assert award.amount_won == grant_limit(programme.rules, len(group.members), programme.max_per_group_won)
        assert award.amount_won >= sum(e.amount_won for e in db.session.scalars(
            select(Expense).where(Expense.award_id == award.id)))
    lines = db.session.scalars(select(Expense).join(Award, Award.id == Expense.award_id)
                               .where(Award.programme_id == programme.id)).all()
    assert lines and all(e.hard_count == 0 for e in lines)
    assert max(db.session.scalar(select(func.count(Expense.id)).where(Expense.award_id == a.id)) for a in awards) == 60
def test_the_demo_programme_with_awards_has_its_public_results(runner, client):
    """Awards exist only once results are out: the demo's programme in its activity period says
    so on its page and its public results page opens, naming only groups that consented."""
    from blueprints.awards.models import Award
    from demo.settlements import TITLE

    assert runner.invoke(args=["demo"]).exit_code == 0
    programme = db.session.scalar(select(Programme).where(Programme.title == TITLE))
    assert programme.results_published
    assert f"/results/{programme.id}" in client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    page = client.get(f"/results/{programme.id}").get_data(as_text=True)
    groups = [a.application.group for a in db.session.scalars(select(Award).where(Award.programme_id == programme.id))]
    assert any(g.consent_publish_name_at for g in groups) and any(not g.consent_publish_name_at for g in groups)
    for group in groups:
        assert (group.name in page) == bool(group.consent_publish_name_at), group.name


def test_demo_groups_have_affiliations_districts_and_the_registration_numbering(runner):
    """The centre's view counts 센터/나눔터/기타 and the residency rule reads households'
    districts: the demo has both; its numbers follow the wizard's rule (the Seoul year of
    registration, not the programme's year)."""
    from blueprints.core.timeutil import today_kst
    from blueprints.groups.eligibility import RESIDENCE_CHOICES, evaluate, candidate_from_group, rules_from_programme
    from blueprints.groups.models import GroupMember

    assert runner.invoke(args=["demo"]).exit_code == 0
    groups = db.session.scalars(select(Group).order_by(Group.id)).all()
    assert {g.affiliation for g in groups} == {"centre", "sharing", "other"}
    districts = db.session.scalars(select(GroupMember.resident_district)).all()
    assert districts and all(d in RESIDENCE_CHOICES for d in districts)
    assert any(g.consent_publish_name_at for g in groups) and not all(g.consent_publish_name_at for g in groups)
    year = today_kst().year
    demo_groups = [g for g in groups if g.reg_no.startswith(f"G-{year}-")]
    assert len(demo_groups) >= 12
    numbers = sorted(int(g.reg_no.rsplit("-", 1)[1]) for g in demo_groups)
    assert numbers == list(range(1, len(numbers) + 1))
    # The open programme's residency rule holds for every demo group (their applications submit).
    programme = next(p for p in db.session.scalars(select(Programme)) if p.is_open())
    rules = rules_from_programme(programme)
    assert all(evaluate(candidate_from_group(g), rules).check("residency").ok for g in demo_groups)
