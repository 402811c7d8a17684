"""Done when (issue 15): loaded with the city plan's roster (붙임1: 478 자조모임 by 자치구, 243 at a
육아종합지원센터 and 235 at a 공동육아나눔터), the centre's table says exactly that, and so do the
filtered group lists, the group export, the table's own downloads and the command line.
Runs on whichever database the suite runs on (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""
import csv
import io
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from blueprints.centre import queries
from blueprints.core.models import utcnow
from blueprints.groups.models import Group
from extensions import db

ROSTER_FILE = Path(__file__).with_name("roster_2021.csv")


def read_roster() -> dict[str, tuple[int, int]]:
    """{자치구: (센터, 나눔터)} from the data file."""
    lines = [line for line in ROSTER_FILE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    roster = {r["자치구"]: (int(r["육아종합지원센터"]), int(r["공동육아나눔터"])) for r in rows}
    assert all(int(r["계"]) == sum(roster[r["자치구"]]) for r in rows)
    return roster


ROSTER = read_roster()


@pytest.fixture
def roster(app):
    """478 groups in one bulk INSERT, each with its 자치구 and where it meets."""
    now = utcnow()
    values, n = [], 0
    for district, (centre, sharing) in ROSTER.items():
        for affiliation, count in (("centre", centre), ("sharing", sharing)):
            for _ in range(count):
                n += 1
                values.append(dict(reg_no=f"G-2021-{n:04d}", name=f"{district} 자조모임 {n}", district=district,
                                   dong="", meeting_place="", activity_type="", affiliation=affiliation,
                                   description="", status="active", consent_collection_at=now,
                                   consent_provision_at=now, created_at=now, updated_at=now))
    db.session.execute(insert(Group), values)
    db.session.commit()
    return ROSTER


def _csv(data: bytes):
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_plan_counts_478_groups():
    assert sum(c + s for c, s in ROSTER.values()) == 478
    assert sum(c for c, _ in ROSTER.values()) == 243 and sum(s for _, s in ROSTER.values()) == 235
    assert len(ROSTER) == 25


def test_dashboard_lists_and_exports_agree_with_the_roster(roster, client, auth, make_user):
    rows, totals = queries.district_table()
    table = {r.district: (r.centre, r.sharing) for r in rows}
    assert table == roster
    assert all(r.groups == sum(roster[r.district]) and r.other == 0 for r in rows)
    assert (totals.groups, totals.centre, totals.sharing, totals.other) == (478, 243, 235, 0)

    make_user("staff-roster@example.kr", roles=("staff",))
    auth.login("staff-roster@example.kr")

    # The filtered group lists, district by district (and by where the groups meet).
    for district, (centre, sharing) in roster.items():
        for query, expected in (("", centre + sharing), ("&affiliation=centre", centre),
                                ("&affiliation=sharing", sharing)):
            page = client.get(f"/groups/?district={district}{query}").get_data(as_text=True)
            assert f"모임 {expected}곳" in page, (district, query)

    # The group export, filtered by 자치구, and all of it as XLSX.
    for district, (centre, sharing) in roster.items():
        rows_ = _csv(client.get(f"/groups/export.csv?district={district}").data)
        where = rows_[0].index("모이는 곳")
        assert Counter(r[where] for r in rows_[1:]) == Counter({"육아종합지원센터": centre, "공동육아나눔터": sharing}) - Counter()
    book = load_workbook(io.BytesIO(client.get("/groups/export.xlsx").data)).active
    head = [c.value for c in book[1]]
    counted = Counter((r[head.index("자치구")], r[head.index("모이는 곳")])
                      for r in book.iter_rows(min_row=2, values_only=True))
    assert {d: (counted[(d, "육아종합지원센터")], counted[(d, "공동육아나눔터")]) for d in roster} == roster
    assert sum(counted.values()) == 478

    # The dashboard page, its downloads and the command line say the same.
    page = client.get("/centre/").get_data(as_text=True)
    assert "모임 478곳" in page
    exported = _csv(client.get("/centre/districts.csv").data)
    head = exported[0]
    by_district = {r[0]: (int(r[head.index("센터")]), int(r[head.index("나눔터")])) for r in exported[1:-1]}
    assert by_district == roster
    assert exported[-1][:5] == ["합계", "478", "243", "235", "0"]
    xlsx = load_workbook(io.BytesIO(client.get("/centre/districts.xlsx").data)).active
    assert [c.value for c in xlsx[xlsx.max_row]][:5] == ["합계", 478, 243, 235, 0]
    result = client.application.test_cli_runner().invoke(args=["district-report"])
    assert _csv(result.output.encode()) == exported


@pytest.mark.parametrize("district", ["도봉구", "중구"])
def test_one_district_filter_gives_its_roster_line(roster, district):
    rows, totals = queries.district_table(district=district)
    assert [(r.district, r.centre, r.sharing) for r in rows] == [(district, *roster[district])]
    assert (totals.centre, totals.sharing) == roster[district]
