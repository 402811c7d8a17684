"""The application pages through HTTP: access per object, autosave, live checks, submit, PDF,
staff list and export."""
import csv
import html
import io
import re
import shutil
import subprocess

import pytest
from sqlalchemy import func, select

from blueprints.applications.models import Application
from blueprints.core.audit import AuditEvent
from extensions import db

BUDGET_FORM = {
    "lines-0-category": "program_fee", "lines-0-item": "숲체험", "lines-0-unit_price_won": "10,000", "lines-0-quantity": "20",
    "lines-0-note": "",
    "lines-1-category": "snacks", "lines-1-item": "과일", "lines-1-unit_price_won": "5000", "lines-1-quantity": "30",
    "lines-1-note": "",
}


def budget_data(application, **overrides):
    data = dict(BUDGET_FORM, version=str(application.version))
    data.update(overrides)
    return data


def test_group_officers_see_and_edit_others_cannot(client, auth, complete_application, make_user):
    leader, treasurer, application = complete_application()
    other_leader, _, other = complete_application(email="other@example.kr")
    make_user("rev@example.kr", roles=("reviewer",))
    make_user("staff@example.kr", roles=("staff",))
    urls = [f"/applications/{application.id}", f"/applications/{application.id}/edit/budget",
            f"/applications/{application.id}/budget/summary"]

    for url in urls:
        assert client.get(url).status_code == 302  # anonymous → login
    auth.login(treasurer.email)  # the 회계 acts for the group too
    for url in urls:
        assert client.get(url).status_code in (200, 302)
    assert client.get(urls[0]).status_code == 200 and client.get(urls[1]).status_code == 200
    auth.logout()
    auth.login("other@example.kr")
    for url in urls:
        assert client.get(url).status_code == 403
    posted = client.post_form(f"/applications/{application.id}/edit/budget", budget_data(application))
    assert posted.status_code == 403
    assert client.post_form(f"/applications/{application.id}/submit", {"confirm": "y"}).status_code == 403
    assert client.post_form(f"/applications/{application.id}/withdraw").status_code == 403
    auth.logout()
    auth.login("rev@example.kr")
    assert client.get(urls[0]).status_code == 403
    auth.logout()
    auth.login("staff@example.kr")
    assert client.get(urls[0]).status_code == 200
    assert client.get(urls[1]).status_code == 403  # staff read, never edit a group's draft
    db.session.refresh(application)
    assert [l.item for l in application.lines] == ["숲체험 참가비", "만들기 재료", "과일 간식"]


def plan_data(application):
    from tests.applications.conftest import GOOD_SESSIONS

    data = {"version": str(application.version)}
    for i, session in enumerate(GOOD_SESSIONS):
        data.update({f"sessions-{i}-{k}": str(v) for k, v in session.items()})
    return data


@pytest.mark.parametrize("step", ["budget", "plan"])
def test_an_autosave_never_carries_out_a_row_button(step, client, auth, complete_application):
    """htmx adds the focused button's value to the form's requests: a keyboard user tabbing past
    a row's 삭제 button while the autosave fired lost that row (found by the keyboard-only
    browser test). Only the row button's own request (its own target) removes the row."""
    leader, _, application = complete_application()
    auth.login(leader.email)
    url = f"/applications/{application.id}/edit/{step}"
    rows = (lambda: [l.item for l in application.lines]) if step == "budget" else \
        (lambda: [s.title for s in application.sessions])
    data = dict(budget_data(application) if step == "budget" else plan_data(application), row_action="remove-0")
    field = "item" if step == "budget" else "title"
    prefix = "lines" if step == "budget" else "sessions"
    kept = [data[f"{prefix}-{i}-{field}"] for i in range(60) if f"{prefix}-{i}-{field}" in data]  # every row posted
    assert len(kept) >= 2

    response = client.htmx("POST", url, target="save-status", data=data)
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    db.session.refresh(application)
    assert rows() == kept

    data["version"] = str(application.version)
    response = client.htmx("POST", url, target=f"{step}-form-wrap", data=data)
    assert response.status_code == 200
    form = response.get_data(as_text=True)
    name = f"{prefix}-0-{field}"
    first_left = re.search(rf'name="{name}"[^>]*value="([^"]*)"', form) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', form)
    assert first_left and first_left.group(1) == kept[1]  # the row button removed the first row from the form


def test_autosave_returns_status_and_line_messages_out_of_band(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    version = application.version
    # 간식 150,000 of 350,000 = 42.9 %: over the 25 % cap.
    response = client.htmx("POST", f"/applications/{application.id}/edit/budget", target="save-status",
                           data=budget_data(application))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and "저장됨" in body
    assert re.search(r'<input type="hidden" id="version" name="version" value="%d" hx-swap-oob="true">' % (version + 1), body)
    issues_1 = re.search(r'<div id="line-1-issues"[^>]*hx-swap-oob="true">(.*?)</div>', body, re.S).group(1)
    assert "간식비는 총액의 25%까지입니다" in issues_1
    issues_0 = re.search(r'<div id="line-0-issues"[^>]*hx-swap-oob="true">(.*?)</div>', body, re.S).group(1)
    assert "고쳐야 함" not in issues_0
    assert '<output id="line-1-amount" hx-swap-oob="true">150,000원</output>' in body
    assert "budget-changed" in response.headers["HX-Trigger"]
    db.session.refresh(application)
    assert application.requested_won == 350_000  # saved from the first keystroke

    summary = client.htmx("GET", f"/applications/{application.id}/budget/summary", target="budget-summary")
    text = summary.get_data(as_text=True)
    assert "<html" not in text and "42.9%" in text and "350,000원" in text
    # the panel whatever the target: without one (or with another) it was a 500
    for target in (None, "main"):
        summary = client.htmx("GET", f"/applications/{application.id}/budget/summary", target=target)
        text = summary.get_data(as_text=True)
        assert summary.status_code == 200 and "<html" not in text and "350,000원" in text, target
        assert "HX-Request" in summary.headers["Vary"]
    plain = client.get(f"/applications/{application.id}/budget/summary")   # no htmx: the budget step
    assert plain.status_code == 302 and plain.headers["Location"].endswith("/edit/budget")


@pytest.mark.parametrize("typed, message", [
    ("10만원", "숫자로만"), ("-5000", "0원 이상"), ("99999999999", "너무 큽니다"), ("5,000.5", "숫자로만"),
])
def test_malformed_amounts_get_a_message_and_keep_the_typing(client, auth, complete_application, typed, message):
    leader, _, application = complete_application()
    auth.login(leader.email)
    data = budget_data(application, **{"lines-1-unit_price_won": typed})
    page = client.post_form(f"/applications/{application.id}/edit/budget", dict(data, go="stay"))
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert f'value="{typed}"' in body and message in body
    assert 'value="숲체험"' in body  # the other rows stay as typed
    live = client.htmx("POST", f"/applications/{application.id}/edit/budget", target="save-status",
                       data=budget_data(application, **{"lines-1-unit_price_won": typed}))
    assert live.status_code == 200 and message in live.get_data(as_text=True)


def test_full_width_digits_and_commas_are_read(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    data = budget_data(application, **{"lines-1-unit_price_won": "１,０００", "lines-1-quantity": "２０"})
    assert client.post_form(f"/applications/{application.id}/edit/budget", dict(data, go="stay")).status_code == 303
    db.session.refresh(application)
    assert application.lines[1].unit_price_won == 1000 and application.lines[1].amount_won == 20_000


def test_row_actions_keep_what_was_typed_without_javascript(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    data = budget_data(application, **{"lines-1-unit_price_won": "10만원"}, row_action="add")
    body = client.post_form(f"/applications/{application.id}/edit/budget", data).get_data(as_text=True)
    assert 'name="lines-2-item"' in body and 'value="10만원"' in body and 'value="숲체험"' in body
    data = budget_data(application, row_action="down-0")
    body = client.post_form(f"/applications/{application.id}/edit/budget", data).get_data(as_text=True)
    assert re.search(r'name="lines-0-item"[^>]*value="과일"', body)
    data = budget_data(application, row_action="remove-0")
    body = client.post_form(f"/applications/{application.id}/edit/budget", data).get_data(as_text=True)
    assert 'value="숲체험"' not in body and re.search(r'name="lines-0-item"[^>]*value="과일"', body)


def test_stale_version_conflict_is_409_and_keeps_the_other_version(client, auth, complete_application):
    leader, treasurer, application = complete_application()
    auth.login(leader.email)
    stale = application.version
    client.post_form(f"/applications/{application.id}/edit/purpose",
                     {"purpose": "대표 버전", "need": "필요", "version": str(stale), "go": "stay"})
    auth.logout()
    auth.login(treasurer.email)
    response = client.post_form(f"/applications/{application.id}/edit/purpose",
                                {"purpose": "회계 버전", "need": "필요", "version": str(stale), "go": "stay"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "다른 담당자가 먼저 고쳤습니다" in body and "회계 버전" in body and "대표 버전" in body
    db.session.refresh(application)
    assert application.purpose == "대표 버전"


STEP_DATA = {
    "purpose": lambda application: {"purpose": "목적", "need": "필요", "version": str(application.version)},
    "plan": plan_data,
    "budget": budget_data,
    "declaration": lambda application: {"other_funding": "no", "version": str(application.version)},
}


@pytest.mark.parametrize("autosave", [False, True], ids=["button", "autosave"])
@pytest.mark.parametrize("step", list(STEP_DATA))
def test_every_saving_step_answers_a_stale_version_with_409_and_both_versions_kept(
        step, autosave, client, auth, complete_application):
    leader, treasurer, application = complete_application()
    data = STEP_DATA[step](application)
    auth.login(leader.email)
    assert client.post_form(f"/applications/{application.id}/edit/{step}", dict(data, go="stay")).status_code == 303
    auth.logout()
    auth.login(treasurer.email)
    url = f"/applications/{application.id}/edit/{step}"
    if autosave:
        response = client.htmx("POST", url, target="save-status", data=data)
        assert "<html" not in response.get_data(as_text=True)
    else:
        response = client.post_form(url, dict(data, go="stay"))
        assert 'id="app-form"' in response.get_data(as_text=True)  # the form again, as now stored
    assert response.status_code == 409
    assert "다른 담당자가 먼저 고쳤습니다" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "application.save_conflict")) == 1


@pytest.mark.parametrize("step", ["plan", "budget"])
def test_a_row_button_saves_the_rows_then_shows_them_changed(step, client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    prefix = "lines" if step == "budget" else "sessions"
    data = budget_data(application) if step == "budget" else plan_data(application)
    count = len([k for k in data if k.startswith(prefix) and k.endswith(("-item", "-title"))])
    response = client.htmx("POST", f"/applications/{application.id}/edit/{step}", target=f"{step}-form-wrap",
                           data=dict(data, row_action="add"))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and f'name="{prefix}-{count}-' in body and f'name="{prefix}-{count + 1}-' not in body
    db.session.refresh(application)
    assert len(application.lines if step == "budget" else application.sessions) == count  # a blank row is not saved


def test_double_submit_makes_one_submission(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    first = client.post_form(f"/applications/{application.id}/submit", {"confirm": "y"})
    second = client.post_form(f"/applications/{application.id}/submit", {"confirm": "y"})
    assert first.status_code == second.status_code == 303
    db.session.refresh(application)
    assert application.status == "submitted" and application.submission_count == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "application.submitted")) == 1
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "제출한 신청서" in page and "숲체험 참가비" in page


def test_submit_needs_the_confirmation_and_passing_rules(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    response = client.post_form(f"/applications/{application.id}/submit", {})
    assert response.status_code == 422 and "동의해야 제출할 수 있습니다" in response.get_data(as_text=True)
    client.post_form(f"/applications/{application.id}/edit/budget",
                     dict(budget_data(application, **{"lines-0-item": "소주"}), go="stay"))
    response = client.post_form(f"/applications/{application.id}/submit", {"confirm": "y"})
    assert response.status_code == 422 and "지원할 수 없는 품목" in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.status == "draft"


def test_deadline_passing_while_editing_keeps_the_draft(client, auth, complete_application):
    from datetime import timedelta

    from blueprints.core.timeutil import now_utc

    leader, _, application = complete_application()
    application.programme.closes_at = now_utc() - timedelta(seconds=1)
    db.session.commit()
    auth.login(leader.email)
    response = client.post_form(f"/applications/{application.id}/submit", {"confirm": "y"})
    assert response.status_code == 422
    assert "신청 기간" in response.get_data(as_text=True) and "저장되어 있습니다" in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.status == "draft" and len(application.lines) == 3


def _pdf_text(data: bytes, tmp_path) -> tuple[str, str]:
    path = tmp_path / "app.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text, fonts


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is installed by scripts/test")
def test_application_pdf_has_korean_text_and_the_font_embedded(client, auth, complete_application, make_user, tmp_path,
                                                                caplog):
    leader, _, application = complete_application()
    make_user("rev@example.kr", roles=("reviewer",))
    auth.login(leader.email)
    assert client.get(f"/applications/{application.id}/pdf").status_code == 403  # nothing submitted yet
    client.post_form(f"/applications/{application.id}/submit", {"confirm": "y"})
    response = client.get(f"/applications/{application.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text, fonts = _pdf_text(response.data, tmp_path)
    assert "공동육아 자조모임 지원사업" in text and "신청서" in text and "기본 정보" in text and "숲체험 참가비" in text and "360,000원" in text
    assert "PretendardGOV" in fonts and "DejaVu" not in fonts
    assert not [r for r in caplog.records if r.name == "weasyprint" and r.levelname == "WARNING"]
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:] if line.strip())  # emb column
    auth.logout()
    auth.login("rev@example.kr")
    assert client.get(f"/applications/{application.id}/pdf").status_code == 403


def _two_submitted_as_staff(complete_application, make_user, auth, first=None, second=None):
    """Two groups' applications submitted to one programme, and staff signed in to its list."""
    from blueprints.applications import services

    leader_a, _, app_a = complete_application(**(first or {}))
    leader_b, _, app_b = complete_application(programme=app_a.programme, email="b@example.kr", **(second or {}))
    services.submit(app_a, user=leader_a)
    services.submit(app_b, user=leader_b)
    db.session.commit()
    make_user("staff@example.kr", roles=("staff",))
    auth.login("staff@example.kr")
    return app_a, app_b, f"/applications/programme/{app_a.programme_id}"


def test_staff_list_filters_fragment_and_bulk_return(client, auth, complete_application, make_user):
    app_a, app_b, url = _two_submitted_as_staff(complete_application, make_user, auth,
                                                first={"district": "마포구"}, second={"district": "서초구"})
    full = client.get(url).get_data(as_text=True)
    assert app_a.group.name in full and app_b.group.name in full and "<html" in full
    fragment = client.htmx("GET", url, target="app-results", data={"district": "서초구"}).get_data(as_text=True)
    assert "<html" not in fragment and app_b.group.name in fragment and app_a.group.name not in fragment

    response = client.post_form(f"{url}/bulk", {"ids": [app_a.id, app_b.id], "action": "return", "message": "회원 명부를 첨부해 주세요."})
    assert response.status_code == 303
    db.session.expire_all()
    assert {a.status for a in db.session.scalars(select(Application))} == {"returned"}


def test_staff_list_search_ignores_case_of_the_registration_number(client, auth, complete_application, make_user):
    """reg_no is G-YYYY-NNNN; staff type it in lower case (PostgreSQL's LIKE alone would miss it)."""
    app_a, app_b, url = _two_submitted_as_staff(complete_application, make_user, auth)
    found = client.htmx("GET", url, target="app-results", data={"q": app_b.group.reg_no.lower()}).get_data(as_text=True)
    assert app_b.group.name in found and app_a.group.name not in found


def test_staff_list_and_export_search_korean_as_typed(client, auth, complete_application, make_user):
    """Decomposed jamo, other spacing and the everyday 동 find the group; hostile input is no error."""
    import unicodedata

    app_a, app_b, url = _two_submitted_as_staff(complete_application, make_user, auth,
                                                first={"name": "햇살품앗이", "dong": "망원1동"},
                                                second={"name": "달빛 모임", "dong": "성산2동"})
    for typed, found in ((unicodedata.normalize("NFD", "햇살 품앗이"), app_a), ("달빛모임", app_b), ("망원동", app_a),
                         ("성산 2동", app_b)):
        page = client.get(url, query_string={"q": typed}).get_data(as_text=True)
        other = app_b if found is app_a else app_a
        assert found.group.name in page and other.group.name not in page, typed
        csv = client.get(f"{url}/export.csv", query_string={"q": typed}).data.decode("utf-8-sig")
        assert found.group.reg_no in csv and other.group.reg_no not in csv, typed
    for typed in ("%", "_", "\\", "\x00", "모임" * 3000):
        assert client.get(url, query_string={"q": typed}).status_code == 200
        assert client.get(f"{url}/export.xlsx", query_string={"q": typed}).status_code == 200
    assert "달빛 모임" not in client.get(url, query_string={"q": "%"}).get_data(as_text=True)


def test_staff_list_is_staff_only(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    assert client.get(f"/applications/programme/{application.programme_id}").status_code == 403
    assert client.get(f"/applications/programme/{application.programme_id}/export.csv").status_code == 403


def test_export_csv_and_xlsx_with_budget_lines(client, auth, complete_application, make_user):
    from openpyxl import load_workbook

    leader, _, application = complete_application()
    application.lines[0].item = "=HYPERLINK(\"x\")"
    db.session.commit()
    make_user("staff@example.kr", roles=("staff",))
    auth.login("staff@example.kr")
    csv_text = client.get(f"/applications/programme/{application.programme_id}/export.csv").get_data(as_text=True)
    rows = csv_text.lstrip("\ufeff").splitlines()
    assert rows[0].startswith("신청번호,등록번호,모임명") and len(rows) == 1 + 3
    assert "'=HYPERLINK" in csv_text  # no formula injection
    xlsx = client.get(f"/applications/programme/{application.programme_id}/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][2] == "모임명" and len(values) == 4 and values[3][12] == 60_000


def _listed_ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'name="ids" value="(\d+)"', page)}


def _export_links(page: str) -> dict[str, str]:
    return {fmt: html.unescape(href) for href, fmt in
            re.findall(r'href="([^"]*/export\.(csv|xlsx)[^"]*)"', page)}


def test_export_exports_what_the_filtered_list_shows(client, auth, complete_application, make_user):
    """Filter the list, follow its export links: the same applications, in CSV and XLSX, also after
    the filters changed through htmx (the links live in the swapped fragment)."""
    from openpyxl import load_workbook

    app_a, app_b, url = _two_submitted_as_staff(complete_application, make_user, auth,
                                                first={"district": "마포구"}, second={"district": "서초구"})
    _, _, draft = complete_application(programme=app_a.programme, email="c@example.kr", district="마포구")
    for query, expected in (({"district": "마포구", "status": "submitted"}, {app_a.id}),
                            ({"district": "마포구"}, {app_a.id, draft.id}),
                            ({"q": app_b.group.reg_no.lower()}, {app_b.id}),
                            ({}, {app_a.id, app_b.id, draft.id})):
        for page in (client.get(url, query_string=query).get_data(as_text=True),
                     client.htmx("GET", url, target="app-results", data=query).get_data(as_text=True)):
            assert _listed_ids(page) == expected, query
            links = _export_links(page)
            text = client.get(links["csv"]).get_data(as_text=True).lstrip("\ufeff")
            assert {int(row["신청번호"]) for row in csv.DictReader(io.StringIO(text))} == expected, (query, links)
            sheet = load_workbook(io.BytesIO(client.get(links["xlsx"]).data)).active
            assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == expected, query


def test_export_rows_come_in_the_lists_order(client, auth, complete_application, make_user):
    app_a, app_b, url = _two_submitted_as_staff(complete_application, make_user, auth,
                                                first={"district": "서초구"}, second={"district": "마포구"})
    for sort, expected in (("district", [app_b.id, app_a.id]), ("submitted", [app_b.id, app_a.id])):
        page = client.get(url, query_string={"sort": sort}).get_data(as_text=True)
        listed = [int(i) for i in re.findall(r'name="ids" value="(\d+)"', page)]
        assert listed == expected, sort
        text = client.get(_export_links(page)["csv"]).get_data(as_text=True).lstrip("\ufeff")
        exported = list(dict.fromkeys(int(row["신청번호"]) for row in csv.DictReader(io.StringIO(text))))
        assert exported == listed, sort


def test_a_page_past_the_end_shows_the_last_page(client, auth, complete_application, make_user):
    """A stale link (?page=99 after a filter or with 25 a page) shows the last page, not "2건" over
    an empty table."""
    app_a, app_b, url = _two_submitted_as_staff(complete_application, make_user, auth)
    for query in ({"page": "99"}, {"page": "2", "sort": "group"}, {"page": "-3"}):
        page = client.get(url, query_string=query).get_data(as_text=True)
        assert "조건에 맞는 신청서가 없습니다" not in page and _listed_ids(page) == {app_a.id, app_b.id}, query
    page = client.htmx("GET", url, target="app-results", data={"page": "7", "q": "없는모임"}).get_data(as_text=True)
    assert "조건에 맞는 신청서가 없습니다" in page and ">0건<" in page  # nothing to show: page 1, empty


def test_status_counts_follow_the_filters_but_their_own_status(client, auth, complete_application, make_user):
    app_a, app_b, url = _two_submitted_as_staff(complete_application, make_user, auth,
                                                first={"district": "마포구"}, second={"district": "서초구"})
    complete_application(programme=app_a.programme, email="c@example.kr", district="마포구")
    complete_application(programme=app_a.programme, email="d@example.kr", district="서초구")
    complete_application(programme=app_a.programme, email="e@example.kr", district="서초구")

    def counts(**query):
        page = client.get(url, query_string=query).get_data(as_text=True)
        fragment = client.htmx("GET", url, target="app-results", data=query).get_data(as_text=True)
        assert re.search(r'<p class="muted">([^<]*건 · )</p>', fragment).group(1) in page  # htmx updates them
        return re.search(r'<p class="muted">([^<]*건 · )</p>', page).group(1)

    assert counts() == "작성중 3건 · 제출 2건 · "
    assert counts(district="마포구") == "작성중 1건 · 제출 1건 · "
    assert counts(district="서초구", status="submitted") == "작성중 2건 · 제출 1건 · "
    assert counts(q=app_b.group.reg_no) == "제출 1건 · "


PNG_1x1 = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
           b"\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\r\xefF\xb8\x00\x00\x00\x00IEND\xaeB`\x82")


def test_attachments_are_content_checked_and_served_only_to_the_group(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    url = f"/applications/{application.id}/edit/attachments"
    bad = client.post_form(url, {"label": "명부", "file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "member-list.pdf")},
                           content_type="multipart/form-data")
    assert bad.status_code == 422 and "파일 내용이 해당 형식이 아닙니다" in bad.get_data(as_text=True)
    ok = client.post_form(url, {"label": "사진", "file": (io.BytesIO(PNG_1x1), "photo.png")}, content_type="multipart/form-data")
    assert ok.status_code == 303
    db.session.refresh(application)
    attachment = application.attachments[0]
    download = client.get(f"/applications/{application.id}/attachments/{attachment.id}")
    assert download.status_code == 200 and download.mimetype == "image/png"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    auth.logout()
    _, _, other = complete_application(email="other@example.kr")
    auth.login("other@example.kr")
    assert client.get(f"/applications/{application.id}/attachments/{attachment.id}").status_code == 403
    assert client.get(f"/applications/{other.id}/attachments/{attachment.id}").status_code == 404


def test_group_page_lists_its_applications(client, auth, complete_application):
    leader, _, application = complete_application()
    auth.login(leader.email)
    page = client.get(f"/groups/{application.group_id}").get_data(as_text=True)
    assert application.programme.title in page and "작성중" in page
    assert f"/applications/{application.id}" in page


def test_staff_list_pages_through_many_applications(client, auth, complete_application, make_user):
    _, _, first = complete_application()
    for n in range(26):
        complete_application(programme=first.programme, email=f"p{n}@example.kr")
    make_user("staff@example.kr", roles=("staff",))
    auth.login("staff@example.kr")
    url = f"/applications/programme/{first.programme_id}"
    page1 = client.get(url)
    assert page1.status_code == 200 and f"{url}?page=2" in page1.get_data(as_text=True)
    page2 = client.htmx("GET", url, target="app-results", data={"page": "2", "sort": "group"})
    assert page2.status_code == 200 and "27건" in page2.get_data(as_text=True)
