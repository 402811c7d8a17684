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
