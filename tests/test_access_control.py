"""Every route × every kind of user: the expected answer, per object.

Each route of ``app.url_map`` must have an entry in ROUTES (a new route without one fails
``test_every_route_is_in_the_table``). An entry says which URL to call on the shared
`world` (group A's objects; group B is the neighbour who must never get in) and what each
role gets. Denials are checked before the allowed roles act, so a POST that changes
something runs last.
"""
import io
from datetime import timedelta

import pytest

from blueprints.core.timeutil import now_utc
from extensions import db

# reviewer: assigned to group A's submitted application; reviewer_b: a reviewer without assignments;
# city: the city's officer (시 담당관), who reads the centre's view and changes nothing.
ROLES = ("anon", "applicant_a", "applicant_b", "reviewer", "reviewer_b", "staff", "finance", "admin", "city")
SIGNED_IN = ROLES[1:]

LOGIN = "login"   # 302 to the login page
OK = "ok"         # allowed: not 401/403/404/5xx (a 4xx about the form's content is fine)


def expect(default, **overrides):
    """anon → LOGIN unless said otherwise; every other role gets `default` unless overridden."""
    table = {role: default for role in SIGNED_IN}
    table["anon"] = LOGIN
    table.update(overrides)
    return table


PUBLIC = {role: 200 for role in ROLES}
ANY_SIGNED_IN = expect(200)
ADMIN_ONLY = expect(403, admin=OK)
STAFF_ONLY = expect(403, staff=OK)
APP_A_READERS = expect(403, applicant_a=200, staff=200, finance=200, admin=200)
APP_A_EDITOR = expect(403, applicant_a=OK)

# (endpoint, method): (url template, form data, expectations)
ROUTES = {
    ("home.index", "GET"): ("/", None, dict(expect(302), anon=200)),
    ("home.dashboard", "GET"): ("/dashboard", None, ANY_SIGNED_IN),
    ("home.privacy", "GET"): ("/privacy", None, PUBLIC),
    ("core.healthz", "GET"): ("/healthz", None, PUBLIC),
    ("static", "GET"): ("/static/css/app.css", None, PUBLIC),

    ("accounts.signup", "GET"): ("/signup", None, dict(expect(302), anon=200)),
    ("accounts.signup", "POST"): ("/signup", {"email": "x"}, dict(expect(302), anon=OK)),
    ("accounts.login", "GET"): ("/login", None, dict(expect(302), anon=200)),
    ("accounts.login", "POST"): ("/login", {"email": "nobody@example.kr", "password": "x"}, dict(expect(302), anon=OK)),
    ("accounts.logout", "POST"): ("/logout", {}, {role: 303 for role in ROLES}),
    ("accounts.change_password", "GET"): ("/account/password", None, ANY_SIGNED_IN),
    ("accounts.change_password", "POST"): ("/account/password", {"current_password": "wrong"}, expect(OK)),
    ("accounts.forgot_password", "GET"): ("/password/forgot", None, PUBLIC),
    ("accounts.forgot_password", "POST"): ("/password/forgot", {"email": "bad"}, {role: OK for role in ROLES}),
    ("accounts.reset_password", "GET"): ("/password/reset/not-a-token", None, {role: 410 for role in ROLES}),
    ("accounts.reset_password", "POST"): ("/password/reset/not-a-token", {}, {role: 410 for role in ROLES}),
    ("accounts.accept_invite", "GET"): ("/invite/not-a-token", None, {role: 410 for role in ROLES}),
    ("accounts.accept_invite", "POST"): ("/invite/not-a-token", {}, {role: 410 for role in ROLES}),
    ("accounts.verify_notice", "GET"): ("/account/verify", None, dict(expect(302), anon=200)),
    ("accounts.resend_verification", "POST"): ("/account/verify/resend", {}, {role: 303 for role in ROLES}),
    ("accounts.verify_email", "GET"): ("/account/verify/not-a-token", None, {role: 410 for role in ROLES}),
    ("accounts.verify_email", "POST"): ("/account/verify/not-a-token", {}, {role: 410 for role in ROLES}),
    ("accounts.disown_signup", "POST"): ("/account/verify/not-a-token/disown", {}, {role: 410 for role in ROLES}),
    ("accounts.admin_users", "GET"): ("/admin/users", None, expect(403, admin=200)),
    ("accounts.admin_invite", "POST"): ("/admin/users/invite", {"email": "bad"}, ADMIN_ONLY),
    ("accounts.admin_change_role", "POST"): ("/admin/users/{user_b}/roles/grant", {"role": "finance"}, ADMIN_ONLY),
    ("accounts.admin_set_active", "POST"): ("/admin/users/{user_b}/active", {"active": "1"}, ADMIN_ONLY),
    # Second factor (issue 12): the sign-in step only means something between password and code.
    ("accounts.second_factor_verify", "GET"): ("/login/second-factor", None, expect(302)),
    ("accounts.second_factor_verify", "POST"): ("/login/second-factor", {"code": "123456"}, expect(302)),
    ("accounts.second_factor_setup", "GET"): ("/login/second-factor/setup", None,
                                              expect(200, staff=302, finance=302, admin=302, city=302)),
    ("accounts.second_factor_setup", "POST"): ("/login/second-factor/setup", {"code": "000000"}, expect(OK)),
    ("accounts.account_security", "GET"): ("/account/security", None, ANY_SIGNED_IN),
    ("accounts.second_factor_disable", "POST"): ("/account/security/disable", {"code": "000000"}, expect(OK)),
    ("accounts.renew_recovery_codes", "POST"): ("/account/security/recovery-codes", {"code": "000000"}, expect(OK)),
    ("accounts.admin_reset_second_factor", "POST"): ("/admin/users/{user_b}/second-factor/reset", {}, ADMIN_ONLY),
    ("audit.list_events", "GET"): ("/admin/audit/", None, expect(403, admin=200)),

    ("programmes.list_programmes", "GET"): ("/programmes/", None, PUBLIC),
    ("programmes.show_programme", "GET"): ("/programmes/{programme}", None, PUBLIC),
    ("programmes.apply", "GET"): ("/programmes/{programme}/apply", None, expect(303)),
    ("programmes.manage_programmes", "GET"): ("/programmes/manage", None, expect(403, staff=200)),
    ("programmes.create_programme", "POST"): ("/programmes/manage/new", {"source": ""}, STAFF_ONLY),
    ("programmes.edit_programme", "GET"): ("/programmes/{programme}/edit", None, expect(403, staff=200)),
    ("programmes.save_section", "POST"): ("/programmes/{programme}/edit/basic", {"title": ""}, STAFF_ONLY),
    ("programmes.rubric_total", "POST"): ("/programmes/{programme}/edit/review/total", {}, STAFF_ONLY),
    ("programmes.publish", "POST"): ("/programmes/{programme}/publish", {}, STAFF_ONLY),

    ("groups.register", "GET"): ("/groups/register", None, expect(403, applicant_a=200, applicant_b=200)),
    ("groups.register_next", "POST"): ("/groups/register/next", {"step": "1"}, expect(403, applicant_a=OK, applicant_b=OK)),
    ("groups.register_back", "POST"): ("/groups/register/back", {"step": "2"}, expect(403, applicant_a=OK, applicant_b=OK)),
    ("groups.register_add_household", "POST"): ("/groups/register/households/add", {"step": "2"},
                                                expect(403, applicant_a=OK, applicant_b=OK)),
    ("groups.register_remove_household", "POST"): ("/groups/register/households/1/remove", {"step": "2"},
                                                   expect(403, applicant_a=OK, applicant_b=OK)),
    ("groups.register_finish", "POST"): ("/groups/register/finish", {"step": "4"}, expect(403, applicant_a=OK, applicant_b=OK)),
    ("groups.register_check", "POST"): ("/groups/register/check", {}, expect(403, applicant_a=OK, applicant_b=OK)),
    ("groups.register_restart", "POST"): ("/groups/register/restart", {}, expect(403, applicant_a=303, applicant_b=303)),
    ("groups.mine", "GET"): ("/groups/mine", None, ANY_SIGNED_IN),
    ("groups.show", "GET"): ("/groups/{group_a}", None, APP_A_READERS),
    ("groups.invite", "POST"): ("/groups/{group_a}/invite", {"member_id": ""}, APP_A_EDITOR),
    ("groups.handover", "POST"): ("/groups/{group_a}/handover", {"role": "treasurer", "member_id": ""},
                                  expect(403, applicant_a=OK, staff=OK, finance=OK, admin=OK)),
    # Only the 대표 (applicant_a) or staff unlink a household's account; only the invited answer.
    ("groups.unlink_member", "POST"): ("/groups/{group_a}/members/{member_a}/unlink", {},
                                       expect(403, applicant_a=OK, staff=OK, finance=OK, admin=OK)),
    ("groups.accept_invitation", "POST"): ("/groups/invitations/{invitation}/accept", {}, expect(403, applicant_b=OK)),
    ("groups.decline_invitation", "POST"): ("/groups/invitations/{invitation}/decline", {}, expect(403, applicant_b=OK)),
    ("groups.set_status", "POST"): ("/groups/{group_a}/status", {"status": "active"}, expect(403, staff=OK, admin=OK)),
    ("groups.set_affiliation", "POST"): ("/groups/{group_a}/affiliation", {"affiliation": "centre"},
                                         expect(403, staff=303, admin=303)),
    # The group's own consent: its 대표 only, never staff on the group's behalf.
    ("groups.consent_publish_name", "POST"): ("/groups/{group_a}/publish-name/consent", {}, expect(403, applicant_a=303)),
    ("groups.withdraw_publish_name", "POST"): ("/groups/{group_a}/publish-name/withdraw", {}, expect(403, applicant_a=303)),
    ("groups.set_residences", "POST"): ("/groups/{group_a}/residences", {},
                                        expect(403, applicant_a=OK, staff=OK, admin=OK)),
    ("groups.my_data", "GET"): ("/groups/{group_a}/me", None, expect(403, applicant_a=200)),
    ("groups.my_data", "POST"): ("/groups/{group_a}/me", {}, expect(403, applicant_a=OK)),
    ("groups.list_groups", "GET"): ("/groups/", None, expect(403, staff=200, finance=200, admin=200)),
    ("groups.export", "GET"): ("/groups/export.csv", None, expect(403, staff=200, finance=200, admin=200)),

    ("applications.new", "GET"): ("/applications/new/{programme}", None, ANY_SIGNED_IN),
    ("applications.start", "POST"): ("/applications/start/{programme}", {"group_id": "{group_a}"}, APP_A_EDITOR),
    ("applications.show", "GET"): ("/applications/{app_a}", None, APP_A_READERS),
    ("applications.edit", "GET"): ("/applications/{app_a}/edit/budget", None, expect(403, applicant_a=200)),
    ("applications.edit", "POST"): ("/applications/{app_a}/edit/purpose", {"purpose": "목적", "need": "필요"}, APP_A_EDITOR),
    ("applications.budget_summary", "GET"): ("/applications/{app_a}/budget/summary", None,
                                             expect(403, applicant_a=302, staff=302, finance=302, admin=302)),
    ("applications.download_attachment", "GET"): ("/applications/{app_a}/attachments/{attachment_a}", None, APP_A_READERS),
    ("applications.delete_attachment", "POST"): ("/applications/{app_a}/attachments/{attachment_a}/delete", {}, APP_A_EDITOR),
    ("applications.dismiss_conflict", "POST"): ("/applications/{app_a}/conflicts/{conflict_a}/dismiss", {}, APP_A_EDITOR),
    ("applications.submit", "POST"): ("/applications/{app_a}/submit", {"confirm": "y"}, APP_A_EDITOR),
    ("applications.withdraw", "POST"): ("/applications/{app_a}/withdraw", {}, APP_A_EDITOR),
    ("applications.pdf", "GET"): ("/applications/{submitted_a}/pdf", None,
                                  expect(403, applicant_a=200, staff=200, finance=200)),
    ("applications.staff_action", "POST"): ("/applications/{submitted_a}/staff-action",
                                            {"action": "return", "message": "보완해 주세요"}, STAFF_ONLY),
    ("applications.staff_list", "GET"): ("/applications/programme/{programme}", None, expect(403, staff=200)),
    ("applications.staff_bulk", "POST"): ("/applications/programme/{programme}/bulk",
                                          {"ids": "{submitted_a}", "action": "return", "message": "x"}, STAFF_ONLY),
    ("applications.staff_export", "GET"): ("/applications/programme/{programme}/export.csv", None,
                                           expect(403, staff=200, finance=200)),

    # Review (심사·선정): staff pages, the reviewer's own assignment, the group's feedback page.
    ("review.programmes", "GET"): ("/review/", None, expect(403, staff=200)),
    ("review.overview", "GET"): ("/review/programme/{programme}", None, expect(403, staff=200)),
    ("review.settings", "GET"): ("/review/programme/{programme}/settings", None, expect(403, staff=200)),
    ("review.settings", "POST"): ("/review/programme/{programme}/settings", {"comment_rule": "x"}, STAFF_ONLY),
    ("review.save_profile", "POST"): ("/review/programme/{programme}/reviewer/{reviewer}", {}, STAFF_ONLY),
    ("review.assignments", "GET"): ("/review/programme/{programme}/assignments", None, expect(403, staff=200)),
    ("review.auto_assign", "POST"): ("/review/programme/{programme}/auto-assign", {}, STAFF_ONLY),
    ("review.assign_application", "GET"): ("/review/application/{submitted_a}/assign", None, expect(403, staff=200)),
    ("review.assign_reviewer", "POST"): ("/review/application/{submitted_a}/assign",
                                         {"reviewer_id": "{reviewer}"}, STAFF_ONLY),
    ("review.record_conflict", "POST"): ("/review/application/{submitted_a}/conflict",
                                         {"c-reviewer_id": "{reviewer}", "c-kind": "recusal", "c-reason": ""}, STAFF_ONLY),
    ("review.unassign", "POST"): ("/review/assignment/{assignment}/unassign", {}, STAFF_ONLY),
    # Only a submitted review can be reopened; the world's assignment is still open, so staff get 403 too.
    ("review.reopen", "POST"): ("/review/assignment/{assignment}/reopen", {"r-reason": "x"}, expect(403)),
    ("review.matrix", "GET"): ("/review/programme/{programme}/matrix", None, expect(403, staff=200)),
    ("review.ranking", "GET"): ("/review/programme/{programme}/ranking", None, expect(403, staff=200)),
    ("review.scenarios", "GET"): ("/review/programme/{other_programme}/scenarios", None, expect(403, staff=200)),
    ("review.scenarios", "POST"): ("/review/programme/{other_programme}/scenarios", {"name": ""}, STAFF_ONLY),
    ("review.scenario", "GET"): ("/review/scenario/{scenario}", None, expect(403, staff=200)),
    ("review.adjust", "POST"): ("/review/scenario/{scenario}/entry/{entry}", {}, STAFF_ONLY),
    ("awards.publish", "POST"): ("/review/scenario/{scenario}/publish", {}, STAFF_ONLY),
    ("review.minutes", "GET"): ("/review/programme/{other_programme}/minutes.xlsx", None, expect(403, staff=200)),
    ("review.mine", "GET"): ("/review/mine", None, expect(403, reviewer=200, reviewer_b=200)),
    ("review.score", "GET"): ("/review/assignment/{assignment}", None, expect(403, reviewer=200)),
    ("review.score", "POST"): ("/review/assignment/{assignment}", {"action": "save"}, expect(403, reviewer=OK)),
    ("review.live_total", "POST"): ("/review/assignment/{assignment}/total", {}, expect(403, reviewer=OK)),
    ("review.decline", "GET"): ("/review/assignment/{assignment}/decline", None, expect(403, reviewer=200)),
    ("review.decline", "POST"): ("/review/assignment/{assignment}/decline", {"kind": "unavailable", "reason": ""},
                                 expect(403, reviewer=OK)),
    # Feedback exists only after a published decision that shares it: group A's officer gets 404 before.
    ("review.feedback", "GET"): ("/review/feedback/{submitted_a}", None, expect(403, applicant_a=404)),

    # 센터 현황 (issue 15): staff, finance and the city read it; nobody writes.
    ("centre.dashboard", "GET"): ("/centre/?programme={programme}&district=마포구", None,
                                  expect(403, staff=200, finance=200, city=200)),
    ("centre.export", "GET"): ("/centre/districts.xlsx?programme={programme}", None,
                               expect(403, staff=200, finance=200, city=200)),
    ("centre.results_report", "GET"): ("/centre/report.pdf?programme={programme}", None,
                                       expect(403, staff=200, finance=200, city=200)),
    # The public results page: anyone, but only once the results are published (here they are not).
    ("results.public_results", "GET"): ("/results/{programme}", None, {role: 404 for role in ROLES}),
}


# Disbursement and settlement (교부·집행·정산): their rows and objects live with their tests.
from tests.settlement.access import SETTLEMENT_ROUTES, settlement_world  # noqa: E402

ROUTES.update(SETTLEMENT_ROUTES)


def route_keys(app):
    keys = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            keys.add((rule.endpoint, method))
    return keys


def test_every_route_is_in_the_table(app):
    missing = sorted(route_keys(app) - set(ROUTES))
    assert not missing, ("routes without an access-control entry — add them to ROUTES in "
                         f"tests/test_access_control.py: {missing}")
    stale = sorted(set(ROUTES) - route_keys(app))
    assert not stale, f"entries for routes that no longer exist: {stale}"


PNG_1x1 = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
           b"\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\r\xefF\xb8\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def world(make_user, make_group, make_programme):
    """Group A (its leader is applicant_a) with a draft and a submitted application;
    group B's leader is the neighbour; one user of every other role."""
    from blueprints.applications import services
    from blueprints.applications.models import DraftConflict
    from tests.applications.conftest import GOOD_LINES, GOOD_SESSIONS

    users = {
        "applicant_a": make_user("a@example.kr", name="김에이"),
        "applicant_b": make_user("b@example.kr", name="박비"),
        "reviewer": make_user("rev@example.kr", roles=("reviewer",)),
        "reviewer_b": make_user("rev-b@example.kr", roles=("reviewer",)),
        "staff": make_user("staff@example.kr", roles=("staff",)),
        "finance": make_user("finance@example.kr", roles=("finance",)),
        "admin": make_user("admin@example.kr", roles=("admin",)),
        "city": make_user("city@example.kr", roles=("city",)),
    }
    treasurer_a = make_user("ta@example.kr")
    group_a = make_group(leader=users["applicant_a"], treasurer=treasurer_a, name="에이모임")
    group_b = make_group(leader=users["applicant_b"], treasurer=make_user("tb@example.kr"), name="비모임")
    window = dict(opens_at=now_utc() - timedelta(days=1), closes_at=now_utc() + timedelta(days=5))
    from datetime import date

    period = dict(activity_start=date(2027, 4, 1), activity_end=date(2027, 5, 31), settlement_due=date(2027, 6, 30))
    programme = make_programme(**window, **period)
    other = make_programme(**window, **period)
    leader = users["applicant_a"]

    def complete(application):
        services.save_statements(application, purpose="목적", need="필요", other_funding=False, other_funding_detail="",
                                 based_on_version=None, user=leader)
        services.save_sessions(application, GOOD_SESSIONS, based_on_version=None, user=leader)
        services.save_budget(application, GOOD_LINES, based_on_version=None, user=leader)

    app_a = services.start_application(group_a, programme, user=leader)
    complete(app_a)

    class Upload(io.BytesIO):
        filename = "photo.png"

    attachment = services.add_attachment(app_a, Upload(PNG_1x1), "사진", user=leader)
    conflict = DraftConflict(application_id=app_a.id, user_id=leader.id, section="purpose", based_on_version=1,
                             data={"purpose": "x"})
    db.session.add(conflict)
    submitted = services.start_application(group_a, other, user=leader)
    complete(submitted)
    services.submit(submitted, user=leader)
    services.start_application(group_b, programme, user=users["applicant_b"])
    db.session.commit()
    from blueprints.review import services as review

    assignment = review.assign(submitted, users["reviewer"], user=users["staff"])
    scenario = review.create_scenario(other, name="기본", quota_per_district=None, user=users["staff"])
    db.session.commit()
    ids = dict(programme=programme.id, group_a=group_a.id, app_a=app_a.id, attachment_a=attachment.id,
               conflict_a=conflict.id, submitted_a=submitted.id, user_b=users["applicant_b"].id,
               reviewer=users["reviewer"].id, assignment=assignment.id, other_programme=other.id,
               scenario=scenario.id, entry=scenario.entries[0].id)
    from blueprints.groups import services as groups_services

    from flask import current_app

    with current_app.test_request_context():  # the invitation mail holds a full link
        invitation = groups_services.invite_member(group_a, group_a.members[2], users["applicant_b"].email,
                                                   by=users["applicant_a"])
    db.session.commit()
    ids.update(member_a=group_a.members[1].id, invitation=invitation.id)
    ids.update(settlement_world(users, group_a, make_programme))
    return users, ids


def _run_order(expectations):
    """Denied roles first, allowed ones last (their POST may change the world)."""
    return sorted(ROLES, key=lambda role: expectations[role] in (200, OK, 303, 302, 410))


@pytest.mark.parametrize("key", sorted(ROUTES), ids=lambda k: f"{k[1]} {k[0]}")
def test_route_answers_each_role_as_expected(key, app, client, auth, world):
    users, ids = world
    url_template, data, expectations = ROUTES[key]
    url = url_template.format(**ids)
    failures = []
    for role in _run_order(expectations):
        if role == "anon":
            auth.logout()
        else:
            auth.logout()
            auth.login(users[role].email)
        method = key[1]
        if method == "GET":
            response = client.get(url)
        else:
            form = {k: str(v).format(**ids) for k, v in (data or {}).items()}
            response = client.post_form(url, form)
        got, wanted = response.status_code, expectations[role]
        if wanted == LOGIN:
            ok = got == 302 and "/login" in response.headers.get("Location", "")
        elif wanted == OK:
            ok = got < 400 or got in (400, 409, 410, 422, 429)
        else:
            ok = got == wanted
        if not ok:
            failures.append(f"{role}: got {got}, expected {wanted}")
    assert not failures, f"{key[1]} {url}: " + "; ".join(failures)


POST_ROUTES = sorted(key for key in ROUTES if key[1] == "POST")


@pytest.mark.parametrize("key", POST_ROUTES, ids=lambda k: k[0])
def test_every_post_needs_the_csrf_token_with_or_without_htmx(key, client, auth, world):
    from blueprints.core.audit import AuditEvent
    from sqlalchemy import func, select

    users, ids = world
    url_template, data, expectations = ROUTES[key]
    allowed = next(role for role in _run_order(expectations)[::-1])
    if allowed != "anon":
        auth.login(users[allowed].email)
    url = url_template.format(**ids)
    form = {k: str(v).format(**ids) for k, v in (data or {}).items()}
    events_before = db.session.scalar(select(func.count(AuditEvent.id)))
    plain = client.post(url, data=form)
    htmx = client.post(url, data=form, headers={"HX-Request": "true"})
    assert (plain.status_code, htmx.status_code) == (400, 400)
    assert "보안 토큰" in plain.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events_before  # nothing changed
