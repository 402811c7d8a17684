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


# Refunds: the settlement closes only on money that has arrived ---------------------------------

def _approved_with_refund(paid_award, finance):
    """An approved settlement of a 800,000원 award with 100,000원 recognised: 700,000원 to return."""
    from blueprints.settlement import services as s
    from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

    _, treasurer, award = paid_award()
    s.save_expense(award, expense_in(amount_won=100_000), user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="활동했습니다.", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    s.review_line(s.expenses(award)[0], decision="recognised", reason="", user=finance)
    s.approve(settlement, user=finance)
    db.session.commit()
    assert settlement.refund_due_won == 700_000
    return settlement


def test_a_refund_dated_after_today_does_not_close_the_settlement(paid_award, finance, client, auth):
    """입금 확인일 tomorrow (today is 2027-06-10 here): the money is not there yet; the date is
    refused next to its box, the figures typed are kept and the settlement stays open."""
    from blueprints.settlement.models import Refund

    settlement = _approved_with_refund(paid_award, finance)
    auth.login(finance.email)
    response = client.post_form(f"/settlement/review/{settlement.id}/refund",
                                {"amount_won": "700,000", "received_on": "2027-06-11", "depositor": "햇살(김대표)"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "입금 확인일이 오늘(2027. 6. 10.)보다 뒤입니다" in page and 'value="햇살(김대표)"' in page
    db.session.expire_all()
    assert settlement.status == "approved" and settlement.award.status == "settled"
    assert db.session.scalar(select(func.count(Refund.id))) == 0
    ok = client.post_form(f"/settlement/review/{settlement.id}/refund",
                          {"amount_won": "700,000", "received_on": "2027-06-10", "depositor": "햇살(김대표)"})
    assert ok.status_code == 303
    db.session.expire_all()
    assert settlement.status == "closed"


@pytest.mark.parametrize("utc_now, received_on, accepted", [
    # 23:30 KST on 2027-06-10 (14:30 UTC): the 11th is still tomorrow in Seoul.
    ("2027-06-10T14:30:00+00:00", date(2027, 6, 11), False),
    ("2027-06-10T14:30:00+00:00", date(2027, 6, 10), True),
    # 00:30 KST on 2027-06-11 (15:30 UTC on the 10th): the 11th is today in Seoul.
    ("2027-06-10T15:30:00+00:00", date(2027, 6, 11), True),
])
def test_refund_date_is_judged_in_seoul(paid_award, finance, monkeypatch, utc_now, received_on, accepted):
    from datetime import datetime

    from blueprints.core import timeutil
    from blueprints.settlement import services as s

    settlement = _approved_with_refund(paid_award, finance)
    monkeypatch.setattr(s, "today_kst", timeutil.today_kst)          # the real rule, not the tests' pinned day
    monkeypatch.setattr(timeutil, "now_utc", lambda: datetime.fromisoformat(utc_now))
    if accepted:
        s.record_refund(settlement, amount_won=700_000, received_on=received_on, depositor="햇살", user=finance)
        assert settlement.status == "closed"
    else:
        with pytest.raises(s.RefundNotReceived):
            s.record_refund(settlement, amount_won=700_000, received_on=received_on, depositor="햇살", user=finance)
        assert settlement.status == "approved"


# Ids past the database's INTEGER ---------------------------------------------------------------

BIG = "9" * 20


@pytest.mark.parametrize("method, url", [
    ("GET", f"/disbursement/awards/{BIG}"), ("POST", f"/disbursement/awards/{BIG}/payments"),
    ("POST", f"/disbursement/awards/{BIG}/account"), ("GET", f"/settlement/review/{BIG}"),
    ("POST", f"/settlement/review/{BIG}/refund"), ("POST", f"/settlement/review/{BIG}/approve"),
    ("GET", f"/settlement/programme/{BIG}"), ("GET", f"/settlement/programme/{BIG}/settlements.csv"),
    ("GET", "/settlement/review/2147483648"),
])
def test_an_id_past_the_integer_range_is_not_found(paid_award, finance, client, auth, method, url):
    """PostgreSQL refuses a parameter past INTEGER ('integer out of range'): a hand-made id of 20
    digits answered 500. It is a page that does not exist."""
    paid_award()
    auth.login(finance.email)
    response = client.post_form(url, {}) if method == "POST" else client.get(url)
    assert response.status_code == 404


@pytest.mark.parametrize("url", [f"/disbursement/?programme={BIG}", f"/disbursement/?programme={BIG}&due=1",
                                 f"/disbursement/payments.csv?programme={BIG}"])
def test_a_programme_filter_past_the_integer_range_filters_to_nothing(paid_award, finance, client, auth, url):
    paid_award()
    auth.login(finance.email)
    response = client.get(url)
    assert response.status_code == 200
    assert "햇살" not in response.get_data(as_text=True)


def test_the_live_expense_check_with_an_expense_id_past_integer_answers(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    response = client.htmx("POST", f"/settlement/awards/{award.id}/expenses/check",
                           data={"vendor": "다이소", "amount_won": "1,000", "expense_id": BIG})
    assert response.status_code == 200


# Payments: recorded once the money left, judged in Seoul ------------------------------------------

def test_a_payment_dated_after_today_is_refused_next_to_its_date(awarded, finance, client, auth):
    """지급일 2028 for 2027 (today is 2027-06-10 here): a payment not made yet would count as
    paid — on the dashboard, in the group's balance and in the refund it owes."""
    _, _, award = _accepted(awarded)
    auth.login(finance.email)
    response = client.post_form(f"/disbursement/awards/{award.id}/payments",
                                {"instalment": "1", "amount_won": "800,000", "paid_on": "2028-03-28",
                                 "idempotency_key": d.new_payment_key(award.disbursement)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "지급일이 오늘(2027. 6. 10.)보다 뒤입니다" in page and 'value="2028-03-28"' in page
    assert db.session.scalar(select(func.count(Payment.id))) == 0


@pytest.mark.parametrize("utc_now, paid_on, accepted", [
    # 23:30 KST on 2027-03-31, the last day of March (14:30 UTC): April is still tomorrow in Seoul.
    ("2027-03-31T14:30:00+00:00", date(2027, 4, 1), False),
    ("2027-03-31T14:30:00+00:00", date(2027, 3, 31), True),
    # 00:30 KST on 2027-04-01 (15:30 UTC on the 31st): the 1st is today in Seoul.
    ("2027-03-31T15:30:00+00:00", date(2027, 4, 1), True),
])
def test_payment_date_is_judged_in_seoul(awarded, finance, monkeypatch, utc_now, paid_on, accepted):
    from datetime import datetime

    from blueprints.core import timeutil

    _, _, award = _accepted(awarded)
    monkeypatch.setattr(d, "today_kst", timeutil.today_kst)          # the real rule, not the tests' pinned day
    monkeypatch.setattr(timeutil, "now_utc", lambda: datetime.fromisoformat(utc_now))
    pay = lambda: d.record_payment(award.disbursement, instalment=1, amount_won=800_000, paid_on=paid_on,  # noqa: E731
                                   reference="", idempotency_key="edge", user=finance)
    if accepted:
        assert pay()[1] is True
    else:
        with pytest.raises(d.DisbursementError):
            pay()
        assert award.disbursement.paid_won == 0


def test_the_payment_form_offers_the_seoul_date_just_after_midnight(awarded, finance, client, auth, monkeypatch):
    from datetime import datetime

    from blueprints.core import timeutil

    _, _, award = _accepted(awarded)
    monkeypatch.setattr(timeutil, "now_utc", lambda: datetime.fromisoformat("2027-03-31T15:30:00+00:00"))
    auth.login(finance.email)
    page = client.get(f"/disbursement/awards/{award.id}").get_data(as_text=True)
    assert 'value="2027-04-01"' in page
