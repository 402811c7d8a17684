"""Spending and settlement operations. They mutate, flush and record the audit event; the
view commits once. Pure rules live in checks.py (spending) and refund.py (the amount to
return); the PDF in documents.py."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import g, has_request_context
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from blueprints.awards.models import AwardState
from blueprints.core import audit
from blueprints.core.files import store_upload
from blueprints.core.mail import queue_email
from blueprints.core.models import utcnow
from blueprints.core.persistence import lock_row
from blueprints.core.timeutil import today_kst
from extensions import db

from . import checks
from .checks import ExpenseIn, Ledger
from .models import (ActivityPhoto, ActivitySession, AttachmentKind, DeletedExpense, Expense, ExpenseAttachment,
                     ExpenseReviewState, Refund, Settlement, SettlementState)
from .refund import compute_refund, depositor_name, truncate_setting
from blueprints.core.formatting import kdate, won
from blueprints.core.korean import with_particle

RECEIPT_MAX_BYTES = 10 * 1024 * 1024
# Other evidence files one save takes (new and kept): each image is decoded to be cleaned, so
# a form of hundreds of small huge-canvas PNGs would hold a worker for minutes.
MAX_FILES_PER_SAVE = 10
EXPENSE_FIELDS = ("spent_on", "category", "vendor", "biz_no", "description", "amount_won", "method",
                  "approval_no", "cash_reason", "evidence_kind", "participants", "hours", "session_id")


class SettlementError(Exception):
    """A rule of spending or settlement; the message is shown to the person."""


class ChangedMeanwhile(SettlementError):
    """A confirmed submission or approval whose numbers changed after the confirmation showed
    them (another officer's expense, a colleague's judgement): it is asked again."""

    def __init__(self):
        super().__init__("확인하는 사이에 정산 내용이 바뀌었습니다. 바뀐 숫자를 확인하고 다시 눌러 주세요.")


def _same_as_confirmed(settlement: Settlement, seen_version: int | None) -> None:
    """After the lock: the settlement is still the one the confirmation showed (content_version
    moves with every expense, session, report and judgement)."""
    if seen_version is not None and seen_version != settlement.content_version:
        raise ChangedMeanwhile()


class RefundNotReceived(SettlementError):
    """A refund dated after today (Asia/Seoul): the money has not arrived, so the settlement
    may not close on it. Shown next to the date."""

    field = "received_on"


class ExpenseRejected(SettlementError):
    def __init__(self, result):
        super().__init__("규정에 맞지 않는 내용이 있어 저장하지 않았습니다. 표시된 내용을 고쳐 주세요.")
        self.result = result


# Reading --------------------------------------------------------------------------------------

def expenses(award) -> list[Expense]:
    return db.session.scalars(select(Expense).where(Expense.award_id == award.id)
                              .order_by(Expense.spent_on, Expense.seq)).all()


def sessions(award) -> list[ActivitySession]:
    # The photos come along in one more statement (the list shows them), not one per session.
    return db.session.scalars(select(ActivitySession).where(ActivitySession.award_id == award.id)
                              .options(selectinload(ActivitySession.photos))
                              .order_by(ActivitySession.held_on, ActivitySession.id)).all()


def planned_by_category(award) -> dict[str, int]:
    planned: dict[str, int] = {}
    for line in award.application.lines:
        if line.category:
            planned[line.category] = planned.get(line.category, 0) + line.amount_won
    return planned


def ledger(award, *, excluding: int | None = None) -> Ledger:
    spent: dict[str, int] = {}
    by_day: dict[date, int] = {}
    for e in expenses(award):
        if e.id == excluding:
            continue
        spent[e.category] = spent.get(e.category, 0) + e.amount_won
        if e.category == "instructor":
            by_day[e.spent_on] = by_day.get(e.spent_on, 0) + e.amount_won
    names = [m.parent_name for m in award.application.group.members]
    return Ledger(award_won=award.amount_won, planned=planned_by_category(award), spent=spent,
                  instructor_by_day=by_day, member_names=names)


def check(award, data: ExpenseIn, *, excluding: int | None = None):
    programme = award.programme
    return checks.check_expense(data, programme.rules, ledger(award, excluding=excluding),
                                activity_start=programme.activity_start, activity_end=programme.activity_end,
                                today=today_kst())


def balance(award) -> dict:
    """Per category: planned, spent, left; and the totals against the award and payments."""
    rules = award.programme.rules
    planned = planned_by_category(award)
    spent: dict[str, int] = {}
    for e in expenses(award):
        spent[e.category] = spent.get(e.category, 0) + e.amount_won
    rows = []
    for cat in rules.get("expense_categories", []):
        code = cat["code"]
        if code in planned or code in spent:
            p, s = planned.get(code, 0), spent.get(code, 0)
            rows.append(dict(code=code, label=cat["label"], planned=p, spent=s, left=p - s))
    disb = getattr(award, "disbursement", None)
    total_spent = sum(spent.values())
    return dict(rows=rows, planned=sum(planned.values()), spent=total_spent, award=award.amount_won,
                paid=disb.paid_won if disb else 0, left=award.amount_won - total_spent)


def category_label(rules: dict, code: str) -> str:
    cat = checks.find_category(rules, code)
    return cat["label"] if cat else code


# Locking --------------------------------------------------------------------------------------

def lock(award) -> Settlement | None:
    """Every change to an award's spending or settlement takes the award's row lock, then its
    settlement's, and checks the state after them (always in that order: no deadlock). Two
    officers adding expenses, an expense saved while the settlement is submitted, two finance
    officers approving, an approval and a line sent back: one after the other, the second
    seeing what the first did. Returns the settlement read fresh (None before it exists)."""
    from blueprints.awards.models import Award

    lock_row(Award, award.id)
    db.session.expire(award, ["settlement"])
    settlement = award.settlement
    return lock_row(Settlement, settlement.id) if settlement is not None else None


# Expenses -------------------------------------------------------------------------------------

def _bump(award) -> None:
    settlement = getattr(award, "settlement", None)
    if settlement is not None:
        settlement.content_version += 1


def _require_editable(award):
    settlement = getattr(award, "settlement", None)
    if award.status == AwardState.offered:
        raise SettlementError("교부 신청(수락) 후에 집행내역을 기록할 수 있습니다.")
    if settlement is not None and not settlement.is_editable:
        raise SettlementError("정산을 제출한 뒤에는 집행내역을 고칠 수 없습니다. 보완 요청을 받으면 고칠 수 있습니다.")


def _stored(upload, *, user):
    """A file for an expense: a StoredFile already kept (a pending upload the view checked), or
    an upload to check and store now (core.files)."""
    from blueprints.core.files import StoredFile, is_referenced

    if isinstance(upload, StoredFile):
        # Read before the lock: the same form sent twice at once finds it saved by the first.
        if is_referenced(upload):
            raise SettlementError("고른 파일은 이미 다른 줄에 저장했습니다. 같은 지출을 두 번 기록하지 않았는지 "
                                  "집행내역을 확인해 주세요.")
        return upload
    if upload is not None and getattr(upload, "filename", ""):
        return store_upload(upload, max_bytes=RECEIPT_MAX_BYTES, user=user)
    return None


def save_expense(award, data: ExpenseIn, *, user, receipt=None, expense: Expense | None = None,
                 attachments=(), remove_attachment_ids=()) -> Expense:
    """Create or update an expense. A new receipt file (photo or PDF) is checked and cleaned by
    core.files (or is a pending upload already stored); ``attachments`` are (file, kind) pairs of
    the line's other evidence (도서목록, 거래명세서 …), ``remove_attachment_ids`` the ones to take
    off. Hard rule issues refuse the save (ExpenseRejected carries them)."""
    lock(award)
    _require_editable(award)
    if data.session_id is not None and db.session.scalar(select(ActivitySession.award_id).where(
            ActivitySession.id == data.session_id)) != award.id:
        # The form offers only this award's sessions; the service holds the rule for every caller.
        raise SettlementError("이 교부결정의 활동만 연결할 수 있습니다.")
    if len(attachments) > MAX_FILES_PER_SAVE:
        raise SettlementError(f"다른 증빙은 한 번에 {MAX_FILES_PER_SAVE}개까지 올릴 수 있습니다.")
    for _file, kind in attachments:
        if not AttachmentKind.known(kind):
            raise SettlementError("첨부파일의 종류를 골라 주세요.")
    stored = _stored(receipt, user=user)
    extra = [(f, kind) for f, kind in ((_stored(f, user=user), kind) for f, kind in attachments) if f is not None]
    removing = [a for a in (expense.attachments if expense is not None else []) if a.id in set(remove_attachment_ids)]
    data.biz_no = checks.normalise_biz_no(data.biz_no)
    data.has_receipt = stored is not None or (expense is not None and expense.receipt_file_id is not None)
    result = check(award, data, excluding=expense.id if expense else None)
    if result.hard:
        raise ExpenseRejected(result)
    purge_deleted(award)
    creating = expense is None
    had_receipt = not creating and expense.receipt_file_id is not None
    before = None if creating else {f: _plain(getattr(expense, f)) for f in EXPENSE_FIELDS}
    if creating:
        seq = (db.session.scalar(select(func.max(Expense.seq)).where(Expense.award_id == award.id)) or 0) + 1
        expense = Expense(award_id=award.id, seq=seq, created_by_id=user.id)
        db.session.add(expense)
    for name in EXPENSE_FIELDS:
        setattr(expense, name, getattr(data, name))
    expense.participants = data.participants or 0
    if stored is not None:
        expense.receipt = stored   # the relationship too, not only the id: a snapshot in this session reads it
    for f, kind in extra:
        expense.attachments.append(ExpenseAttachment(stored_file_id=f.id, kind=kind))
    for row in removing:
        expense.attachments.remove(row)
    expense.hard_count, expense.warn_count = len(result.hard), len(result.warnings)
    files_changed = stored is not None or bool(extra) or bool(removing)
    review_before = None if creating else _back_to_review(expense, before, replaced_receipt=files_changed)
    _bump(award)
    db.session.flush()
    after = {f: _plain(getattr(expense, f)) for f in EXPENSE_FIELDS}
    if review_before is not None:
        before["review"], after["review"] = review_before, expense.review_status
    if stored is not None and not creating:
        after["receipt"] = "영수증 교체됨" if had_receipt else "영수증 추가됨"
    if extra or removing:
        after["attachments"] = ", ".join([f"{AttachmentKind.title_of(k)} 추가" for _f, k in extra]
                                         + [f"{r.kind_label} 삭제" for r in removing])
    audit.record("expense.created" if creating else "expense.updated", expense,
                 summary=f"{expense.evidence_no} {expense.description} {expense.amount_won:,}원"
                 + ((" (영수증 교체됨)" if had_receipt else " (영수증 추가됨)") if stored is not None and not creating else ""),
                 before=before, after=after)
    return expense


def _back_to_review(expense: Expense, before: dict, *, replaced_receipt: bool) -> str | None:
    """Any change to a line that finance staff judged sends it back to them (검토 전): a new
    amount, vendor, date… or a replaced receipt. A line recognised (인정) and then edited during
    보완 요청 is not recognised any more until reviewed again, so it neither counts nor lets the
    settlement be approved unseen. A line sent back for a fix (보완 요청) returns to review
    when the group saves it. Returns the review status before, when it changed."""
    changed = replaced_receipt or any(before[f] != _plain(getattr(expense, f)) for f in EXPENSE_FIELDS)
    if expense.review_status == ExpenseReviewState.pending or not (changed or expense.review_status == ExpenseReviewState.needs_fix):
        return None
    previous = expense.review_status
    expense.review_status, expense.review_reason = ExpenseReviewState.pending, ""
    return previous


UNDO_SECONDS = 20   # how long "되돌리기" stays possible after deleting a line


def _expense_data(expense: Expense) -> dict:
    """Everything needed to put a deleted line back as it was (DeletedExpense.data)."""
    return {f: _plain(getattr(expense, f)) for f in EXPENSE_FIELDS} | {
        "seq": expense.seq, "receipt_file_id": expense.receipt_file_id, "hard_count": expense.hard_count,
        "warn_count": expense.warn_count, "review_status": expense.review_status,
        "review_reason": expense.review_reason,
        "reviewed_at": expense.reviewed_at.isoformat() if expense.reviewed_at else None,
        "reviewed_by_id": expense.reviewed_by_id, "created_by_id": expense.created_by_id,
        "attachments": [[a.stored_file_id, a.kind] for a in expense.attachments]}


def delete_expense(expense: Expense, *, user, undo_seconds: int | None = None) -> DeletedExpense:
    """Delete a line while the settlement is editable. Its values and files stay for
    ``undo_seconds`` (DeletedExpense) so that undo_delete can put it back."""
    award = expense.award
    lock(award)
    _require_editable(award)
    purge_deleted(award)
    summary = f"{expense.evidence_no} {expense.description} {expense.amount_won:,}원"
    audit.record("expense.deleted", expense, summary=f"{expense.evidence_no} {expense.description} 삭제"
                 + (f" ({expense.review_label}이었던 줄)" if expense.review_status != ExpenseReviewState.pending else ""),
                 before={f: _plain(getattr(expense, f)) for f in EXPENSE_FIELDS} | {"review": expense.review_status})
    now = utcnow()
    trash = DeletedExpense(award_id=award.id, expense_id=expense.id, summary=summary, data=_expense_data(expense),
                           deleted_by_id=user.id, deleted_at=now,
                           undo_until=now + timedelta(seconds=UNDO_SECONDS if undo_seconds is None else undo_seconds))
    db.session.add(trash)
    _bump(award)
    db.session.delete(expense)
    db.session.flush()
    return trash


def undoable(award, user) -> list[DeletedExpense]:
    """The lines ``user`` deleted whose undo is still possible (newest first); reads only."""
    return db.session.scalars(select(DeletedExpense).where(
        DeletedExpense.award_id == award.id, DeletedExpense.deleted_by_id == user.id,
        DeletedExpense.undo_until > utcnow()).order_by(DeletedExpense.id.desc())).all()


def undo_delete(trash: DeletedExpense, *, user) -> Expense:
    """Put a deleted line back: same id, values, judgement and files; its 증빙번호 too unless a
    new line took it meanwhile. Only while the settlement is editable and before ``undo_until``."""
    from blueprints.awards.models import Award
    from blueprints.core.files import StoredFile

    award = db.session.get(Award, trash.award_id)
    lock(award)
    if utcnow() > trash.undo_until:
        raise SettlementError("되돌릴 수 있는 시간이 지났습니다. 필요하면 다시 기록해 주세요.")
    _require_editable(award)
    data = trash.data
    # Claim the undo: a second tap that waited on the lock above finds the row gone (its
    # object, read before the lock, would otherwise put back a second copy of the line).
    from sqlalchemy import delete

    if not db.session.execute(delete(DeletedExpense).where(DeletedExpense.id == trash.id)).rowcount:
        raise SettlementError("이 줄은 이미 되돌렸습니다.")
    db.session.expunge(trash)
    # The same id (the submitted snapshot's key) unless a new line took it (SQLite reuses the
    # highest id).
    same_id = trash.expense_id if db.session.get(Expense, trash.expense_id) is None else None
    seq = data["seq"]
    if db.session.scalar(select(Expense.id).where(Expense.award_id == award.id, Expense.seq == seq)) is not None:
        seq = (db.session.scalar(select(func.max(Expense.seq)).where(Expense.award_id == award.id)) or 0) + 1
    session_id = data.get("session_id")
    if session_id is not None and db.session.scalar(select(ActivitySession.award_id).where(
            ActivitySession.id == session_id)) != award.id:
        session_id = None
    fields = {f: data.get(f) for f in EXPENSE_FIELDS}
    fields["spent_on"] = date.fromisoformat(fields["spent_on"])
    fields["session_id"] = session_id
    receipt_id = data.get("receipt_file_id")
    if receipt_id is not None and db.session.get(StoredFile, receipt_id) is None:
        receipt_id = None
    # The same rules as a save, on the ledger as it is now: since the delete another line may
    # have used the money or the category's share, or the receipt may be gone.
    result = check(award, ExpenseIn(**fields, has_receipt=receipt_id is not None))
    if result.hard:
        raise SettlementError("지금 되돌리면 규칙에 어긋나 되돌리지 못했습니다. "
                              + " ".join(i.message for i in result.hard))
    expense = Expense(id=same_id, award_id=award.id, seq=seq, receipt_file_id=receipt_id,
                      hard_count=0, warn_count=len(result.warnings),
                      review_status=data.get("review_status", ExpenseReviewState.pending),
                      review_reason=data.get("review_reason", ""),
                      reviewed_at=datetime.fromisoformat(data["reviewed_at"]) if data.get("reviewed_at") else None,
                      reviewed_by_id=data.get("reviewed_by_id"), created_by_id=data.get("created_by_id"), **fields)
    for file_id, kind in data.get("attachments") or []:
        if db.session.get(StoredFile, file_id) is not None:
            expense.attachments.append(ExpenseAttachment(stored_file_id=file_id, kind=kind))
    db.session.add(expense)
    _bump(award)
    db.session.flush()
    audit.record("expense.restored", expense, summary=f"{expense.evidence_no} {expense.description} 삭제 되돌림",
                 after={f: _plain(getattr(expense, f)) for f in EXPENSE_FIELDS} | {"review": expense.review_status})
    return expense


def purge_deleted(award=None, *, before=None) -> int:
    """Forget the deleted lines of ``award`` (None: of every award, retention's sweep) whose
    undo ended by ``before`` (default now): their values are personal data kept only for the
    undo. The files stay as StoredFile rows until retention sweeps them."""
    from sqlalchemy import delete

    stmt = delete(DeletedExpense).where(DeletedExpense.undo_until <= (before or utcnow()))
    if award is not None:
        stmt = stmt.where(DeletedExpense.award_id == award.id)
    return db.session.execute(stmt).rowcount or 0


def files_still_named() -> set[int]:
    """Stored files no foreign key holds that the settlement still names: those of deleted
    lines that can still be undone, and the receipts of the last two submissions (the
    "영수증 교체됨" before/after pictures finance staff see). Retention's sweep keeps them."""
    named: set[int] = set()
    for data in db.session.scalars(select(DeletedExpense.data)):
        named.add(data.get("receipt_file_id"))
        named.update(file_id for file_id, _kind in data.get("attachments") or [])
    for shots in db.session.execute(select(Settlement.snapshot, Settlement.previous_snapshot).where(
            (Settlement.snapshot.is_not(None)) | (Settlement.previous_snapshot.is_not(None)))):
        for shot in shots:
            named.update(line.get("receipt_file") for line in ((shot or {}).get("expenses") or {}).values())
    named.discard(None)
    return named


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


# Activity results -----------------------------------------------------------------------------

def save_session(award, *, held_on: date, title: str, place: str, content: str, households: int, adults: int,
                 children: int, outcome: str, photos=(), user) -> ActivitySession:
    lock(award)
    _require_editable(award)
    programme = award.programme
    if not (programme.activity_start <= held_on <= programme.activity_end):
        raise SettlementError("활동기간 안의 날짜를 입력해 주세요.")
    row = ActivitySession(award_id=award.id, held_on=held_on, title=title, place=place, content=content,
                          households=households, adults=adults, children=children, outcome=outcome)
    db.session.add(row)
    for upload in photos:
        if getattr(upload, "filename", ""):
            stored = store_upload(upload, allowed=("jpeg", "png"), max_bytes=RECEIPT_MAX_BYTES, user=user)
            row.photos.append(ActivityPhoto(stored_file_id=stored.id))
    _bump(award)
    db.session.flush()
    audit.record("activity.recorded", row, object_type="activity_session",
                 summary=f"활동실적 {kdate(held_on)} {title}")
    return row


SESSION_FIELDS = ("held_on", "title", "place", "content", "households", "adults", "children", "outcome")


def update_session(row: ActivitySession, *, held_on: date, title: str, place: str, content: str, households: int,
                   adults: int, children: int, outcome: str, photos=(), remove_photo_ids=(), user) -> set[str]:
    """Change a session while the settlement is editable; add photos and remove the ones ticked.
    Returns the content hashes of removed photo files, to unlink after the commit
    (core.files.remove_unreferenced)."""
    award = row.award
    lock(award)
    _require_editable(award)
    programme = award.programme
    if not (programme.activity_start <= held_on <= programme.activity_end):
        raise SettlementError("활동기간 안의 날짜를 입력해 주세요.")
    before = {f: _plain(getattr(row, f)) for f in SESSION_FIELDS}
    row.held_on, row.title, row.place, row.content = held_on, title, place, content
    row.households, row.adults, row.children, row.outcome = households, adults, children, outcome
    for upload in photos:
        if getattr(upload, "filename", ""):
            stored = store_upload(upload, allowed=("jpeg", "png"), max_bytes=RECEIPT_MAX_BYTES, user=user)
            row.photos.append(ActivityPhoto(stored_file_id=stored.id))
    removed = _remove_photos(row, {int(i) for i in remove_photo_ids})
    _bump(award)
    db.session.flush()
    after = {f: _plain(getattr(row, f)) for f in SESSION_FIELDS}
    changed = {f: after[f] for f in SESSION_FIELDS if before[f] != after[f]}
    audit.record("activity.updated", row, object_type="activity_session",
                 summary=f"활동실적 {kdate(held_on)} 수정" + (f", 사진 {len(removed)}장 삭제" if removed else ""),
                 before={f: before[f] for f in changed}, after=changed)
    return removed


def delete_session(row: ActivitySession, *, user) -> set[str]:
    """Delete a session with its photos while the settlement is editable. A session that spending
    lines point at (강사비 hours, participants) stays until they point elsewhere."""
    award = row.award
    lock(award)
    _require_editable(award)
    linked = db.session.scalars(select(Expense).where(Expense.session_id == row.id).order_by(Expense.seq)).all()
    if linked:
        raise SettlementError("이 활동에 연결된 집행내역이 있습니다(" + ", ".join(e.evidence_no for e in linked)
                              + "). 그 집행내역의 활동을 먼저 바꿔 주세요.")
    removed = _remove_photos(row, {p.id for p in row.photos})
    audit.record("activity.deleted", row, object_type="activity_session",
                 summary=f"활동실적 {kdate(row.held_on)} 삭제",
                 before={"held_on": row.held_on.isoformat(), "households": row.households, "photos": len(removed)})
    _bump(award)
    db.session.delete(row)
    db.session.flush()
    return removed


def _remove_photos(row: ActivitySession, photo_ids: set[int]) -> set[str]:
    from blueprints.core.files import StoredFile

    hashes, files = set(), []
    for photo in [p for p in row.photos if p.id in photo_ids]:
        files.append(photo.stored_file)
        row.photos.remove(photo)
    db.session.flush()
    for stored in files:
        still_used = db.session.scalar(select(func.count()).select_from(ActivityPhoto)
                                       .where(ActivityPhoto.stored_file_id == stored.id))
        if not still_used:
            hashes.add(stored.sha256)
            db.session.delete(stored)
    db.session.flush()
    return hashes


# The settlement -------------------------------------------------------------------------------

def unsaved_settlement(award) -> Settlement:
    """What the settlement page shows before its first save: a draft with the report drafted
    from the activity results, never added to the session (GET never writes; the save or the
    submission makes the row, ``settlement_for(create=True)``)."""
    from sqlalchemy.orm.attributes import set_committed_value

    row = Settlement(award_id=award.id, status=SettlementState.draft, report_text=draft_report(award), interest_won=0,
                     submission_count=0, is_late=False, staff_message="", content_version=1, report_edited=False)
    set_committed_value(row, "award", award)   # no backref: the award's `settlement` stays None
    return row


def settlement_for(award, *, create: bool = False) -> Settlement | None:
    row = getattr(award, "settlement", None)
    if row is None and create:
        row = lock(award)  # both officers opening the page for the first time at once
    if row is None and create:
        row = Settlement(award_id=award.id, status=SettlementState.draft, report_text=draft_report(award),
                         report_edited=False)
        db.session.add(row)
        db.session.flush()
        db.session.refresh(award)
    return row


# The results report (결과보고) ----------------------------------------------------------------
# Drafted from the sessions and the spending, and drafted again at every reading while the
# group has not edited it, so it never says "40,000원을 집행" once 110,000원 is spent. Once
# the group edits it, its text is kept, with the numbers it was written against
# (report_basis), and the page says which of them changed since. Submitting freezes it.

def report_basis(award) -> dict:
    """The numbers the drafted report states."""
    rows = sessions(award)
    return {"spent": sum(e.amount_won for e in expenses(award)), "sessions": len(rows),
            "households": sum(s.households for s in rows), "children": sum(s.children for s in rows)}


# (key, label, unit) in the order the notice lists changes
BASIS_LABELS = (("spent", "집행액", "원"), ("sessions", "활동 횟수", "회"), ("households", "참여 가구(연인원)", "가구"),
                ("children", "참여 영유아(연인원)", "명"))


def draft_report(award) -> str:
    """The results report, drafted from the sessions and the spending (the group edits it)."""
    rows = sessions(award)
    basis = report_basis(award)
    lines = [f"{with_particle(award.application.group.name, '은/는')} 활동기간 동안 {len(rows)}회 활동했습니다."]
    if rows:
        lines.append(f"연인원 {basis['households']}가구, 영유아 {basis['children']}명이 참여했습니다.")
        for s in rows:
            lines.append(f"- {s.held_on.month}월 {s.held_on.day}일 {s.title}"
                         + (f" ({s.place})" if s.place else "") + (f": {s.outcome}" if s.outcome else ""))
    lines.append(f"지원금 {award.amount_won:,}원 가운데 {basis['spent']:,}원을 집행했습니다.")
    return "\n".join(lines)


def report_text(settlement: Settlement) -> str:
    """The results report as it stands now: while the settlement is open and the group has
    not edited the report, the draft made from today's sessions and spending; otherwise the
    text kept (the group's own, or the one frozen at submission). The page, the submission
    and the PDF all read it here."""
    if settlement.is_editable and not settlement.report_edited:
        return draft_report(settlement.award)
    return settlement.report_text


def _same_text(a: str, b: str) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def report_changes(settlement: Settlement) -> list[str]:
    """For an edited report: the numbers that changed since the group wrote it, as sentences
    ("집행액이 40,000원에서 110,000원으로 바뀌었습니다.")."""
    if not (settlement.is_editable and settlement.report_edited and settlement.report_basis):
        return []
    then, now = settlement.report_basis, report_basis(settlement.award)
    out = []
    for key, label, unit in BASIS_LABELS:
        if key in then and then[key] != now[key]:
            old, new = f"{then[key]:,}{unit}", f"{now[key]:,}{unit}"
            out.append(f"{with_particle(label, '이/가')} {old}에서 {with_particle(new, '으로/로')} 바뀌었습니다.")
    return out


def redraft_report(settlement: Settlement, *, user) -> None:
    """The group's "초안 다시 만들기": drop its edited text; the report follows the numbers again."""
    lock(settlement.award)
    if not settlement.is_editable:
        raise SettlementError("제출한 정산은 고칠 수 없습니다.")
    if not settlement.report_edited:
        return  # already the draft (a second tap): nothing to do
    before = {"report_chars": len(settlement.report_text), "report_edited": True}
    settlement.report_text = draft_report(settlement.award)
    settlement.report_edited, settlement.report_basis = False, None
    settlement.content_version += 1
    db.session.flush()
    audit.record("settlement.report_redrafted", settlement, summary="결과보고 초안 다시 만들기", before=before,
                 after={"report_chars": len(settlement.report_text), "report_edited": False})


def figures(settlement: Settlement, rows: list[Expense] | None = None):
    """The refund figures now (recognised = lines judged 인정; before review, everything
    without a hard issue counts as claimed). ``rows``: the award's expenses, if loaded already."""
    award = settlement.award
    rows = expenses(award) if rows is None else rows
    spent = sum(e.amount_won for e in rows)
    reviewed = any(e.review_status != ExpenseReviewState.pending for e in rows)
    recognised = sum(e.amount_won for e in rows if e.review_status == ExpenseReviewState.recognised) if reviewed else spent
    paid = award.disbursement.paid_won if getattr(award, "disbursement", None) else 0
    return compute_refund(paid_won=paid, interest_won=settlement.interest_won, spent_won=spent,
                          recognised_lines_won=recognised, truncate_10won=truncate_setting(award.programme.rules))


def totals_by_category(settlement: Settlement, rows: list[Expense] | None = None) -> list[dict]:
    """정산총괄표: per category planned / spent / recognised / not recognised. ``rows``: the
    award's expenses, if loaded already."""
    award = settlement.award
    rules = award.programme.rules
    planned = planned_by_category(award)
    out: dict[str, dict] = {}
    for code, amount in planned.items():
        out.setdefault(code, dict(code=code, planned=0, spent=0, recognised=0, not_recognised=0))["planned"] = amount
    for e in (expenses(award) if rows is None else rows):
        row = out.setdefault(e.category, dict(code=e.category, planned=0, spent=0, recognised=0, not_recognised=0))
        row["spent"] += e.amount_won
        if e.review_status == ExpenseReviewState.recognised:
            row["recognised"] += e.amount_won
        elif e.review_status == ExpenseReviewState.not_recognised:
            row["not_recognised"] += e.amount_won
    order = [c["code"] for c in rules.get("expense_categories", [])]
    rows = sorted(out.values(), key=lambda r: order.index(r["code"]) if r["code"] in order else 99)
    for r in rows:
        r["label"] = category_label(rules, r["code"])
    return rows


def save_settlement(settlement: Settlement, *, report_text: str, interest_won: int, interest_file=None, user,
                    shown_draft: str | None = None) -> None:
    """Save the report and the interest. A report equal to the draft (the one made now, or
    ``shown_draft``: the one the page showed when the group started typing) stays a draft that
    follows the numbers; any other text is the group's own and is kept, with the numbers it
    was written against."""
    lock(settlement.award)
    if not settlement.is_editable:
        raise SettlementError("제출한 정산은 고칠 수 없습니다.")
    if interest_file is not None and getattr(interest_file, "filename", ""):
        stored = store_upload(interest_file, max_bytes=RECEIPT_MAX_BYTES, user=user)
        settlement.interest_file_id = stored.id
    before = {"interest_won": settlement.interest_won, "report_chars": len(settlement.report_text)}
    draft = draft_report(settlement.award)
    if _same_text(report_text, draft) or (shown_draft and _same_text(report_text, shown_draft)):
        settlement.report_text, settlement.report_edited, settlement.report_basis = draft, False, None
    elif not (settlement.report_edited and _same_text(report_text, settlement.report_text)):
        # newly written or changed again: the numbers it now answers to are today's
        settlement.report_text, settlement.report_edited = report_text, True
        settlement.report_basis = report_basis(settlement.award)
    settlement.interest_won = interest_won
    settlement.content_version += 1
    db.session.flush()
    audit.record("settlement.saved", settlement, summary="정산서 저장", before=before,
                 after={"interest_won": interest_won, "report_chars": len(report_text)})


def snapshot(settlement: Settlement) -> dict:
    award = settlement.award
    return {
        "submission": settlement.submission_count,
        "report_text": settlement.report_text,
        "interest_won": settlement.interest_won,
        "expenses": {str(e.id): {"seq": e.seq, "spent_on": e.spent_on.isoformat(), "category": e.category,
                                 "vendor": e.vendor, "biz_no": e.biz_no, "description": e.description,
                                 "amount_won": e.amount_won, "method": e.method,
                                 # compared to tell a replaced receipt; never shown (the diff says
                                 # "영수증 교체됨" with thumbnails of receipt_file before and after)
                                 "receipt": e.receipt.sha256[:12] if e.receipt else None,
                                 "attachments": ", ".join(a.kind_label for a in e.attachments) or None,
                                 "receipt_file": e.receipt_file_id,
                                 "receipt_image": bool(e.receipt and e.receipt.is_image),
                                 "review": e.review_status}
                     for e in expenses(award)},
    }


FIELD_LABELS = {"spent_on": "사용일", "category": "비목", "vendor": "사용처", "biz_no": "사업자등록번호",
                "description": "내용", "amount_won": "금액", "method": "결제수단", "attachments": "다른 증빙"}


def _won(value):
    """Money in the diff as people read it elsewhere: 90,000원."""
    return f"{value:,}원" if isinstance(value, int) else value


def diff(previous: dict | None, current: dict | None) -> list[dict]:
    """What changed between two submissions: [{kind: added|removed|changed, seq, label, changes:[(field, old, new)]}]."""
    if not previous or not current:
        return []
    out = []
    if previous.get("interest_won") != current.get("interest_won"):
        out.append(dict(kind="changed", seq=None, label="발생이자",
                        changes=[("이자", _won(previous.get("interest_won")), _won(current.get("interest_won")))]))
    if previous.get("report_text") != current.get("report_text"):
        out.append(dict(kind="changed", seq=None, label="사업실적(결과보고)", changes=[("내용", "…", "수정됨")]))
    old, new = previous.get("expenses", {}), current.get("expenses", {})
    for key in sorted(set(old) | set(new), key=lambda k: (new.get(k) or old.get(k))["seq"]):
        a, b = old.get(key), new.get(key)
        if a is None:
            out.append(dict(kind="added", seq=b["seq"], label=b["description"], changes=[]))
        elif b is None:
            out.append(dict(kind="removed", seq=a["seq"], label=a["description"], changes=[],
                            review=_judged(a)))
        else:
            changes = [(FIELD_LABELS[f], *((_won(a.get(f)), _won(b.get(f))) if f == "amount_won" else (a.get(f), b.get(f))))
                       for f in FIELD_LABELS if a.get(f) != b.get(f)]
            receipt = _receipt_change(a, b)
            if (changes or receipt) and _judged(a) and b.get("review") == ExpenseReviewState.pending:
                changes.append(("검토", _judged(a), "다시 검토"))
            if changes or receipt:
                out.append(dict(kind="changed", seq=b["seq"], label=b["description"], changes=changes, receipt=receipt))
    return out


def _receipt_change(a: dict, b: dict) -> dict | None:
    """A replaced (or first added, or removed) receipt between two snapshots of a line, shown
    as "영수증 교체됨" with both pictures: the stored files' ids (for the thumbnails; None for
    a PDF or no receipt), never their content hashes."""
    if a.get("receipt") == b.get("receipt"):
        return None
    def thumb(line):
        return line.get("receipt_file") if line.get("receipt_image") else None
    label = "영수증 교체됨" if a.get("receipt") and b.get("receipt") else ("영수증 추가됨" if b.get("receipt") else "영수증 삭제됨")
    return dict(label=label, before=thumb(a), after=thumb(b))


def snapshot_receipt(settlement: Settlement, file_id: int):
    """The stored receipt ``file_id`` if one of the settlement's two last submissions holds it
    (the diff's before/after thumbnails), else None."""
    from blueprints.core.files import StoredFile

    for shot in (settlement.snapshot, settlement.previous_snapshot):
        for line in ((shot or {}).get("expenses") or {}).values():
            if line.get("receipt_file") == file_id:
                return db.session.get(StoredFile, file_id)
    return None


def _judged(line: dict) -> str | None:
    """The judgement finance staff had given a line in a snapshot (None if none)."""
    review = line.get("review")
    return ExpenseReviewState.title_of(review) if ExpenseReviewState.known(review) and review != ExpenseReviewState.pending else None


def _remember_judgements(settlement: Settlement) -> None:
    """On return for changes, keep finance staff's judgement of each line in the submitted
    snapshot: on resubmission the diff then shows a judged line that the group changed or
    deleted as such ("삭제: 인정했던 줄")."""
    from sqlalchemy.orm.attributes import flag_modified

    if not settlement.snapshot:
        return
    shot = dict(settlement.snapshot)
    lines = {key: dict(value) for key, value in (shot.get("expenses") or {}).items()}
    for e in expenses(settlement.award):
        if str(e.id) in lines:
            lines[str(e.id)]["review"] = e.review_status
    shot["expenses"] = lines
    settlement.snapshot = shot
    flag_modified(settlement, "snapshot")


def submission_blockers(settlement: Settlement) -> list[str]:
    problems = []
    rows = expenses(settlement.award)
    if not rows:
        problems.append("집행내역을 하나 이상 기록해 주세요.")
    if any(e.review_status == ExpenseReviewState.needs_fix for e in rows):
        problems.append("보완 요청을 받은 집행내역을 모두 고쳐 주세요.")
    if any(e.hard_count for e in rows):
        problems.append("규정 위반으로 표시된 집행내역이 있습니다.")
    if settlement.interest_won > 0 and settlement.interest_file_id is None:
        problems.append("발생이자의 증빙(통장 거래내역)을 올려 주세요.")
    if not report_text(settlement).strip():
        problems.append("사업실적(결과보고)을 적어 주세요.")
    return problems


def returned_lines(award) -> list[Expense]:
    """The lines finance staff sent back for a fix (보완 요청) and not yet fixed, in ledger order."""
    return returned_lines_by_award([award.id]).get(award.id, [])


def returned_lines_by_award(award_ids) -> dict[int, list[Expense]]:
    """returned_lines of several awards in one query."""
    lines: dict[int, list[Expense]] = {}
    for e in db.session.scalars(select(Expense).where(Expense.award_id.in_(award_ids),
                                                      Expense.review_status == ExpenseReviewState.needs_fix)
                                .order_by(Expense.spent_on, Expense.seq)):
        lines.setdefault(e.award_id, []).append(e)
    return lines


def fixes_asked(user) -> list[dict]:
    """The signed-in officer's settlements that finance staff returned for fixes, each with
    its returned lines (the dashboard's "보완 요청 N건" and, once all are fixed, "이제 다시
    제출하세요"). Two queries whatever the number of groups."""
    from blueprints.applications.models import Application
    from blueprints.awards.models import Award
    from blueprints.groups.models import GroupMember

    rows = db.session.execute(
        select(Settlement, Award).join(Award, Award.id == Settlement.award_id)
        .join(Application, Application.id == Award.application_id)
        .join(GroupMember, GroupMember.group_id == Application.group_id)
        .where(GroupMember.user_id == user.id, GroupMember.role.in_(("leader", "treasurer")),
               Settlement.status == SettlementState.needs_changes)
        .order_by(Settlement.id)).all()
    if not rows:
        return []
    lines = returned_lines_by_award([a.id for _, a in rows])
    return [dict(settlement=st, award=award, returned=lines.get(award.id, [])) for st, award in rows]


def after_fix(award) -> tuple[str, str | None] | None:
    """Where the group goes after saving a line while its settlement waits for fixes: the
    next returned line, or — the last one fixed — the settlement, to submit it again.
    Returns (message, next expense id or None), or None when no fix is asked."""
    settlement = getattr(award, "settlement", None)
    if settlement is None or settlement.status != SettlementState.needs_changes:
        return None
    left = returned_lines(award)
    if left:
        return f"보완 요청이 {len(left)}건 남았습니다. 다음 줄({left[0].evidence_no})을 고쳐 주세요.", left[0].id
    return "보완할 줄을 모두 고쳤습니다. 이제 다시 제출하세요.", None


def submission_summary(settlement: Settlement, *, today: date | None = None) -> dict:
    """What the group reads before 정산서 제출: the numbers it submits, what it means and what
    it cannot change afterwards (the confirmation, core.forms.is_confirmed)."""
    award = settlement.award
    programme = award.programme
    today = today or today_kst()
    rows = expenses(award)
    f = figures(settlement, rows)
    rate = int(100 * f.spent_won / award.amount_won) if award.amount_won else 0
    left = award.amount_won - f.spent_won
    warnings = []
    if today < programme.activity_end:
        warnings.append(f"활동기간이 아직 남았고({kdate(programme.activity_end)}까지 "
                        f"{(programme.activity_end - today).days}일) 집행률 {rate}%입니다.")
    elif left > 0:
        warnings.append(f"집행률 {rate}%입니다. 쓰지 않은 {left:,}원은 반환합니다.")
    if today > programme.settlement_due:
        warnings.append(f"제출 기한({kdate(programme.settlement_due)})이 지나 ‘기한 경과’로 표시됩니다.")
    if settlement.is_editable and not settlement.report_edited:
        warnings.append("결과보고는 자동으로 만든 초안 그대로입니다. 지금 숫자로 고정되어 제출됩니다.")
    facts = [("교부결정액", won(award.amount_won)), ("교부받은 금액", won(f.paid_won)),
             ("집행액", f"{won(f.spent_won)} ({len(rows)}건, 집행률 {rate}%)"), ("잔액", won(left)),
             ("발생이자", won(f.interest_won)), ("반환 예정액", won(f.refund_won))]
    if settlement.submission_count:
        fixed = [e for e in rows if e.review_status == ExpenseReviewState.pending]
        facts.insert(0, ("제출", f"{settlement.submission_count + 1}차 제출 (다시 검토받을 줄 {len(fixed)}건)"))
    consequences = ["회계담당이 검토를 마칠 때까지 집행내역·활동실적·결과보고·이자를 고칠 수 없습니다.",
                    "회계담당이 보완을 요청하면 그때 다시 고칠 수 있습니다.",
                    "반환액은 회계담당이 승인할 때 확정됩니다."]
    return dict(facts=facts, warnings=warnings, consequences=consequences, rate=rate, figures=f,
                blockers=submission_blockers(settlement) if settlement.is_editable else [])


def approval_summary(settlement: Settlement) -> dict:
    """What finance staff read before 정산 승인: the counts and sums they fix for good."""
    rows = expenses(settlement.award)
    f = figures(settlement, rows)
    ok = [e for e in rows if e.review_status == ExpenseReviewState.recognised]
    not_ok = [e for e in rows if e.review_status == ExpenseReviewState.not_recognised]
    undecided = [e for e in rows if e.review_status in {ExpenseReviewState.pending, ExpenseReviewState.needs_fix}]
    facts = [("집행액", f"{won(f.spent_won)} ({len(rows)}건)"),
             ("인정", f"{len(ok)}건 {won(sum(e.amount_won for e in ok))}"),
             ("불인정", f"{len(not_ok)}건 {won(sum(e.amount_won for e in not_ok))}"),
             ("교부받은 금액", won(f.paid_won)), ("발생이자", won(f.interest_won)),
             ("인정액", won(f.recognised_won)), ("반환액", won(f.refund_won))]
    consequences = [f"인정액 {won(f.recognised_won)}과 반환액 {won(f.refund_won)}이 확정되고, 되돌릴 수 없습니다.",
                    "모임은 집행내역과 결과보고를 더 고칠 수 없습니다."]
    consequences.append("반환할 돈이 없어 정산이 바로 종결됩니다." if f.refund_won == 0 else
                        f"모임이 {won(f.refund_won)}을 반환하면 입금 확인을 기록해 종결합니다.")
    blockers = ([f"검토하지 않았거나 보완 중인 줄이 {len(undecided)}건 있습니다: "
                 + ", ".join(e.evidence_no for e in undecided[:5])] if undecided else [])
    return dict(facts=facts, warnings=[], consequences=consequences, figures=f, blockers=blockers)


def submit(settlement: Settlement, *, user, seen_version: int | None = None) -> None:
    """``seen_version``: the content_version the confirmation showed (None: not asked)."""
    lock(settlement.award)
    if not settlement.is_editable:
        raise SettlementError("지금은 제출할 수 없는 상태입니다.")
    _same_as_confirmed(settlement, seen_version)
    problems = submission_blockers(settlement)
    if problems:
        raise SettlementError(" ".join(problems))
    award = settlement.award
    now = utcnow()
    settlement.report_text = report_text(settlement)  # the draft is frozen as it reads now
    settlement.submission_count += 1
    settlement.submitted_at = now
    settlement.is_late = settlement.is_late or today_kst() > award.programme.settlement_due
    settlement.previous_snapshot = settlement.snapshot
    settlement.snapshot = snapshot(settlement)
    settlement.status = SettlementState.submitted
    settlement.content_version += 1
    award.status = AwardState.settling
    db.session.flush()
    audit.record("settlement.submitted", settlement,
                 summary=f"정산 {settlement.submission_count}차 제출" + (" (기한 경과)" if settlement.is_late else ""))
    _notify_finance(settlement, f"[정산 제출] {award.application.group.name}")


def review_line(expense: Expense, *, decision: str, reason: str, user) -> None:
    settlement = lock(expense.award)
    db.session.refresh(expense)
    if settlement is None or settlement.status != SettlementState.submitted:
        raise SettlementError("제출된 정산만 검토할 수 있습니다.")
    if decision not in {ExpenseReviewState.recognised, ExpenseReviewState.not_recognised, ExpenseReviewState.needs_fix}:
        raise SettlementError("검토 결과를 선택해 주세요.")
    reason = (reason or "").strip()
    if decision != ExpenseReviewState.recognised and not reason:
        raise SettlementError("불인정이나 보완 요청에는 사유를 적어 주세요.")
    before = {"review": expense.review_status, "reason": expense.review_reason}
    expense.review_status, expense.review_reason = decision, reason if decision != ExpenseReviewState.recognised else reason
    expense.reviewed_at, expense.reviewed_by_id = utcnow(), user.id
    settlement.content_version += 1
    db.session.flush()
    audit.record("expense.reviewed", expense, summary=f"{expense.evidence_no} {expense.review_label}"
                 + (f": {reason}" if reason else ""), before=before, after={"review": decision, "reason": reason})


def return_for_changes(settlement: Settlement, *, message: str, user) -> None:
    lock(settlement.award)
    if settlement.status != SettlementState.submitted:
        raise SettlementError("제출된 정산만 보완 요청할 수 있습니다.")
    needs = [e for e in expenses(settlement.award) if e.review_status == ExpenseReviewState.needs_fix]
    if not needs and not message.strip():
        raise SettlementError("보완할 줄을 표시하거나 보완 요청 내용을 적어 주세요.")
    settlement.status = SettlementState.needs_changes
    _remember_judgements(settlement)
    settlement.staff_message = message.strip()
    settlement.content_version += 1
    db.session.flush()
    audit.record("settlement.returned", settlement, summary=f"보완 요청 ({len(needs)}건)" +
                 (f": {message.strip()}" if message.strip() else ""))
    group = settlement.award.application.group
    body = (f"{group.name}의 정산서에 보완 요청 {len(needs)}건이 있습니다.\n" if needs else
            f"{group.name}의 정산서에 보완 요청이 있습니다.\n")
    if message.strip():
        body += f"회계담당의 요청: {message.strip()}\n"
    if has_request_context():
        from flask import url_for

        if needs:
            first = sorted(needs, key=lambda e: (e.spent_on, e.seq))[0]
            body += ("\n보완할 첫 줄(" + first.evidence_no + ") 바로 고치기:\n"
                     + url_for("settlement.edit_expense", expense_id=first.id, _external=True) + "\n")
        body += ("\n보완 요청 전체 보기와 다시 제출:\n"
                 + url_for("settlement.settlement", award_id=settlement.award_id, _external=True) + "#returned\n")
    body += "\n모두 고친 뒤 정산서를 다시 제출해 주세요."
    for officer in (group.leader, group.treasurer):
        if officer is not None and officer.user is not None:
            queue_email(officer.user.email, f"[정산 보완 요청] {group.name} {len(needs)}건", body)


def approve(settlement: Settlement, *, user, seen_version: int | None = None) -> None:
    """``seen_version``: the content_version the confirmation showed (None: not asked)."""
    lock(settlement.award)
    if settlement.status != SettlementState.submitted:
        raise SettlementError("제출된 정산만 승인할 수 있습니다.")
    _same_as_confirmed(settlement, seen_version)
    rows = expenses(settlement.award)
    undecided = [e for e in rows if e.review_status in {ExpenseReviewState.pending, ExpenseReviewState.needs_fix}]
    if undecided:
        raise SettlementError(f"검토하지 않았거나 보완 중인 줄이 {len(undecided)}건 있습니다: "
                              + ", ".join(e.evidence_no for e in undecided[:5]))
    f = figures(settlement)
    settlement.recognised_won = f.recognised_won
    settlement.refund_due_won = f.refund_won
    settlement.status = SettlementState.approved
    settlement.approved_at = utcnow()
    settlement.approved_by_id = user.id
    settlement.content_version += 1
    award = settlement.award
    award.status = AwardState.settled
    db.session.flush()
    audit.record("settlement.approved", settlement, summary=f"정산 승인: 인정액 {f.recognised_won:,}원, "
                 f"반환액 {f.refund_won:,}원", after={"recognised_won": f.recognised_won, "refund_won": f.refund_won,
                                                  "interest_won": f.interest_won, "paid_won": f.paid_won})
    if f.refund_won == 0:
        _close(settlement)


def record_refund(settlement: Settlement, *, amount_won: int, received_on: date, depositor: str, note: str = "",
                  user) -> Refund:
    lock(settlement.award)
    if settlement.status != SettlementState.approved:
        raise SettlementError("승인된 정산에만 반환을 기록할 수 있습니다.")
    if amount_won != settlement.refund_due_won:
        raise SettlementError(f"반환액은 {settlement.refund_due_won:,}원이어야 합니다.")
    today = today_kst()
    if received_on > today:
        # Recording it closes the settlement: only money that has arrived (the day judged in Seoul).
        raise RefundNotReceived(f"입금 확인일이 오늘({kdate(today)})보다 뒤입니다. 입금이 확인된 날을 적어 주세요. "
                                "정산은 반환금이 들어온 뒤에 종결합니다.")
    row = Refund(settlement_id=settlement.id, amount_won=amount_won, received_on=received_on,
                 depositor=depositor.strip(), note=note, recorded_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    audit.record("refund.recorded", row, summary=f"반환 {amount_won:,}원 입금 확인 ({depositor})")
    _close(settlement)
    return row


def expected_depositor(settlement: Settlement) -> str:
    group = settlement.award.application.group
    leader = group.leader
    return depositor_name(group.name, leader.parent_name if leader else "", settlement.award.programme.rules)


def _close(settlement: Settlement) -> None:
    settlement.status = SettlementState.closed
    settlement.content_version += 1
    settlement.award.status = AwardState.closed
    db.session.flush()
    audit.record("settlement.closed", settlement, summary="정산 종결")


def _notify_finance(settlement, subject):
    from blueprints.accounts.models import User, UserRole

    emails = db.session.scalars(select(User.email).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == "finance")).all()
    body = "정산서가 제출되었습니다. 검토해 주세요."
    if has_request_context():
        from flask import url_for

        body += "\n" + url_for("settlement.review", settlement_id=settlement.id, _external=True)
    for email in emails:
        queue_email(email, subject, body)


def send_due_reminders(today: date | None = None, days_before: int = 7) -> int:
    """E-mail the officers of every unsubmitted settlement due within ``days_before`` days
    (once a day at most). Returns the number of settlements reminded."""
    from blueprints.awards.models import Award
    from blueprints.programmes.models import Programme

    today = today or today_kst()
    awards = db.session.scalars(select(Award).join(Programme, Programme.id == Award.programme_id).where(
        Award.status.in_((AwardState.accepted, AwardState.paid)), Programme.settlement_due >= today,
        Programme.settlement_due <= today + timedelta(days=days_before))).all()
    count = 0
    for award in awards:
        settlement = settlement_for(award, create=True)
        if settlement.status not in SettlementState.editable() or settlement.reminded_on == today:
            continue
        settlement.reminded_on = today
        group = award.application.group
        due = award.programme.settlement_due
        for officer in (group.leader, group.treasurer):
            if officer is not None and officer.user is not None:
                queue_email(officer.user.email, f"[정산 마감 안내] {due.year}. {due.month}. {due.day}.까지 제출해 주세요",
                            f"{group.name}의 정산서 제출 기한은 {due.year}. {due.month}. {due.day}.입니다.")
        count += 1
    db.session.flush()
    return count
