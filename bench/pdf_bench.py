"""Settlement PDF timings, each mode in its own process (peak RSS is this process's).

    python bench/pdf_bench.py sqlite|postgres single --out FILE.json   # 1 PDF (60 lines, 30 receipts), 5 times
    python bench/pdf_bench.py sqlite|postgres export --out FILE.json   # every settlement of the 200-award programme

Both use an empty PDF cache (PDF_CACHE_DIR under bench/out), so every document is really built.
``single`` times context + build (what a cache miss of the download costs); ``export`` runs
blueprints/settlement/jobs.write_pdfs, the loop of the export-settlements CLI (the huey ZIP job
runs the same settlement_pdf per settlement).
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))
import seed as S  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main(argv):
    kind, mode = argv[0], argv[1]
    target = Path(argv[argv.index("--out") + 1])
    os.environ.update(S.bench_env(kind, False))
    from sqlalchemy import func, select

    from app import create_app
    from blueprints.awards.models import Award
    from blueprints.programmes.models import Programme
    from blueprints.settlement import documents, jobs
    from blueprints.settlement.models import Expense, Settlement
    from extensions import db

    cache = BENCH / "out" / f"pdf-cache-{kind}-{mode}"
    shutil.rmtree(cache, ignore_errors=True)
    app = create_app()
    app.config["PDF_CACHE_DIR"] = str(cache)
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.year == S.YEARS[-2]))
        if mode == "single":
            settlement = db.session.scalar(select(Settlement).join(Award, Award.id == Settlement.award_id)
                                           .where(Award.programme_id == programme.id, Settlement.status == "approved")
                                           .order_by(Settlement.id))
            lines = db.session.scalar(select(func.count()).where(Expense.award_id == settlement.award_id))
            receipts = db.session.scalar(select(func.count()).where(Expense.award_id == settlement.award_id,
                                                                    Expense.receipt_file_id.is_not(None)))
            times, data = [], b""
            for _ in range(6):   # the first warms the font configuration (once per process); not counted
                db.session.expire_all()
                t0 = time.perf_counter()
                data = documents.build(documents.context(db.session.get(Settlement, settlement.id)))
                times.append(time.perf_counter() - t0)
            from pypdf import PdfReader
            import io

            pages = len(PdfReader(io.BytesIO(data)).pages)
            (BENCH / "out" / f"settlement-{kind}.pdf").write_bytes(data)
            result = dict(settlement=settlement.id, lines=lines, receipts=receipts, first=times[0], times=times[1:],
                          median=statistics.median(times[1:]), size=len(data), pages=pages)
        else:
            start = rss_mb()
            t0 = time.perf_counter()
            count = int(argv[argv.index("--count") + 1]) if "--count" in argv else 0
            out_dir = BENCH / "out" / f"export-{kind}"
            shutil.rmtree(out_dir, ignore_errors=True)
            total = len(jobs.programme_settlements(programme.id))
            db.session.expire_all()
            if not count or count >= total:
                written = jobs.write_pdfs(programme.id, out_dir)
            else:   # the same loop as write_pdfs, over the first `count` settlements
                out_dir.mkdir(parents=True)
                written = []
                for settlement in jobs.programme_settlements(programme.id)[:count]:
                    data, name = documents.settlement_pdf(settlement)
                    (out_dir / name).write_bytes(data)
                    written.append(out_dir / name)
                    db.session.expire_all()
            seconds = time.perf_counter() - t0
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            result = dict(count=len(written), of=total, seconds=seconds, peak_mb=peak, start_mb=start,
                          total_mb=sum(p.stat().st_size for p in written) / 1e6)
        db.engine.dispose()
    target.write_text(json.dumps(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
