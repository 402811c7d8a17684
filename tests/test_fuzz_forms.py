"""Malformed input against the form endpoints: never a 500, and a refused all-or-nothing form
writes nothing. Field names are read from each page's own form, values are generated."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from blueprints.core.audit import AuditEvent
from extensions import db
from tests.test_access_control import world  # noqa: F401  (fixture)

NAME_RE = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')

values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "0", "-1", "1,000", "１０００", "10만원", "9" * 30, "2027-13", "2027-02-30",
                     "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "😀" * 10, "a" * 5000, "010-1234-5678",
                     "2027-04", "program_fee", "snacks", "leader", "yes", "no", "y"]),
)

# (signed-in role, page whose form is read, URL it posts to, all-or-nothing?)
FORMS = [
    ("anon", "/signup", "/signup", True),
    ("anon", "/login", "/login", True),
    ("anon", "/password/forgot", "/password/forgot", False),
    ("admin", "/admin/users", "/admin/users/invite", True),
    ("applicant_a", "/groups/register", "/groups/register/finish", True),
    ("applicant_a", "/groups/register", "/groups/register/next", True),
    ("applicant_a", "/groups/{group_a}", "/groups/{group_a}/residences", True),
    ("staff", "/groups/{group_a}", "/groups/{group_a}/affiliation", True),
    ("applicant_a", "/applications/{app_a}/edit/purpose", "/applications/{app_a}/edit/purpose", False),
    ("applicant_a", "/applications/{app_a}/edit/plan", "/applications/{app_a}/edit/plan", False),
    ("applicant_a", "/applications/{app_a}/edit/budget", "/applications/{app_a}/edit/budget", False),
    ("applicant_a", "/applications/{app_a}/edit/declaration", "/applications/{app_a}/edit/declaration", False),
    ("staff", "/programmes/{programme}/edit?section=basic", "/programmes/{programme}/edit/basic", True),
    ("staff", "/programmes/{programme}/edit?section=grant", "/programmes/{programme}/edit/grant", True),
    ("staff", "/programmes/{programme}/edit?section=categories", "/programmes/{programme}/edit/categories", True),
    ("reviewer", "/review/assignment/{assignment}", "/review/assignment/{assignment}", True),
    ("applicant_a", "/settlement/awards/{award_a}/expenses", "/settlement/awards/{award_a}/expenses", True),
    ("applicant_a", "/settlement/awards/{award_a}/sessions", "/settlement/awards/{award_a}/sessions", True),
    ("applicant_a", "/settlement/awards/{award_a}", "/settlement/awards/{award_a}", True),
    ("finance", "/settlement/review/{settlement_s}", "/settlement/review/{settlement_s}/return", True),
]


@pytest.mark.parametrize("role, page, target, atomic", FORMS, ids=[f[2] for f in FORMS])
def test_malformed_form_input_never_breaks_anything(role, page, target, atomic, client, auth, world):  # noqa: F811
    users, ids = world
    if role != "anon":
        auth.login(users[role].email)
    page, target = page.format(**ids), target.format(**ids)
    names = sorted({n for n in NAME_RE.findall(client.get(page).get_data(as_text=True)) if n != "csrf_token"})
    assert names, f"no form fields found on {page}"
    token = client.csrf_token()

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.dictionaries(st.sampled_from(names), values, max_size=len(names)))
    def post(data):
        before = db.session.scalar(select(func.count(AuditEvent.id)))
        response = client.post(target, data=dict(data, csrf_token=token))
        assert response.status_code < 500, (target, data)
        if atomic and response.status_code >= 400:
            assert db.session.scalar(select(func.count(AuditEvent.id))) == before, (target, data)

    post()


# The expense form's ids and choices (issue 12): another award's session, unknown ids and values
# off the list (a 300-character evidence kind was a 500 on PostgreSQL) are a 422 with the message
# next to the field; nothing is written.
GOOD_EXPENSE = {"spent_on": "2027-04-12", "category": "materials", "vendor": "문구점", "biz_no": "",
                "description": "만들기 재료", "amount_won": "10,000", "method": "clean_card", "approval_no": "12345678",
                "cash_reason": "", "evidence_kind": "card_slip", "participants": "5", "hours": "", "session_id": ""}


def post_expense(client, url, data):
    """The form as the page sends it, with a receipt photo (every expense needs one)."""
    import io

    from tests.test_access_control import PNG_1x1

    return client.post_form(url, dict(data, receipt=(io.BytesIO(PNG_1x1), "receipt.png")),
                            content_type="multipart/form-data")


OFF_LIST = [
    ("session_id", "{other_session}", "이 사업의 활동 회차 목록에서 골라 주세요."),   # another award's session
    ("session_id", "999999", "이 사업의 활동 회차 목록에서 골라 주세요."),
    ("session_id", "٣", "이 사업의 활동 회차 목록에서 골라 주세요."),                 # a digit int() accepts
    ("session_id", "1" * 300, "이 사업의 활동 회차 목록에서 골라 주세요."),
    ("evidence_kind", "x" * 300, "증빙 종류 목록에서 골라 주세요."),
    ("evidence_kind", "receipt", "증빙 종류 목록에서 골라 주세요."),
    ("method", "m" * 300, "결제수단 목록에서 골라 주세요."),
    ("category", "c" * 300, "이 사업의 비목 목록에서 골라 주세요."),
]


@pytest.fixture
def spending_day(monkeypatch):
    """'Today' inside the world's programme year (spending dated later than today is refused)."""
    from datetime import date

    from blueprints.settlement import services

    monkeypatch.setattr(services, "today_kst", lambda: date(2027, 6, 10))


@pytest.mark.parametrize("url", ["/settlement/awards/{award_a}/expenses", "/settlement/expenses/{expense_a}/edit"])
@pytest.mark.parametrize("field, value, message", OFF_LIST, ids=[f"{f}={v[:12]}" for f, v, _ in OFF_LIST])
def test_expense_ids_and_choices_off_the_list_are_a_422(url, field, value, message, client, auth, world,  # noqa: F811
                                                       spending_day):
    from blueprints.settlement.models import ActivitySession, Expense

    users, ids = world
    other_session = db.session.scalar(select(ActivitySession.id).where(ActivitySession.award_id != ids["award_a"]))
    assert other_session is not None
    auth.login(users["applicant_a"].email)
    before = (db.session.scalar(select(func.count(AuditEvent.id))),
              db.session.execute(select(Expense.id, Expense.session_id, Expense.evidence_kind, Expense.method,
                                        Expense.category).order_by(Expense.id)).all())
    response = post_expense(client, url.format(**ids), dict(GOOD_EXPENSE, **{field: value.format(other_session=other_session)}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    after = (db.session.scalar(select(func.count(AuditEvent.id))),
             db.session.execute(select(Expense.id, Expense.session_id, Expense.evidence_kind, Expense.method,
                                       Expense.category).order_by(Expense.id)).all())
    assert after == before


def test_the_good_expense_of_the_off_list_cases_is_saved(client, auth, world, spending_day):  # noqa: F811
    """The cases above differ from a saved expense only by the one field."""
    from blueprints.settlement.models import ActivitySession, Expense

    users, ids = world
    auth.login(users["applicant_a"].email)
    own = db.session.scalar(select(ActivitySession.id).where(ActivitySession.award_id == ids["award_a"]))
    response = post_expense(client, "/settlement/awards/{award_a}/expenses".format(**ids),
                            dict(GOOD_EXPENSE, session_id=str(own), evidence_kind="statement"))
    assert response.status_code == 303
    saved = db.session.scalar(select(Expense).order_by(Expense.id.desc()))
    assert (saved.session_id, saved.evidence_kind) == (own, "statement")


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(field=st.sampled_from(["session_id", "evidence_kind", "method", "category"]),
       value=st.one_of(st.text(min_size=1, max_size=400).filter(str.strip), st.integers().map(str)))
def test_expense_choice_fuzz_never_breaks_anything(field, value, client, auth, world, spending_day):  # noqa: F811
    users, ids = world
    auth.login(users["applicant_a"].email)
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    response = post_expense(client, "/settlement/awards/{award_a}/expenses".format(**ids), dict(GOOD_EXPENSE, **{field: value}))
    assert response.status_code < 500, (field, value)
    if response.status_code != 303:
        assert db.session.scalar(select(func.count(AuditEvent.id))) == before
