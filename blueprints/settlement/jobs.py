"""Background jobs: every settlement PDF of a programme as one ZIP (progress kept in the
job row for the page to poll), and the daily settlement reminders."""
from __future__ import annotations

import zipfile
from pathlib import Path

from flask import current_app
from huey import crontab
from sqlalchemy import select

from blueprints.core.models import utcnow
from blueprints.core.tasks import app_task, huey
from extensions import db

from .models import ExportJob, Settlement


def export_dir() -> Path:
    path = Path(current_app.instance_path) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def programme_settlements(programme_id: int) -> list[Settlement]:
    from blueprints.awards.models import Award

    return db.session.scalars(select(Settlement).join(Award, Award.id == Settlement.award_id)
                              .where(Award.programme_id == programme_id).order_by(Award.rank)).all()


def write_pdfs(programme_id: int, out_dir: Path, progress=None) -> list[Path]:
    """Every settlement PDF of the programme into ``out_dir`` (the CLI and the ZIP job)."""
    from .documents import settlement_pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    rows = programme_settlements(programme_id)
    for index, settlement in enumerate(rows, 1):
        data, name = settlement_pdf(settlement)
        path = out_dir / name
        path.write_bytes(data)
        written.append(path)
        if progress:
            progress(index, len(rows))
        db.session.expire_all()   # keep memory flat over hundreds of documents
    return written


@app_task()
def build_zip(job_id: int) -> None:
    from .documents import settlement_pdf

    job = db.session.get(ExportJob, job_id)
    if job is None:
        return
    rows = programme_settlements(job.programme_id)
    job.status, job.total, job.done = "running", len(rows), 0
    db.session.commit()
    path = export_dir() / f"settlements-{job.programme_id}-{job.id}.zip"
    try:
        ids = [r.id for r in rows]
        with zipfile.ZipFile(path.with_suffix(".part"), "w", zipfile.ZIP_STORED) as archive:
            for index, settlement_id in enumerate(ids, 1):
                data, name = settlement_pdf(db.session.get(Settlement, settlement_id))
                archive.writestr(name, data)
                db.session.expire_all()
                job = db.session.get(ExportJob, job_id)
                job.done = index
                db.session.commit()
        path.with_suffix(".part").replace(path)
    except Exception as exc:  # the page shows the failure instead of spinning forever
        db.session.rollback()
        job = db.session.get(ExportJob, job_id)
        job.status, job.error, job.finished_at = "failed", str(exc)[:500], utcnow()
        db.session.commit()
        raise
    job = db.session.get(ExportJob, job_id)
    job.status, job.file_name, job.finished_at = "done", path.name, utcnow()
    db.session.commit()


@huey.periodic_task(crontab(hour="9", minute="0"))
def daily_reminders():
    from blueprints.core.persistence import commit
    from blueprints.core.tasks import worker_app

    from . import services

    with worker_app().app_context():
        services.send_due_reminders()
        commit()
        db.session.remove()
