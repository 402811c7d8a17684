"""Retention's sweep of files nobody keeps: a photo kept from a form that came back and never
saved, the files of a deleted line once its undo has ended — and never a file a live row, an
undo still possible or a submission holds."""
import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from blueprints.core.audit import AuditEvent
from blueprints.core.files import StoredFile, store_upload
from blueprints.core.models import utcnow
from blueprints.privacy.retention import run
from blueprints.settlement import services as s
from blueprints.settlement.models import DeletedExpense, Expense
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes
from tests.settlement.test_flow import post_expense


def _age(*files, days=2):
    for f in files:
        f.created_at = utcnow() - timedelta(days=days)
    db.session.commit()


def test_a_pending_upload_never_saved_leaves_after_a_day_with_its_thumbnail(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    body = post_expense(client, award, {"spent_on": "2027-03-02"},
                        file=(io.BytesIO(jpeg_bytes(color=(1, 99, 1))), "IMG_1.jpg")).get_data(as_text=True)
    thumb = re.search(r'src="(/settlement/awards/\d+/pending/[^"]+/thumbnail)"', body).group(1)
    assert client.get(thumb).status_code == 200                          # a thumbnail made on disk
    pending = db.session.scalar(select(StoredFile))
    path = pending.path()
    copies = list((path.parents[2] / "print").glob(f"{pending.sha256}-*.jpg"))
    assert path.exists() and copies
    # A line saved long ago keeps its receipt and other files; a fresh pending upload stays.
    saved = s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(color=(2, 2, 2))),
                           attachments=[(Upload(jpeg_bytes(color=(3, 3, 3))), "book_list")])
    fresh = store_upload(Upload(jpeg_bytes(color=(4, 4, 4))), user=treasurer)
    db.session.commit()
    _age(pending, saved.receipt, saved.attachments[0].stored_file)
    # a day is not enough while the form's reference is still good
    _age(pending, days=1)
    assert not run().done and path.exists()
    _age(pending, days=2)
    report = run()
    assert not report.failures and report.done == [("쓰지 않는 파일 정리", {"files": 1})]
    db.session.expire_all()
    assert db.session.get(StoredFile, pending.id) is None and not path.exists()
    assert not any(c.exists() for c in copies)
    assert db.session.get(StoredFile, fresh.id) is not None
    expense = db.session.get(Expense, saved.id)
    assert expense.receipt.path().exists() and expense.attachments[0].stored_file.path().exists()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.unused_files_destroyed"))
    assert "파일 1개" in event.summary and '"files": 1' in event.changes
    # the thumbnail of the swept upload is gone for its owner too
    assert client.get(thumb).status_code == 404
    assert not run().done                                                   # nothing more the next day


def test_a_deleted_line_and_its_files_go_once_its_undo_has_ended_not_before(paid_award):
    _, treasurer, award = paid_award()
    gone = s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(color=(9, 9, 9))),
                          attachments=[(Upload(jpeg_bytes(color=(8, 8, 8))), "statement")])
    undoable = s.save_expense(award, expense_in(description="다른 줄"), user=treasurer,
                              receipt=Upload(jpeg_bytes(color=(7, 7, 7))))
    db.session.commit()
    files = [gone.receipt, gone.attachments[0].stored_file, undoable.receipt]
    _age(*files)
    paths = [f.path() for f in files]
    ended = s.delete_expense(gone, user=treasurer)
    still = s.delete_expense(undoable, user=treasurer, undo_seconds=3600 * 3)
    ended.undo_until = utcnow() - timedelta(hours=2)
    db.session.commit()
    ended_id, still_id = ended.id, still.id
    report = run()
    assert report.done == [("쓰지 않는 파일 정리", {"deleted_expenses": 1, "files": 2})]
    db.session.expire_all()
    assert db.session.get(DeletedExpense, ended_id) is None
    assert [p.exists() for p in paths] == [False, False, True]
    # the line whose undo is still possible comes back whole
    back = s.undo_delete(db.session.get(DeletedExpense, still_id), user=treasurer)
    db.session.commit()
    assert back.receipt.path().exists()


def test_a_receipt_replaced_after_a_submission_stays_while_the_submission_shows_it(paid_award, finance):
    _, treasurer, award = paid_award()
    expense = s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(color=(6, 6, 6))))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="활동했습니다", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    s.review_line(expense, decision="needs_fix", reason="흐립니다", user=finance)
    s.return_for_changes(settlement, message="", user=finance)
    db.session.commit()
    old = expense.receipt
    s.save_expense(award, expense_in(), user=treasurer, expense=expense, receipt=Upload(jpeg_bytes(color=(5, 5, 5))))
    s.submit(settlement, user=treasurer)
    db.session.commit()
    _age(old)
    run()
    db.session.expire_all()
    assert db.session.get(StoredFile, old.id) is not None and old.path().exists()


def test_a_dry_run_sweeps_nothing_and_a_shared_content_stays_on_disk(paid_award):
    _, treasurer, award = paid_award()
    kept = s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(color=(3, 1, 3))))
    twin = store_upload(Upload(jpeg_bytes(color=(3, 1, 3))), user=treasurer)   # same content, no line
    db.session.commit()
    assert twin.sha256 == kept.receipt.sha256
    _age(twin, kept.receipt)
    twin_id = twin.id
    dry = run(dry_run=True)
    assert dry.done and db.session.get(StoredFile, twin_id) is not None
    run()
    db.session.expire_all()
    assert db.session.get(StoredFile, twin_id) is None
    assert db.session.scalar(select(func.count(StoredFile.id))) == 1 and kept.receipt.path().exists()
