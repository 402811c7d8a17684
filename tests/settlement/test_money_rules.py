"""Trust II, money: what a settlement rests on stays put once submitted (no late payment),
instalments stay payable until paid in full, a changed line goes back to review, payment
keys belong to one form of one disbursement."""
from datetime import date

import pytest
from sqlalchemy import func, select

from blueprints.core.audit import AuditEvent
from blueprints.disbursement import services as d
from blueprints.disbursement.models import Disbursement, Payment
from blueprints.settlement import services as s
from blueprints.settlement.models import Settlement
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes


def _split_accepted(awarded, amount=800_000, **kwargs):
    """An accepted award paid in two instalments (70 % now, 30 % after the mid-term check)."""
    leader, treasurer, award = awarded(amount=amount, **kwargs)
    rules = award.programme.rules
    award.programme.rules = {**rules, "disbursement": {**rules["disbursement"], "mode": "split"}}
    db.session.commit()
    disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    db.session.commit()
    return leader, treasurer, award, disb


def _pay(disb, finance, instalment, amount, key):
    return d.record_payment(disb, instalment=instalment, amount_won=amount, paid_on=date(2027, 3, 28), reference="",
                            idempotency_key=key, user=finance)


def _submit_one_line(award, treasurer, amount=100_000):
    s.save_expense(award, expense_in(amount_won=amount), user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="활동했습니다.", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    return settlement


# 1. No payment after the settlement is submitted ---------------------------------------------------

@pytest.mark.parametrize("stage", ["submitted", "needs_changes", "approved", "closed"])
def test_no_payment_once_the_settlement_is_submitted(awarded, finance, stage):
    _, treasurer, award, disb = _split_accepted(awarded)
    _pay(disb, finance, 1, 560_000, "first")
    db.session.commit()
    settlement = _submit_one_line(award, treasurer)
    line = s.expenses(award)[0]
    if stage == "needs_changes":
        s.review_line(line, decision="needs_fix", reason="영수증이 흐립니다", user=finance)
        s.return_for_changes(settlement, message="", user=finance)
    if stage in {"approved", "closed"}:
        s.review_line(line, decision="recognised", reason="", user=finance)
        s.approve(settlement, user=finance)
    if stage == "closed":
        s.record_refund(settlement, amount_won=460_000, received_on=date(2027, 6, 10), depositor="햇살", user=finance)
    d.pass_mid_check(disb, user=finance)
    db.session.commit()
    award_status, refund_due = award.status, settlement.refund_due_won

    with pytest.raises(d.DisbursementError, match="정산서를 제출한 뒤에는 지급을 기록할 수 없습니다"):
        _pay(disb, finance, 2, 240_000, "late")
    db.session.rollback()

    db.session.expire_all()
    row = db.session.get(Settlement, settlement.id)
    assert (row.status, row.refund_due_won) == (stage, refund_due)
    assert db.session.get(Disbursement, disb.id).paid_won == 560_000
    assert award.status == award_status != "paid"
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_a_draft_settlement_does_not_stop_payments(awarded, finance):
    _, treasurer, award, disb = _split_accepted(awarded)
    _pay(disb, finance, 1, 560_000, "first")
    s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
    s.settlement_for(award, create=True)
    d.pass_mid_check(disb, user=finance)
    _, created = _pay(disb, finance, 2, 240_000, "second")
    db.session.commit()
    assert created and disb.paid_won == 800_000 and award.status == "paid"


def test_late_payment_over_http_is_refused_with_the_reason_and_the_form_is_gone(awarded, finance, client, auth):
    _, treasurer, award, disb = _split_accepted(awarded)
    _pay(disb, finance, 1, 560_000, "first")
    db.session.commit()
    settlement = _submit_one_line(award, treasurer)
    s.review_line(s.expenses(award)[0], decision="recognised", reason="", user=finance)
    s.approve(settlement, user=finance)
    d.pass_mid_check(disb, user=finance)
    db.session.commit()
    auth.login(finance.email)
    page = client.get(f"/disbursement/awards/{award.id}").get_data(as_text=True)
    assert "정산서를 제출한 뒤에는 지급을 기록할 수 없습니다" in page and "지급 기록</button>" not in page
    r = client.post_form(f"/disbursement/awards/{award.id}/payments",
                         {"instalment": "2", "amount_won": "240,000", "paid_on": "2027-06-01", "reference": "",
                          "idempotency_key": "anything"})
    assert r.status_code == 422 and "정산서를 제출한 뒤에는 지급을 기록할 수 없습니다" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Disbursement, disb.id).paid_won == 560_000
    assert db.session.get(Settlement, settlement.id).refund_due_won == 460_000


# 2. Instalments paid in parts ----------------------------------------------------------------------

def _form_key(client, award) -> str:
    """The payment form's key as the server made it for this page."""
    import re

    page = client.get(f"/disbursement/awards/{award.id}").get_data(as_text=True)
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)


def _accepted(awarded, amount):
    leader, treasurer, award = awarded(amount=amount)
    disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    db.session.commit()
    return award, disb


def test_a_partial_payment_leaves_the_rest_payable_and_shown(awarded, finance, client, auth):
    award, disb = _accepted(awarded, 600_000)
    auth.login(finance.email)
    url = f"/disbursement/awards/{award.id}/payments"
    form = {"instalment": "1", "amount_won": "100,000", "paid_on": "2027-03-28", "reference": "지출-1"}
    assert client.post_form(url, {**form, "idempotency_key": _form_key(client, award)}).status_code == 303

    page = client.get(f"/disbursement/awards/{award.id}").get_data(as_text=True)
    assert "모든 회차를 지급했습니다" not in page
    assert "1회차 (남은 금액 500,000원)" in page                        # the choice
    assert 'name="amount_won"' in page and 'value="500,000"' in page     # the rest, prefilled
    assert "<td>100,000원</td><td>500,000원</td>" in page                 # paid and left on the instalment
    assert "<td>600,000원</td><td>100,000원</td><td>500,000원</td>" in page  # and in total

    too_much = client.post_form(url, {**form, "amount_won": "500,001", "idempotency_key": _form_key(client, award)})
    assert too_much.status_code == 422 and "남은 금액은 500,000원" in too_much.get_data(as_text=True)
    rest = client.post_form(url, {**form, "amount_won": "500,000", "idempotency_key": _form_key(client, award)})
    assert rest.status_code == 303
    db.session.expire_all()
    row = db.session.get(Disbursement, disb.id)
    assert row.paid_won == 600_000 and [p.amount_won for p in row.payments] == [100_000, 500_000]
    page = client.get(f"/disbursement/awards/{award.id}").get_data(as_text=True)
    assert "모든 회차를 지급했습니다" in page
    again = client.post_form(url, {**form, "amount_won": "1", "idempotency_key": "x" * 40})
    assert again.status_code == 422
    assert db.session.scalar(select(func.count(Payment.id))) == 2


def test_instalment_amounts_follow_the_schedule(awarded, finance):
    _, _, award, disb = _split_accepted(awarded)          # 560,000 then 240,000 after the mid-term check
    with pytest.raises(d.DisbursementError, match="1회차에 남은 금액은 560,000원"):
        _pay(disb, finance, 1, 600_000, "a")
    db.session.rollback()
    _pay(disb, finance, 1, 300_000, "b")
    _pay(disb, finance, 1, 260_000, "c")
    db.session.commit()
    with pytest.raises(d.DisbursementError, match="1회차는 이미 지급을 마쳤습니다"):
        _pay(disb, finance, 1, 10, "d")
    db.session.rollback()
    with pytest.raises(d.DisbursementError, match="중간 점검"):
        _pay(disb, finance, 2, 100_000, "e")
    db.session.rollback()
    d.pass_mid_check(disb, user=finance)
    _pay(disb, finance, 2, 40_000, "f")
    db.session.commit()
    assert [(r["paid"], r["left"]) for r in disb.instalments()] == [(560_000, 0), (40_000, 200_000)]
    assert disb.next_instalment()["instalment"] == 2 and disb.unpaid_won == 200_000


# 3. Any change to a judged line sends it back to review ---------------------------------------------

def _returned_with_two_judged_lines(paid_award, finance):
    """Two lines of 100,000원 submitted; the first recognised, the second sent back for a fix;
    the settlement returned to the group."""
    _, treasurer, award = paid_award()
    for i in range(2):
        s.save_expense(award, expense_in(description=f"재료 {i}", amount_won=100_000), user=treasurer,
                       receipt=Upload(jpeg_bytes(color=(i * 60, 90, 90)), f"r{i}.jpg"))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="활동했습니다.", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    first, second = s.expenses(award)
    s.review_line(first, decision="recognised", reason="", user=finance)
    s.review_line(second, decision="needs_fix", reason="품목이 보이게", user=finance)
    s.return_for_changes(settlement, message="", user=finance)
    db.session.commit()
    return treasurer, award, settlement, first, second


def _resubmit_and_decide_second(settlement, second, treasurer, finance):
    s.save_expense(settlement.award, expense_in(description="재료 1 (색종이)", amount_won=100_000), user=treasurer,
                   expense=second)
    s.submit(settlement, user=treasurer)
    s.review_line(second, decision="recognised", reason="", user=finance)
    db.session.commit()


def test_an_edited_recognised_line_is_reviewed_again_before_it_counts(paid_award, finance, client, auth):
    treasurer, award, settlement, first, second = _returned_with_two_judged_lines(paid_award, finance)
    s.save_expense(award, expense_in(description="재료 0", amount_won=90_000), user=treasurer, expense=first)
    db.session.commit()
    assert (first.review_status, first.review_reason) == ("pending", "")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "expense.updated")
                               .order_by(AuditEvent.id.desc())).first()
    assert '"review": "recognised"' in event.changes and '"review": "pending"' in event.changes

    _resubmit_and_decide_second(settlement, second, treasurer, finance)
    assert s.figures(settlement).recognised_won == 100_000          # the edited line does not count unseen
    with pytest.raises(s.SettlementError, match="검토하지 않았거나"):
        s.approve(settlement, user=finance)
    db.session.rollback()
    auth.login(finance.email)
    review = client.get(f"/settlement/review/{settlement.id}").get_data(as_text=True)
    assert "금액 <del>100,000원</del> → <ins>90,000원</ins>, 검토 <del>인정</del> → <ins>다시 검토</ins>" in review
    s.review_line(first, decision="recognised", reason="", user=finance)
    s.approve(settlement, user=finance)
    db.session.commit()
    assert (settlement.recognised_won, settlement.refund_due_won) == (190_000, 610_000)


def test_a_replaced_receipt_sends_the_line_back_to_review(paid_award, finance):
    treasurer, award, settlement, first, _ = _returned_with_two_judged_lines(paid_award, finance)
    s.save_expense(award, expense_in(description="재료 0", amount_won=100_000), user=treasurer, expense=first,
                   receipt=Upload(jpeg_bytes(color=(1, 2, 3)), "new.jpg"))
    db.session.commit()
    assert first.review_status == "pending"


def test_saving_a_recognised_line_unchanged_keeps_the_judgement(paid_award, finance):
    treasurer, award, settlement, first, _ = _returned_with_two_judged_lines(paid_award, finance)
    s.save_expense(award, expense_in(description="재료 0", amount_won=100_000), user=treasurer, expense=first)
    db.session.commit()
    assert first.review_status == "recognised"


def test_deleting_a_judged_line_is_shown_to_finance(paid_award, finance, client, auth):
    treasurer, award, settlement, first, second = _returned_with_two_judged_lines(paid_award, finance)
    s.delete_expense(first, user=treasurer)
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "expense.deleted"))
    assert "(인정이었던 줄)" in event.summary and '"review": "recognised"' in event.changes
    _resubmit_and_decide_second(settlement, second, treasurer, finance)
    auth.login(finance.email)
    review = client.get(f"/settlement/review/{settlement.id}").get_data(as_text=True)
    assert "<strong>삭제</strong> <span class=\"krds-badge bg-light-warning\">인정했던 줄</span>" in review


# 4. Payment keys: made by the server per form, scoped to one disbursement ---------------------------

def test_a_key_from_one_awards_form_is_refused_on_another(awarded, finance, client, auth):
    award_a, _ = _accepted(awarded, 600_000)
    leader_b, _, award_b = awarded(amount=500_000, email="b-leader@example.kr", name="달빛모임")
    d.accept_award(award_b, bank="신한은행", account_number="110123456780", holder="달빛", user=leader_b)
    db.session.commit()
    auth.login(finance.email)
    key_a = _form_key(client, award_a)
    form = {"instalment": "1", "amount_won": "100,000", "paid_on": "2027-03-28", "reference": ""}

    replay = client.post_form(f"/disbursement/awards/{award_b.id}/payments", {**form, "idempotency_key": key_a})
    page = replay.get_data(as_text=True)
    assert replay.status_code == 422 and "다른 교부 건의 지급 양식입니다" in page
    assert key_a not in page                                    # a fresh form of this award instead
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    for forged in ("my-own-key", "", key_a[:-2] + "xx"):
        r = client.post_form(f"/disbursement/awards/{award_b.id}/payments", {**form, "idempotency_key": forged})
        assert r.status_code == 422 and "지급 양식이 올바르지 않습니다" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Payment.id))) == 0

    assert client.post_form(f"/disbursement/awards/{award_a.id}/payments",
                            {**form, "idempotency_key": key_a}).status_code == 303
    ok_b = client.post_form(f"/disbursement/awards/{award_b.id}/payments",
                            {**form, "idempotency_key": _form_key(client, award_b)})
    assert ok_b.status_code == 303
    assert db.session.scalar(select(func.count(Payment.id))) == 2


def test_the_same_stored_key_on_two_disbursements_does_not_collide(awarded, finance):
    award_a, disb_a = _accepted(awarded, 600_000)
    leader_b, _, award_b = awarded(amount=500_000, email="b-leader@example.kr", name="달빛모임")
    disb_b = d.accept_award(award_b, bank="신한은행", account_number="110123456780", holder="달빛", user=leader_b)
    db.session.commit()
    _, created_a = _pay(disb_a, finance, 1, 100_000, "same")
    _, created_b = _pay(disb_b, finance, 1, 200_000, "same")
    db.session.commit()
    assert (created_a, created_b) == (True, True)
    assert (disb_a.paid_won, disb_b.paid_won) == (100_000, 200_000)


def test_the_same_form_twice_pays_once_and_says_what_was_paid(awarded, finance, client, auth):
    award, disb = _accepted(awarded, 600_000)
    auth.login(finance.email)
    form = {"instalment": "1", "amount_won": "100,000", "paid_on": "2027-03-28", "reference": "지출-1",
            "idempotency_key": _form_key(client, award)}
    assert client.post_form(f"/disbursement/awards/{award.id}/payments", form).status_code == 303
    client.get(f"/disbursement/awards/{award.id}")                      # the first answer's page
    second = client.post_form(f"/disbursement/awards/{award.id}/payments", form, follow_redirects=True)
    page = second.get_data(as_text=True)
    assert second.status_code == 200
    assert "이 양식의 지급은 이미 기록되어 있습니다: 1회차 100,000원, 지급일 2027. 3. 28." in page
    assert 'value="500,000"' in page                                  # and the rest can be paid from here
    db.session.expire_all()
    assert db.session.get(Disbursement, disb.id).paid_won == 100_000
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "payment.recorded")) == 1
