"""Concurrent submits, scores, payments and approvals against the live server: several
signed-in browsers (or tabs of one) fire the same or competing POSTs at one moment.

Each case checks what must hold whatever order the database picks: exactly one effective
change (one submission, one payment, one approval) with one audit event; the others get a
clear answer (303 "already done" or 422 with the reason), never a 500; no request hangs;
and the tables gain exactly the rows that one effective change makes, nothing more."""
from datetime import date

from sqlalchemy import func, select

from blueprints.applications.models import Application
from blueprints.core.audit import AuditEvent
from blueprints.core.timeutil import today_kst
from blueprints.disbursement import services as d
from blueprints.disbursement.models import Disbursement, Payment
from blueprints.review import services as review
from blueprints.review.models import ReviewAssignment, Score
from blueprints.settlement import services as s
from blueprints.settlement.models import Expense, Settlement
from extensions import db
from tests.concurrency.conftest import added_rows, fire, row_counts
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

TABS = 8


def events(action, object_id=None):
    query = select(func.count(AuditEvent.id)).where(AuditEvent.action == action)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    return db.session.scalar(query)


# Submits --------------------------------------------------------------------------------------

def test_one_application_submitted_from_eight_tabs_at_once_is_submitted_once(complete_application, browser):
    leader, _, application = complete_application()
    leader_browser = browser(leader.email)
    tabs = [leader_browser.tab() for _ in range(TABS)]
    before = row_counts()

    answers = fire([lambda t=t: t.post(f"/applications/{application.id}/submit", {"confirm": "y"}) for t in tabs])

    # Every tab lands on the application page: "submitted" once, "already submitted" for the rest.
    assert {a.status for a in answers} == {303}, [(a.status, a.body[:200]) for a in answers]
    assert all(a.location.endswith(f"/applications/{application.id}") for a in answers)
    row = db.session.get(Application, application.id)
    assert (row.status, row.submission_count) == ("submitted", 1)
    assert row.snapshot["submission"] == 1 and row.snapshot["total_won"] == 360_000
    assert events("application.submitted") == 1
    # One audit event and one e-mail to each officer (leader, treasurer): nothing else.
    assert added_rows(before) == {"audit_events": 1, "outbox_messages": 2}


def test_different_groups_submitting_at_the_same_moment_all_succeed(open_programme, complete_application, browser):
    programme = open_programme()
    made = [complete_application(programme, email=f"leader{i}@example.kr") for i in range(6)]
    browsers = [browser(leader.email) for leader, _, _ in made]
    before = row_counts()

    answers = fire([lambda b=b, a=a: b.post(f"/applications/{a.id}/submit", {"confirm": "y"})
                    for b, (_, _, a) in zip(browsers, made)])

    assert [a.status for a in answers] == [303] * 6
    rows = db.session.scalars(select(Application).where(Application.programme_id == programme.id)).all()
    assert sorted((r.status, r.submission_count) for r in rows) == [("submitted", 1)] * 6
    assert events("application.submitted") == 6
    assert added_rows(before) == {"audit_events": 6, "outbox_messages": 12}


# Scores ---------------------------------------------------------------------------------------

def _score_form(rubric, minus, action):
    """All criteria at (max − minus): each tab's version has its own total."""
    data = {f"score-{c['code']}": str(int(c["max"]) - minus) for c in rubric}
    data.update({f"comment-{c['code']}": f"의견 {minus}" for c in rubric})
    data["action"] = action
    data["confirm"] = "1"  # a submission is sent from its confirmation
    return data


def test_same_reviewer_saving_and_submitting_from_several_tabs_keeps_one_whole_version(submitted, make_reviewers,
                                                                                        staff, browser):
    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    item = review.assign(application, reviewer, user=staff)
    db.session.commit()
    rubric = review.rubric(programme)
    reviewer_browser = browser(reviewer.email)
    tabs = [reviewer_browser.tab() for _ in range(6)]
    versions = [_score_form(rubric, i, "submit" if i % 2 else "save") for i in range(6)]
    before = row_counts()

    answers = fire([lambda t=t, v=v: t.post(f"/review/assignment/{item.id}", v) for t, v in zip(tabs, versions)])

    assert {a.status for a in answers} <= {303, 422}, [(a.status, a.body[:200]) for a in answers]
    submits = [i for i, a in enumerate(answers) if versions[i]["action"] == "submit" and a.status == 303]
    drafts = [i for i, a in enumerate(answers) if versions[i]["action"] == "save" and a.status == 303]
    assert len(submits) == 1, [(v["action"], a.status) for v, a in zip(versions, answers)]
    refused = [a for a in answers if a.status == 422]
    assert all("제출한 심사는 고칠 수 없습니다" in a.body for a in refused)
    row = db.session.get(ReviewAssignment, item.id)
    assert row.status == "submitted"
    scores = db.session.scalars(select(Score).where(Score.assignment_id == item.id)).all()
    # One row per criterion, all from the one submitted version (no mix of two tabs).
    assert len(scores) == len(rubric)
    winner = versions[submits[0]]
    assert {sc.criterion: str(sc.score) for sc in scores} == {c["code"]: winner[f"score-{c['code']}"] for c in rubric}
    assert {sc.comment for sc in scores} == {winner[f"comment-{rubric[0]['code']}"]}
    assert events("review.submitted") == 1 and events("review.draft_saved") == len(drafts)
    assert added_rows(before) == {"review_scores": len(rubric), "audit_events": 1 + len(drafts)}


def test_three_reviewers_scoring_one_application_at_once_are_all_saved(submitted, make_reviewers, staff, browser):
    programme, (application,) = submitted(1)
    people = make_reviewers(3)
    items = [review.assign(application, r, user=staff) for r in people]
    db.session.commit()
    rubric = review.rubric(programme)
    browsers = [browser(r.email) for r in people]
    versions = [_score_form(rubric, minus, "submit") for minus in (0, 2, 4)]
    before = row_counts()

    answers = fire([lambda b=b, it=it, v=v: b.post(f"/review/assignment/{it.id}", v)
                    for b, it, v in zip(browsers, items, versions)])

    assert [a.status for a in answers] == [303] * 3
    full = sum(int(c["max"]) for c in rubric)
    expected = {people[k].id: full - minus * len(rubric) for k, minus in enumerate((0, 2, 4))}
    row = next(r for r in review.matrix(programme)["rows"] if r["application"].id == application.id)
    assert row["totals"] == expected and row["pending"] == 0
    assert row["score"] == sum(expected.values()) / 3          # the mean of the three, none lost
    assert events("review.submitted") == 3
    assert added_rows(before) == {"review_scores": 3 * len(rubric), "audit_events": 3}


# Payments -------------------------------------------------------------------------------------

def _accepted(awarded, **kwargs):
    leader, _, award = awarded(**kwargs)
    disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    db.session.commit()
    return award, disb


def test_both_officers_accepting_the_award_at_once_accept_it_once(awarded, browser):
    """Leader and treasurer, two tabs each, press 교부 신청 at the same moment (or double-click
    without JS): one disbursement, one audit event; every tab lands on the award page (303),
    none on a unique-constraint error."""
    leader, treasurer, award = awarded()
    tabs = [b.tab() for b in (browser(leader.email), browser(treasurer.email)) for _ in range(2)]
    form = {"bank": "신한은행", "account_number": "110-123-456789", "account_holder": "햇살", "confirm": "y"}
    before = row_counts()

    answers = fire([lambda t=t: t.post(f"/disbursement/awards/{award.id}", form) for t in tabs])

    assert {a.status for a in answers} == {303}, [(a.status, a.body[:200]) for a in answers]
    assert db.session.scalar(select(func.count(Disbursement.id))) == 1
    assert events("award.accepted") == 1
    assert added_rows(before) == {"disbursements": 1, "audit_events": 1}


def test_payment_double_clicked_in_eight_tabs_is_paid_once(awarded, finance, browser):
    award, disb = _accepted(awarded)
    finance_browser = browser(finance.email)
    key = d.new_payment_key(disb)
    form = {"instalment": "1", "amount_won": "800,000", "paid_on": "2027-03-28", "reference": "지출-7",
            "idempotency_key": key}
    tabs = [finance_browser.tab() for _ in range(TABS)]
    before = row_counts()

    answers = fire([lambda t=t: t.post(f"/disbursement/awards/{award.id}/payments", form) for t in tabs])

    assert {a.status for a in answers} == {303}, [(a.status, a.body[:200]) for a in answers]
    payments = db.session.scalars(select(Payment)).all()
    assert [(p.amount_won, p.idempotency_key) for p in payments] == [(800_000, d.payment_key_nonce(disb, key))]
    assert db.session.get(Disbursement, disb.id).paid_won == 800_000
    assert events("payment.recorded") == 1
    assert added_rows(before) == {"payments": 1, "audit_events": 1}


def test_two_finance_staff_paying_more_than_the_award_together_one_is_refused(awarded, finance, make_user,
                                                                                browser):
    award, disb = _accepted(awarded)
    other = make_user("fin2@example.kr", roles=("finance",), name="회계담당 최재무")
    first, second = browser(finance.email), browser(other.email)
    # 500,000 + 500,000 > 800,000 (one instalment, paid in parts): each alone is allowed, both together are not.
    forms = [{"instalment": "1", "amount_won": "500,000", "paid_on": "2027-03-28", "reference": f"지출-{n}",
              "idempotency_key": d.new_payment_key(disb)} for n in (1, 2)]
    before = row_counts()

    answers = fire([lambda b=b, f=f: b.post(f"/disbursement/awards/{award.id}/payments", f)
                    for b, f in zip((first, second), forms)])

    assert sorted(a.status for a in answers) == [303, 422], [(a.status, a.body[:200]) for a in answers]
    refused = next(a for a in answers if a.status == 422)
    assert "교부결정액" in refused.body and "300,000원" in refused.body
    row = db.session.get(Disbursement, disb.id)
    paid = db.session.scalar(select(func.sum(Payment.amount_won)).where(Payment.disbursement_id == disb.id))
    assert row.paid_won == paid == 500_000 <= row.amount_won
    assert added_rows(before) == {"payments": 1, "audit_events": 1}


def test_a_payment_racing_the_settlement_submission_is_before_it_or_refused(awarded, finance, browser):
    """Finance pays the rest of the award as the leader submits the settlement: the payment is
    recorded before the submission (which then settles on it), or refused with the reason; never
    a payment after the submission that no reviewer would see."""
    leader, treasurer, award = awarded()
    disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    d.record_payment(disb, instalment=1, amount_won=500_000, paid_on=date(2027, 3, 28), reference="",
                     idempotency_key="first", user=finance)
    s.save_expense(award, expense_in(amount_won=100_000), user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="활동했습니다.", interest_won=0, user=treasurer)
    db.session.commit()
    submitter, payer = browser(leader.email), browser(finance.email)
    form = {"instalment": "1", "amount_won": "300,000", "paid_on": "2027-03-30", "reference": "지출-8",
            "idempotency_key": d.new_payment_key(disb)}

    answers = fire([lambda: submitter.post(f"/settlement/{settlement.id}/submit", {"confirm": "1"}),
                    lambda: payer.post(f"/disbursement/awards/{award.id}/payments", form)])

    submit, pay = answers
    db.session.expire_all()
    assert submit.status == 303 and db.session.get(Settlement, settlement.id).status == "submitted"
    paid = db.session.get(Disbursement, disb.id).paid_won
    order = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ("payment.recorded", "settlement.submitted"))).order_by(AuditEvent.id))]
    if pay.status == 303:
        assert paid == 800_000 and order == ["payment.recorded", "payment.recorded", "settlement.submitted"]
    else:
        assert pay.status == 422 and "정산서를 제출한 뒤에는 지급을 기록할 수 없습니다" in pay.body, pay.body[:300]
        assert paid == 500_000 and order == ["payment.recorded", "settlement.submitted"]


# Settlement approvals -------------------------------------------------------------------------

def _submitted_settlement(paid_award, finance, email="leader@example.kr", decide=True):
    """A submitted settlement of 800,000원 paid, 1,234원 interest and three 100,000원 lines,
    every line recognised (ready to approve) when `decide`."""
    _, treasurer, award = paid_award(email=email)
    for i in range(3):
        s.save_expense(award, expense_in(description=f"재료 {i}", amount_won=100_000), user=treasurer,
                       receipt=Upload(jpeg_bytes(color=(i * 40, 90, 90)), f"r{i}.jpg"))
    s.save_session(award, held_on=date(2027, 4, 10), title="봄 숲놀이", place="불광천", content="숲에서 놀이",
                   households=5, adults=6, children=7, outcome="즐거웠어요", user=treasurer)
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text=s.draft_report(award), interest_won=1_234,
                      interest_file=Upload(jpeg_bytes(), "통장.jpg"), user=treasurer)
    s.submit(settlement, user=treasurer)
    if decide:
        for e in s.expenses(award):
            s.review_line(e, decision="recognised", reason="", user=finance)
    db.session.commit()
    return award, settlement


def test_finance_approving_one_settlement_twice_at_once_approves_once(paid_award, finance, make_user, browser):
    award, settlement = _submitted_settlement(paid_award, finance)
    other = make_user("fin2@example.kr", roles=("finance",), name="회계담당 최재무")
    people = [browser(finance.email), browser(other.email)]
    tabs = [p.tab() for p in people for _ in range(3)]
    before = row_counts()

    answers = fire([lambda t=t: t.post(f"/settlement/review/{settlement.id}/approve", {"confirm": "1"}) for t in tabs])

    # Everyone lands back on the review page (approved, or told it already was).
    assert {a.status for a in answers} == {303}, [(a.status, a.body[:200]) for a in answers]
    row = db.session.get(Settlement, settlement.id)
    # paid 800,000 + interest 1,234 − recognised 300,000 = 501,234, computed once
    assert (row.status, row.recognised_won, row.refund_due_won) == ("approved", 300_000, 501_234)
    assert row.award.status == "settled"
    assert events("settlement.approved", settlement.id) == 1
    assert added_rows(before) == {"audit_events": 1}


def test_approval_racing_a_line_sent_back_ends_in_one_consistent_state(paid_award, finance, make_user, browser):
    """Three settlements; on each, one finance officer approves while another sends a line back
    for a fix at the same moment. Either the approval wins (the line decision is refused) or
    the line wins (the approval is refused) — never an approval over a line needing a fix."""
    made = [_submitted_settlement(paid_award, finance, email=f"leader{i}@example.kr") for i in range(3)]
    other = make_user("fin2@example.kr", roles=("finance",), name="회계담당 최재무")
    approver, reviewer = browser(finance.email), browser(other.email)
    lines = {st.id: s.expenses(award)[1] for award, st in made}
    before = row_counts()

    calls = []
    for _, st in made:
        calls.append(lambda st=st: approver.tab().post(f"/settlement/review/{st.id}/approve", {"confirm": "1"}))
        calls.append(lambda st=st: reviewer.tab().post(f"/settlement/review/{st.id}/lines/{lines[st.id].id}",
                                                       {"decision": "needs_fix", "reason": "품목이 보이는 영수증"}))
    answers = fire(calls)

    assert {a.status for a in answers} <= {303, 422}, [(a.status, a.body[:200]) for a in answers]
    outcomes, expected_events = set(), 0
    for _, st in made:
        row = db.session.get(Settlement, st.id)
        line = db.session.get(Expense, lines[st.id].id)
        if row.status == "approved":
            outcomes.add("approved")
            assert line.review_status == "recognised"
            assert (row.recognised_won, row.refund_due_won) == (300_000, 501_234)
            assert (events("settlement.approved", st.id), events("expense.reviewed", line.id)) == (1, 1)
        else:
            outcomes.add("line sent back")
            assert row.status == "submitted" and line.review_status == "needs_fix"
            assert (row.recognised_won, row.refund_due_won, row.approved_at) == (None, None, None)
            assert (events("settlement.approved", st.id), events("expense.reviewed", line.id)) == (0, 2)
        expected_events += 1
    assert outcomes  # (which one wins is up to the database)
    assert added_rows(before) == {"audit_events": expected_events}


def test_refund_recorded_from_several_tabs_at_once_is_recorded_once(paid_award, finance, make_user, browser):
    award, settlement = _submitted_settlement(paid_award, finance)
    s.approve(settlement, user=finance)
    db.session.commit()
    other = make_user("fin2@example.kr", roles=("finance",), name="회계담당 최재무")
    # The live server judges the refund date against the real day (Seoul): no later than today.
    form = {"amount_won": "501,234", "received_on": today_kst().isoformat(), "depositor": s.expected_depositor(settlement)}
    tabs = [b.tab() for b in (browser(finance.email), browser(other.email)) for _ in range(3)]
    before = row_counts()

    answers = fire([lambda t=t: t.post(f"/settlement/review/{settlement.id}/refund", form) for t in tabs])

    assert {a.status for a in answers} == {303}, [(a.status, a.body[:200]) for a in answers]
    row = db.session.get(Settlement, settlement.id)
    assert (row.status, row.refund.amount_won, row.award.status) == ("closed", 501_234, "closed")
    assert events("refund.recorded") == 1 and events("settlement.closed", settlement.id) == 1
    assert added_rows(before) == {"refunds": 1, "audit_events": 2}


# Spending -------------------------------------------------------------------------------------

EXPENSE = {"spent_on": "2027-04-10", "category": "materials", "vendor": "다이소 망원점", "biz_no": "124-82-10324",
           "description": "만들기 재료", "amount_won": "50,000", "method": "clean_card", "evidence_kind": "card_slip",
           "participants": "10", "session_id": "", "hours": "", "cash_reason": "", "approval_no": "12345678"}


def test_both_officers_adding_expenses_at_once_never_spend_above_the_award(paid_award, browser):
    """Leader and treasurer, two tabs each, add expenses at the same moment: 4 × 50,000원 all
    saved with their own evidence numbers; then 2 × 500,000원 on an 800,000원 award (200,000
    spent): each alone fits, together they do not — one is saved, the other refused."""
    leader, treasurer, award = paid_award()
    people = [browser(leader.email), browser(treasurer.email)]
    tabs = [p.tab() for p in people for _ in range(2)]
    url = f"/settlement/awards/{award.id}/expenses"
    receipts = [{"receipt": (f"r{i}.jpg", jpeg_bytes(color=(i * 50, 90, 90)))} for i in range(6)]
    before = row_counts()

    answers = fire([lambda t=t, i=i: t.post(url, {**EXPENSE, "description": f"재료 {i}"}, receipts[i])
                    for i, t in enumerate(tabs)])

    assert [a.status for a in answers] == [303] * 4, [(a.status, a.body[:200]) for a in answers]
    rows = s.expenses(award)
    assert sorted(e.seq for e in rows) == [1, 2, 3, 4] and sum(e.amount_won for e in rows) == 200_000
    # Each expense: its row, its receipt file and its audit event.
    assert added_rows(before) == {"expenses": 4, "stored_files": 4, "audit_events": 4}

    big = {**EXPENSE, "category": "program_fee", "amount_won": "500,000", "participants": "10"}
    answers = fire([lambda b=b, i=i: b.post(url, {**big, "description": f"큰 지출 {i}"}, receipts[4 + i])
                    for i, b in enumerate(people)])

    assert sorted(a.status for a in answers) == [303, 422], [(a.status, a.body[:200]) for a in answers]
    assert "교부결정액" in next(a for a in answers if a.status == 422).body
    rows = s.expenses(award)
    assert sum(e.amount_won for e in rows) == 700_000 <= award.amount_won
    assert sorted(e.seq for e in rows) == [1, 2, 3, 4, 5]


def test_an_expense_saved_while_the_settlement_is_submitted_is_in_it_or_refused(paid_award, finance, browser):
    """The treasurer adds an expense as the leader submits: either the expense is saved first and
    the submitted snapshot holds it, or the submission comes first and the expense is refused."""
    leader, treasurer, award = paid_award()
    for i in range(2):
        s.save_expense(award, expense_in(description=f"재료 {i}", amount_won=100_000), user=treasurer,
                       receipt=Upload(jpeg_bytes(color=(i * 40, 90, 90)), f"r{i}.jpg"))
    s.save_session(award, held_on=date(2027, 4, 10), title="봄 숲놀이", place="불광천", content="숲에서 놀이",
                   households=5, adults=6, children=7, outcome="즐거웠어요", user=treasurer)
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text=s.draft_report(award), interest_won=0, user=treasurer)
    db.session.commit()
    submitter, spender = browser(leader.email), browser(treasurer.email)
    before = row_counts()

    answers = fire([
        lambda: submitter.post(f"/settlement/{settlement.id}/submit", {"confirm": "1"}),
        lambda: spender.post(f"/settlement/awards/{award.id}/expenses", {**EXPENSE, "description": "늦은 영수증"},
                             {"receipt": ("late.jpg", jpeg_bytes(color=(9, 9, 9)))}),
    ])

    submit, spend = answers
    row = db.session.get(Settlement, settlement.id)
    assert submit.status == 303 and row.status == "submitted"
    saved = {str(e.id): e.description for e in s.expenses(award)}
    # The snapshot finance review is exactly the ledger: no line slipped in after it was taken.
    assert {k: v["description"] for k, v in row.snapshot["expenses"].items()} == saved
    if spend.status == 303:      # the expense came first: the submission holds it
        assert "늦은 영수증" in saved.values()
    else:                        # the submission came first: the expense is refused
        assert spend.status in (403, 422), (spend.status, spend.body[:200])
        assert "늦은 영수증" not in saved.values()
    assert events("settlement.submitted", settlement.id) == 1
