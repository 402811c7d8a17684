"""The 회계's expense screen on a phone (issue 14): a refused save keeps the chosen files as
pending uploads (only for the person and award they were made for), the mistakes are listed at
the top and marked on their fields, several evidence files per line with their kind, the htmx
save answers the ledger in place with balance-changed, and delete asks first and can be undone
for a few seconds while the settlement is editable."""
import io
import json
import re

from sqlalchemy import func, select

from blueprints.core.audit import AuditEvent
from blueprints.core.files import StoredFile
from blueprints.settlement import services as s
from blueprints.settlement.models import DeletedExpense, Expense, ExpenseAttachment
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes
from tests.settlement.test_flow import FORM, post_expense

OUTSIDE = {"spent_on": "2027-03-02"}       # before the activity period (2027-04-01 ~ 05-31)


def photo(name="IMG_2041.jpg", color=(210, 190, 170)):
    return io.BytesIO(jpeg_bytes(size=(60, 40), color=color)), name


def pending_of(body: str, name="receipt_pending") -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', body)
    assert found, f"no {name} in the form"
    return found.group(1)


def test_a_refused_save_keeps_the_photo_lists_the_mistakes_and_marks_the_field(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    response = post_expense(client, award, OUTSIDE, file=photo())
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    # The summary at the top, focused, with a link to the date field.
    summary = body[body.index('id="error-summary"'):]
    assert body.index('id="error-summary"') < body.index('id="spent_on"')
    assert "입력한 내용을 확인해 주세요" in summary and "autofocus" in body[body.index('id="error-summary"') - 200:][:400]
    assert 'href="#spent_on"' in summary and "활동기간" in summary
    date_input = re.search(r'<input[^>]*id="spent_on"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in date_input and "spent_on-error" in date_input
    assert 'id="spent_on-error"' in body and 'value="다이소 망원점"' in body
    # The photo is kept (stored, its thumbnail shown); nobody chooses it again.
    token = pending_of(body)
    assert "IMG_2041.jpg" in body
    thumb = re.search(r'src="(/settlement/awards/\d+/pending/[^"]+/thumbnail)"', body).group(1)
    shown = client.get(thumb)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    kept = db.session.scalar(select(StoredFile))
    # Fixing the date saves the line with that same file, without choosing it again.
    response = post_expense(client, award, {"receipt_pending": token})
    assert response.status_code == 303
    expense = db.session.scalar(select(Expense))
    assert expense.receipt_file_id == kept.id
    assert db.session.scalar(select(func.count(StoredFile.id))) == 1


def test_a_pending_upload_is_not_attachable_by_another_person_or_for_another_award(paid_award, client, auth):
    leader, treasurer, award = paid_award()
    _, other_treasurer, other_award = paid_award(email="other@example.kr", name="다른모임")
    auth.login(treasurer.email)
    token = pending_of(post_expense(client, award, OUTSIDE, file=photo()).get_data(as_text=True))
    thumb = f"/settlement/awards/{award.id}/pending/{token}/thumbnail"
    auth.logout()
    # The group's leader may record spending for the same award, but not with the 회계's file.
    auth.login(leader.email)
    assert client.get(thumb).status_code == 404
    response = post_expense(client, award, {"receipt_pending": token})
    assert response.status_code == 422 and "영수증(사진 또는 PDF)을 올려 주세요" in response.get_data(as_text=True)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert post_expense(client, award, {"receipt_pending": tampered}).status_code == 422
    auth.logout()
    # The same person's reference is good for the award it was made for only.
    auth.login(treasurer.email)
    assert client.get(thumb).status_code == 200
    auth.logout()
    auth.login(other_treasurer.email)
    assert post_expense(client, other_award, {"receipt_pending": token}).status_code == 422
    assert db.session.scalar(select(func.count(Expense.id))) == 0


def test_several_evidence_files_each_with_its_kind(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    payload = dict(FORM, receipt=photo("receipt.jpg"), attachment_kind="book_list",
                   attachments=[photo("books-1.jpg", (10, 20, 30)), photo("books-2.jpg", (30, 20, 10))],
                   attachments_camera=photo("attendees.jpg", (90, 90, 90)))
    # A kind the form does not offer is a message next to the files, the files kept.
    response = client.post_form(f"/settlement/awards/{award.id}/expenses", dict(payload, attachment_kind="secret"),
                                content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "올리는 파일의 종류" in body and 'id="attachments-error"' in body
    tokens = re.findall(r'name="pending" value="([^"]+)"', body)
    assert len(tokens) == 3
    # Saved from the pending files, each with the kind chosen beside it.
    response = client.post_form(f"/settlement/awards/{award.id}/expenses",
                                dict(FORM, receipt_pending=pending_of(body), pending=tokens,
                                     pending_kind=["book_list", "book_list", "attendees"]),
                                content_type="multipart/form-data")
    assert response.status_code == 303
    expense = db.session.scalar(select(Expense))
    assert expense.receipt is not None
    assert sorted(a.kind for a in expense.attachments) == ["attendees", "book_list", "book_list"]
    page = client.get(f"/settlement/awards/{award.id}/expenses").get_data(as_text=True)
    assert page.count("도서목록</a>") == 2 and "참석자 명단</a>" in page
    first = expense.attachments[0]
    assert client.get(f"/settlement/expense-attachments/{first.id}/thumbnail").mimetype == "image/jpeg"
    assert client.get(f"/settlement/expense-attachments/{first.id}").status_code == 200
    # Editing: take one off, add a 거래명세서; the receipt stays.
    edit = f"/settlement/expenses/{expense.id}/edit"
    response = client.post_form(edit, dict(FORM, remove_attachment=str(first.id), attachment_kind="statement",
                                           attachments=photo("statement.jpg")), content_type="multipart/form-data")
    assert response.status_code == 303
    db.session.expire_all()
    expense = db.session.get(Expense, expense.id)
    assert sorted(a.kind for a in expense.attachments) == ["attendees", "book_list", "statement"]
    assert expense.receipt is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "expense.updated")).one()
    assert "거래명세서 추가" in event.changes and "도서목록 삭제" in event.changes


def test_the_receipt_is_taken_with_the_camera_or_chosen_from_files_and_numbers_open_the_keypad(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    page = client.get(f"/settlement/awards/{award.id}/expenses").get_data(as_text=True)
    camera = re.search(r'<input[^>]*id="receipt_camera"[^>]*>', page).group(0)
    chooser = re.search(r'<input[^>]*id="receipt"[^>]*>', page).group(0)
    assert 'capture="environment"' in camera and 'accept="image/*"' in camera
    assert "capture" not in chooser and 'accept="image/*,application/pdf"' in chooser
    assert ">사진 찍기<" in page and ">파일에서 고르기<" in page
    for name in ("amount_won", "biz_no", "approval_no"):
        field = re.search(rf'<input[^>]*id="{name}"[^>]*>', page).group(0)
        assert 'inputmode="numeric"' in field and 'autocomplete="off"' in field, name


def test_the_htmx_save_answers_the_ledger_in_place_and_announces_balance_changed(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    url = f"/settlement/awards/{award.id}/expenses"
    response = client.htmx("POST", url, target="ledger", data=dict(FORM, receipt=photo()),
                           content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "balance-changed" in json.loads(response.headers["HX-Trigger"])
    assert "<html" not in body and body.lstrip().startswith('<div id="ledger"')
    assert "증빙-001" in body and "기록한 지출 1건" in body and 'hx-swap-oob="true"' in body
    assert 'value="다이소 망원점"' not in body                  # a fresh form for the next expense
    # A mistake: the same fragment, 422, with the summary and the photo kept.
    response = client.htmx("POST", url, target="ledger", data=dict(FORM, **OUTSIDE, receipt=photo()),
                           content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert "입력한 내용을 확인해 주세요" in body and 'name="receipt_pending"' in body
    assert "HX-Trigger" not in response.headers
    # The balance fragment the event reloads.
    fragment = client.htmx("GET", f"/settlement/awards/{award.id}/balance", target="balance").get_data(as_text=True)
    assert "750,000원" in fragment and "<html" not in fragment


def _line_with_files(award, treasurer):
    expense = s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes()),
                             attachments=[(Upload(jpeg_bytes(color=(1, 2, 3)), "list.jpg"), "book_list")])
    db.session.commit()
    return expense


def test_delete_asks_first_and_can_be_undone(paid_award, client, auth):
    _, treasurer, award = paid_award()
    expense = _line_with_files(award, treasurer)
    expense_id, seq, receipt_id = expense.id, expense.seq, expense.receipt_file_id
    auth.login(treasurer.email)
    # Asking: without JS the ledger with the line asking; with htmx the line alone.
    page = client.get(f"/settlement/expenses/{expense_id}/delete")
    assert page.status_code == 200 and "삭제할까요?" in page.get_data(as_text=True)
    row = client.htmx("GET", f"/settlement/expenses/{expense_id}/delete", target=f"expense-{expense_id}")
    text = row.get_data(as_text=True)
    assert text.lstrip().startswith(f'<li class="expense-item') and "<html" not in text and "삭제할까요?" in text
    assert db.session.get(Expense, expense_id) is not None                 # asking deletes nothing
    # Deleting (htmx): the ledger in place, the balance told, an undo offered.
    response = client.htmx("POST", f"/settlement/expenses/{expense_id}/delete", target="ledger")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "balance-changed" in response.headers["HX-Trigger"]
    assert "되돌리기" in body and "기록한 지출 0건" in body
    db.session.expire_all()
    assert db.session.get(Expense, expense_id) is None
    assert db.session.get(StoredFile, receipt_id) is not None             # kept for the undo
    trash_id = db.session.scalar(select(DeletedExpense.id))
    # Undo (no JS): the same line back, with its number, receipt and other files.
    response = client.post_form(f"/settlement/deleted-expenses/{trash_id}/undo")
    assert response.status_code == 303
    db.session.expire_all()
    back = db.session.get(Expense, expense_id)
    assert (back.seq, back.receipt_file_id) == (seq, receipt_id)
    assert [a.kind for a in back.attachments] == ["book_list"]
    assert db.session.scalar(select(func.count(DeletedExpense.id))) == 0
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "expense.restored"
    # The same undo twice: nothing more to undo.
    assert client.post_form(f"/settlement/deleted-expenses/{trash_id}/undo").status_code == 404
    assert db.session.scalar(select(func.count(Expense.id))) == 1


def test_undo_is_refused_once_the_time_has_passed(app, paid_award, client, auth, monkeypatch):
    _, treasurer, award = paid_award()
    expense = _line_with_files(award, treasurer)
    auth.login(treasurer.email)
    monkeypatch.setitem(app.config, "EXPENSE_UNDO_SECONDS", 0)
    client.post_form(f"/settlement/expenses/{expense.id}/delete")
    trash = db.session.scalar(select(DeletedExpense))
    page = client.get(f"/settlement/awards/{award.id}/expenses").get_data(as_text=True)
    assert "되돌리기" not in page                                        # not offered any more
    response = client.post_form(f"/settlement/deleted-expenses/{trash.id}/undo", follow_redirects=True)
    assert "되돌릴 수 있는 시간이 지났습니다" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Expense.id))) == 0


def test_undo_is_refused_after_the_settlement_is_submitted(paid_award, client, auth):
    leader, treasurer, award = paid_award()
    _line_with_files(award, treasurer)
    gone = _line_with_files(award, treasurer)
    trash = s.delete_expense(gone, user=treasurer, undo_seconds=600)
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="활동했습니다", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    trash_id = trash.id
    auth.login(treasurer.email)
    assert client.post_form(f"/settlement/deleted-expenses/{trash_id}/undo").status_code == 403
    import pytest

    with pytest.raises(s.SettlementError, match="제출한 뒤에는"):
        s.undo_delete(db.session.get(DeletedExpense, trash_id), user=treasurer)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Expense.id))) == 1


def test_an_undone_line_takes_a_new_number_when_its_own_was_given_away(paid_award):
    _, treasurer, award = paid_award()
    first = _line_with_files(award, treasurer)
    last = _line_with_files(award, treasurer)
    trash = s.delete_expense(last, user=treasurer)
    db.session.commit()
    newer = s.save_expense(award, expense_in(description="새 줄"), user=treasurer, receipt=Upload(jpeg_bytes()))
    db.session.commit()
    assert newer.seq == 2                                                  # took the deleted line's number
    back = s.undo_delete(trash, user=treasurer)
    db.session.commit()
    assert sorted(e.seq for e in s.expenses(award)) == [1, 2, 3] and back.seq == 3 and first.seq == 1
