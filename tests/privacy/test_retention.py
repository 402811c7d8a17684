"""Retention: contacts go one year after a group's last programme ended, settlement evidence
five years after the settlement closed, idle applicant accounts after their groups — judged on
Seoul dates, exactly at the boundaries; amounts stay; files leave the disk; idempotent."""
import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from blueprints.accounts.models import User
from blueprints.core.audit import AuditEvent
from blueprints.core.files import StoredFile
from blueprints.core.timeutil import kst_datetime
from blueprints.groups.models import Child, Group, GroupMember
from blueprints.privacy import retention
from blueprints.privacy.retention import REDACTED, add_years, period_over, run
from blueprints.settlement import services as s
from blueprints.settlement.models import ActivityPhoto, Expense, Settlement
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

# Refund recorded 2027-07-15 00:30 in Seoul = 2027-07-14 15:30 UTC: a UTC date would be a day early.
CLOSED_AT = kst_datetime(2027, 7, 15, 0, 30)
RECORDS_LAST_KEPT = date(2032, 7, 15)     # closed 2027-07-15 + 5 years
CONTACTS_LAST_KEPT = date(2028, 7, 15)    # programme ended (closed 2027-07-15, later than due 06-30) + 1 year


def next_day(day):
    return date.fromordinal(day.toordinal() + 1)


@pytest.fixture
def closed_settlement(paid_award, finance):
    """(leader, treasurer, award, settlement) spent with a receipt and a session photo, approved,
    refund received — closed at CLOSED_AT."""
    def make(email="leader@example.kr", receipt_color=(200, 180, 160), **kwargs):
        leader, treasurer, award = paid_award(email=email, **kwargs)
        expense = s.save_expense(award, expense_in(description="만들기 재료 (김민지 님 댁)"), user=treasurer,
                                 receipt=Upload(jpeg_bytes(color=receipt_color), "영수증.jpg"))
        s.save_session(award, held_on=date(2027, 4, 20), title="숲놀이", place="불광천 입구",
                       content="김민지, 이서연 가족 참여", households=5, adults=6, children=7, outcome="즐거웠다",
                       photos=[Upload(jpeg_bytes(color=(10, 20, receipt_color[2])), "사진.jpg")], user=treasurer)
        settlement = s.settlement_for(award, create=True)
        s.save_settlement(settlement, report_text="참여자: 김민지, 이서연", interest_won=0, user=treasurer)
        s.submit(settlement, user=treasurer)
        s.review_line(expense, decision="recognised", reason="", user=finance)
        s.approve(settlement, user=finance)
        refund = s.record_refund(settlement, amount_won=settlement.refund_due_won, received_on=date(2027, 6, 10),
                                 depositor=s.expected_depositor(settlement), user=finance)
        refund.created_at = CLOSED_AT
        db.session.commit()
        return leader, treasurer, award, settlement

    return make


def test_periods_end_on_the_anniversary_and_29_february_falls_on_the_28th():
    assert add_years(date(2027, 7, 15), 5) == date(2032, 7, 15)
    assert add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert not period_over(date(2027, 7, 15), 5, date(2032, 7, 15))
    assert period_over(date(2027, 7, 15), 5, date(2032, 7, 16))


def test_settlement_records_are_kept_through_five_years_then_destroyed_amounts_kept(closed_settlement, app):
    leader, treasurer, award, settlement = closed_settlement()
    expense = db.session.scalar(select(Expense))
    receipt_path = expense.receipt.path()
    photo_path = db.session.scalar(select(ActivityPhoto)).stored_file.path()
    assert receipt_path.exists() and photo_path.exists()
    refund_due = settlement.refund_due_won

    run(today=RECORDS_LAST_KEPT)
    db.session.expire_all()
    expense = db.session.get(Expense, expense.id)
    assert expense.description.startswith("만들기 재료") and expense.receipt_file_id is not None
    assert receipt_path.exists() and photo_path.exists()
    assert db.session.get(Settlement, settlement.id).report_text.startswith("참여자")

    report = run(today=next_day(RECORDS_LAST_KEPT))
    assert not report.failures and report.files_unlinked == 2
    db.session.expire_all()
    row = db.session.get(Settlement, settlement.id)
    expense = db.session.get(Expense, expense.id)
    assert (expense.description, expense.vendor, expense.biz_no, expense.receipt_file_id) == (REDACTED, REDACTED, "", None)
    assert not receipt_path.exists() and not photo_path.exists()
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
    assert db.session.scalar(select(func.count()).select_from(ActivityPhoto)) == 0
    session = s.sessions(award)[0]
    assert (session.place, session.content, session.outcome) == ("", "", "")
    assert (session.title, session.households, session.children) == ("숲놀이", 5, 7)
    assert row.report_text == "" and row.snapshot is None and row.records_anonymised_at is not None
    assert row.refund.depositor == REDACTED and award.disbursement.account_number == ""
    # What the 5-year support history and audit need stays.
    assert (expense.amount_won, expense.category, expense.spent_on, expense.review_status) == (
        50_000, "materials", date(2027, 4, 10), "recognised")
    assert (award.amount_won, award.disbursement.paid_won, row.recognised_won, row.refund_due_won,
            row.refund.amount_won, row.status) == (800_000, 800_000, 50_000, refund_due, refund_due, "closed")
    assert award.application.group.reg_no.startswith("G-")
    # One event per destruction, with counts and no personal data; old events no longer quote it.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("retention.%"))).all()
    assert {e.action for e in events} >= {"retention.records_destroyed", "retention.contacts_destroyed"}
    everything = json.dumps([(e.summary, e.changes) for e in db.session.scalars(select(AuditEvent))],
                            ensure_ascii=False)
    assert "김민지" not in everything and "김대표" not in everything


def test_contacts_are_kept_one_year_after_the_programme_ended_then_destroyed(closed_settlement):
    from blueprints.core.mail import OutboxMessage, queue_email

    leader, treasurer, award, settlement = closed_settlement()
    group = award.application.group
    group.members[3].email = "household4@example.kr"          # invited, never signed up
    queue_email("household4@example.kr", "[초대] 모임", "가입해 주세요")
    db.session.commit()
    phones = [m.phone for m in group.members]

    run(today=CONTACTS_LAST_KEPT)
    db.session.expire_all()
    group = db.session.get(Group, group.id)
    assert [m.phone for m in group.members] == phones and group.contacts_anonymised_at is None
    assert db.session.scalar(select(func.count()).select_from(Child)) == 5

    report = run(today=next_day(CONTACTS_LAST_KEPT))
    assert [line for line, _ in report.done][0] == f"{group.reg_no} {group.name}: 연락처 파기"
    db.session.expire_all()
    group = db.session.get(Group, group.id)
    assert all((m.parent_name, m.phone, m.email, m.resident_district) == (REDACTED, "", None, None)
               for m in group.members)
    assert len(group.members) == 5 and {m.role for m in group.members} == {"leader", "treasurer", "member"}
    assert db.session.scalar(select(func.count()).select_from(Child)) == 0
    assert (group.meeting_place, group.status) == ("", "inactive") and group.reg_no and group.name
    assert award.application.snapshot["group"]["leader"] == REDACTED
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.recipient == "household4@example.kr")) == 0
    # Settlement evidence is still inside its five years: untouched.
    expense = db.session.scalar(select(Expense))
    assert expense.description.startswith("만들기 재료") and expense.receipt.path().exists()
    # The officers' accounts, created now (2026) and never used since, go with the group.
    assert db.session.get(User, leader.id).anonymised_at is not None


def test_a_group_taking_part_in_a_later_programme_keeps_its_contacts(closed_settlement, open_programme):
    from blueprints.applications import services as app_services

    leader, treasurer, award, settlement = closed_settlement()
    group = award.application.group
    later = open_programme(activity_start=date(2028, 4, 1), activity_end=date(2028, 10, 31),
                           settlement_due=date(2028, 11, 30))
    app_services.start_application(group, later, user=leader)
    db.session.commit()

    report = run(today=next_day(CONTACTS_LAST_KEPT))
    assert report.done == []
    db.session.expire_all()
    assert db.session.get(Group, group.id).contacts_anonymised_at is None
    assert db.session.get(User, leader.id).is_active
    assert run(today=date(2029, 11, 30)).done == []                 # later programme's end + 1 year
    assert run(today=date(2029, 12, 1)).done != []
    db.session.expire_all()
    assert db.session.get(Group, group.id).contacts_anonymised_at is not None


def test_an_unclosed_settlement_keeps_everything(paid_award):
    leader, treasurer, award = paid_award()
    assert run(today=date(2040, 1, 1)).done == []
    db.session.expire_all()
    assert db.session.get(Group, award.application.group.id).members[0].phone != ""


def test_running_twice_changes_nothing_more(closed_settlement):
    closed_settlement()
    day = next_day(RECORDS_LAST_KEPT)
    first = run(today=day)
    assert len(first.done) == 4       # records, contacts, two accounts
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    second = run(today=day)
    assert second.done == [] and second.failures == [] and second.files_unlinked == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_dry_run_reports_and_changes_nothing(closed_settlement):
    leader, treasurer, award, settlement = closed_settlement()
    receipt = db.session.scalar(select(Expense)).receipt.path()
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    lines = []
    report = run(today=next_day(RECORDS_LAST_KEPT), dry_run=True, echo=lines.append)
    assert len(report.done) == 4 and any("연락처 파기" in line for line in lines)
    assert any(line.startswith("[시험] 계정") for line in lines)
    db.session.expire_all()
    assert receipt.exists()
    assert db.session.scalar(select(Expense)).description.startswith("만들기 재료")
    assert db.session.get(Group, award.application.group.id).contacts_anonymised_at is None
    assert db.session.get(User, leader.id).email == leader.email
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_accounts_only_when_applicant_only_all_groups_done_and_idle(closed_settlement, make_user, leader_group):
    leader, treasurer, award, settlement = closed_settlement()
    # The treasurer signed in recently; the leader never since creation (2026).
    treasurer.last_login_at = kst_datetime(2027, 7, 20)
    db.session.commit()
    day = date(2028, 7, 20)     # contacts due (after 2028-07-15); treasurer idle until 2028-07-20
    run(today=day)
    db.session.expire_all()
    user = db.session.get(User, leader.id)
    assert (user.email, user.name, user.phone, user.password_hash, user.is_active) == (
        f"deleted-user-{user.id}@invalid", "", None, None, False)
    assert db.session.get(GroupMember, award.application.group.leader.id).user_id == user.id   # row kept
    assert db.session.get(User, treasurer.id).is_active                                         # signed in 2027-07-20
    run(today=next_day(day))
    db.session.expire_all()
    assert not db.session.get(User, treasurer.id).is_active


def test_an_account_with_a_live_group_or_a_staff_role_stays(closed_settlement, leader_group, make_user):
    from blueprints.accounts.models import UserRole

    leader, treasurer, award, settlement = closed_settlement()
    # The treasurer also belongs to another group that never applied and was registered later.
    other_leader, _, other = leader_group("other@example.kr")
    other.created_at = kst_datetime(2028, 1, 10)
    db.session.add(GroupMember(group_id=other.id, user_id=treasurer.id, parent_name="이회계", phone="01055556666"))
    leader.role_rows.append(UserRole(role="staff"))
    db.session.commit()
    run(today=date(2028, 12, 1))
    db.session.expire_all()
    assert db.session.get(User, treasurer.id).is_active and db.session.get(User, leader.id).is_active
    assert db.session.get(Group, other.id).contacts_anonymised_at is None
    run(today=date(2029, 1, 11))     # the other group's registration + 1 year has run
    db.session.expire_all()
    assert db.session.get(Group, other.id).contacts_anonymised_at is not None
    assert not db.session.get(User, treasurer.id).is_active
    assert db.session.get(User, leader.id).is_active            # staff are never anonymised


def test_one_failing_group_is_rolled_back_and_reported_the_others_go_on(closed_settlement, monkeypatch):
    _, _, first, _ = closed_settlement(email="a@example.kr", receipt_color=(1, 1, 1))
    _, _, second, _ = closed_settlement(email="b@example.kr", receipt_color=(2, 2, 2))
    failing = first.application.group.id
    real = retention.anonymise_records

    def boom(settlement, application, **kwargs):
        real(settlement, application, **kwargs)
        if application.group_id == failing:
            raise RuntimeError("disk on fire")
    monkeypatch.setattr(retention, "anonymise_records", boom)
    report = run(today=next_day(RECORDS_LAST_KEPT))
    assert report.failures == [(first.application.group.reg_no, "RuntimeError: disk on fire")]
    db.session.expire_all()
    rows = {e.award_id: e for e in db.session.scalars(select(Expense))}
    assert rows[first.id].description != REDACTED and rows[first.id].receipt.path().exists()
    assert db.session.get(Group, failing).contacts_anonymised_at is None
    assert rows[second.id].description == REDACTED


def test_a_file_shared_with_a_kept_record_stays_on_disk(closed_settlement, paid_award):
    closed_settlement(receipt_color=(7, 7, 7))
    _, treasurer, open_award = paid_award(email="open@example.kr")
    kept = s.save_expense(open_award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(color=(7, 7, 7)), "x.jpg"))
    db.session.commit()
    run(today=next_day(RECORDS_LAST_KEPT))
    db.session.expire_all()
    assert db.session.get(Expense, kept.id).receipt.path().exists()


def test_the_cli_prints_and_applies(closed_settlement, runner):
    leader, treasurer, award, settlement = closed_settlement()
    day = next_day(RECORDS_LAST_KEPT).isoformat()
    dry = runner.invoke(args=["retention", "--dry-run", "--today", day])
    assert dry.exit_code == 0, dry.output
    assert "연락처 파기" in dry.output and "시험 실행" in dry.output
    db.session.expire_all()
    assert db.session.scalar(select(Expense)).description != REDACTED
    real = runner.invoke(args=["retention", "--today", day])
    assert real.exit_code == 0, real.output
    assert "파기 4건, 실패 0건, 지운 파일 2개" in real.output
    db.session.expire_all()
    assert db.session.scalar(select(Expense)).description == REDACTED


def test_the_other_evidence_files_and_undo_copies_of_a_line_go_with_the_records(closed_settlement):
    """An expense's 도서목록/거래명세서… (expense_attachments) leave the disk with its receipt,
    and a deleted line's undo copy (deleted_expenses) is forgotten."""
    from datetime import timedelta

    from blueprints.core.files import store_upload
    from blueprints.settlement.models import DeletedExpense, ExpenseAttachment

    leader, treasurer, award, settlement = closed_settlement()
    expense = db.session.scalar(select(Expense))
    stored = store_upload(Upload(jpeg_bytes(color=(5, 5, 5)), "도서목록.jpg"), user=treasurer)
    expense.attachments.append(ExpenseAttachment(stored_file_id=stored.id, kind="book_list"))
    db.session.add(DeletedExpense(award_id=award.id, expense_id=999, summary="김민지 님 댁 간식", data={"vendor": "김민지"},
                                  undo_until=CLOSED_AT + timedelta(days=9999)))
    db.session.commit()
    path = stored.path()
    report = run(today=next_day(RECORDS_LAST_KEPT))
    assert not report.failures
    assert not path.exists()
    assert db.session.scalar(select(func.count()).select_from(ExpenseAttachment)) == 0
    assert db.session.scalar(select(func.count()).select_from(DeletedExpense)) == 0
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


# Registration drafts: what a parent typed in the wizard (other households' names and numbers,
# before anyone consented) goes REGISTRATION_DRAFT_DAYS after it was last saved -----------------

def _draft(user, saved_at):
    from blueprints.groups.models import RegistrationDraft

    draft = RegistrationDraft(user_id=user.id, step=2, updated_at=saved_at,
                              data={"name": "햇살품앗이", "households": [{"parent_name": "박보호", "phone": "01033330001"}]})
    db.session.add(draft)
    db.session.commit()
    return draft.id


def _drafts():
    from blueprints.groups.models import RegistrationDraft

    return set(db.session.scalars(select(RegistrationDraft.user_id)))


def test_registration_drafts_go_the_setting_s_days_after_their_last_save_audited_with_a_count(app, make_user,
                                                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_DRAFT_DAYS", 30)
    old = make_user("old@example.kr")
    recent = make_user("recent@example.kr")
    _draft(old, kst_datetime(2027, 3, 1, 23, 50))       # saved on 1 March in Seoul (14:50 UTC)
    _draft(recent, kst_datetime(2027, 3, 2, 0, 10))     # 2 March in Seoul, though 1 March in UTC
    assert run(today=date(2027, 3, 31)).done == []      # 1 March + 30 days: still kept that day
    assert _drafts() == {old.id, recent.id}
    report = run(today=date(2027, 4, 1))
    assert _drafts() == {recent.id}
    assert [line for line, _ in report.done] == ["모임 등록 임시저장 1건: 파기"]
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.drafts_destroyed")).all()
    assert "30일" in event.summary and "햇살" not in (event.summary + (event.changes or ""))
    assert json.loads(event.changes)["after"] == {"drafts": 1}
    run(today=date(2027, 4, 2))
    assert _drafts() == set()


def test_a_draft_sweep_is_not_recorded_when_nothing_was_due_and_a_dry_run_keeps_the_drafts(app, make_user,
                                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_DRAFT_DAYS", 7)
    user = make_user("old@example.kr")
    _draft(user, kst_datetime(2027, 3, 1, 12, 0))
    run(today=date(2027, 3, 8))
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "retention.drafts_destroyed")) == 0
    lines = []
    report = run(today=date(2027, 3, 9), dry_run=True, echo=lines.append)
    assert _drafts() == {user.id} and lines == ["[시험] 모임 등록 임시저장 1건: 파기"]
    assert report.done and db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "retention.drafts_destroyed")) == 0
