"""The bulk export as it really runs: a huey consumer with process workers, the ZIP job of every
settlement of the 200-award programme enqueued as the "모든 정산보고서 ZIP" button does, timed
until the ZIP is there, with each worker process's peak RSS (VmHWM from /proc).

    python bench/export_bench.py sqlite|postgres --out FILE.json [--workers 2]

Everything the run writes (huey queue, PDF cache, ZIP) lives in bench/out and starts empty, so
every document is really built. Timing starts at the enqueue, so it includes each worker's
first-task cost (the app, the font configuration).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))
import seed as S  # noqa: E402


def status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def main(argv):
    kind = argv[0]
    target = Path(argv[argv.index("--out") + 1])
    workers = int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 2
    run_dir = OUT / f"export-{kind}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    env = dict(S.bench_env(kind, False), HUEY_SQLITE_PATH=str(run_dir / "huey.db"),
               PDF_CACHE_DIR=str(run_dir / "pdf-cache"), EXPORT_DIR=str(run_dir / "zip"))
    env.pop("HUEY_IMMEDIATE", None)
    os.environ.clear()
    os.environ.update(env)
    from sqlalchemy import select

    from app import create_app
    from blueprints.programmes.models import Programme
    from blueprints.settlement import jobs
    from blueprints.settlement.models import ExportJob
    from extensions import db

    app = create_app()
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.year == S.YEARS[-2]))
        total = len(jobs.programme_settlements(programme.id))
        job = ExportJob(programme_id=programme.id)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        consumer = subprocess.Popen([str(ROOT / ".venv/bin/huey_consumer"), "worker.huey",
                                     "--workers", str(workers), "--worker-type", "process", "--max-delay", "1",
                                     "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=open(run_dir / "consumer.log", "w"))
        peaks: dict[int, int] = {}
        try:
            time.sleep(2)   # the consumer forks its workers
            t0 = time.perf_counter()
            jobs.build_zip(job_id)   # enqueued (not immediate): the consumer runs it
            status, done = "queued", 0
            while time.perf_counter() - t0 < 1800:
                time.sleep(0.5)
                for pid in children(consumer.pid):
                    peaks[pid] = max(peaks.get(pid, 0), status_kb(pid, "VmHWM"))
                db.session.expire_all()
                row = db.session.get(ExportJob, job_id)
                status, done = row.status, row.done
                db.session.rollback()
                if status in ("done", "failed"):
                    break
            seconds = time.perf_counter() - t0
            for pid in children(consumer.pid):
                peaks[pid] = max(peaks.get(pid, 0), status_kb(pid, "VmHWM"))
            consumer_peak = status_kb(consumer.pid, "VmHWM")
        finally:
            consumer.send_signal(signal.SIGINT)   # huey: finish the running task, then stop
            try:
                consumer.wait(timeout=60)
            except subprocess.TimeoutExpired:
                consumer.kill()
        row = db.session.get(ExportJob, job_id)
        zip_path = Path(env["EXPORT_DIR"]) / row.file_name if row.file_name else None
        files = len(zipfile.ZipFile(zip_path).namelist()) if zip_path and zip_path.exists() else 0
        result = dict(status=status, error=row.error, count=files, of=total, done=done, seconds=seconds,
                      workers=workers,
                      # the consumer forks its workers and a scheduler process; the workers are the big ones
                      worker_peak_mb=sorted((kb / 1024 for kb in peaks.values()), reverse=True)[:workers],
                      other_peak_mb=sorted((kb / 1024 for kb in peaks.values()), reverse=True)[workers:],
                      consumer_peak_mb=consumer_peak / 1024,
                      zip_mb=zip_path.stat().st_size / 1e6 if files else 0)
        db.engine.dispose()
    target.write_text(json.dumps(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
