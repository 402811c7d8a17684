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
