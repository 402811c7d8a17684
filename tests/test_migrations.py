"""The schema comes only from migrations: they run up and down on both databases, and the
models have nothing that the migrations lack."""
import os
import tempfile
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from extensions import db
from tests.conftest import _test_config

MIGRATIONS = str(Path(__file__).resolve().parents[1] / "migrations")


@pytest.fixture
def scratch_app():
    """An app on its own empty database (a scratch schema on PostgreSQL)."""
    tmp = Path(tempfile.mkdtemp(prefix="gongdong-mig-"))
    config = _test_config(tmp)
    base_url = os.environ.get("TEST_DATABASE_URL")
    if base_url:
        engine = create_engine(base_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            conn.execute(text("CREATE SCHEMA migration_check"))
        config.SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": "-csearch_path=migration_check"}}
    else:
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp / 'migrations.db'}"
    app = create_app(config)
    yield app
    with app.app_context():
        db.engine.dispose()
    if base_url:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        engine.dispose()


def test_upgrade_to_head_and_downgrade_to_base(scratch_app):
    with scratch_app.app_context():
        upgrade(directory=MIGRATIONS)
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "audit_events", "applications"} <= tables
        downgrade(directory=MIGRATIONS, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=MIGRATIONS)  # and back up again: downgrades leave nothing behind


def test_models_match_the_migrations(scratch_app):
    with scratch_app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            # as `flask db migrate` compares (extensions.migrate): objects meant for another database
            # (the PostgreSQL-only trigram indexes) are left out
            from extensions import include_object

            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models differ from migrations; run `flask db migrate`: {diff}"


def test_programmes_made_before_get_their_review_settings(scratch_app):
    """0055reviewsettings: the row a first page view used to make, for every programme without one."""
    from sqlalchemy import select

    from blueprints.core.timeutil import end_of_day_kst
    from blueprints.programmes.defaults import programme_fields_from_defaults
    from blueprints.programmes.models import Programme
    from blueprints.review.models import ReviewSettings

    with scratch_app.app_context():
        upgrade(directory=MIGRATIONS, revision="0040retention")
        fields = programme_fields_from_defaults()
        with db.engine.begin() as conn:   # Core: the ORM would add the settings row itself
            conn.execute(Programme.__table__.insert(), [dict(fields, title="옛 사업"), dict(fields, title="본 사업")])
            seen = conn.execute(select(Programme.__table__.c.id).where(Programme.__table__.c.title == "본 사업")).scalar()
            conn.execute(ReviewSettings.__table__.insert().values(programme_id=seen, aggregate="trimmed_mean",
                                                                 deadline=None))
        upgrade(directory=MIGRATIONS)
        rows = {s.programme.title: s for s in db.session.scalars(select(ReviewSettings))}
        assert set(rows) == {"옛 사업", "본 사업"}
        assert rows["옛 사업"].aggregate == "mean" and rows["옛 사업"].deadline == end_of_day_kst(fields["review_to"])
        assert rows["옛 사업"].blind and rows["옛 사업"].remind_days_before == 3
        assert rows["본 사업"].aggregate == "trimmed_mean" and rows["본 사업"].deadline is None   # left as it was
        db.session.remove()


def test_programmes_with_published_results_are_marked(scratch_app):
    """0056published: a programme whose selection scenario was published before the column
    existed counts as published (nobody applies to it any more); the others do not."""
    from datetime import datetime, timezone

    from sqlalchemy import select

    from blueprints.programmes.defaults import programme_fields_from_defaults
    from blueprints.programmes.models import Programme
    from blueprints.review.models import SelectionScenario

    published_at = datetime(2027, 4, 30, 9, 0, tzinfo=timezone.utc)
    with scratch_app.app_context():
        upgrade(directory=MIGRATIONS, revision="0050identity")
        fields = programme_fields_from_defaults()
        table = Programme.__table__
        with db.engine.begin() as conn:   # Core: these columns are what 0050identity had
            conn.execute(table.insert(), [dict(fields, title="공개한 사업"), dict(fields, title="심사 중인 사업")])
            ids = dict(conn.execute(select(table.c.title, table.c.id)).all())
            scenarios = SelectionScenario.__table__
            conn.execute(scenarios.insert(), [
                dict(programme_id=ids["공개한 사업"], name="A", status="published", published_at=published_at,
                     basis={}, created_at=published_at, share_feedback=False, conditions=""),
                dict(programme_id=ids["심사 중인 사업"], name="B", status="draft", published_at=None,
                     basis={}, created_at=published_at, share_feedback=False, conditions="")])
        upgrade(directory=MIGRATIONS)
        marked = {p.title: p.results_published_at for p in db.session.scalars(select(Programme))}
        assert marked == {"공개한 사업": published_at, "심사 중인 사업": None}
        assert db.session.get(Programme, ids["공개한 사업"]).results_published
        db.session.remove()


def test_existing_groups_and_users_get_their_search_keys(scratch_app):
    """0058search: rows made before it are found by the new search (keys filled in the migration)."""
    import unicodedata

    from sqlalchemy import select

    from blueprints.accounts.models import User
    from blueprints.core.search import matches
    from blueprints.groups.models import Group

    with scratch_app.app_context():
        upgrade(directory=MIGRATIONS, revision="0057affiliation")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (email, name, is_active, session_version, created_at, updated_at) "
                              "VALUES ('old@example.kr', '김 옛날', true, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO groups (reg_no, name, district, dong, meeting_place, activity_type, "
                              "description, status, affiliation, created_at, updated_at) VALUES "
                              "('M2026-0001', :name, '마포구', '망원1동', '', '', '', 'active', 'other', "
                              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"name": unicodedata.normalize("NFD", "햇살 품앗이")})
        upgrade(directory=MIGRATIONS)
        assert db.session.scalars(select(Group.reg_no).where(matches("햇살품앗이", Group.search_key))).all() == ["M2026-0001"]
        assert db.session.scalars(select(Group.reg_no).where(matches("망원동", Group.search_key))).all() == ["M2026-0001"]
        assert db.session.scalars(select(User.email).where(matches("김옛날", User.search_key))).all() == ["old@example.kr"]
        db.session.remove()
