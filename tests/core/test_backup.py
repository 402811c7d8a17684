"""Backup and restore round trip: row counts and upload hashes come back the same."""
import io
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from blueprints.accounts.models import User
from blueprints.core.backup import make_backup, restore_backup, row_counts, upload_hashes
from blueprints.core.files import store_upload
from extensions import db
from tests.applications.test_views import PNG_1x1

needs_pg_tools = pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL") and not shutil.which("pg_dump"),
                                    reason="pg_dump is needed for PostgreSQL backups")


class Upload(io.BytesIO):
    filename = "receipt.png"


@needs_pg_tools
def test_backup_and_restore_round_trip(app, make_user, tmp_path, runner):
    make_user("a@example.kr")
    make_user("b@example.kr", roles=("staff",))
    store_upload(Upload(PNG_1x1))
    db.session.commit()
    uploads = Path(app.config["UPLOAD_DIR"])
    rows_before, files_before = row_counts(), upload_hashes(uploads)
    assert files_before and rows_before["users"] == 2

    result = runner.invoke(args=["backup", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = next(tmp_path.iterdir())
    assert (folder / "manifest.json").exists() and (folder / "uploads.tar.gz").exists()

    # Disaster: a user deleted, an upload lost.
    db.session.delete(db.session.scalar(select(User).where(User.email == "b@example.kr")))
    db.session.commit()
    shutil.rmtree(uploads)
    assert db.session.scalar(select(func.count(User.id))) == 1

    manifest = restore_backup(folder)
    assert manifest["rows"] == rows_before
    with app.app_context():
        assert row_counts() == rows_before
        assert upload_hashes(uploads) == files_before
        assert db.session.scalar(select(User.email).where(User.email == "b@example.kr")) == "b@example.kr"


def test_restore_command_asks_before_replacing(app, runner, tmp_path):
    folder = make_backup(tmp_path)
    result = runner.invoke(args=["restore", str(folder)], input="n\n")
    assert result.exit_code != 0 and "계속할까요" in result.output
