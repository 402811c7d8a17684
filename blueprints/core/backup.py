"""Backups: the database (SQLite online backup API, or pg_dump) plus the uploads folder,
written side by side with a manifest of row counts and file hashes; and the way back."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from extensions import db


def row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def upload_hashes(folder: Path) -> dict[str, str]:
    hashes = {}
    if folder.exists():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                hashes[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def make_backup(out_dir: Path) -> Path:
    """Write <out_dir>/gongdong-<UTC time>/ with database, uploads.tar.gz and manifest.json."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = out_dir / f"gongdong-{stamp}"
    target.mkdir(parents=True, exist_ok=False)
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        db.session.commit()
        source = sqlite3.connect(url.database)
        dest = sqlite3.connect(target / "database.sqlite3")
        with dest:
            source.backup(dest)  # consistent even while the app writes (WAL)
        source.close()
        dest.close()
        kind = "sqlite"
    else:
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={target / 'database.pgdump'}",
                        _libpq_url(url)], check=True)
        kind = "postgresql"
    uploads = Path(current_app.config["UPLOAD_DIR"])
    with tarfile.open(target / "uploads.tar.gz", "w:gz") as tar:
        if uploads.exists():
            tar.add(uploads, arcname="uploads")
    manifest = {"created_at": stamp, "database": kind, "rows": row_counts(), "uploads": upload_hashes(uploads)}
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return target


def restore_backup(folder: Path) -> dict:
    """Replace the database and uploads with a backup's. The app must be stopped."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()
    db.engine.dispose()
    if manifest["database"] == "sqlite":
        if url.get_backend_name() != "sqlite":
            raise click.ClickException("SQLite 백업은 SQLite 데이터베이스로만 복원할 수 있습니다.")
        for suffix in ("-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
        source = sqlite3.connect(folder / "database.sqlite3")
        dest = sqlite3.connect(url.database)
        with dest:
            source.backup(dest)
        source.close()
        dest.close()
    else:
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={_libpq_url(url)}",
                        str(folder / "database.pgdump")], check=True)
    uploads = Path(current_app.config["UPLOAD_DIR"])
    if uploads.exists():
        shutil.rmtree(uploads)
    with tarfile.open(folder / "uploads.tar.gz", "r:gz") as tar:
        tar.extractall(uploads.parent, filter="data")
    extracted = uploads.parent / "uploads"
    if extracted != uploads:
        extracted.rename(uploads)
    return manifest


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@click.command("backup")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="backup folder (default: BACKUP_DIR)")
@with_appcontext
def backup_command(out_dir):
    """Back up the database and the uploaded files."""
    target = make_backup(Path(out_dir or current_app.config["BACKUP_DIR"]))
    click.echo(f"백업 완료: {target}")


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.confirmation_option(prompt="지금 데이터베이스와 업로드 파일을 백업 내용으로 바꿉니다. 계속할까요?")
@with_appcontext
def restore_command(folder):
    """Restore a backup made by `backup` (stop the app first)."""
    manifest = restore_backup(Path(folder))
    click.echo(f"복원 완료: {manifest['created_at']} 백업 ({sum(manifest['rows'].values())}행)")


def register(app):
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
