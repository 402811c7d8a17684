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
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models differ from migrations; run `flask db migrate`: {diff}"
