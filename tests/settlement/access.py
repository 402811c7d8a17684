"""The disbursement and settlement rows of the access-control table (tests/test_access_control.py
merges them into ROUTES) and the objects they need in its `world`: group A holds two awards —
one being spent (draft settlement, one expense with a receipt, one session with a photo) and
one whose settlement is submitted for review."""
import io
from datetime import date

from extensions import db


def _expect(default, **overrides):
    table = {role: default for role in ("applicant_a", "applicant_b", "reviewer", "reviewer_b", "staff", "finance", "admin",
                                         "city")}
    table["anon"] = "login"
    table.update(overrides)
    return table


OK = "ok"
READERS = _expect(403, applicant_a=200, staff=200, finance=200)
OFFICER = _expect(403, applicant_a=OK)
FINANCE = _expect(403, finance=OK)
FINANCE_STAFF = _expect(403, finance=200, staff=200)

SETTLEMENT_ROUTES = {
    ("disbursement.show_award", "GET"): ("/disbursement/awards/{award_a}", None, READERS),
    ("disbursement.show_award", "POST"): ("/disbursement/awards/{award_a}", {"bank": ""}, OFFICER),
    ("disbursement.record_payment", "POST"): ("/disbursement/awards/{award_a}/payments", {"instalment": "1"}, FINANCE),
    ("disbursement.reveal_account", "POST"): ("/disbursement/awards/{award_a}/account", {}, FINANCE),
    ("disbursement.mid_check", "POST"): ("/disbursement/awards/{award_a}/mid-check", {}, FINANCE),
    ("disbursement.dashboard", "GET"): ("/disbursement/", None, FINANCE_STAFF),
    ("disbursement.export_payments", "GET"): ("/disbursement/payments.csv", None, FINANCE_STAFF),
    ("settlement.expenses", "GET"): ("/settlement/awards/{award_a}/expenses", None, READERS),
    ("settlement.expenses", "POST"): ("/settlement/awards/{award_a}/expenses", {"vendor": ""}, OFFICER),
    ("settlement.check_expense", "POST"): ("/settlement/awards/{award_a}/expenses/check", {"vendor": "x"}, OFFICER),
    ("settlement.balance", "GET"): ("/settlement/awards/{award_a}/balance", None, READERS),
    ("settlement.edit_expense", "GET"): ("/settlement/expenses/{expense_a}/edit", None, _expect(403, applicant_a=200)),
    ("settlement.edit_expense", "POST"): ("/settlement/expenses/{expense_a}/edit", {"vendor": ""}, OFFICER),
    ("settlement.delete_expense", "GET"): ("/settlement/expenses/{expense_a}/delete", None, _expect(403, applicant_a=200)),
    ("settlement.delete_expense", "POST"): ("/settlement/expenses/{expense_a}/delete", {}, OFFICER),
    ("settlement.undo_delete", "POST"): ("/settlement/deleted-expenses/{deleted_a}/undo", {}, OFFICER),
    ("settlement.pending_thumbnail", "GET"): ("/settlement/awards/{award_a}/pending/{pending_a}/thumbnail", None,
                                              _expect(403, applicant_a=200)),
    ("settlement.attachment", "GET"): ("/settlement/expense-attachments/{attachment_a}", None,
                                       _expect(403, applicant_a=200, staff=200, finance=200, admin=200)),
    ("settlement.attachment_thumbnail", "GET"): ("/settlement/expense-attachments/{attachment_a}/thumbnail", None,
                                                 _expect(403, applicant_a=200, staff=200, finance=200, admin=200)),
    ("settlement.receipt", "GET"): ("/settlement/expenses/{expense_a}/receipt", None,
                                    _expect(403, applicant_a=200, staff=200, finance=200, admin=200)),
    ("settlement.receipt_thumbnail", "GET"): ("/settlement/expenses/{expense_a}/receipt/thumbnail", None,
                                              _expect(403, applicant_a=200, staff=200, finance=200, admin=200)),
    ("settlement.activity", "GET"): ("/settlement/awards/{award_a}/sessions", None, READERS),
    ("settlement.activity", "POST"): ("/settlement/awards/{award_a}/sessions", {"title": ""}, OFFICER),
    ("settlement.edit_session", "GET"): ("/settlement/sessions/{session_a}/edit", None, _expect(403, applicant_a=200)),
    ("settlement.edit_session", "POST"): ("/settlement/sessions/{session_a}/edit", {"edit-title": ""}, OFFICER),
    ("settlement.delete_session", "POST"): ("/settlement/sessions/{session_a}/delete", {}, OFFICER),
    ("settlement.photo", "GET"): ("/settlement/photos/{photo_a}", None,
                                  _expect(403, applicant_a=200, staff=200, finance=200, admin=200)),
    ("settlement.photo_thumbnail", "GET"): ("/settlement/photos/{photo_a}/thumbnail", None,
                                            _expect(403, applicant_a=200, staff=200, finance=200, admin=200)),
    ("settlement.settlement", "GET"): ("/settlement/awards/{award_a}", None, READERS),
    ("settlement.settlement", "POST"): ("/settlement/awards/{award_a}", {"interest_won": "x"}, OFFICER),
    ("settlement.interest_evidence", "GET"): ("/settlement/{settlement_s}/interest-evidence", None,
                                              _expect(403, applicant_a=200, staff=200, finance=200, admin=200)),
    ("settlement.submit", "POST"): ("/settlement/{settlement_a}/submit", {}, OFFICER),
    ("settlement.pdf", "GET"): ("/settlement/{settlement_a}/pdf", None, READERS),
    ("settlement.redraft_report", "POST"): ("/settlement/{settlement_a}/report/redraft", {}, OFFICER),
    ("settlement.submitted_receipt_thumbnail", "GET"): ("/settlement/{settlement_s}/submitted-receipts/{receipt_s}/thumbnail",
                                                        None, _expect(403, applicant_a=200, staff=200, finance=200, admin=200)),
    ("settlement.review", "GET"): ("/settlement/review/{settlement_s}", None, FINANCE_STAFF),
    ("settlement.review_line", "POST"): ("/settlement/review/{settlement_s}/lines/{expense_s}", {"decision": "x"}, FINANCE),
    ("settlement.return_settlement", "POST"): ("/settlement/review/{settlement_s}/return", {"message": ""}, FINANCE),
    ("settlement.approve", "POST"): ("/settlement/review/{settlement_s}/approve", {}, FINANCE),
    # A refund is recorded only on an approved settlement; the world's is submitted, so finance gets 403 too.
    ("settlement.record_refund", "POST"): ("/settlement/review/{settlement_s}/refund", {}, _expect(403)),
    ("settlement.programme_list", "GET"): ("/settlement/programme/{money_programme}", None, FINANCE_STAFF),
    ("settlement.start_zip", "POST"): ("/settlement/programme/{money_programme}/zip", {}, FINANCE),
    ("settlement.job", "GET"): ("/settlement/jobs/{job}", None, _expect(403, finance=200)),
    ("settlement.job_download", "GET"): ("/settlement/jobs/{job}/download", None, _expect(403, finance=404)),
    ("settlement.export", "GET"): ("/settlement/programme/{money_programme}/expenses.csv", None, FINANCE_STAFF),
}

PNG_1x1 = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
           b"\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\r\xefF\xb8\x00\x00\x00\x00IEND\xaeB`\x82")


class _Upload(io.BytesIO):
    filename = "receipt.png"


def settlement_world(users, group_a, make_programme) -> dict:
    from blueprints.settlement import services as s

    from unittest import mock

    from blueprints.disbursement import services as d

    # spending and payments dated in the programme year
    with mock.patch.object(s, "today_kst", lambda: date(2027, 6, 10)), \
            mock.patch.object(d, "today_kst", lambda: date(2027, 6, 10)):
        return _build(users, group_a, make_programme)


def _build(users, group_a, make_programme) -> dict:
    from blueprints.applications.models import Application, BudgetLine
    from blueprints.awards.models import Award
    from blueprints.core.models import utcnow
    from blueprints.disbursement import services as d
    from blueprints.settlement import services as s
    from blueprints.settlement.checks import ExpenseIn
    from blueprints.settlement.models import ExportJob

    leader, finance = users["applicant_a"], users["finance"]
    programme = make_programme(activity_start=date(2027, 4, 1), activity_end=date(2027, 5, 31),
                               settlement_due=date(2027, 6, 30))
    second = make_programme(activity_start=date(2027, 4, 1), activity_end=date(2027, 5, 31),
                            settlement_due=date(2027, 6, 30))
    awards = []
    for rank, prog in enumerate((programme, second), 1):
        application = Application(group_id=group_a.id, programme_id=prog.id, status="selected", submitted_at=utcnow(),
                                  requested_won=300_000)
        application.lines.append(BudgetLine(category="materials", item="재료", unit_price_won=10_000, quantity=30,
                                            amount_won=300_000))
        db.session.add(application)
        db.session.flush()
        award = Award(application_id=application.id, programme_id=prog.id, amount_won=300_000, rank=rank,
                      decided_at=utcnow())
        db.session.add(award)
        db.session.flush()
        disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="에이", user=leader)
        d.record_payment(disb, instalment=1, amount_won=300_000, paid_on=date(2027, 3, 28), reference="",
                         idempotency_key=f"world-{rank}", user=finance)
        expense = s.save_expense(award, ExpenseIn(spent_on=date(2027, 4, 10), category="materials", vendor="문구점",
                                                  description="만들기 재료", amount_won=30_000, method="clean_card",
                                                  participants=5),
                                 user=leader, receipt=_Upload(PNG_1x1), attachments=[(_Upload(PNG_1x1), "book_list")])
        session = s.save_session(award, held_on=date(2027, 4, 10), title="놀이", place="방", content="", households=5,
                                 adults=5, children=6, outcome="", photos=[_Upload(PNG_1x1)], user=leader)
        settlement = s.settlement_for(award, create=True)
        awards.append((award, expense, session, settlement))
    (award_a, expense_a, session_a, settlement_a), (_, expense_s, _, settlement_s) = awards
    # A line deleted a moment ago (its undo still open) and a file kept from a form that came back.
    gone = s.save_expense(award_a, ExpenseIn(spent_on=date(2027, 4, 11), category="materials", vendor="문구점",
                                             description="색종이", amount_won=5_000, method="clean_card", participants=5),
                          user=leader, receipt=_Upload(PNG_1x1))
    deleted = s.delete_expense(gone, user=leader, undo_seconds=3600)
    from blueprints.core.files import pending_token, store_upload

    pending = pending_token(store_upload(_Upload(PNG_1x1), user=leader), user=leader, scope=f"award:{award_a.id}")
    s.save_settlement(settlement_s, report_text="활동했습니다", interest_won=120, interest_file=_Upload(PNG_1x1),
                      user=leader)
    s.submit(settlement_s, user=leader)
    job = ExportJob(programme_id=programme.id, created_by_id=finance.id)
    db.session.add(job)
    db.session.commit()
    return dict(award_a=award_a.id, expense_a=expense_a.id, attachment_a=expense_a.attachments[0].id,
                deleted_a=deleted.id, pending_a=pending, photo_a=session_a.photos[0].id, session_a=session_a.id,
                settlement_a=settlement_a.id, settlement_s=settlement_s.id, expense_s=expense_s.id,
                receipt_s=expense_s.receipt_file_id,
                money_programme=programme.id, job=job.id)
