"""Retention (보존기간) and destruction (파기, 개인정보 보호법 제21조) of applicants' personal data.

Three clocks, each judged on Seoul dates. A period of N years that starts on day D ends at the
end of D's anniversary N years later (민법 제157조·제160조: the first day is not counted; a
29 February anniversary falls on 28 February); data is destroyed from the next day on:
``period_over(D, N, today) == today > add_years(D, N)``.

1. Contacts of a group — 1 year after the end of the last programme it took part in
   (``programme-defaults.yaml``: ``member_contacts: "사업 종료 후 1년"``).
   * "Took part" = any application of the group, whatever its status. The programme ends for the
     group on the programme's settlement due date (정산 기한, its last scheduled day) or, when
     the group was awarded, on the day its settlement was closed if later. An award whose
     settlement is not closed (not settled, refund not received) means the group is still
     taking part: nothing of it is touched. A group taking part in a later programme keeps its
     contacts because that programme's end is later.
   * A group that never applied: 1 year after it was registered.
   * Destroyed: every household's parent name (→ "(파기)"), mobile number, e-mail, district of
     residence and invitation time; the children rows (birth year-month); the group's meeting
     place; the leader's name and meeting place inside application snapshots; attachments of
     applications that were not awarded (a 회원명단 can be one; they are not grant records);
     the before/after of "household deleted its data" audit events (children's birth
     year-months); mail in the outbox to a household address no account or other household
     uses. The group becomes inactive.
   * Kept: the group row (registration number, name, district, 동, activity type, description,
     consent times), the household rows with their role (the number of households and the
     foreign keys), applications with their plans and budgets — the 지원이력 the city keeps
     5 years against duplicate funding (지방보조금법) is group + programme + amounts.

2. Settlement records — 5 years after the settlement was closed (지방보조금법 제16조③, 시행령
   제7조: 계산서·증거서류·첨부서류). Closed = status ``closed``; the day is the KST date of the
   refund's recording or, when nothing was to be returned, of the approval.
   * Destroyed: per expense the vendor (can be a person: 강사), business number, description,
     card approval number, cash reason and finance's reason text, and its receipt file; per
     activity session the place, content, outcome and photos; the results report
     (participants' names), finance's message, the submission snapshots, the interest
     evidence file; the refund's depositor ("모임명(대표자명)") and note; the grant account
     number and holder; payment notes; the awarded application's attachments; the summary and
     before/after of audit events about those expenses, sessions and the refund (they quote
     descriptions and names); the cached settlement PDF.
   * Kept (지원이력 and audit): group number, programme, award amount and status, payments
     (amount, date, instalment, reference), each expense's date, category, method, amount and
     review result, sessions' dates, titles and head counts, interest, recognised amount,
     refund due and refunded amount and date, every state change in the audit trail.

3. Applicant accounts — deactivated and scrubbed (e-mail → ``deleted-user-<id>@invalid``, name,
   phone, password, pending tokens, queued/sent mail and failed-login rows of that address)
   when the account has only the applicant role, belongs to at least one group, every one of
   its groups has had its contacts destroyed, and it has not signed in for 1 year (counted from
   the last sign-in, or from creation if never). The row stays for the foreign keys (who
   recorded an expense, who accepted an award). Why: the account's e-mail, name and phone are
   contact data kept only to act for a group; once every group it served is past its contact
   period, keeping a live login to it has no purpose (제21조), and the person can sign up again
   with the same address. Staff, finance, reviewer and admin accounts are never touched
   (they are the operator's own staff records, not applicants').

4. Registration drafts — what a parent typed in the group registration wizard (the group and
   every household's name, mobile number and e-mail, before anyone consented) goes
   ``REGISTRATION_DRAFT_DAYS`` (a setting, 7 by default; the registration page states it) after
   it was last saved: a draft last saved on Seoul day D is destroyed from D + days + 1 on, when
   the wizard no longer offers it. One transaction and one audit event with the count.

5. Files nobody keeps — stored files no row points at any more, once nothing can ask for them:
   files chosen on a form that came back with a mistake and never saved (pending uploads,
   ``core.files.pending_token``: good for a day), the files of deleted expenses once their
   undo has ended (``deleted_expenses`` rows are forgotten then too), a replaced receipt or
   interest evidence, a removed attachment or photo. Swept once older than the pending
   reference's life and an hour (``UNUSED_FILE_AGE``), and never while a foreign key (any
   column that points at ``stored_files``, read from the schema), a deleted line that can
   still be undone or one of a settlement's last two submissions names them.

6. Sign-in records — failed sign-ins, ended sessions and expired tokens, SIGN_IN_RECORD_DAYS (30)
   after they stopped mattering (accounts/housekeeping.py): they hold e-mail and IP addresses.

Not covered here: reviewers' profiles (the operator's own experts), the programme-wide ZIP exports (transient downloads, rebuilt on request), and
backups, which hold earlier copies and must be pruned on the same schedule.

Every run is idempotent (markers ``contacts_anonymised_at``, ``records_anonymised_at``,
``anonymised_at``). One transaction per group (its contacts and its due settlements) and per
account: a failure rolls back that one, is reported, and the others go on. Each destruction
writes one audit event with counts only. Files leave the disk only after the commit, and only
when no remaining row points at the same content hash. A dry run does the same work inside the
transaction, prints it, and rolls back.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from blueprints.core import audit
from blueprints.core.files import PENDING_MAX_AGE, remove_unreferenced
from blueprints.core.models import utcnow
from blueprints.core.timeutil import kst_datetime, to_kst, today_kst
from extensions import db

CONTACT_YEARS = 1
RECORD_YEARS = 5
ACCOUNT_IDLE_YEARS = 1
REDACTED = "(파기)"
REDACTED_AUDIT = "(보존기간 경과로 내용 파기)"
# A stored file no row holds is swept once older than this: the pending reference a form
# carries (core.files.PENDING_MAX_AGE) has run out an hour before, so no save can still take it.
UNUSED_GRACE = timedelta(hours=1)
UNUSED_FILE_AGE = timedelta(seconds=PENDING_MAX_AGE) + UNUSED_GRACE


# The periods: plain functions --------------------------------------------------------------

def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:          # 29 February → 28 February (민법 제160조③: the month's last day)
        return day.replace(year=day.year + years, day=28)


def period_over(start: date, years: int, today: date) -> bool:
    """True once the period that started on ``start`` has fully run (from the day after its
    anniversary on)."""
    return today > add_years(start, years)


def kst_date(moment) -> date:
    return to_kst(moment).date()


def settlement_closed_on(settlement) -> date | None:
    """The Seoul date the settlement was closed, or None while it is not closed."""
    from blueprints.settlement.models import SettlementState

    if settlement is None or settlement.status != SettlementState.closed:
        return None
    if settlement.refund is not None:
        return kst_date(settlement.refund.created_at)
    return kst_date(settlement.approved_at)


def participation_end(application, award=None) -> date | None:
    """The last day the group took part in the application's programme; None while it still
    does (an award whose settlement is not closed)."""
    end = application.programme.settlement_due
    if award is not None:
        closed_on = settlement_closed_on(getattr(award, "settlement", None))
        if closed_on is None:
            return None
        end = max(end, closed_on)
    return end


def contacts_start(group, applications_with_awards) -> date | None:
    """When the group's contact period starts: the end of its last programme (None = still
    taking part); a group that never applied counts from its registration."""
    if not applications_with_awards:
        return kst_date(group.created_at)
    ends = [participation_end(a, award) for a, award in applications_with_awards]
    if any(end is None for end in ends):
        return None
    return max(ends)


def contacts_due(group, applications_with_awards, today: date) -> bool:
    if group.contacts_anonymised_at is not None:
        return False
    start = contacts_start(group, applications_with_awards)
    return start is not None and period_over(start, CONTACT_YEARS, today)


def records_due(settlement, today: date) -> bool:
    if settlement is None or settlement.records_anonymised_at is not None:
        return False
    closed_on = settlement_closed_on(settlement)
    return closed_on is not None and period_over(closed_on, RECORD_YEARS, today)


def account_due(user, groups, today: date) -> bool:
    """An applicant-only account whose every group has lost its contacts, idle for a year."""
    if user.anonymised_at is not None or not user.roles <= {"applicant"} or not groups:
        return False
    if any(g.contacts_anonymised_at is None for g in groups):
        return False
    last_seen = user.last_login_at or user.created_at
    return period_over(kst_date(last_seen), ACCOUNT_IDLE_YEARS, today)


def drafts_saved_before(today: date, days: int) -> datetime:
    """Drafts last saved before this moment are due: the start of Seoul day ``today - days``
    (a draft saved on day D is kept through D + days)."""
    day = today - timedelta(days=days)
    return kst_datetime(day.year, day.month, day.day)


# The changes: mutate + flush + audit, never commit -------------------------------------------

@dataclass
class Destroyed:
    """What one transaction destroyed: counts for the report and the audit event, and the
    content hashes of the file rows it deleted (unlinked after the commit)."""
    counts: dict = field(default_factory=dict)
    hashes: set = field(default_factory=set)
    pdf_settlements: set = field(default_factory=set)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n


def _drop_files(files, out: Destroyed) -> None:
    db.session.flush()                      # foreign keys to the files are cleared first
    for stored in files:
        if stored is not None:
            out.hashes.add(stored.sha256)
            db.session.delete(stored)
    out.add("files", len([f for f in files if f is not None]))


def _scrub_audit(object_type: str, ids, *, actions=None) -> int:
    from blueprints.core.audit import AuditEvent

    ids = [str(i) for i in ids]
    if not ids:
        return 0
    stmt = select(AuditEvent).where(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(ids))
    if actions:
        stmt = stmt.where(AuditEvent.action.in_(actions))
    events = db.session.scalars(stmt).all()
    for event in events:
        event.summary, event.changes = REDACTED_AUDIT, None
    return len(events)


def anonymise_contacts(group, applications_with_awards, *, now, out: Destroyed) -> None:
    from blueprints.groups.models import GroupState

    members = list(group.members)
    emails = {m.email for m in members if m.email}
    for member in members:
        out.add("children", len(member.children))
        member.children.clear()
        member.parent_name, member.phone, member.email = REDACTED, "", None
        member.resident_district, member.invited_at = None, None
    out.add("households", len(members))
    if group.meeting_place:
        group.meeting_place = ""
    group.status = GroupState.inactive
    group.contacts_anonymised_at = now
    files = []
    for application, award in applications_with_awards:
        if application.snapshot and "group" in application.snapshot:
            snap = json.loads(json.dumps(application.snapshot))
            snap["group"]["leader"], snap["group"]["meeting_place"] = REDACTED, ""
            application.snapshot = snap
        if award is None:
            for attachment in list(application.attachments):
                files.append(attachment.stored_file)
                application.attachments.remove(attachment)
                out.add("attachments")
        if award is not None and getattr(award, "settlement", None) is not None:
            out.pdf_settlements.add(award.settlement.id)
    _drop_files(files, out)
    # "Household deleted its data" events keep the children's birth year-months: drop them.
    from blueprints.core.audit import AuditEvent

    for event in db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "group", AuditEvent.object_id == str(group.id),
            AuditEvent.action == "group.member_data_deleted")):
        event.changes = None
    db.session.flush()
    out.add("mails", _drop_mail_to_unused(emails))
    audit.record("retention.contacts_destroyed", group,
                 summary=f"보존기간(사업 종료 후 {CONTACT_YEARS}년) 경과: 연락처 파기 "
                         f"(가구 {out.counts.get('households', 0)}, 자녀 {out.counts.get('children', 0)})",
                 after={"households": out.counts.get("households", 0), "children": out.counts.get("children", 0),
                        "attachments": out.counts.get("attachments", 0)})


def _drop_mail_to_unused(emails) -> int:
    """Mail sent to addresses that no account and no other household uses any more."""
    from blueprints.accounts.models import User
    from blueprints.core.mail import OutboxMessage
    from blueprints.groups.models import GroupMember

    dropped = 0
    for email in emails:
        used = (db.session.scalar(select(GroupMember.id).where(GroupMember.email == email).limit(1))
                or db.session.scalar(select(User.id).where(User.email == email).limit(1)))
        if not used:
            dropped += db.session.execute(delete(OutboxMessage).where(OutboxMessage.recipient == email)).rowcount or 0
    return dropped


def anonymise_records(settlement, application, *, now, out: Destroyed) -> None:
    from blueprints.settlement.models import ActivitySession, DeletedExpense, Expense

    award = settlement.award
    files = []
    expenses = db.session.scalars(select(Expense).where(Expense.award_id == award.id)).all()
    for e in expenses:
        e.vendor, e.biz_no, e.description = REDACTED, "", REDACTED
        e.approval_no, e.cash_reason = "", ""
        if e.review_reason:
            e.review_reason = REDACTED
        if e.receipt_file_id is not None:
            files.append(e.receipt)
            e.receipt, e.receipt_file_id = None, None
            out.add("receipts")
        for attachment in list(e.attachments):   # 도서목록, 거래명세서, 참석자 명단 …
            files.append(attachment.stored_file)
            e.attachments.remove(attachment)
            out.add("expense_files")
    out.add("expenses", len(expenses))
    db.session.execute(delete(DeletedExpense).where(DeletedExpense.award_id == award.id))   # undo copies
    sessions = db.session.scalars(select(ActivitySession).where(ActivitySession.award_id == award.id)).all()
    for s in sessions:
        s.place, s.content, s.outcome = "", "", ""
        for photo in list(s.photos):
            files.append(photo.stored_file)
            s.photos.remove(photo)
            out.add("photos")
    out.add("sessions", len(sessions))
    settlement.report_text, settlement.staff_message = "", ""
    settlement.snapshot, settlement.previous_snapshot = None, None
    if settlement.interest_file_id is not None:
        files.append(settlement.interest_file)
        settlement.interest_file, settlement.interest_file_id = None, None
        out.add("interest_files")
    settlement.content_version += 1
    settlement.records_anonymised_at = now
    refund = settlement.refund
    if refund is not None:
        refund.depositor, refund.note = REDACTED, ""
    disbursement = getattr(award, "disbursement", None)
    if disbursement is not None:
        disbursement.account_number, disbursement.account_holder = "", REDACTED
        for payment in disbursement.payments:
            payment.note = ""
    for attachment in list(application.attachments):
        files.append(attachment.stored_file)
        application.attachments.remove(attachment)
        out.add("attachments")
    _drop_files(files, out)
    scrubbed = (_scrub_audit("expense", [e.id for e in expenses])
                + _scrub_audit("activity_session", [s.id for s in sessions])
                + _scrub_audit("refund", [refund.id] if refund is not None else [])
                + _scrub_audit("settlement", [settlement.id], actions=("settlement.returned",)))
    out.add("audit_events", scrubbed)
    out.pdf_settlements.add(settlement.id)
    db.session.flush()
    audit.record("retention.records_destroyed", settlement,
                 summary=f"보존기간(정산 종결 후 {RECORD_YEARS}년) 경과: 정산 증빙·개인정보 파기 "
                         f"(집행 {len(expenses)}, 영수증 {out.counts.get('receipts', 0)}, "
                         f"사진 {out.counts.get('photos', 0)})",
                 after={k: out.counts.get(k, 0) for k in ("expenses", "receipts", "expense_files", "sessions", "photos",
                                                          "interest_files", "attachments")})


def anonymise_account(user, *, now, out: Destroyed) -> None:
    from blueprints.accounts.models import AuthToken, LoginAttempt, RecoveryCode, UserSession
    from blueprints.core.mail import OutboxMessage

    old_email = user.email
    out.add("tokens", db.session.execute(delete(AuthToken).where(AuthToken.user_id == user.id)).rowcount or 0)
    # Sessions and the second factor go with the account (nothing to sign in with is left).
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    out.add("mails", db.session.execute(delete(OutboxMessage).where(OutboxMessage.recipient == old_email)).rowcount or 0)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == old_email))
    user.email = f"deleted-user-{user.id}@invalid"
    user.name, user.phone, user.password_hash = "", None, None
    user.is_active = False
    user.session_version += 1
    user.anonymised_at = now
    db.session.flush()
    audit.record("retention.account_destroyed", user,
                 summary=f"보존기간 경과: 신청자 계정 비활성화·개인정보 파기 (계정 #{user.id})")


# Files nobody keeps ----------------------------------------------------------------------------

def sweep_unused_files(now, *, out: Destroyed) -> None:
    """Forget the deleted lines whose undo has ended and delete the stored files nothing holds
    or names, older than UNUSED_FILE_AGE (no commit; the disk after the caller's commit)."""
    from sqlalchemy import exists

    from blueprints.core.files import StoredFile, file_references
    from blueprints.settlement import services as settlement

    cutoff = now - UNUSED_FILE_AGE
    out.add("deleted_expenses", settlement.purge_deleted(before=now - UNUSED_GRACE))
    named = settlement.files_still_named()
    unused = db.session.scalars(select(StoredFile).where(
        StoredFile.created_at < cutoff, *[~exists().where(column == StoredFile.id) for column in file_references()])
        .order_by(StoredFile.id)).all()
    files = [f for f in unused if f.id not in named]
    _drop_files(files, out)
    if out.counts:
        audit.record("retention.unused_files_destroyed", object_type="stored_file",
                     summary=f"쓰지 않는 파일 정리: 파일 {out.counts.get('files', 0)}개, "
                             f"되돌리기가 끝난 삭제 집행내역 {out.counts.get('deleted_expenses', 0)}건",
                     after={k: out.counts.get(k, 0) for k in ("files", "deleted_expenses")})


def destroy_drafts(today: date, *, days: int) -> int:
    """Delete the registration drafts due on ``today``; one audit event with the count."""
    from blueprints.groups.models import RegistrationDraft

    count = db.session.execute(delete(RegistrationDraft).where(
        RegistrationDraft.updated_at < drafts_saved_before(today, days))).rowcount or 0
    if count:
        audit.record("retention.drafts_destroyed", object_type="registration_draft",
                     summary=f"보존기간(마지막 저장 후 {days}일) 경과: 모임 등록 임시저장 {count}건 파기",
                     after={"drafts": count})
    return count


# The run: one transaction per group and per account; files after the commit -----------------

@dataclass
class Report:
    dry_run: bool
    today: date
    done: list = field(default_factory=list)        # (label, counts)
    failures: list = field(default_factory=list)    # (label, error)
    files_unlinked: int = 0

    def summary(self) -> str:
        verb = "파기 대상" if self.dry_run else "파기"
        return (f"{self.today.isoformat()} 기준 {verb} {len(self.done)}건, 실패 {len(self.failures)}건, "
                f"지운 파일 {self.files_unlinked}개" + (" (시험 실행: 바뀐 것 없음)" if self.dry_run else ""))


def _group_ids_to_check() -> list[int]:
    from blueprints.applications.models import Application
    from blueprints.awards.models import Award
    from blueprints.groups.models import Group
    from blueprints.settlement.models import Settlement, SettlementState

    open_contacts = select(Group.id).where(Group.contacts_anonymised_at.is_(None))
    open_records = (select(Application.group_id).join(Award, Award.application_id == Application.id)
                    .join(Settlement, Settlement.award_id == Award.id)
                    .where(Settlement.status == SettlementState.closed, Settlement.records_anonymised_at.is_(None)))
    return sorted(set(db.session.scalars(open_contacts)) | set(db.session.scalars(open_records)))


def _applications_with_awards(group) -> list[tuple]:
    from blueprints.applications.models import Application
    from blueprints.awards.models import Award

    rows = db.session.execute(select(Application, Award).outerjoin(Award, Award.application_id == Application.id)
                              .where(Application.group_id == group.id).order_by(Application.id)).all()
    return [(application, award) for application, award in rows]


def process_group(group, today: date, *, now) -> tuple[Destroyed, list[str]]:
    """Destroy what is due for one group (no commit). Returns what was done and its labels."""
    out, labels = Destroyed(), []
    pairs = _applications_with_awards(group)
    for application, award in pairs:
        settlement = getattr(award, "settlement", None) if award is not None else None
        if records_due(settlement, today):
            anonymise_records(settlement, application, now=now, out=out)
            labels.append(f"{group.reg_no} 정산 #{settlement.id} ({application.programme.title}): 증빙·개인정보 파기")
    if contacts_due(group, pairs, today):
        anonymise_contacts(group, pairs, now=now, out=out)
        labels.append(f"{group.reg_no} {group.name}: 연락처 파기")
    return out, labels


def _drop_pdf_cache(settlement_ids) -> None:
    from blueprints.settlement.documents import cache_dir

    folder = cache_dir()
    for settlement_id in settlement_ids:
        for cached in folder.glob(f"settlement-{settlement_id}-*.pdf"):
            cached.unlink(missing_ok=True)


def _finish(out: Destroyed, report: Report, dry_run: bool) -> None:
    if dry_run:
        db.session.rollback()
        return
    db.session.commit()
    report.files_unlinked += remove_unreferenced(out.hashes)
    _drop_pdf_cache(out.pdf_settlements)


def run(today: date | None = None, *, dry_run: bool = False, echo=lambda line: None) -> Report:
    from blueprints.accounts.models import User
    from blueprints.groups.models import Group, GroupMember

    today = today or today_kst()
    report = Report(dry_run=dry_run, today=today)
    db.session.rollback()               # start clean: every group is its own transaction
    for group_id in _group_ids_to_check():
        now = utcnow()
        group = db.session.get(Group, group_id)
        label = group.reg_no
        try:
            out, labels = process_group(group, today, now=now)
            if not labels:
                db.session.rollback()
                continue
            _finish(out, report, dry_run)
        except Exception as exc:  # noqa: BLE001 - one group's failure must not stop the others
            db.session.rollback()
            report.failures.append((label, f"{type(exc).__name__}: {exc}"))
            echo(f"실패 {label}: {type(exc).__name__}: {exc}")
            continue
        for line in labels:
            report.done.append((line, out.counts))
            echo(("[시험] " if dry_run else "") + line + " " + _counts_text(out.counts))

    members = (select(User.id).join(GroupMember, GroupMember.user_id == User.id)
               .where(User.anonymised_at.is_(None)).distinct())
    for user_id in sorted(db.session.scalars(members)):
        now = utcnow()
        user = db.session.get(User, user_id)
        label = f"계정 #{user.id}"
        try:
            groups = db.session.scalars(select(Group).join(GroupMember, GroupMember.group_id == Group.id)
                                        .where(GroupMember.user_id == user.id)).all()
            if dry_run:
                # In a dry run the groups were rolled back: judge them as they would be.
                groups = [_as_if_done(g, report) for g in groups]
            if not account_due(user, groups, today):
                db.session.rollback()
                continue
            out = Destroyed()
            anonymise_account(user, now=now, out=out)
            _finish(out, report, dry_run)
        except Exception as exc:  # noqa: BLE001
            db.session.rollback()
            report.failures.append((label, f"{type(exc).__name__}: {exc}"))
            echo(f"실패 {label}: {type(exc).__name__}: {exc}")
            continue
        line = f"{label}: 비활성화·개인정보 파기"
        report.done.append((line, out.counts))
        echo(("[시험] " if dry_run else "") + line)

    from flask import current_app

    try:
        drafts = destroy_drafts(today, days=current_app.config["REGISTRATION_DRAFT_DAYS"])
        if drafts:
            _finish(Destroyed(), report, dry_run)
        else:
            db.session.rollback()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        report.failures.append(("모임 등록 임시저장", f"{type(exc).__name__}: {exc}"))
        echo(f"실패 모임 등록 임시저장: {type(exc).__name__}: {exc}")
    else:
        if drafts:
            line = f"모임 등록 임시저장 {drafts}건: 파기"
            report.done.append((line, {"drafts": drafts}))
            echo(("[시험] " if dry_run else "") + line)

    out = Destroyed()
    try:
        sweep_unused_files(utcnow(), out=out)
        if not out.counts:
            db.session.rollback()
        else:
            _finish(out, report, dry_run)
            line = "쓰지 않는 파일 정리"
            report.done.append((line, out.counts))
            echo(("[시험] " if dry_run else "") + line + " " + _counts_text(out.counts))
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        report.failures.append(("쓰지 않는 파일", f"{type(exc).__name__}: {exc}"))
        echo(f"실패 쓰지 않는 파일: {type(exc).__name__}: {exc}")

    from blueprints.accounts.housekeeping import purge_stale_sign_in_records

    try:
        counts = purge_stale_sign_in_records(utcnow(), dry_run=dry_run)
        if not dry_run:
            db.session.commit()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        report.failures.append(("로그인 기록", f"{type(exc).__name__}: {exc}"))
        echo(f"실패 로그인 기록: {type(exc).__name__}: {exc}")
    else:
        if any(counts.values()):
            line = "로그인 기록 정리"
            report.done.append((line, counts))
            echo(("[시험] " if dry_run else "") + line + " " + _counts_text(counts))
    return report


@dataclass
class _Planned:
    contacts_anonymised_at: object


def _as_if_done(group, report: Report):
    planned = any(line.startswith(f"{group.reg_no} ") and line.endswith("연락처 파기") for line, _ in report.done)
    return _Planned(group.contacts_anonymised_at or (utcnow() if planned else None))


COUNT_LABELS = {"households": "가구", "children": "자녀", "attachments": "첨부", "expenses": "집행",
                "receipts": "영수증", "expense_files": "기타 증빙", "sessions": "활동", "photos": "사진", "interest_files": "이자증빙",
                "files": "파일", "deleted_expenses": "삭제한 집행내역", "audit_events": "감사기록", "tokens": "토큰", "mails": "메일",
                "login_attempts": "로그인 실패", "user_sessions": "로그인 세션", "drafts": "임시저장"}


def _counts_text(counts: dict) -> str:
    parts = [f"{COUNT_LABELS.get(k, k)} {v}" for k, v in counts.items() if v]
    return "(" + ", ".join(parts) + ")" if parts else ""
