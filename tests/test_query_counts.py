"""No N+1: each page runs the same number of SQL statements whatever the data size.
(A count, not a time — the timings are in bench/.)"""
import contextlib
import re

import pytest
from sqlalchemy import event, select

from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.review.conftest import make_reviewers, scored, spread, staff, submitted  # noqa: F401
from tests.settlement.conftest import (_frozen_today, awarded, finance,  # noqa: F401
                                      open_programme_period, paid_award)


@contextlib.contextmanager
def count_queries():
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def queries(client, url, method="GET", **kwargs):
    client.get("/privacy")  # warm the session (CSRF token) outside the count
    with count_queries() as statements:
        response = client.open(url, method=method, **kwargs)
    assert response.status_code < 400, (url, response.status_code)
    return len(statements)


PAGES = {
    "staff application list": ("staff", "/applications/programme/{programme}?sort=requested&page=1"),
    "application page": ("staff", "/applications/{app}"),
    "budget step": ("leader", "/applications/{app}/edit/budget"),
    "reviewer queue": ("reviewer", "/review/mine"),
    "score matrix": ("staff", "/review/programme/{programme}/matrix"),
    "score matrix (filtered, sorted, all reviewers)": (
        "staff", "/review/programme/{programme}/matrix?district=마포구&status=complete&min_spread=0&sort=spread"
                 "&calibration=all"),
    "ranking": ("staff", "/review/programme/{programme}/ranking"),
    "group page": ("leader", "/groups/{group}"),
    "dashboard": ("leader", "/dashboard"),
    "centre dashboard (센터 현황)": ("staff", "/centre/?programme={programme}"),
    "staff dashboard": ("staff", "/dashboard"),
    "staff application list (searched, filtered)": (
        "staff", "/applications/programme/{programme}?q=모임&district=마포구&warnings=no&sort=group"),
    "application export (csv)": ("staff", "/applications/programme/{programme}/export.csv"),
    "application export (xlsx, filtered)": ("staff", "/applications/programme/{programme}/export.xlsx?q=모임"),
    "review overview": ("staff", "/review/programme/{programme}"),
    "review assignments": ("staff", "/review/programme/{programme}/assignments"),
    "review scenarios": ("staff", "/review/programme/{programme}/scenarios"),
    "review minutes (xlsx)": ("staff", "/review/programme/{programme}/minutes.xlsx"),
    "review minutes (pdf)": ("staff", "/review/programme/{programme}/minutes.pdf"),
    "reviewer scoring page": ("reviewer", "/review/assignment/{assignment}"),
    "review programmes": ("staff", "/review/"),
    "review assignment panel": ("staff", "/review/application/{app}/assign"),
    "selection scenario": ("staff", "/review/scenario/{scenario}"),
    "review scenarios (two compared)": (
        "staff", "/review/programme/{programme}/scenarios?compare={scenario}&compare={scenario2}"),
}


@pytest.fixture
def sized(submitted, make_reviewers, staff):  # noqa: F811
    """sized(n, prefix, households) -> ids and people of a programme with n applications of
    groups with that many households, each scored by three reviewers of its own (so two sizes
    can live side by side in one database)."""
    from blueprints.review import services

    def make(n, prefix, households=5):
        programme, apps = submitted(n, households=households)
        reviewers = make_reviewers(3, prefix=prefix)
        rubric = services.rubric(programme)
        for application in apps:
            for reviewer, total in zip(reviewers, (70, 80, 75)):
                item = services.assign(application, reviewer, user=staff)
                check = services.check_for(item, spread(total, rubric), {c["code"]: "의견" for c in rubric}, final=True)
                services.save_scores(item, check, user=reviewer, submit=True)
        scenarios = [services.create_scenario(programme, name=name, quota_per_district=quota, user=staff)
                     for name, quota in (("기본", None), ("자치구별 1개", 1))]
        db.session.commit()
        app = apps[0]
        from blueprints.review.models import ReviewAssignment

        assignment = db.session.scalar(select(ReviewAssignment.id).where(ReviewAssignment.application_id == app.id,
                                                                          ReviewAssignment.reviewer_id == reviewers[0].id))
        ids = dict(programme=programme.id, app=app.id, group=app.group_id, assignment=assignment,
                   scenario=scenarios[0].id, scenario2=scenarios[1].id)
        return ids, {"staff": staff, "leader": app.group.officer("leader").user, "reviewer": reviewers[0]}

    return make


@pytest.mark.parametrize("page", sorted(PAGES))
def test_same_query_count_at_two_sizes(page, app, client, auth, sized):
    role, template = PAGES[page]
    worlds = [sized(2, "p", households=5), sized(6, "q", households=9)]
    counts = []
    for ids, people in worlds:
        auth.logout()
        auth.login(people[role].email)
        counts.append(queries(client, template.format(**ids)))
    assert counts[0] == counts[1], (f"{page}: {counts[0]} queries with 2 applications of 5 households, "
                                    f"{counts[1]} with 6 of 9 (N+1)")


def _budget_form(lines, version, changed_quantity):
    data = {"version": str(version), "editor": "form-count"}
    for i, line in enumerate(lines):
        data.update({f"lines-{i}-category": line["category"], f"lines-{i}-item": line["item"],
                     f"lines-{i}-unit_price_won": str(line["unit_price_won"]),
                     f"lines-{i}-quantity": str(changed_quantity if i == 1 else line["quantity"]),
                     f"lines-{i}-note": line["note"]})
    return data


def test_live_budget_check_runs_the_same_statements_for_3_or_10_lines(client, auth, complete_application):  # noqa: F811
    """The autosave POST of the budget step (one quantity changed, as after a pause in typing):
    the same statements for a short and a long budget, and a second save of the same run
    updates its audit event instead of adding one (the same count again)."""
    from blueprints.applications import services
    from tests.applications.conftest import GOOD_LINES

    counts = []
    for n, email in ((3, "short@example.kr"), (10, "long@example.kr")):
        leader, _, application = complete_application(email=email)
        lines = [dict(GOOD_LINES[i % 3], item=f"품목 {i}") for i in range(n)]
        services.save_budget(application, lines, based_on_version=None, user=leader)
        db.session.commit()
        auth.logout()
        auth.login(email)
        token = client.csrf_token()
        headers = {"HX-Request": "true", "HX-Target": "save-status", "X-CSRFToken": token}
        url = f"/applications/{application.id}/edit/budget"
        for quantity in (7, 8):
            with count_queries() as statements:
                response = client.post(url, data=_budget_form(lines, application.version, quantity), headers=headers)
            assert response.status_code == 200 and "저장됨" in response.get_data(as_text=True)
            counts.append(len(statements))
            db.session.refresh(application)
            assert application.lines[1].quantity == quantity
    assert len(set(counts)) == 1, f"autosave statements (3 lines ×2, 10 lines ×2): {counts}"


def test_settlement_review_runs_the_same_statements_for_2_or_6_lines(client, auth, paid_award, finance):
    from datetime import date

    from blueprints.settlement import services as s
    from tests.settlement.conftest import Upload, expense_in, jpeg_bytes
    from tests.settlement.test_pdf import receipt_pdf

    counts = []
    for n, email in ((2, "a@example.kr"), (6, "b@example.kr")):
        _, treasurer, award = paid_award(email=email)
        for i in range(n):
            # photos (a thumbnail each) and PDF receipts (a labelled link): the receipt's kind
            # comes with the lines, not one query per line
            receipt = Upload(jpeg_bytes(), f"r{i}.jpg") if i % 2 == 0 else Upload(receipt_pdf(), f"r{i}.pdf")
            # and other evidence files (one line in two): listed from one query, not one per line
            others = [(Upload(jpeg_bytes(color=(i, 9, 9)), f"명세서{i}.jpg"), "statement")] if i % 2 else []
            s.save_expense(award, expense_in(description=f"재료 {i}", amount_won=10_000), user=treasurer,
                           receipt=receipt, attachments=others)
        s.save_session(award, held_on=date(2027, 4, 10), title="봄 숲놀이", place="불광천", content="숲에서 놀이",
                       households=5, adults=6, children=7, outcome="즐거웠어요", user=treasurer)
        settlement = s.settlement_for(award, create=True)
        s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
        s.submit(settlement, user=treasurer)
        db.session.commit()
        auth.logout()
        auth.login(finance.email)
        counts.append(queries(client, f"/settlement/review/{settlement.id}"))
        page = client.get(f"/settlement/review/{settlement.id}").get_data(as_text=True)
        assert page.count('name="decision" value="recognised"') == n
        assert page.count('class="receipt-thumb"') == n // 2 and page.count("PDF 영수증 보기") == n // 2
        assert page.count('class="other-evidence"') == n // 2
    assert counts[0] == counts[1], f"settlement review: {counts[0]} queries with 2 lines, {counts[1]} with 6"


def test_finance_settlement_list_runs_the_same_statements_for_2_or_5_awards(client, auth, paid_award, finance,  # noqa: F811
                                                                            open_programme_period):  # noqa: F811
    from blueprints.settlement import services as s
    from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

    counts = []
    for n, prefix in ((2, "a"), (5, "b")):
        programme = open_programme_period()
        for i in range(n):
            _, treasurer, award = paid_award(email=f"{prefix}{i}@example.kr", programme=programme)
            s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
            settlement = s.settlement_for(award, create=True)
            s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
            if i % 2 == 0:
                s.submit(settlement, user=treasurer)
        db.session.commit()
        auth.logout()
        auth.login(finance.email)
        counts.append(queries(client, f"/settlement/programme/{programme.id}"))
        page = client.get(f"/settlement/programme/{programme.id}").get_data(as_text=True)
        assert page.count(">PDF</a>") == n
    assert counts[0] == counts[1], f"finance settlement list: {counts[0]} queries with 2 awards, {counts[1]} with 5"


def test_payments_export_runs_the_same_statements_for_2_or_5_awards(client, auth, paid_award, finance,  # noqa: F811
                                                                    open_programme_period):  # noqa: F811
    counts = []
    for n, prefix in ((2, "a"), (5, "b")):
        programme = open_programme_period()
        for i in range(n):
            paid_award(email=f"{prefix}{i}@example.kr", programme=programme)
        auth.logout()
        auth.login(finance.email)
        for fmt in ("csv", "xlsx"):
            counts.append((fmt, queries(client, f"/disbursement/payments.{fmt}?programme={programme.id}")))
        text = client.get(f"/disbursement/payments.csv?programme={programme.id}").data.decode("utf-8-sig")
        assert text.count("지출-1") == n
    assert counts[:2] == counts[2:], f"payments export (2 awards, then 5): {counts}"


CENTRE_URLS = ["/centre/?programme={p}", "/centre/?programme={p}&district=마포구", "/centre/districts.csv?programme={p}",
                "/centre/districts.xlsx?programme={p}", "/centre/months.xlsx?programme={p}",
                "/centre/categories.csv?programme={p}", "/centre/funnel.xlsx?programme={p}"]


def test_centre_dashboard_and_downloads_run_the_same_statements_for_2_or_5_awards(
        client, auth, paid_award, finance, open_programme_period):  # noqa: F811
    """센터 현황 and every table it downloads: grouped queries, not one per group or award."""
    from datetime import date

    from blueprints.settlement import services as s
    from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

    counts = {url: [] for url in CENTRE_URLS}
    for n, prefix in ((2, "a"), (5, "b")):
        programme = open_programme_period()
        for i in range(n):
            district = ("마포구", "은평구", "강남구")[i % 3]
            _, treasurer, award = paid_award(email=f"{prefix}{i}@example.kr", programme=programme, district=district)
            for day in (10, 20):
                s.save_expense(award, expense_in(spent_on=date(2027, 4 + i % 2, day)), user=treasurer,
                               receipt=Upload(jpeg_bytes(), "r.jpg"))
            settlement = s.settlement_for(award, create=True)
            s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
            if i % 2 == 0:
                s.submit(settlement, user=treasurer)
        db.session.commit()
        auth.logout()
        auth.login(finance.email)
        for url in CENTRE_URLS:
            counts[url].append(queries(client, url.format(p=programme.id)))
        text = client.get(f"/centre/districts.csv?programme={programme.id}").data.decode("utf-8-sig")
        assert text.splitlines()[-1].split(",")[9] == str(n * 2 * 50_000)   # 집행액 of 합계
    uneven = {url: c for url, c in counts.items() if c[0] != c[1]}
    assert not uneven, f"centre (2 awards, then 5): {uneven}"


def test_results_report_and_public_page_run_the_same_statements_for_2_or_5_awards(
        client, auth, paid_award, finance, open_programme_period):  # noqa: F811
    """The year-end report (PDF) and the public results page: grouped queries, whatever the
    number of selected groups, named or not."""
    from blueprints.core.models import utcnow
    from blueprints.settlement import services as s
    from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

    counts = {"report": [], "public": []}
    for n, prefix in ((2, "r"), (5, "q")):
        programme = open_programme_period()
        for i in range(n):
            _, treasurer, award = paid_award(email=f"{prefix}{i}@example.kr", programme=programme,
                                             district=("마포구", "은평구", "강남구")[i % 3])
            s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
            if i % 2:
                award.application.group.consent_publish_name_at = utcnow()
        programme.results_published_at = utcnow()
        db.session.commit()
        auth.logout()
        counts["public"].append(queries(client, f"/results/{programme.id}"))
        auth.login(finance.email)
        counts["report"].append(queries(client, f"/centre/report.pdf?programme={programme.id}"))
    assert counts["report"][0] == counts["report"][1] and counts["public"][0] == counts["public"][1], counts


@pytest.fixture
def group_worlds(make_group, make_user):
    """Two sizes side by side, told apart by 자치구: 2 groups in 마포구 and 6 in 은평구, each group
    with its own number of households (3..8), one child each."""
    def make(district, n, prefix):
        for i in range(n):
            make_group(leader=make_user(f"{prefix}{i}@example.kr", name=f"대표{prefix}{i}"), district=district,
                       households=3 + i % 6)
        return district

    return [make("마포구", 2, "a"), make("은평구", 6, "b")]


@pytest.mark.parametrize("url", ["/groups/?district={d}&sort=households", "/groups/export.csv?district={d}",
                                 "/groups/export.xlsx?district={d}"])
def test_group_list_and_export_run_the_same_statements_for_2_or_6_groups(url, client, auth, make_user, group_worlds):
    make_user("staff-g@example.kr", roles=("staff",))
    auth.login("staff-g@example.kr")
    counts = [queries(client, url.format(d=district)) for district in group_worlds]
    text = client.get(f"/groups/export.csv?district={group_worlds[1]}").data.decode("utf-8-sig")
    assert text.count("대표b") == 6
    assert counts[0] == counts[1], f"{url}: {counts[0]} queries with 2 groups, {counts[1]} with 6 (N+1)"


def test_group_page_runs_the_same_statements_for_more_applications_and_households(client, auth, leader_group,  # noqa: F811
                                                                                open_programme):  # noqa: F811
    """The group page (as its 대표, who sees the households' children and the eligibility panel):
    2 applications and 3 households, then 5 applications and 9 households, the same statements."""
    from blueprints.applications import services

    counts = []
    for n_apps, n_households, email in ((2, 3, "small@example.kr"), (5, 9, "large@example.kr")):
        leader, _, group = leader_group(email, households=n_households)
        for _ in range(n_apps):
            services.start_application(group, open_programme(), user=leader)
        db.session.commit()
        auth.logout()
        auth.login(email)
        client.get("/privacy")
        with count_queries() as statements:
            page = client.get(f"/groups/{group.id}").get_data(as_text=True)
        counts.append(len(statements))
        # Programmes are read twice, no more: the one the eligibility panel judges against, then the applications' ones.
        reads = [s for s in statements if re.search(r"\sFROM programmes\b", s)]
        assert len(reads) == 2, reads
        assert f"가구 {n_households}곳" in page and page.count('href="/applications/') >= n_apps
    assert counts[0] == counts[1], (f"group page: {counts[0]} queries with 2 applications and 3 households, "
                                    f"{counts[1]} with 5 and 9 (N+1)")


def test_staff_dashboard_runs_the_same_statements_for_more_programmes_and_tasks(client, auth, submitted,  # noqa: F811
                                                                                make_reviewers, staff):  # noqa: F811
    """The 사업담당's to-do counts: one programme with 2 applications (one under review with an
    open assignment), then a second programme with 5 (two under review): the same statements."""
    from blueprints.review import services

    counts = []
    for n, prefix in ((2, "a"), (5, "b")):
        _, apps = submitted(n)
        for application, reviewer in zip(apps[: n // 2], make_reviewers(n // 2, prefix=prefix)):
            services.assign(application, reviewer, user=staff)
        db.session.commit()
        auth.logout()
        auth.login(staff.email)
        counts.append(queries(client, "/dashboard"))
        page = client.get("/dashboard").get_data(as_text=True)
        assert page.count('data-task="check"') == (1 if n == 2 else 2)
    assert counts[0] == counts[1], f"staff dashboard: {counts[0]} queries with 1 programme, {counts[1]} with 2"


def test_finance_dashboard_runs_the_same_statements_for_more_programmes_and_tasks(client, auth, awarded,  # noqa: F811
                                                                                  paid_award, finance,  # noqa: F811
                                                                                  open_programme_period):  # noqa: F811
    """The 회계담당's to-do counts (payments due, settlements to review): 2 awards of each kind in
    one programme, then 4 in a second programme: the same statements."""
    from blueprints.disbursement import services as d
    from blueprints.settlement import services as s
    from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

    counts = []
    for n, prefix in ((2, "a"), (4, "b")):
        programme = open_programme_period()
        for i in range(n):
            leader, _, award = awarded(email=f"{prefix}due{i}@example.kr", programme=programme)
            d.accept_award(award, bank="신한은행", account_number="110123456789", holder="모임", user=leader)
            _, treasurer, award = paid_award(email=f"{prefix}{i}@example.kr", programme=programme)
            s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
            settlement = s.settlement_for(award, create=True)
            s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
            s.submit(settlement, user=treasurer)
        db.session.commit()
        auth.logout()
        auth.login(finance.email)
        counts.append(queries(client, "/dashboard"))
        page = client.get("/dashboard").get_data(as_text=True)
        assert f'data-count="{n}"' in page
    assert counts[0] == counts[1], f"finance dashboard: {counts[0]} queries with 1 programme, {counts[1]} with 2"


# Lists over everything (not one programme's): counted, then counted again after more of
# everything (applications, households, reviewers, audit events, users) was added.
GLOBAL_PAGES = {
    "audit log": ("admin", "/admin/audit/"),
    "audit log (searched by person)": ("admin", "/admin/audit/?who=example"),
    "user list": ("admin", "/admin/users"),
    "user list (searched)": ("admin", "/admin/users?q=example&role=reviewer"),
    "group list (searched)": ("staff", "/groups/?q=모임&sort=households"),
    "group export (all, xlsx)": ("staff", "/groups/export.xlsx"),
    "programme list": ("staff", "/programmes/"),
    "programme management": ("staff", "/programmes/manage"),
    "review programmes": ("staff", "/review/"),
    "staff home": ("staff", "/dashboard"),
    "reviewer home": ("reviewer", "/dashboard"),
    "my groups": ("leader", "/groups/mine"),
}


def test_global_lists_run_the_same_statements_with_more_of_everything(app, client, auth, make_user, sized):
    admin = make_user("admin-q@example.kr", roles=("admin",))
    counts = {}
    for n, prefix, households in ((2, "p", 5), (6, "q", 9)):
        _, people = sized(n, prefix, households)
        people = dict(people, admin=admin)
        for page, (role, url) in GLOBAL_PAGES.items():
            auth.logout()
            auth.login(people[role].email)
            counts.setdefault(page, []).append(queries(client, url))
    differ = {page: c for page, c in counts.items() if c[0] != c[1]}
    assert not differ, f"statements with 2 applications of 5 households, then 8 more of 9 (N+1): {differ}"


def test_settlement_exports_and_award_pages_run_the_same_statements_for_more_awards_and_lines(
        client, auth, paid_award, finance, open_programme_period):  # noqa: F811
    """2 awards with 2 expense lines each, then 5 awards with 6 lines: the programme's expense and
    settlement exports, the finance dashboard, and one award's payments, expenses and activities."""
    from datetime import date

    from blueprints.settlement import services as s
    from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

    counts = {}
    for n, lines, prefix in ((2, 2, "a"), (5, 6, "b")):
        programme = open_programme_period()
        for i in range(n):
            _, treasurer, award = paid_award(email=f"{prefix}{i}@example.kr", programme=programme)
            for k in range(lines):
                s.save_expense(award, expense_in(description=f"재료 {k}", amount_won=10_000), user=treasurer,
                               receipt=Upload(jpeg_bytes(), f"r{k}.jpg"))
                s.save_session(award, held_on=date(2027, 4, 10 + k), title=f"{k + 1}회 모임", place="불광천",
                               content="숲에서 놀이", households=5, adults=6, children=7, outcome="즐거웠어요",
                               user=treasurer)
            settlement = s.settlement_for(award, create=True)
            s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
            s.submit(settlement, user=treasurer)
        db.session.commit()
        urls = {f"{what} export ({fmt})": (finance, f"/settlement/programme/{programme.id}/{what}.{fmt}")
                for what in ("expenses", "settlements") for fmt in ("csv", "xlsx")}
        urls.update({
            "finance dashboard": (finance, f"/disbursement/?programme={programme.id}"),
            "award payments (finance)": (finance, f"/disbursement/awards/{award.id}"),
            "expense list (treasurer)": (treasurer, f"/settlement/awards/{award.id}/expenses"),
            "activity list (treasurer)": (treasurer, f"/settlement/awards/{award.id}/sessions"),
            "settlement page (treasurer)": (treasurer, f"/settlement/awards/{award.id}"),
        })
        for page, (user, url) in urls.items():
            auth.logout()
            auth.login(user.email)
            counts.setdefault(page, []).append(queries(client, url))
        auth.logout()
        auth.login(finance.email)
        text = client.get(f"/settlement/programme/{programme.id}/expenses.csv").data.decode("utf-8-sig")
        assert text.count("재료 ") == n * lines
    differ = {page: c for page, c in counts.items() if c[0] != c[1]}
    assert not differ, f"statements with 2 awards × 2 lines, then 5 × 6 (N+1): {differ}"


def test_settlement_pdf_and_zip_run_the_same_statements_for_2_or_6_lines(client, auth, paid_award, finance,  # noqa: F811
                                                                         open_programme_period):  # noqa: F811
    """The settlement PDF (정산보고서) and the programme's ZIP of every PDF: 2 awards with 2 lines
    (each line's receipt, review and audit trail), then 2 awards with 6 lines. The ZIP renders one
    document per settlement (the job fans out per settlement), never a statement per line."""
    from datetime import date

    from blueprints.settlement import services as s
    from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

    counts = {}
    for lines, prefix in ((2, "a"), (6, "b")):
        programme = open_programme_period()
        for i in range(2):
            _, treasurer, award = paid_award(email=f"{prefix}{i}@example.kr", programme=programme)
            for k in range(lines):
                s.save_expense(award, expense_in(description=f"재료 {k}", amount_won=10_000), user=treasurer,
                               receipt=Upload(jpeg_bytes(color=(k * 30 % 256, i * 90, 60)), f"r{k}.jpg"))
                s.save_session(award, held_on=date(2027, 4, 10 + k), title=f"{k + 1}회 모임", place="불광천",
                               content="숲에서 놀이", households=5, adults=6, children=7, outcome="즐거웠어요",
                               user=treasurer)
            settlement = s.settlement_for(award, create=True)
            s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
            s.submit(settlement, user=treasurer)
            for e in s.expenses(award):
                s.review_line(e, decision="recognised", reason="", user=finance)
        db.session.commit()
        auth.logout()
        auth.login(finance.email)
        counts.setdefault("settlement pdf", []).append(queries(client, f"/settlement/{settlement.id}/pdf"))
        counts.setdefault("zip of every pdf", []).append(
            queries(client, f"/settlement/programme/{programme.id}/zip", method="POST",
                    data={"csrf_token": client.csrf_token()}))
    differ = {page: c for page, c in counts.items() if c[0] != c[1]}
    assert not differ, f"statements with 2 awards × 2 lines, then 2 × 6 (N+1): {differ}"


def test_payments_due_list_and_export_run_the_same_statements_for_2_or_5_awards_paid_in_parts(
        client, auth, awarded, finance, open_programme_period):  # noqa: F811
    """지급할 교부만 (the dashboard's ?due=1) and the 교부내역 export, with every award paid in
    parts (two payments on the first instalment of a 70/30 schedule): 2 awards, then 5."""
    from datetime import date

    from blueprints.disbursement import services as d

    counts = {}
    for n, prefix in ((2, "a"), (5, "b")):
        programme = open_programme_period()
        rules = programme.rules
        programme.rules = {**rules, "disbursement": {**rules["disbursement"], "mode": "split"}}
        for i in range(n):
            leader, _, award = awarded(email=f"{prefix}{i}@example.kr", programme=programme)
            disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="모임", user=leader)
            for part, key in ((100_000, "p1"), (200_000, "p2")):
                d.record_payment(disb, instalment=1, amount_won=part, paid_on=date(2027, 3, 28), reference="",
                                 idempotency_key=key, user=finance)
        db.session.commit()
        auth.logout()
        auth.login(finance.email)
        for name, url in (("due list", f"/disbursement/?programme={programme.id}&due=1"),
                          ("payments export", f"/disbursement/payments.csv?programme={programme.id}"),
                          ("award page", f"/disbursement/awards/{award.id}")):
            counts.setdefault(name, []).append(queries(client, url))
        page = client.get(f"/disbursement/?programme={programme.id}&due=1").get_data(as_text=True)
        assert page.count(f"/disbursement/awards/") >= n
    differ = {page: c for page, c in counts.items() if c[0] != c[1]}
    assert not differ, f"statements with 2 awards paid in parts, then 5 (N+1): {differ}"
