"""Attacks on the money flows from outside (the demo accounts): hostile form values, the same
acceptance twice at once, refunds dated before they arrived."""
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from blueprints.disbursement import services as d
from blueprints.disbursement.models import Disbursement, Payment
from extensions import db


def _accepted(awarded):
    leader, treasurer, award = awarded()
    d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    db.session.commit()
    return leader, treasurer, award


@pytest.mark.parametrize("instalment", ["abc", "1.5", "１회", "9" * 30, "-1"])
def test_a_hostile_instalment_is_a_message_not_a_server_error(awarded, finance, client, auth, instalment):
    """The 회차 box is a select; a hand-made POST with anything else answers next to the field."""
    _, _, award = _accepted(awarded)
    auth.login(finance.email)
    response = client.post_form(f"/disbursement/awards/{award.id}/payments",
                                {"instalment": instalment, "amount_won": "1,000", "paid_on": "2027-03-28",
                                 "idempotency_key": d.new_payment_key(award.disbursement)})
    assert response.status_code == 422
    assert "회차" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Payment.id))) == 0


@pytest.mark.parametrize("typed", ["١١٠١٢٣٤٥٦٧٨٩", "११०१२३४५६७८९", "۱۱۰۱۲۳۴۵۶۷۸۹"])
def test_an_account_number_in_other_digits_is_refused(awarded, typed):
    """str.isdigit() says yes to superscripts and Arabic-Indic or Devanagari digits; a bank transfer
    takes 0-9 only, so finance would copy a number no bank accepts."""
    leader, _, award = awarded()
    with pytest.raises(d.DisbursementError):
        d.accept_award(award, bank="신한은행", account_number=typed, holder="햇살", user=leader)


@pytest.mark.parametrize("typed", ["１１０－１２３－４５６７８９", "¹¹⁰-¹²³-⁴⁵⁶⁷⁸⁹"])
def test_full_width_account_digits_are_kept_as_plain_digits(awarded, typed):
    leader, _, award = awarded()
    disb = d.accept_award(award, bank="신한은행", account_number=typed, holder="햇살", user=leader)
    assert disb.account_number == "110123456789" and disb.masked_account == "********6789"


@pytest.mark.postgres_only
def test_leader_and_treasurer_accepting_at_the_same_moment_make_one_disbursement(app, awarded):
    """Both officers press 교부 신청 at once (or one double-clicks without JS): one acceptance, the
    other told it is done — never a unique-constraint error (500)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    from blueprints.accounts.models import User
    from blueprints.awards.models import Award

    leader, treasurer, award = awarded()
    award_id = award.id
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(user_id):
        with app.app_context():
            try:
                row, user = db.session.get(Award, award_id), db.session.get(User, user_id)
                barrier.wait()
                d.accept_award(row, bank="신한은행", account_number="110123456789", holder="햇살", user=user)
                db.session.commit()
                outcomes.append("ok")
            except Exception as exc:   # noqa: BLE001 - the kind of failure is the assertion
                db.session.rollback()
                outcomes.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in (leader.id, treasurer.id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["DisbursementError", "ok"]
    assert db.session.scalar(select(func.count(Disbursement.id))) == 1
