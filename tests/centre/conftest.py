"""A programme year with money in it, spread over 자치구, for the centre's view (센터 현황)."""
from datetime import date

import pytest

from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.settlement.conftest import (Upload, _frozen_today, awarded, expense_in, finance,  # noqa: F401
                                      jpeg_bytes, open_programme_period, paid_award)


@pytest.fixture
def city(make_user):
    return make_user("city@example.kr", roles=("city",), name="시 담당관 최시청")


@pytest.fixture
def staff_user(make_user):
    return make_user("staff-c@example.kr", roles=("staff",), name="사업담당 정사업")


def _receipt():
    return Upload(jpeg_bytes(), "r.jpg")


def _affiliate(group, affiliation):
    group.affiliation = affiliation
    db.session.commit()


@pytest.fixture
def money_world(open_programme_period, paid_award, awarded, complete_application, leader_group, finance):
    """Programme P (2027):
      - A 마포구 센터: selected, award 800,000 paid; spent 50,000 (4월 재료) + 30,000 (6월 간식);
        settlement approved: 30,000 not recognised → recognised 50,000, refund 750,000.
      - B 은평구 나눔터: selected, award 600,000 paid; spent 100,000 (4월 재료); settlement submitted.
      - C 마포구 기타: submitted, not decided.  D 마포구: a draft.  E 은평구: withdrawn.
    Programme Q (2026): F 강남구 센터: selected, award 500,000, nothing paid.
    """
    from blueprints.applications import services as apps
    from blueprints.settlement import services as s

    p = open_programme_period(year=2027, title="2027 공동육아 자조모임 지원")
    q = open_programme_period(year=2026, title="2026 공동육아 자조모임 지원")

    _, treasurer_a, award_a = paid_award(amount=800_000, email="a@example.kr", programme=p, district="마포구")
    _affiliate(award_a.application.group, "centre")
    e1 = s.save_expense(award_a, expense_in(amount_won=50_000), user=treasurer_a, receipt=_receipt())
    e2 = s.save_expense(award_a, expense_in(amount_won=30_000, spent_on=date(2027, 5, 31), category="snacks",
                                            description="간식", participants=10), user=treasurer_a,
                        receipt=_receipt())
    settlement_a = s.settlement_for(award_a, create=True)
    s.save_settlement(settlement_a, report_text="보고", interest_won=0, user=treasurer_a)
    s.submit(settlement_a, user=treasurer_a)
    s.review_line(e1, decision="recognised", reason="", user=finance)
    s.review_line(e2, decision="not_recognised", reason="증빙 부족", user=finance)
    s.approve(settlement_a, user=finance)
    db.session.commit()

    _, treasurer_b, award_b = paid_award(amount=600_000, email="b@example.kr", programme=p, district="은평구")
    _affiliate(award_b.application.group, "sharing")
    s.save_expense(award_b, expense_in(amount_won=100_000), user=treasurer_b, receipt=_receipt())
    settlement_b = s.settlement_for(award_b, create=True)
    s.save_settlement(settlement_b, report_text="보고", interest_won=0, user=treasurer_b)
    s.submit(settlement_b, user=treasurer_b)
    db.session.commit()

    leader_c, _, app_c = complete_application(programme=p, email="c@example.kr", district="마포구")
    apps.submit(app_c, user=leader_c)
    complete_application(programme=p, email="d@example.kr", district="마포구")
    leader_e, _, app_e = complete_application(programme=p, email="e@example.kr", district="은평구")
    apps.withdraw(app_e, user=leader_e)
    db.session.commit()

    _, _, award_f = awarded(amount=500_000, email="f@example.kr", programme=q, district="강남구")
    _affiliate(award_f.application.group, "centre")
    db.session.commit()
    return dict(p=p, q=q, award_a=award_a, award_b=award_b, settlement_a=settlement_a, settlement_b=settlement_b)
