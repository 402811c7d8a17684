"""Background jobs: every settlement PDF of a programme as one ZIP (progress kept in the
job row for the page to poll), and the daily settlement reminders."""
from __future__ import annotations

import zipfile
from pathlib import Path

from flask import current_app
from huey import crontab
from sqlalchemy import select

from blueprints.core.models import utcnow
from blueprints.core.tasks import app_periodic_task, app_task
from extensions import db

from .models import ExportJob, ExportJobState, Settlement


def export_dir() -> Path:
    path = Path(current_app.config.get("EXPORT_DIR") or Path(current_app.config["UPLOAD_DIR"]).parent / "exports")
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
    """Fan out: one render task per settlement (the consumer's workers share them); the task
    that renders the last one packs the ZIP from the PDF cache."""
    job = db.session.get(ExportJob, job_id)
    if job is None:
        return
    ids = [r.id for r in programme_settlements(job.programme_id)]
    job.status, job.total, job.done = ExportJobState.running, len(ids), 0
    db.session.commit()
    if not ids:
        _pack(job_id)
        return
    for settlement_id in ids:
        render_one(job_id, settlement_id)


@app_task()
def render_one(job_id: int, settlement_id: int) -> None:
    from sqlalchemy import update

    from .documents import settlement_pdf

    try:
        settlement_pdf(db.session.get(Settlement, settlement_id))
    except Exception as exc:
        _fail(job_id, exc)
        raise
    done = db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(done=ExportJob.done + 1)
                              .returning(ExportJob.done, ExportJob.total)).one()
    db.session.commit()
    if done[0] == done[1]:
        _pack(job_id)


def _pack(job_id: int) -> None:
    from .documents import settlement_pdf

    job = db.session.get(ExportJob, job_id)
    path = export_dir() / f"settlements-{job.programme_id}-{job.id}.zip"
    try:
        with zipfile.ZipFile(path.with_suffix(".part"), "w", zipfile.ZIP_STORED) as archive:
            for settlement in programme_settlements(job.programme_id):
                data, name = settlement_pdf(settlement)     # from the cache the render tasks filled
                archive.writestr(name, data)
                db.session.expire_all()
        path.with_suffix(".part").replace(path)
    except Exception as exc:
        _fail(job_id, exc)
        raise
    job = db.session.get(ExportJob, job_id)
    job.status, job.file_name, job.finished_at = ExportJobState.done, path.name, utcnow()
    db.session.commit()


def _fail(job_id: int, exc: Exception) -> None:
    """The page shows the failure instead of spinning forever."""
    db.session.rollback()
    job = db.session.get(ExportJob, job_id)
    job.status, job.error, job.finished_at = ExportJobState.failed, str(exc)[:500], utcnow()
    db.session.commit()


@app_periodic_task(crontab(hour="9", minute="0"))
def daily_reminders():
    from blueprints.core.persistence import commit

    from . import services

    services.send_due_reminders()
    commit()
