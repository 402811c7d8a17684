"""Build the benchmark database (deterministic, bulk inserts with SQLAlchemy Core).

    bench/seed sqlite|postgres [--small]

Full size: 5 programme years, 2,500 groups over the 25 자치구, ~12,000 households, 5,000
applications (10 budget lines, 8 planned sessions each), ~15,000 review assignments (5 score rows
each), 1,000 awards with 60 expenses each (30 with a receipt image), settlements in every state.
``--small`` builds the same shapes at demo size (for the query-count comparison).

The schema comes from the migrations (``flask db upgrade``); rows are inserted with Core
``insert()`` executemany in chunks, with explicit ids (PostgreSQL sequences are moved past them).
Receipts: 300 distinct generated JPEGs stored like blueprints/core/files.py (content-hash paths
under UPLOAD_DIR = bench/data/uploads); each award's 30 receipts are 30 distinct ones of them.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
UPLOADS = DATA / "uploads"
PG_BASE = "postgresql+psycopg://root@127.0.0.1:5432/"
# The PostgreSQL database's name (and name + "_small"); BENCH_PG_DB lets a second checkout keep its own.
PG_NAME = os.environ.get("BENCH_PG_DB", "bench_gongdong")

FULL = dict(groups=2500, apps_per_programme=1000, awards=(250, 250, 300, 200), reviewers_per_programme=100,
            drafts=32, expenses=60, lines=10, sessions=8)
SMALL = dict(groups=60, apps_per_programme=20, awards=(4, 4, 4, 4), reviewers_per_programme=5,
             drafts=4, expenses=60, lines=10, sessions=8)
YEARS = (2023, 2024, 2025, 2026, 2027)   # the last one is open now
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
PASSWORD = "bench1234!"


def database_url(kind: str, small: bool) -> str:
    if kind == "sqlite":
        return f"sqlite:///{DATA / ('small.db' if small else 'bench.db')}"
    return PG_BASE + pg_name(small)


def pg_name(small: bool) -> str:
    return PG_NAME + ("_small" if small else "")


def bench_env(kind: str, small: bool) -> dict:
    env = dict(os.environ, DATABASE_URL=database_url(kind, small), UPLOAD_DIR=str(UPLOADS),
               SECRET_KEY=SECRET_KEY, APP_ENV="development", HUEY_BACKEND="sqlite")
    return env


def reset_database(kind: str, small: bool) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        path = DATA / ("small.db" if small else "bench.db")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        name = pg_name(small)
        for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "root", "-d", "postgres", "-c", sql], check=True)
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", "db", "upgrade"], cwd=ROOT,
                   env=bench_env(kind, small), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def receipt_jpegs(n: int) -> list[bytes]:
    """n distinct small receipt-like JPEGs (deterministic)."""
    from PIL import Image, ImageDraw

    out = []
    rng = random.Random(7)
    for i in range(n):
        image = Image.new("RGB", (420, 600), (252, 250, 244))
        draw = ImageDraw.Draw(image)
        y = 30
        draw.text((30, y), f"RECEIPT No. {i:04d}", fill=(20, 20, 20))
        for k in range(14):
            y += 36
            draw.text((30, y), f"item {k:02d}  {rng.randint(1, 9) * 1000:>7,} won", fill=(40, 40, 40))
            draw.line((30, y + 22, 390, y + 22), fill=(200, 200, 200))
        draw.rectangle((30, 540, 390, 570), outline=(0, 0, 0))
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=80)
        out.append(buf.getvalue())
    return out


def store(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = UPLOADS / digest[:2] / digest[2:4] / digest
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return digest


def kst(y, m, d, h=10) -> datetime:
    return datetime(y, m, d, h, tzinfo=timezone(timedelta(hours=9))).astimezone(timezone.utc)


class Loader:
    def __init__(self, conn, tables):
        self.conn, self.tables, self.counts = conn, tables, {}

    def put(self, name: str, rows: list[dict], chunk: int = 5000) -> None:
        if not rows:
            return
        table = self.tables[name]
        for i in range(0, len(rows), chunk):
            self.conn.execute(table.insert(), rows[i:i + chunk])
        self.counts[name] = self.counts.get(name, 0) + len(rows)


def seed(kind: str, small: bool) -> dict:
    size = SMALL if small else FULL
    os.environ.update(bench_env(kind, small))
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from blueprints.accounts.services import hash_password
    from blueprints.core.search import search_key
    from blueprints.programmes.defaults import programme_fields_from_defaults
    from data.districts import SEOUL_DISTRICTS
    from extensions import db

    app = create_app()
    rng = random.Random(2027)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with app.app_context():
        tables = db.metadata.tables
        pw = hash_password(PASSWORD)   # hashed once, reused for every user
        fields = programme_fields_from_defaults()
        rules = fields["rules"]
        rubric = [c["code"] for c in rules["review"]["rubric"]] if "review" in rules else \
            ["need", "plan", "budget", "participation", "sustainability"]
        rubric_max = {c["code"]: c["max"] for c in rules.get("review", {}).get("rubric", [])} or \
            dict(need=20, plan=30, budget=20, participation=15, sustainability=15)
        cats = ["program_fee", "materials", "books", "snacks", "venue", "printing", "insurance", "transport",
                "materials", "program_fee"]

        with db.engine.begin() as conn:
            L = Loader(conn, tables)
            # --- people -------------------------------------------------------------------
            users, roles = [], []
            uid = 0

            def user(email, name, role_list):
                nonlocal uid
                uid += 1
                users.append(dict(id=uid, email=email, name=name, search_key=search_key(email, name),
                                  phone=f"010{uid:08d}", password_hash=pw, email_verified_at=now,
                                  privacy_consent_at=now, privacy_consent_version="2027-01", created_at=now,
                                  updated_at=now))
                for r in role_list:
                    roles.append(dict(user_id=uid, role=r, granted_at=now))
                return uid

            staff = user("staff@bench.kr", "사업담당 벤치", ["staff"])
            finance = user("finance@bench.kr", "회계담당 벤치", ["finance"])
            user("admin@bench.kr", "관리자 벤치", ["admin"])
            reviewers = {y: [user(f"r{y}-{i:03d}@bench.kr", f"심사위원{y}-{i}", ["reviewer"])
                             for i in range(size["reviewers_per_programme"])] for y in YEARS}
            surn, given = "김이박최정강조윤장임한오서신권황안송류홍", ["민지", "서연", "지훈", "수빈", "하은", "도윤", "예린", "준호"]
            groups, members, children, leader_of, officers = [], [], [], {}, {}
            mid = cid = 0
            for g in range(1, size["groups"] + 1):
                district = SEOUL_DISTRICTS[g % 25]
                name, dong = f"{district[:-1]} 품앗이 {g}", f"{district[:-1]}{g % 5 + 1}동"   # 1동: a fifth (500)
                groups.append(dict(id=g, reg_no=f"B{g:06d}", name=name, district=district, dong=dong,
                                   search_key=search_key(name, f"B{g:06d}", dong),
                                   meeting_place="동네 공동육아방", activity_type="놀이·체험",
                                   description="영유아 가정이 매달 함께 놀고 배우는 모임입니다.", status="active",
                                   consent_collection_at=now, consent_provision_at=now, consent_photos_at=now,
                                   created_at=now, updated_at=now))
                leader = user(f"leader{g:05d}@bench.kr", rng.choice(surn) + rng.choice(given), ["applicant"])
                treasurer = user(f"treasurer{g:05d}@bench.kr", rng.choice(surn) + rng.choice(given), ["applicant"])
                leader_of[g] = leader
                households = 4 if g % 5 == 0 else 5   # 2,500 groups → 12,000 households
                for h in range(households):
                    mid += 1
                    u = leader if h == 0 else treasurer if h == 1 else None
                    members.append(dict(id=mid, group_id=g, user_id=u, parent_name=rng.choice(surn) + rng.choice(given),
                                        phone=f"010{mid:08d}", role=("leader", "treasurer", "member")[min(h, 2)],
                                        resident_district=district, consent_at=now))
                    for _ in range(1 + (mid % 2)):
                        cid += 1
                        children.append(dict(id=cid, member_id=mid, birth_ym=f"{2021 + cid % 5}-{cid % 12 + 1:02d}"))
                officers[g] = (leader, treasurer)
            L.put("users", users)
            L.put("user_roles", roles)
            L.put("groups", groups)
            L.put("group_members", members)
            L.put("children", children)
            del users, roles, members, children

            # --- programmes, applications, plans ----------------------------------------------
            programmes = {}
            for p, year in enumerate(YEARS, 1):
                f = dict(fields)
                if year == YEARS[-1]:
                    opens, closes = now - timedelta(days=7), now + timedelta(days=21)
                    act_start, act_end = date(year, 3, 25), date(year, 10, 31)
                    if act_start < (now + timedelta(days=30)).date():
                        act_start = (now + timedelta(days=30)).date()
                        act_end = act_start + timedelta(days=220)
                else:
                    opens, closes = kst(year, 2, 15, 9), kst(year, 3, 8, 18)
                    act_start, act_end = date(year, 3, 25), date(year, 10, 31)
                f.update(title=f"{year}년 공동육아 자조모임 지원사업", year=year, opens_at=opens, closes_at=closes,
                         review_from=closes.date() + timedelta(days=1), review_to=closes.date() + timedelta(days=11),
                         activity_start=act_start, activity_end=act_end, settlement_due=act_end + timedelta(days=30),
                         rules=rules)
                programmes[year] = dict(id=p, created_at=now, updated_at=now, **f)
            L.put("programmes", list(programmes.values()))
            L.put("review_settings", [dict(id=p["id"], programme_id=p["id"], updated_at=now,
                                           deadline=datetime.combine(p["review_to"], datetime.min.time(), timezone.utc))
                                      for p in programmes.values()])

            apps, lines, plan = [], [], []
            app_id = line_id = sess_id = 0
            by_prog = {}
            n_apps, n_groups = size["apps_per_programme"], size["groups"]
            for p_index, year in enumerate(YEARS):
                prog = programmes[year]
                offset = (p_index * n_groups) // 5
                ids = []
                for k in range(n_apps):
                    app_id += 1
                    g = (offset + k) % n_groups + 1
                    if year == YEARS[-1]:
                        status = "draft" if k < size["drafts"] else "under_review"
                    else:
                        status = "under_review"   # decided below (selected / not_selected)
                    requested = 0
                    for pos in range(size["lines"]):
                        line_id += 1
                        price, qty = (5_000, 10_000, 15_000, 3_000, 20_000)[pos % 5], 2 + (app_id + pos) % 9
                        requested += price * qty
                        lines.append(dict(id=line_id, application_id=app_id, position=pos, category=cats[pos],
                                          item=f"품목 {pos + 1}", unit_price_won=price, quantity=qty,
                                          amount_won=price * qty, note=""))
                    months = [prog["activity_start"] + timedelta(days=28 * i) for i in range(size["sessions"])]
                    for pos, m in enumerate(months):
                        sess_id += 1
                        plan.append(dict(id=sess_id, application_id=app_id, position=pos, month=f"{m:%Y-%m}",
                                         title=f"{m.month}월 정기 모임", content="보호자와 아이가 함께하는 놀이·체험",
                                         place="동네 공동육아방", expected_households=5, expected_children=7))
                    submitted = None if status == "draft" else prog["closes_at"] - timedelta(hours=1 + k % 400)
                    leader = leader_of[g]
                    apps.append(dict(id=app_id, group_id=g, programme_id=prog["id"], status=status,
                                     purpose="이웃 가정이 함께 놀고 배우며 서로 돌보는 이웃이 됩니다.",
                                     need="맞벌이·한부모 가정이 많아 함께 돌볼 이웃이 필요합니다.", other_funding=False,
                                     requested_won=requested, warning_count=(k % 7 == 0) * 2, version=3,
                                     section_marks={}, submitted_at=submitted, submission_count=0 if submitted is None else 1,
                                     created_by_id=leader, updated_by_id=leader, created_at=now, updated_at=now))
                    ids.append(app_id)
                by_prog[year] = ids
            # past programmes: the first N (by id) selected, the rest not selected
            award_apps = {}
            app_by_id = {a["id"]: a for a in apps}
            for year, n_awards in zip(YEARS[:-1], size["awards"]):
                award_apps[year] = by_prog[year][:n_awards]
                for i, a in enumerate(by_prog[year]):
                    app_by_id[a]["status"] = "selected" if i < n_awards else "not_selected"
            L.put("applications", apps)
            L.put("budget_lines", lines)
            L.put("planned_sessions", plan)
            del lines, plan

            # --- review: assignments and scores -------------------------------------------------
            assigns, scores = [], []
            as_id = sc_id = 0
            for year in YEARS:
                pool = reviewers[year]
                prog = programmes[year]
                for k, a in enumerate(by_prog[year]):
                    if app_by_id[a]["status"] == "draft":
                        continue
                    for j in range(3):
                        as_id += 1
                        done = year != YEARS[-1] or (k + j) % 3 != 0
                        assigns.append(dict(id=as_id, programme_id=prog["id"], application_id=a,
                                            reviewer_id=pool[(k * 3 + j) % len(pool)], status="submitted" if done else "assigned",
                                            decline_reason="", assigned_by_id=staff, auto=True, reopened_count=0,
                                            submitted_at=prog["closes_at"] + timedelta(days=3) if done else None,
                                            created_at=now, updated_at=now))
                        for c in rubric:
                            sc_id += 1
                            value = (rubric_max[c] * (55 + (k * 7 + j * 13 + sc_id) % 45)) // 100
                            scores.append(dict(id=sc_id, assignment_id=as_id, criterion=c,
                                               score=value if done else None, comment="계획이 구체적입니다." if done else "",
                                               updated_at=now))
            L.put("review_assignments", assigns)
            L.put("review_scores", scores)
            del assigns, scores

            # --- receipts ---------------------------------------------------------------------
            images = receipt_jpegs(300)
            files = []
            for i, data in enumerate(images, 1):
                files.append(dict(id=i, sha256=store(data), kind="jpeg", size=len(data),
                                  original_name=f"receipt-{i}.jpg", created_at=now))
            L.put("stored_files", files)

            # --- awards, money, expenses, settlements -----------------------------------------
            awards, disbs, pays, exps, acts, setts, refunds, events = [], [], [], [], [], [], [], []
            aw = ex = act = ev = 0
            states = ["none", "draft", "submitted", "submitted", "needs_changes", "approved", "approved",
                      "approved", "closed", "closed"]
            method_cycle = ["clean_card", "clean_card", "grant_check_card", "zeropay", "transfer"]
            shops = [("materials", "알파문구", "만들기 재료"), ("books", "동네책방 봄날", "그림책"),
                     ("snacks", "과일가게 싱싱", "과일 간식"), ("program_fee", "숲체험학교", "숲체험 참가비"),
                     ("materials", "생활용품점", "물감·붓"), ("venue", "구민회관", "대관료")]
            for year in YEARS[:-1]:
                prog = programmes[year]
                for rank, a in enumerate(award_apps[year], 1):
                    aw += 1
                    amount = (600_000, 800_000, 1_000_000)[aw % 3]
                    state = states[aw % 10]
                    if year == YEARS[-2] and state == "none":
                        state = "submitted"   # the export programme: every award has a settlement
                    award_status = {"none": "paid", "draft": "settling", "submitted": "settling",
                                    "needs_changes": "settling", "approved": "settled", "closed": "closed"}[state]
                    g = app_by_id[a]["group_id"]
                    leader, treasurer = officers[g]
                    awards.append(dict(id=aw, application_id=a, programme_id=prog["id"], amount_won=amount, rank=rank,
                                       status=award_status, conditions="보조금 전용 계좌로 관리합니다.",
                                       decided_at=kst(year, 3, 22), decided_by_id=staff, created_at=now, updated_at=now))
                    disbs.append(dict(id=aw, award_id=aw, amount_won=amount, paid_won=amount, bank="KB국민은행",
                                      account_number=f"{100 + aw % 900}{10**8 + aw:09d}", account_holder=f"모임{g}",
                                      schedule=[dict(instalment=1, amount_won=amount, after=None)],
                                      accepted_at=kst(year, 3, 24), accepted_by_id=leader, created_at=now, updated_at=now))
                    pays.append(dict(id=aw, disbursement_id=aw, instalment=1, amount_won=amount, paid_on=date(year, 3, 27),
                                     reference=f"지출-{aw:05d}", note="", idempotency_key=f"bench-{aw}",
                                     recorded_by_id=finance, created_at=now))
                    first_act = act + 1
                    for s in range(8):
                        act += 1
                        acts.append(dict(id=act, award_id=aw, held_on=prog["activity_start"] + timedelta(days=7 + 26 * s),
                                         place="동네 공동육아방", title=f"{s + 1}회 정기 모임", content="보호자와 아이가 함께 놀이·체험",
                                         households=5, adults=6, children=8, outcome="아이들이 서로 이름을 부르며 놀았습니다",
                                         created_at=now, updated_at=now))
                    per_line = int(amount * 0.92) // size["expenses"]
                    spent = recognised = 0
                    snap = {}
                    for seq in range(1, size["expenses"] + 1):
                        ex += 1
                        code, vendor, item = shops[seq % len(shops)]
                        value = max(per_line - (seq * 37 % 30) * 100, 1_000)
                        review, reason = "pending", ""
                        if state in {"approved", "closed"}:
                            review = "not_recognised" if seq == 3 else "recognised"
                            reason = "계획에 없던 지출" if seq == 3 else ""
                        elif state == "needs_changes":
                            review = "needs_fix" if seq == 2 else "recognised"
                            reason = "품목이 보이는 영수증을 올려 주세요" if seq == 2 else ""
                        receipt = ((aw * 30 + seq // 2) % 300) + 1 if seq % 2 else None
                        spent_on = prog["activity_start"] + timedelta(days=(seq * 210) // size["expenses"])
                        method = method_cycle[seq % 5]
                        exps.append(dict(id=ex, award_id=aw, seq=seq, spent_on=spent_on, category=code, vendor=vendor,
                                         biz_no="124-82-10324", description=f"{item} ({seq})", amount_won=value,
                                         method=method, approval_no=f"{(aw * 1000 + seq) % 10**8:08d}", cash_reason="",
                                         evidence_kind="card_slip", participants=12, session_id=first_act + seq % 8,
                                         receipt_file_id=receipt, review_status=review, review_reason=reason,
                                         reviewed_at=kst(year, 12, 5) if review != "pending" else None,
                                         reviewed_by_id=finance if review != "pending" else None,
                                         created_by_id=treasurer, created_at=now, updated_at=now))
                        spent += value
                        recognised += value if review == "recognised" else 0
                        snap[str(ex)] = dict(seq=seq, spent_on=spent_on.isoformat(), category=code, vendor=vendor,
                                             biz_no="124-82-10324", description=f"{item} ({seq})", amount_won=value,
                                             method=method, receipt=files[receipt - 1]["sha256"][:12] if receipt else None)
                        if review != "pending":
                            ev += 1
                            events.append(dict(id=ev, created_at=now, actor_id=finance, action="expense.reviewed",
                                               object_type="expense", object_id=str(ex), summary=f"증빙-{seq:03d} {review}"))
                    for action, obj_type, obj_id in (("award.decided", "award", aw), ("payment.recorded", "payment", aw),
                                                     ("settlement.submitted", "settlement", aw)):
                        ev += 1
                        events.append(dict(id=ev, created_at=now, actor_id=staff, action=action, object_type=obj_type,
                                           object_id=str(obj_id), summary=action))
                    if state == "none":
                        continue
                    interest = 300 + aw % 2000
                    submitted = state != "draft"
                    approved = state in {"approved", "closed"}
                    refund_due = (amount + interest - recognised) // 10 * 10 if approved else None
                    snapshot = dict(submission=1, report_text="활동 결과 보고", interest_won=interest, expenses=snap)
                    setts.append(dict(id=aw, award_id=aw, status=state, report_text="8회 정기 모임을 열었고 가정들이 고르게 참여했습니다.",
                                      interest_won=interest, submitted_at=kst(year, 11, 20) if submitted else None,
                                      submission_count=1 if submitted else 0, is_late=aw % 13 == 0,
                                      snapshot=snapshot if submitted else None, previous_snapshot=None, staff_message="",
                                      recognised_won=recognised if approved else None, refund_due_won=refund_due,
                                      approved_at=kst(year, 12, 10) if approved else None,
                                      approved_by_id=finance if approved else None, content_version=1,
                                      created_at=now, updated_at=now))
                    if state == "closed":
                        refunds.append(dict(id=aw, settlement_id=aw, amount_won=refund_due, received_on=date(year, 12, 20),
                                            depositor=f"모임{g}", note="", recorded_by_id=finance, created_at=now))
            for name, rows in (("awards", awards), ("disbursements", disbs), ("payments", pays),
                               ("activity_sessions", acts), ("expenses", exps), ("settlements", setts),
                               ("refunds", refunds), ("audit_events", events)):
                L.put(name, rows, chunk=2000)
            if conn.dialect.name == "postgresql":
                for name in L.counts:
                    if "id" in tables[name].c:
                        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                             f"(SELECT max(id) FROM {name}))")
        t_snap = time.perf_counter()
        freeze_submissions(db)
        print(f"  snapshots: {time.perf_counter() - t_snap:.1f} s", flush=True)
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("ANALYZE")
            else:
                conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return L.counts


def freeze_submissions(db, chunk: int = 250) -> None:
    """Every submitted application's frozen snapshot, made by the function submission uses
    (applications.services.build_snapshot over the same full_check), so the reviewer's scoring
    page and the application PDF read what they read in production."""
    from sqlalchemy import bindparam, select, update
    from sqlalchemy.orm import selectinload

    from blueprints.applications.models import Application
    from blueprints.applications.services import build_snapshot, full_check
    from blueprints.groups.models import Group, GroupMember

    ids = db.session.scalars(select(Application.id).where(Application.submitted_at.is_not(None))
                             .order_by(Application.id)).all()
    for i in range(0, len(ids), chunk):
        apps = db.session.scalars(
            select(Application).where(Application.id.in_(ids[i:i + chunk]))
            .options(selectinload(Application.lines), selectinload(Application.sessions),
                     selectinload(Application.attachments),
                     selectinload(Application.group).selectinload(Group.members).selectinload(GroupMember.children))
        ).all()
        frozen = [dict(b_id=a.id, b_snapshot=build_snapshot(a, full_check(a))) for a in apps]
        table = Application.__table__
        db.session.connection().execute(update(table).where(table.c.id == bindparam("b_id"))
                                        .values(snapshot=bindparam("b_snapshot")), frozen)
        db.session.commit()
        db.session.expunge_all()


def main(argv):
    kind = argv[0] if argv and argv[0] in {"sqlite", "postgres"} else None
    if kind is None:
        sys.exit("usage: bench/seed sqlite|postgres [--small]")
    small = "--small" in argv
    t0 = time.perf_counter()
    reset_database(kind, small)
    t1 = time.perf_counter()
    counts = seed(kind, small)
    t2 = time.perf_counter()
    summary = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    print(f"seeded {kind}{' (small)' if small else ''}: migrations {t1 - t0:.1f} s, inserts {t2 - t1:.1f} s\n  {summary}")


if __name__ == "__main__":
    main(sys.argv[1:])
