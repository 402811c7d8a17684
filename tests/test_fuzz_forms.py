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
