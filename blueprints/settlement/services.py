"""Spending and settlement operations. They mutate, flush and record the audit event; the
view commits once. Pure rules live in checks.py (spending) and refund.py (the amount to
return); the PDF in documents.py."""
from __future__ import annotations

from datetime import date, timedelta

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
from .models import ActivityPhoto, ActivitySession, Expense, ExpenseReviewState, Refund, Settlement, SettlementState
from .refund import compute_refund, depositor_name, truncate_setting
from blueprints.core.korean import with_particle

RECEIPT_MAX_BYTES = 10 * 1024 * 1024
EXPENSE_FIELDS = ("spent_on", "category", "vendor", "biz_no", "description", "amount_won", "method",
                  "approval_no", "cash_reason", "evidence_kind", "participants", "hours", "session_id")


class SettlementError(Exception):
    """A rule of spending or settlement; the message is shown to the person."""


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


def save_expense(award, data: ExpenseIn, *, user, receipt=None, expense: Expense | None = None) -> Expense:
    """Create or update an expense. A new receipt file (photo or PDF) is checked and cleaned by
    core.files; hard rule issues refuse the save (ExpenseRejected carries them)."""
    lock(award)
    _require_editable(award)
    if data.session_id is not None and db.session.scalar(select(ActivitySession.award_id).where(
            ActivitySession.id == data.session_id)) != award.id:
        # The form offers only this award's sessions; the service holds the rule for every caller.
        raise SettlementError("이 교부결정의 활동만 연결할 수 있습니다.")
    stored = None
    if receipt is not None and getattr(receipt, "filename", ""):
        stored = store_upload(receipt, max_bytes=RECEIPT_MAX_BYTES, user=user)
    data.biz_no = checks.normalise_biz_no(data.biz_no)
    data.has_receipt = stored is not None or (expense is not None and expense.receipt_file_id is not None)
    result = check(award, data, excluding=expense.id if expense else None)
    if result.hard:
        raise ExpenseRejected(result)
    creating = expense is None
    before = None if creating else {f: _plain(getattr(expense, f)) for f in EXPENSE_FIELDS}
    if creating:
        seq = (db.session.scalar(select(func.max(Expense.seq)).where(Expense.award_id == award.id)) or 0) + 1
        expense = Expense(award_id=award.id, seq=seq, created_by_id=user.id)
        db.session.add(expense)
    for name in EXPENSE_FIELDS:
        setattr(expense, name, getattr(data, name))
    expense.participants = data.participants or 0
    if stored is not None:
        expense.receipt_file_id = stored.id
    expense.hard_count, expense.warn_count = len(result.hard), len(result.warnings)
    review_before = None if creating else _back_to_review(expense, before, replaced_receipt=stored is not None)
    _bump(award)
    db.session.flush()
    after = {f: _plain(getattr(expense, f)) for f in EXPENSE_FIELDS}
    if review_before is not None:
        before["review"], after["review"] = review_before, expense.review_status
    if stored is not None and not creating:
        after["receipt"] = "새 영수증"
    audit.record("expense.created" if creating else "expense.updated", expense,
                 summary=f"{expense.evidence_no} {expense.description} {expense.amount_won:,}원",
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


def delete_expense(expense: Expense, *, user) -> None:
    lock(expense.award)
    _require_editable(expense.award)
    audit.record("expense.deleted", expense, summary=f"{expense.evidence_no} {expense.description} 삭제"
                 + (f" ({expense.review_label}이었던 줄)" if expense.review_status != ExpenseReviewState.pending else ""),
                 before={f: _plain(getattr(expense, f)) for f in EXPENSE_FIELDS} | {"review": expense.review_status})
    _bump(expense.award)
    db.session.delete(expense)
    db.session.flush()


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
                 summary=f"활동실적 {held_on.isoformat()} {title}")
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
                 summary=f"활동실적 {held_on.isoformat()} 수정" + (f", 사진 {len(removed)}장 삭제" if removed else ""),
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
                 summary=f"활동실적 {row.held_on.isoformat()} 삭제",
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
                     submission_count=0, is_late=False, staff_message="", content_version=1)
    set_committed_value(row, "award", award)   # no backref: the award's `settlement` stays None
    return row


def settlement_for(award, *, create: bool = False) -> Settlement | None:
    row = getattr(award, "settlement", None)
    if row is None and create:
        row = lock(award)  # both officers opening the page for the first time at once
    if row is None and create:
        row = Settlement(award_id=award.id, status=SettlementState.draft, report_text=draft_report(award))
        db.session.add(row)
        db.session.flush()
        db.session.refresh(award)
    return row


def draft_report(award) -> str:
    """The results report, drafted from the sessions and the spending (the group edits it)."""
    rows = sessions(award)
    spent = sum(e.amount_won for e in expenses(award))
    lines = [f"{with_particle(award.application.group.name, '은/는')} 활동기간 동안 {len(rows)}회 활동했습니다."]
    if rows:
        households = sum(s.households for s in rows)
        children = sum(s.children for s in rows)
        lines.append(f"연인원 {households}가구, 영유아 {children}명이 참여했습니다.")
        for s in rows:
            lines.append(f"- {s.held_on.month}월 {s.held_on.day}일 {s.title}"
                         + (f" ({s.place})" if s.place else "") + (f": {s.outcome}" if s.outcome else ""))
    lines.append(f"지원금 {award.amount_won:,}원 가운데 {spent:,}원을 집행했습니다.")
    return "\n".join(lines)


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


def save_settlement(settlement: Settlement, *, report_text: str, interest_won: int, interest_file=None, user) -> None:
    lock(settlement.award)
    if not settlement.is_editable:
        raise SettlementError("제출한 정산은 고칠 수 없습니다.")
    if interest_file is not None and getattr(interest_file, "filename", ""):
        stored = store_upload(interest_file, max_bytes=RECEIPT_MAX_BYTES, user=user)
        settlement.interest_file_id = stored.id
    before = {"interest_won": settlement.interest_won, "report_chars": len(settlement.report_text)}
    settlement.report_text = report_text
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
                                 "receipt": e.receipt.sha256[:12] if e.receipt else None,
                                 "review": e.review_status}
                     for e in expenses(award)},
    }


FIELD_LABELS = {"spent_on": "사용일", "category": "비목", "vendor": "사용처", "biz_no": "사업자등록번호",
                "description": "내용", "amount_won": "금액", "method": "결제수단", "receipt": "영수증"}


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
            if changes and _judged(a) and b.get("review") == ExpenseReviewState.pending:
                changes.append(("검토", _judged(a), "다시 검토"))
            if changes:
                out.append(dict(kind="changed", seq=b["seq"], label=b["description"], changes=changes))
    return out


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
    if not settlement.report_text.strip():
        problems.append("사업실적(결과보고)을 적어 주세요.")
    return problems


def submit(settlement: Settlement, *, user) -> None:
    lock(settlement.award)
    if not settlement.is_editable:
        raise SettlementError("지금은 제출할 수 없는 상태입니다.")
    problems = submission_blockers(settlement)
    if problems:
        raise SettlementError(" ".join(problems))
    award = settlement.award
    now = utcnow()
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
    for officer in (group.leader, group.treasurer):
        if officer is not None and officer.user is not None:
            queue_email(officer.user.email, f"[정산 보완 요청] {group.name}",
                        f"정산서 {len(needs)}건에 보완 요청이 있습니다. 시스템에서 확인해 주세요.\n{message}")


def approve(settlement: Settlement, *, user) -> None:
    lock(settlement.award)
    if settlement.status != SettlementState.submitted:
        raise SettlementError("제출된 정산만 승인할 수 있습니다.")
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
    for email in emails:
        queue_email(email, subject, "정산서가 제출되었습니다. 시스템에서 검토해 주세요.")


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
