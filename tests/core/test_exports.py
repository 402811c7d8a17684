"""core.exports (one table writer, one formula guard, one download response) and core.pdf's
pdf_response; every PDF and export endpoint answers ``Cache-Control: no-store``."""
import csv
import io
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook

from blueprints.core.exports import (DATE, DATETIME, INT, WON, Cell, Column, Sheet, content_disposition, csv_bytes,
                                     formula_safe, xlsx_bytes)
from tests.test_access_control import world  # noqa: F401  (the shared objects of every role)

COLUMNS = [Column("모임명"), Column("사용일", DATE), Column("제출일시", DATETIME), Column("금액", WON), Column("인원", INT)]
ROW = ["=HYPERLINK(\"x\")", date(2027, 4, 10), datetime(2027, 3, 8, 15, 30, tzinfo=timezone.utc), 30_000, 5]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_guard_quotes_what_a_spreadsheet_would_run(text):
    assert formula_safe(text) == "'" + text
    assert formula_safe("모임 -1") == "모임 -1" and formula_safe(-5) == -5


def test_csv_is_utf8_with_bom_dates_iso_times_in_seoul_and_formulas_quoted():
    body = csv_bytes(Sheet("집행", COLUMNS, [ROW, [None, "", None, None, 0]]))
    assert body.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0] == ["모임명", "사용일", "제출일시", "금액", "인원"]
    assert table[1] == ["'=HYPERLINK(\"x\")", "2027-04-10", "2027-03-09 00:30", "30000", "5"]
    assert table[2] == ["", "", "", "", "0"]


def test_xlsx_cells_are_typed_by_their_column():
    summary = Sheet("요약", [Column("항목"), Column("값")], [["예산", Cell(1_000_000, WON)], ["생성", ROW[2]]], header=False)
    book = load_workbook(io.BytesIO(xlsx_bytes(Sheet("집행", COLUMNS, [ROW]), summary)))
    sheet = book["집행"]
    name, day, when, amount, people = sheet[2]
    assert name.value == "'=HYPERLINK(\"x\")" and name.data_type == "s"   # text, never a formula
    assert day.is_date and day.value == datetime(2027, 4, 10) and day.number_format == "yyyy-mm-dd"
    assert when.is_date and when.value == datetime(2027, 3, 9, 0, 30)   # Seoul wall-clock time
    assert amount.value == 30_000 and amount.data_type == "n" and amount.number_format == '#,##0"원"'
    assert people.value == 5 and people.data_type == "n"
    assert [c.value for c in book["요약"][1]] == ["예산", 1_000_000] and book["요약"]["B1"].number_format == '#,##0"원"'


def test_content_disposition_keeps_korean_names_for_browsers_and_ascii_for_the_rest():
    assert content_disposition("groups-20270308.csv") == 'attachment; filename="groups-20270308.csv"'
    korean = content_disposition("정산서 \"에이\".pdf", "settlement-1.pdf")
    assert korean == ("attachment; filename=\"settlement-1.pdf\"; "
                      "filename*=UTF-8''%EC%A0%95%EC%82%B0%EC%84%9C%20%22%EC%97%90%EC%9D%B4%22.pdf")
    assert content_disposition("교부내역.csv").startswith('attachment; filename=".csv"; filename*=')


# Every PDF and export: (url, who asks). {fmt} and the world's ids are filled in.
DOWNLOADS = {
    "groups.export csv": ("/groups/export.csv", "staff"),
    "groups.export xlsx": ("/groups/export.xlsx", "staff"),
    "applications.staff_export csv": ("/applications/programme/{other_programme}/export.csv", "staff"),
    "applications.staff_export xlsx": ("/applications/programme/{other_programme}/export.xlsx", "staff"),
    "applications.pdf": ("/applications/{submitted_a}/pdf", "applicant_a"),
    "review.minutes pdf": ("/review/programme/{other_programme}/minutes.pdf", "staff"),
    "review.minutes xlsx": ("/review/programme/{other_programme}/minutes.xlsx", "staff"),
    "disbursement.export_payments csv": ("/disbursement/payments.csv", "finance"),
    "disbursement.export_payments xlsx": ("/disbursement/payments.xlsx", "finance"),
    "settlement.export expenses csv": ("/settlement/programme/{money_programme}/expenses.csv", "finance"),
    "settlement.export expenses xlsx": ("/settlement/programme/{money_programme}/expenses.xlsx", "finance"),
    "settlement.export settlements csv": ("/settlement/programme/{money_programme}/settlements.csv", "finance"),
    "settlement.export settlements xlsx": ("/settlement/programme/{money_programme}/settlements.xlsx", "finance"),
    "settlement.pdf": ("/settlement/{settlement_s}/pdf", "applicant_a"),
    "settlement.job_download": ("/settlement/jobs/{job}/download", "finance"),
    "centre.export districts csv": ("/centre/districts.csv?programme={money_programme}", "staff"),
    "centre.export districts xlsx": ("/centre/districts.xlsx?programme={money_programme}", "finance"),
    "centre.export months xlsx": ("/centre/months.xlsx?year=2027", "city"),
    "centre.export categories csv": ("/centre/categories.csv", "city"),
    "centre.export funnel xlsx": ("/centre/funnel.xlsx?district=마포구", "staff"),
    "centre.results_report": ("/centre/report.pdf?programme={money_programme}", "city"),
}


def test_every_download_route_is_listed(app):
    """A new export or PDF route must be added to DOWNLOADS (and so answer no-store)."""
    downloads = {rule.endpoint for rule in app.url_map.iter_rules()
                 if "GET" in rule.methods and (".<" in rule.rule or rule.rule.endswith(("/pdf", ".pdf", "/download")))}
    assert downloads == {key.split()[0] for key in DOWNLOADS}


@pytest.mark.parametrize("key", sorted(DOWNLOADS))
def test_every_pdf_and_export_answers_no_store(key, client, auth, world):  # noqa: F811
    users, ids = world
    url, role = DOWNLOADS[key]
    auth.login(users[role].email)
    if key == "settlement.job_download":   # a ZIP that is built first (at once in tests)
        started = client.post_form(f"/settlement/programme/{ids['money_programme']}/zip", {})
        ids = dict(ids, job=started.headers["Location"].rstrip("/").split("/")[-1])
    response = client.get(url.format(**ids))
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.mimetype in ("text/csv", "application/pdf", "application/zip",
                                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def test_exports_write_dates_and_money_as_typed_cells(client, auth, world):  # noqa: F811
    users, ids = world
    auth.login(users["finance"].email)
    payments = load_workbook(io.BytesIO(client.get("/disbursement/payments.xlsx").data)).active
    header = [c.value for c in payments[1]]
    paid_on, amount = payments[2][header.index("지급일")], payments[2][header.index("지급액")]
    assert paid_on.is_date and paid_on.value == datetime(2027, 3, 28) and paid_on.number_format == "yyyy-mm-dd"
    assert amount.value == 300_000 and amount.number_format == '#,##0"원"'
    expenses = load_workbook(io.BytesIO(
        client.get(f"/settlement/programme/{ids['money_programme']}/expenses.xlsx").data)).active
    header = [c.value for c in expenses[1]]
    assert expenses[2][header.index("사용일")].value == datetime(2027, 4, 10)
    assert expenses[2][header.index("금액")].number_format == '#,##0"원"'
    text = client.get(f"/settlement/programme/{ids['money_programme']}/expenses.csv").data.decode("utf-8-sig")
    assert "2027-04-10" in text and "30000" in text
    auth.logout()
    auth.login(users["staff"].email)
    groups = load_workbook(io.BytesIO(client.get("/groups/export.xlsx").data)).active
    registered = groups[2][[c.value for c in groups[1]].index("등록일")]
    assert registered.is_date and registered.number_format == "yyyy-mm-dd"
    submitted = load_workbook(io.BytesIO(
        client.get(f"/applications/programme/{ids['other_programme']}/export.xlsx").data)).active
    assert submitted[2][[c.value for c in submitted[1]].index("제출일시")].is_date
