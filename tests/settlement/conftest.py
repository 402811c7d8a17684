"""An awarded application (Award made directly), accepted and paid, for spending and
settlement tests."""
import io
from datetime import date

import pytest
from PIL import Image

from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401

PERIOD = dict(activity_start=date(2027, 4, 1), activity_end=date(2027, 5, 31), settlement_due=date(2027, 6, 30))


@pytest.fixture(autouse=True)
def _frozen_today(monkeypatch):
    """Spending, payments and refunds are judged against 'today' (no future dates): pin it after
    the activity period."""
    from blueprints.disbursement import services as disbursement
    from blueprints.settlement import services

    monkeypatch.setattr(services, "today_kst", lambda: date(2027, 6, 10))
    monkeypatch.setattr(disbursement, "today_kst", lambda: date(2027, 6, 10))


@pytest.fixture
def awarded(complete_application, make_user):
    """(leader, treasurer, award) — status 'offered', 800,000원."""
    from blueprints.applications import services as app_services
    from blueprints.awards.models import Award
    from blueprints.core.models import utcnow

    def make(amount=800_000, email="leader@example.kr", programme=None, **group_kwargs):
        leader, treasurer, application = complete_application(programme=programme, email=email, **group_kwargs)
        app_services.submit(application, user=leader)
        application.status = "selected"
        award = Award(application_id=application.id, programme_id=application.programme_id, amount_won=amount,
                      rank=1, conditions="별도 계좌로 관리", decided_at=utcnow())
        db.session.add(award)
        db.session.commit()
        return leader, treasurer, award

    return make


@pytest.fixture
def open_programme_period(open_programme):
    return lambda **kw: open_programme(**{**PERIOD, **kw})


@pytest.fixture
def finance(make_user):
    return make_user("fin@example.kr", roles=("finance",), name="회계담당 박재무")


@pytest.fixture
def paid_award(awarded, finance):
    """(leader, treasurer, award) accepted and paid in full."""
    from blueprints.disbursement import services as d

    def make(amount=800_000, **kwargs):
        leader, treasurer, award = awarded(amount=amount, **kwargs)
        disb = d.accept_award(award, bank="KB국민은행", account_number="123-456-789012", holder="햇살모임", user=leader)
        d.record_payment(disb, instalment=1, amount_won=amount, paid_on=date(2027, 3, 28), reference="지출-1",
                         idempotency_key=f"k-{award.id}", user=finance)
        db.session.commit()
        return leader, treasurer, award

    return make


def expense_in(**overrides):
    from blueprints.settlement.checks import ExpenseIn

    fields = dict(spent_on=date(2027, 4, 10), category="materials", vendor="다이소 망원점", biz_no="124-82-10324",
                  description="만들기 재료", amount_won=50_000, method="clean_card", evidence_kind="card_slip",
                  participants=10, has_receipt=True)
    fields.update(overrides)
    return ExpenseIn(**fields)


class Upload(io.BytesIO):
    def __init__(self, data, filename="receipt.jpg"):
        super().__init__(data)
        self.filename = filename


def jpeg_bytes(size=(400, 300), color=(200, 180, 160), exif=None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is not None:
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "JPEG")
    return out.getvalue()
