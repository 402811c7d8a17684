"""Acceptance and payments: once per instalment and key, never above the award (DB CHECK),
and two finance staff at the same moment record one payment (PostgreSQL)."""
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from blueprints.disbursement import services as d
from blueprints.disbursement.models import Disbursement, Payment
from extensions import db


def test_accept_masks_the_account_and_records_audit(awarded):
    from blueprints.core.audit import AuditEvent

    leader, _, award = awarded()
    disb = d.accept_award(award, bank="신한은행", account_number="110-123-456789", holder="햇살", user=leader)
    db.session.commit()
    assert award.status == "accepted" and disb.account_number == "110123456789"
    assert disb.masked_account == "********6789"
    assert disb.schedule == [{"instalment": 1, "amount_won": 800_000, "after": None}]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "award.accepted"))
    assert "123456" not in event.changes
    with pytest.raises(d.DisbursementError):
        d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)


def test_split_schedule_70_30_after_mid_check(awarded, finance):
    leader, _, award = awarded(amount=810_000)
    award.programme.rules = {**award.programme.rules, "disbursement": {**award.programme.rules["disbursement"], "mode": "split"}}
    db.session.commit()
    disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    assert [s["amount_won"] for s in disb.schedule] == [567_000, 243_000]
    d.record_payment(disb, instalment=1, amount_won=567_000, paid_on=date(2027, 3, 28), reference="", idempotency_key="a",
                     user=finance)
    with pytest.raises(d.DisbursementError, match="중간 점검"):
        d.record_payment(disb, instalment=2, amount_won=243_000, paid_on=date(2027, 6, 1), reference="",
                         idempotency_key="b", user=finance)
    d.pass_mid_check(disb, user=finance)
    d.record_payment(disb, instalment=2, amount_won=243_000, paid_on=date(2027, 6, 1), reference="", idempotency_key="b",
                     user=finance)
    db.session.commit()
    assert disb.paid_won == 810_000 and award.status == "paid"


def test_same_key_twice_records_once_and_never_above_award(awarded, finance):
    leader, _, award = awarded()
    disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    db.session.commit()
    with pytest.raises(d.DisbursementError, match="교부결정액"):
        d.record_payment(disb, instalment=1, amount_won=800_001, paid_on=date(2027, 3, 28), reference="",
                         idempotency_key="x", user=finance)
    p1, created1 = d.record_payment(disb, instalment=1, amount_won=800_000, paid_on=date(2027, 3, 28), reference="",
                                    idempotency_key="same", user=finance)
    p2, created2 = d.record_payment(disb, instalment=1, amount_won=800_000, paid_on=date(2027, 3, 28), reference="",
                                    idempotency_key="same", user=finance)
    db.session.commit()
    assert (created1, created2) == (True, False) and p1.id == p2.id
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_database_refuses_a_total_above_the_award(awarded):
    leader, _, award = awarded()
    disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(update(Disbursement).where(Disbursement.id == disb.id).values(paid_won=800_001))
        db.session.flush()
    db.session.rollback()


def test_payment_form_double_submit_over_http(awarded, finance, client, auth):
    leader, _, award = awarded()
    d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    db.session.commit()
    auth.login(finance.email)
    form = {"instalment": "1", "amount_won": "800,000", "paid_on": "2027-03-28", "reference": "지출-7",
            "idempotency_key": d.new_payment_key(award.disbursement)}
    first = client.post_form(f"/disbursement/awards/{award.id}/payments", form)
    second = client.post_form(f"/disbursement/awards/{award.id}/payments", form)
    assert (first.status_code, second.status_code) == (303, 303)
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    other_key = client.post_form(f"/disbursement/awards/{award.id}/payments",
                                 {**form, "idempotency_key": d.new_payment_key(award.disbursement)})
    assert other_key.status_code == 422 and "이미 지급" in other_key.get_data(as_text=True)


@pytest.mark.postgres_only
def test_two_finance_staff_at_the_same_moment_record_one_payment(app, awarded, finance):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    leader, _, award = awarded()
    disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    db.session.commit()
    disb_id, finance_id = disb.id, finance.id
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(key):
        from blueprints.accounts.models import User

        with app.app_context():
            try:
                row = db.session.get(Disbursement, disb_id)
                user = db.session.get(User, finance_id)
                barrier.wait()
                d.record_payment(row, instalment=1, amount_won=800_000, paid_on=date(2027, 3, 28), reference="",
                                 idempotency_key=key, user=user)
                db.session.commit()
                outcomes.append("ok")
            except (d.DisbursementError, IntegrityError) as exc:
                db.session.rollback()
                outcomes.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(k,)) for k in ("k1", "k2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert sorted(outcomes) == ["DisbursementError", "ok"]
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    assert db.session.get(Disbursement, disb_id).paid_won == 800_000
