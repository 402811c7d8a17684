"""The measured pages of a seeded bench database: their URLs, a session cookie for each role
(minted with the Flask test client against the same database and the bench SECRET_KEY, so the
gunicorn app accepts it), and the number of SQL statements each page runs.

    python bench/pages.py sqlite|postgres [--small] --out FILE.json

Writes {pages: [{name, method, url, cookie, csrf, body?, queries, status, bytes, export?}], baseline...}.
Pages with ``export`` set are downloads: bench/run times them one request at a time (median of
5) instead of loading them with wrk.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seed as S  # noqa: E402

CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')


@contextlib.contextmanager
def count_queries(engine):
    from sqlalchemy import event

    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def budget_body(app_id: int, n_lines: int = 10) -> dict:
    """The budget step as the browser autosaves it (10 lines; the editor id is this open form's)."""
    cats = ["program_fee", "materials", "books", "snacks", "venue", "printing", "insurance", "transport",
            "materials", "program_fee"]
    body = {"version": "3", "editor": f"bench{app_id:027d}"}
    for i in range(n_lines):
        body.update({f"lines-{i}-category": cats[i % len(cats)], f"lines-{i}-item": f"품목 {i + 1}",
                     f"lines-{i}-unit_price_won": f"{(5, 10, 15, 3, 20)[i % 5]},000",
                     f"lines-{i}-quantity": str(2 + i % 9), f"lines-{i}-note": ""})
    return body


def collect(kind: str, small: bool) -> dict:
    os.environ.update(S.bench_env(kind, small))
    from sqlalchemy import func, select

    from app import create_app
    from blueprints.accounts.models import User
    from blueprints.applications.models import Application
    from blueprints.awards.models import Award
    from blueprints.groups.models import GroupMember
    from blueprints.programmes.models import Programme
    from blueprints.groups.models import Group
    from blueprints.review.models import ReviewAssignment
    from blueprints.settlement.models import Settlement
    from extensions import db

    app = create_app()
    out = {"kind": kind, "small": small, "pages": []}
    with app.app_context():
        progs = {p.year: p for p in db.session.scalars(select(Programme))}
        open_p, past = progs[S.YEARS[-1]], progs[S.YEARS[-2]]
        drafts = db.session.scalars(select(Application).where(Application.programme_id == open_p.id,
                                                              Application.status == "draft").order_by(Application.id)).all()
        staff = db.session.scalar(select(User).where(User.email == "staff@bench.kr"))
        finance = db.session.scalar(select(User).where(User.email == "finance@bench.kr"))
        reviewer = db.session.scalar(select(User).where(User.email == f"r{S.YEARS[-1]}-000@bench.kr"))
        n_assign = db.session.scalar(select(func.count()).select_from(ReviewAssignment)
                                     .where(ReviewAssignment.reviewer_id == reviewer.id))
        # The reviewer's first assignment still to score (its application's frozen snapshot).
        to_score = db.session.scalar(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == reviewer.id,
                                                                    ReviewAssignment.status == "assigned")
                                     .order_by(ReviewAssignment.id))
        n_groups = db.session.scalar(select(func.count()).select_from(Group))
        n_dong1 = db.session.scalar(select(func.count()).select_from(Group).where(Group.dong.like("%1동")))

        def leader_of(application):
            member = db.session.scalar(select(GroupMember).where(GroupMember.group_id == application.group_id,
                                                                 GroupMember.role == "leader"))
            return db.session.get(User, member.user_id)

        leaders = [(a, leader_of(a)) for a in drafts]
        n_past = db.session.scalar(select(func.count()).select_from(Application).where(Application.programme_id == past.id))
        last_page = max((n_past + 24) // 25, 1)
        settlement = db.session.scalar(select(Settlement).join(Award, Award.id == Settlement.award_id)
                                       .where(Award.programme_id == past.id, Settlement.status == "submitted")
                                       .order_by(Settlement.id))
        first_app, first_leader = leaders[0]
        n_households = len(first_app.group.members)
        group_pages = max((n_groups + 19) // 20, 1)
        exports = [   # (name, user, url): downloads, timed one at a time
            (f"group export CSV ({n_dong1} groups: q=1동)", staff, "/groups/export.csv?" + urlencode(dict(q="1동"))),
            (f"group export XLSX ({n_dong1} groups: q=1동)", staff, "/groups/export.xlsx?" + urlencode(dict(q="1동"))),
            (f"group export CSV (all {n_groups} groups)", staff, "/groups/export.csv"),
            (f"application export CSV ({n_past} applications × 10 lines)", staff,
             f"/applications/programme/{past.id}/export.csv"),
            (f"application export XLSX ({n_past} applications × 10 lines)", staff,
             f"/applications/programme/{past.id}/export.xlsx"),
            ("payments export XLSX (programme's 200 awards)", finance, f"/disbursement/payments.xlsx?programme={past.id}"),
            ("expenses export XLSX (200 awards × 60 lines)", finance, f"/settlement/programme/{past.id}/expenses.xlsx"),
            ("settlements export XLSX (200 settlements)", finance, f"/settlement/programme/{past.id}/settlements.xlsx"),
        ]
        pages = [
            ("applicant dashboard", first_leader, "GET", "/dashboard"),
            ("application edit (budget step)", first_leader, "GET", f"/applications/{first_app.id}/edit/budget"),
            ("live budget check (htmx autosave POST)", first_leader, "POST", f"/applications/{first_app.id}/edit/budget"),
            # Searched (every bench group name holds 품앗이, so all 1,000 match), sorted, page 40.
            (f"staff application list (q + sort, page {min(40, last_page)})", staff, "GET",
             f"/applications/programme/{past.id}?" + urlencode(dict(q="품앗이", sort="requested",
                                                                   page=min(40, last_page)))),
            ("staff application list (q + 자치구 + warnings filter, sorted)", staff, "GET",
             f"/applications/programme/{past.id}?" + urlencode(dict(q="품앗이", district="마포구", warnings="yes",
                                                                   sort="requested"))),
            (f"reviewer queue ({n_assign} assignments)", reviewer, "GET", "/review/mine"),
            (f"score matrix ({n_past} applications)", staff, "GET", f"/review/programme/{past.id}/matrix"),
            ("finance settlement list (200 awards, 50 a page)", finance, "GET", f"/settlement/programme/{past.id}"),
            ("settlement detail (60 lines)", finance, "GET", f"/settlement/review/{settlement.id}"),
            (f"reviewer scoring page (frozen snapshot, 10 lines)", reviewer, "GET", f"/review/assignment/{to_score.id}"),
            (f"group page ({n_households} households, as 대표)", first_leader, "GET", f"/groups/{first_app.group_id}"),
            (f"staff group list (q + sort by households, page {min(50, group_pages)} of {n_groups})", staff, "GET",
             "/groups/?" + urlencode(dict(q="품앗이", sort="households", page=min(50, group_pages)))),
            ("staff group list (q = everyday dong 마포동)", staff, "GET", "/groups/?" + urlencode(dict(q="마포동"))),
        ] + [(name, user, "GET", url) for name, user, url in exports]
        export_names = {name for name, _, _ in exports}
        ids = dict(open_programme=open_p.id, past_programme=past.id, settlement=settlement.id)
        db.session.remove()

        def session_for(user):
            """(test client, signed session cookie, CSRF token) for ``user``: the session is built
            and signed here with the app's SECRET_KEY, exactly as a login leaves it."""
            from flask import g, session
            from flask_wtf.csrf import generate_csrf

            with app.test_request_context("/"):
                g.pop("csrf_token", None)   # flask_wtf caches the token in g (the app context is shared)
                from blueprints.accounts.sessions import open_user_session

                session["sid"] = open_user_session(user, second_factor=True)  # the server-side record
                db.session.commit()
                session["user_id"] = user.id
                session["session_version"] = user.session_version
                csrf = generate_csrf()
                cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))
            client = app.test_client()
            client.set_cookie("session", cookie)
            return client, cookie, csrf

        sessions = {}
        for name, user, method, url in pages:
            if user.id not in sessions:
                sessions[user.id] = session_for(user)
            client, cookie, csrf = sessions[user.id]
            kwargs = {}
            body = None
            if method == "POST":
                body = budget_body(first_app.id)
                # Counted: a save that changes one field (as every wrk request does), so it writes.
                kwargs = dict(data=dict(body, **{"lines-0-note": f"측정 {time.time_ns()}"}),
                              headers={"HX-Request": "true", "HX-Target": "save-status", "X-CSRFToken": csrf})
            # warm (first-sight rows, caches); the autosave: bring the lines to the body's values
            # first, so the counted save changes exactly one field whatever ran before
            client.get(url) if method == "GET" else client.open(url, method=method, data=body,
                                                                headers=kwargs["headers"])
            with count_queries(db.engine) as statements:
                response = client.open(url, method=method, **kwargs)
            db.session.remove()
            out["pages"].append(dict(name=name, method=method, url=url, cookie=cookie, csrf=csrf, body=body,
                                     queries=len(statements), status=response.status_code,
                                     bytes=len(response.get_data()), export=name in export_names))
        # the list as asked (page 40), to record its status
        client, cookie, csrf = sessions[staff.id]
        url40 = f"/applications/programme/{past.id}?" + urlencode(dict(q="품앗이", sort="requested", page=min(40, last_page)))
        out["page40"] = dict(url=url40, status=client.get(url40).status_code)
        db.session.remove()
        # one open form per draft application, each with its own leader: the autosave load
        autosaves = []
        for application, user in leaders:
            _, cookie, csrf = session_for(user)
            autosaves.append(dict(url=f"/applications/{application.id}/edit/budget", cookie=cookie, csrf=csrf,
                                  body=urlencode(budget_body(application.id))))
        out["autosaves"] = autosaves
        out["ids"] = ids
        db.engine.dispose()
    return out


def main(argv):
    kind = argv[0]
    small = "--small" in argv
    target = Path(argv[argv.index("--out") + 1])
    data = collect(kind, small)
    target.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    for p in data["pages"]:
        print(f"  {p['name']:<45} {p['status']}  {p['queries']:>3} queries  {p['bytes'] / 1024:>7.1f} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
