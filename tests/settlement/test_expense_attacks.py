"""Attacks on the expense flow's newer pieces (undo, files): steps out of order, the same
request twice, hostile file names."""
import io
import unicodedata

import pytest
from sqlalchemy import delete, func, select

from blueprints.core.files import StoredFile
from blueprints.settlement import services as s
from blueprints.settlement.models import DeletedExpense, Expense
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes
from tests.settlement.test_flow import FORM


def _line(award, user, **overrides):
    expense = s.save_expense(award, expense_in(**overrides), user=user, receipt=Upload(jpeg_bytes()))
    db.session.commit()
    return expense


def test_undo_is_refused_when_the_line_would_break_a_rule_now(paid_award):
    """Delete a line, spend its money on another, undo: the award would be overspent. The undo
    runs the same rules as a save and refuses with their message."""
    _, treasurer, award = paid_award(amount=100_000)
    gone = _line(award, treasurer, amount_won=60_000)
    trash = s.delete_expense(gone, user=treasurer, undo_seconds=600)
    db.session.commit()
    _line(award, treasurer, amount_won=60_000, description="다른 재료")
    with pytest.raises(s.SettlementError, match="교부"):
        s.undo_delete(trash, user=treasurer)
    db.session.rollback()
    assert db.session.scalar(select(func.sum(Expense.amount_won))) == 60_000
    assert db.session.get(DeletedExpense, trash.id) is not None          # still there to read


def test_undo_recounts_the_rules_of_the_line_it_puts_back(paid_award):
    _, treasurer, award = paid_award()
    gone = _line(award, treasurer)
    trash = s.delete_expense(gone, user=treasurer, undo_seconds=600)
    db.session.commit()
    # The receipt went meanwhile (e.g. swept): the line comes back, and says it has none.
    db.session.execute(delete(StoredFile).where(StoredFile.id == trash.data["receipt_file_id"]))
    with pytest.raises(s.SettlementError, match="영수증"):
        s.undo_delete(trash, user=treasurer)


def test_the_same_undo_twice_at_once_puts_back_one_line(paid_award):
    """Two taps, both past the row lock: the second finds the undo already used (its row gone
    under it) and puts back nothing."""
    _, treasurer, award = paid_award()
    gone = _line(award, treasurer)
    trash = s.delete_expense(gone, user=treasurer, undo_seconds=600)
    db.session.commit()
    trash = db.session.get(DeletedExpense, trash.id)
    trash.data  # loaded, as the second request had it before the first committed
    db.session.execute(delete(DeletedExpense).where(DeletedExpense.id == trash.id))   # the first one's undo
    with pytest.raises(s.SettlementError, match="이미 되돌렸"):
        s.undo_delete(trash, user=treasurer)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Expense.id))) == 0


NAMES = [
    ("C:\\fakepath\\영수증.jpg", "영수증.jpg"),                         # an old browser's full path
    ("../../etc/영수증.jpg", "영수증.jpg"),
    (unicodedata.normalize("NFD", "다이소 영수증.jpg"), "다이소 영수증.jpg"),  # a Mac's decomposed name
    ("영수\x07증.jpg", "영수증.jpg"),                                     # control characters
    ("영수증\u202egpj.exe", "영수증gpj.exe"),                             # right-to-left override
]


@pytest.mark.parametrize("sent, kept", NAMES)
def test_a_stored_file_keeps_only_the_last_part_of_its_name_composed_and_printable(paid_award, sent, kept):
    _, treasurer, award = paid_award()
    expense = s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(), sent))
    assert expense.receipt.original_name == kept


@pytest.mark.parametrize("sent, kept", [n for n in NAMES if "\\" not in n[0]])
def test_a_file_name_sent_by_a_browser_is_shown_cleaned(paid_award, client, auth, sent, kept):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    # a refused save: the kept file's name and a refused file's message both show the clean name
    response = client.post_form(f"/settlement/awards/{award.id}/expenses",
                                dict(FORM, spent_on="2027-03-02", receipt=(io.BytesIO(jpeg_bytes()), sent),
                                     attachment_kind="other", attachments=(io.BytesIO(b"MZ not an image"), sent)),
                                content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"고른 파일: {kept}" in body and f"{kept}: " in body and sent not in body


def test_a_form_sent_again_after_its_save_does_not_record_the_receipt_twice(paid_award, client, auth):
    """A refused save keeps the photo (a pending reference); the fixed form saves it. Sending
    that same form again (refresh, back and resend, a double tap without JS) must not put the
    same receipt on a second line: the reference is spent once its file is saved."""
    from tests.settlement.test_expense_screen import pending_of, photo
    from tests.settlement.test_flow import post_expense

    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    token = pending_of(post_expense(client, award, {"spent_on": "2027-03-02"}, file=photo()).get_data(as_text=True))
    assert post_expense(client, award, {"receipt_pending": token}).status_code == 303
    again = post_expense(client, award, {"receipt_pending": token})
    assert again.status_code == 422
    assert db.session.scalar(select(func.count(Expense.id))) == 1
    # nor as another line's other evidence, nor its thumbnail as a pending file
    assert post_expense(client, award, {"receipt_pending": token, "pending": token}).status_code == 422
    assert client.get(f"/settlement/awards/{award.id}/pending/{token}/thumbnail").status_code == 404


def test_two_saves_with_one_pending_file_at_once_keep_it_on_one_line(paid_award):
    """Both requests read the reference before the lock; the second, after it, finds the file
    on the first one's line."""
    from blueprints.core.files import store_upload

    _, treasurer, award = paid_award()
    kept = store_upload(Upload(jpeg_bytes()), user=treasurer)
    db.session.commit()
    s.save_expense(award, expense_in(), user=treasurer, receipt=kept)
    db.session.commit()
    with pytest.raises(s.SettlementError, match="이미"):
        s.save_expense(award, expense_in(), user=treasurer, receipt=kept)
    db.session.rollback()
    other = s.save_expense(award, expense_in(description="다른"), user=treasurer, receipt=Upload(jpeg_bytes()))
    with pytest.raises(s.SettlementError, match="이미"):
        s.save_expense(award, expense_in(), user=treasurer, expense=other, attachments=[(kept, "other")])


def _version(html: str) -> str:
    import re

    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "the confirmation carries the version it showed"
    return found.group(1)


def test_approval_confirmed_on_numbers_that_changed_meanwhile_asks_again(paid_award, finance, client, auth):
    """Finance reads 인정 2건 and presses 승인; a colleague marks a line 불인정 in between. The
    approval must not fix numbers nobody confirmed: the confirmation comes back with the new ones."""
    from tests.settlement.test_confirm_and_report import _spend, _text
    from blueprints.settlement.models import Settlement

    _, treasurer, award = paid_award()
    _spend(award, treasurer, [100_000, 50_000])
    settlement = s.settlement_for(award, create=True)
    s.submit(settlement, user=treasurer)
    first, second = s.expenses(award)
    s.review_line(first, decision="recognised", reason="", user=finance)
    s.review_line(second, decision="recognised", reason="", user=finance)
    db.session.commit()
    auth.login(finance.email)
    version = _version(client.post_form(f"/settlement/review/{settlement.id}/approve").get_data(as_text=True))
    s.review_line(db.session.get(Expense, second.id), decision="not_recognised", reason="개인 용품", user=finance)
    db.session.commit()
    response = client.post_form(f"/settlement/review/{settlement.id}/approve", {"confirm": "1", "version": version})
    assert response.status_code == 409
    page = _text(response.get_data(as_text=True))
    assert "바뀌었습니다" in page and "불인정 1건 50,000원" in page
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).status == "submitted"
    # confirmed again on what it now shows: approved
    again = client.post_form(f"/settlement/review/{settlement.id}/approve",
                             {"confirm": "1", "version": _version(response.get_data(as_text=True))})
    assert again.status_code == 303
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).status == "approved"


def test_submission_confirmed_on_numbers_that_changed_meanwhile_asks_again(paid_award, client, auth):
    from tests.settlement.test_confirm_and_report import _spend, _text
    from blueprints.settlement.models import Settlement

    leader, treasurer, award = paid_award()
    _spend(award, treasurer, [100_000])
    settlement = s.settlement_for(award, create=True)
    db.session.commit()
    auth.login(treasurer.email)
    version = _version(client.post_form(f"/settlement/{settlement.id}/submit").get_data(as_text=True))
    _spend(award, leader, [300_000])                                   # the leader, in another tab
    response = client.post_form(f"/settlement/{settlement.id}/submit", {"confirm": "1", "version": version})
    assert response.status_code == 409
    page = _text(response.get_data(as_text=True))
    assert "바뀌었습니다" in page and "집행액 400,000원 (2건" in page
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).status == "draft"


def test_more_evidence_files_than_a_save_takes_are_refused_before_any_is_opened(paid_award, client, auth, monkeypatch):
    """Each image is decoded to be cleaned (up to 40 MP): a form carrying hundreds of small,
    huge-canvas PNGs would keep a worker busy for minutes. A save takes a few files."""
    import blueprints.core.files as files

    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    opened = []
    real = files.sniff
    monkeypatch.setattr(files, "sniff", lambda data: opened.append(1) or real(data))
    many = [(io.BytesIO(jpeg_bytes(size=(8, 8), color=(i, 0, 0))), f"p{i}.jpg") for i in range(s.MAX_FILES_PER_SAVE + 1)]
    response = client.post_form(f"/settlement/awards/{award.id}/expenses",
                                dict(FORM, receipt=(io.BytesIO(jpeg_bytes()), "r.jpg"), attachment_kind="other",
                                     attachments=many), content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and f"한 번에 {s.MAX_FILES_PER_SAVE}개까지" in body
    assert len(opened) <= 1                                       # the receipt at most
    assert db.session.scalar(select(func.count(Expense.id))) == 0
    with pytest.raises(s.SettlementError, match="개까지"):
        s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes()),
                       attachments=[(Upload(jpeg_bytes(color=(i, 9, 9))), "other") for i in range(s.MAX_FILES_PER_SAVE + 1)])
