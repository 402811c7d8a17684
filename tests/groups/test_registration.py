"""Registering a group: the four steps, household rows, consents, duplicates, eligibility panel."""
import re

from sqlalchemy import func, select

from blueprints.accounts.models import AuthToken, User
from blueprints.core.audit import AuditEvent
from blueprints.core.mail import OutboxMessage
from blueprints.groups.models import Child, Group, GroupMember, MemberInvitation
from blueprints.core.timeutil import today_kst
from extensions import db
from tests.groups.conftest import registration_data

URL = "/groups/register"


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_only_signed_in_applicants_may_register(client, auth, make_user):
    assert client.get(URL).status_code == 302
    make_user("staff@example.kr", roles=("staff",))
    auth.login("staff@example.kr")
    assert client.get(URL).status_code == 403


def test_first_step_shows_steps_and_the_parent_is_the_first_household(client, auth, parent):
    auth.login("parent@example.kr")
    page = client.get(URL).get_data(as_text=True)
    assert 'class="krds-step-wrap' in page
    assert 'aria-current="step"' in page
    assert "1단계 · 기본 정보" in page
    # the parent's own name and number travel along as the first (대표) household
    assert 'name="households-0-parent_name" value="김대표"' in page
    assert 'name="households-0-role" value="leader"' in page
    assert "주민등록번호" not in re.sub(r"<p class=\"lead\">.*?</p>", "", page, flags=re.S).split("<main")[1].split("</form>")[0]


def test_step_errors_are_korean_keep_the_typing_and_answer_422(client, auth, parent):
    auth.login("parent@example.kr")
    data = registration_data(step=1, name="")
    data["dong"] = ""
    response = client.post_form(f"{URL}/next", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "필수 입력 항목입니다." in page
    assert 'value="망원동 공동육아방"' in page  # what was typed stays
    assert "1단계 · 기본 정보" in page


def test_next_moves_on_and_carries_earlier_answers_hidden(client, auth, parent):
    auth.login("parent@example.kr")
    response = client.post_form(f"{URL}/next", registration_data(step=1, households=1))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2단계 · 가구" in page
    assert '<input type="hidden" name="name" value="햇살품앗이">' in page
    assert '<input type="hidden" name="district" value="마포구">' in page


def test_back_returns_to_the_step_before_with_everything_typed(client, auth, parent):
    auth.login("parent@example.kr")
    data = registration_data(step=3, households=2)
    data["households-1-parent_name"] = "이회계"
    response = client.post_form(f"{URL}/back", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2단계 · 가구" in page and 'value="이회계"' in page
    assert '<input type="hidden" name="name" value="햇살품앗이">' in page
    # the form's own action moves forward; only this button goes back
    assert 'action="/groups/register/next"' in page and 'formaction="/groups/register/back"' in page


def test_adding_a_household_with_htmx_returns_the_rows_and_keeps_what_was_typed(client, auth, parent):
    auth.login("parent@example.kr")
    data = registration_data(step=2, households=2)
    data["households-1-parent_name"] = "이회계"
    response = client.htmx("POST", f"{URL}/households/add", target="households", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<html" not in page  # only the household rows
    assert page.count('<fieldset class="household"') == 3
    assert 'value="이회계"' in page and 'value="010-3333-0001"' in page
    assert 'id="household-2" data-focus="true"' in page
    assert response.headers["HX-Trigger-After-Swap"] == "households-changed"
    assert "HX-Request" in response.headers["Vary"]


def test_removing_a_household_renumbers_the_rest_without_losing_them(client, auth, parent):
    auth.login("parent@example.kr")
    data = registration_data(step=2, households=3)
    response = client.htmx("POST", f"{URL}/households/1/remove", target="households", data=data)
    page = response.get_data(as_text=True)
    assert page.count('<fieldset class="household"') == 2
    assert re.search(r'name="households-1-parent_name"[^>]*value="보호자2"', page)
    assert "보호자1" not in page
    # the registering parent's row cannot be removed
    response = client.htmx("POST", f"{URL}/households/0/remove", target="households", data=registration_data(step=2, households=2))
    assert response.get_data(as_text=True).count('<fieldset class="household"') == 2


def test_adding_a_household_without_javascript_renders_the_whole_page(client, auth, parent):
    auth.login("parent@example.kr")
    response = client.post_form(f"{URL}/households/add", registration_data(step=2, households=1))
    page = response.get_data(as_text=True)
    assert "<html" in page and page.count('<fieldset class="household"') == 2


def test_household_rules_at_step_two(client, auth, parent):
    auth.login("parent@example.kr")
    data = registration_data(step=2, households=4)
    data["households-2-role"] = "treasurer"           # a second 회계
    data["households-3-phone"] = "010-3333-0001"      # same number as household 2
    data["households-1-child_1"] = "2024-13"
    data["households-2-child_1"] = f"{today_kst().year + 1}-01"
    data["households-3-role"] = "leader"
    response = client.post_form(f"{URL}/next", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "회계는 한 명만 지정할 수 있습니다." in page
    assert "2번째 가구와 휴대전화번호가 같습니다" in page
    assert "출생 연월을 &#39;2024-05&#39;처럼" in page or "출생 연월을 '2024-05'처럼" in page
    assert "출생 연월이 오늘보다 뒤입니다" in page
    assert "대표는 등록하는 분(첫 번째 가구) 한 명입니다" in page


def test_register_creates_the_group_with_households_children_consents_and_audit(client, auth, parent):
    auth.login("parent@example.kr")
    data = registration_data(consent_photos=False)
    data["households-2-child_2"] = "2026.1"
    response = client.post_form(f"{URL}/finish", data)
    assert response.status_code == 303
    group = db.session.scalar(select(Group))
    assert response.headers["Location"].endswith(f"/groups/{group.id}")
    assert group.reg_no == f"G-{today_kst().year}-0001"
    assert [m.role for m in group.members] == ["leader", "treasurer", "member", "member", "member"]
    leader = group.members[0]
    assert leader.user_id == parent.id and leader.phone == "01022220000" and leader.email == parent.email
    assert all(m.consent_at is not None for m in group.members)
    assert [c.birth_ym for c in group.members[2].children] == ["2024-05", "2026-01"]
    assert group.consent_collection_at and group.consent_provision_at and group.consent_photos_at is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "group.registered"))
    assert event.object_id == str(group.id) and event.actor_id == parent.id
    assert "010" not in (event.changes or "")
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert group.reg_no in follow and "모임을 등록했습니다" in follow


def test_finishing_with_htmx_sends_the_browser_to_the_group_page(client, auth, parent):
    auth.login("parent@example.kr")
    response = client.htmx("POST", f"{URL}/finish", target="register-wizard", data=registration_data())
    group = db.session.scalar(select(Group))
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/groups/{group.id}"


def test_registration_numbers_run_on(client, auth, parent, make_user):
    auth.login("parent@example.kr")
    client.post_form(f"{URL}/finish", registration_data(name="첫째 모임"))
    client.post_form(f"{URL}/finish", registration_data(name="둘째 모임", leader_phone="010-2222-0000"))  # duplicate phone: refused
    auth.logout()
    make_user("other@example.kr", phone="01044440000")
    auth.login("other@example.kr")
    client.post_form(f"{URL}/finish", registration_data(name="둘째 모임", leader_phone="010-4444-0000"))
    year = today_kst().year
    assert db.session.scalars(select(Group.reg_no).order_by(Group.id)).all() == [f"G-{year}-0001", f"G-{year}-0002"]


def test_collection_consent_is_required(client, auth, parent):
    auth.login("parent@example.kr")
    response = client.post_form(f"{URL}/finish", registration_data(consent_collection=False))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "개인정보 수집·이용에 동의해야 모임을 등록할 수 있습니다." in page
    assert "4단계 · 개인정보 동의" in page
    assert count(Group) == 0 and count(GroupMember) == 0 and count(Child) == 0


def test_each_consent_is_shown_separately_with_purpose_items_retention_and_refusal(client, auth, parent):
    auth.login("parent@example.kr")
    page = client.post_form(f"{URL}/next", registration_data(step=3)).get_data(as_text=True)
    assert "4단계 · 개인정보 동의" in page
    for title in ("① 개인정보 수집·이용 동의 (필수)", "② 자치구·서울시 제공 동의 (공모사업 신청 시 필수)",
                  "③ 활동 사진 수집·이용 동의 (선택)", "④ 모임 이름 공개 동의 (선택)"):
        section = page.split(title)[1].split("</section>")[0]
        for row in ("목적", "항목", "보유·이용 기간", "동의를 거부할 권리"):
            assert f'<th scope="row">{row}</th>' in section, (title, row)
    assert page.count('type="checkbox"') == 4
    # Publishing the name is its own, optional box, and says members' data is never published.
    publish = page.split("④ 모임 이름 공개 동의 (선택)")[1].split("</section>")[0]
    assert "모임 이름과 자치구만" in publish and "개인정보는 싣지 않습니다" in publish
    assert 'name="consent_publish_name"' in publish and "checked" not in publish


def test_provision_consent_is_optional_to_register_but_flagged_for_applying(client, auth, parent, make_programme):
    make_programme()
    auth.login("parent@example.kr")
    response = client.post_form(f"{URL}/finish", registration_data(consent_provision=False))
    assert response.status_code == 303
    group = db.session.scalar(select(Group))
    assert group.consent_provision_at is None
    page = client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert "공모사업에 신청하려면 &#39;자치구·서울시 제공&#39; 동의가 필요합니다" in page
    assert "eligibility--ok" in page  # the rules are met; the consent is a note for applying


def test_same_leader_and_name_is_a_duplicate(client, auth, parent, make_group):
    make_group(leader=parent, name="햇살품앗이")
    auth.login("parent@example.kr")
    response = client.post_form(f"{URL}/next", registration_data(step=1, name="햇살품앗이 "))
    assert response.status_code == 422
    assert "이미 같은 이름의 모임(" in response.get_data(as_text=True)
    response = client.post_form(f"{URL}/finish", registration_data(name="햇살품앗이", leader_phone="010-9999-0000"))
    assert response.status_code == 422
    assert count(Group) == 1


def test_a_mobile_number_that_leads_another_active_group_is_a_duplicate(client, auth, parent, make_user, make_group):
    other = make_user("other@example.kr", phone="01022220000")
    existing = make_group(leader=other, name="다른 모임")
    auth.login("parent@example.kr")
    response = client.post_form(f"{URL}/next", registration_data(step=2))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "이미 활동 중인 다른 모임의 대표 번호로 등록되어 있습니다" in page
    # what to fix, and nothing about the other group: neither its number, nor its name, nor its 대표
    assert existing.reg_no not in page and "다른 모임</" not in page and other.name not in page
    assert client.post_form(f"{URL}/finish", registration_data()).status_code == 422
    assert count(Group) == 1
    # once that group is no longer active, the number is free
    existing.status = "inactive"
    db.session.commit()
    assert client.post_form(f"{URL}/finish", registration_data()).status_code == 303


def test_checking_mobile_numbers_is_rate_limited_per_person(app, client, auth, parent, make_user, make_group,
                                                           monkeypatch):
    """Step 2 said which number leads a group to anyone who typed numbers in a loop: a person
    may check only a few distinct numbers in ten minutes, then hears to wait."""
    monkeypatch.setitem(app.config, "PHONE_CHECK_MAX", 3)
    make_group(leader=make_user("other@example.kr", phone="01077770000"), name="다른 모임")
    auth.login("parent@example.kr")

    def check(phone):
        return client.post_form(f"{URL}/next", registration_data(step=2, leader_phone=phone))

    assert check("010-2222-0000").status_code == 200
    assert check("010-7777-0000").status_code == 422      # a real 대표's number: the plain message
    assert check("010-2222-0001").status_code == 200
    probe = check("010-7777-0001")                          # a fourth distinct number: refused
    assert probe.status_code == 422
    assert "휴대전화번호를 너무 여러 번 확인했습니다. 10분 뒤에 다시 시도해 주세요." in probe.get_data(as_text=True)
    # a number already checked stays usable: the person finishes with their own number
    assert check("010-2222-0000").status_code == 200
    assert client.post_form(f"{URL}/finish", registration_data(leader_phone="010-2222-0000")).status_code == 303
    # the limit is per person: someone else checks freely
    make_user("second@example.kr", phone="01055550000")
    auth.logout()
    auth.login("second@example.kr")
    assert check("010-5555-0000").status_code == 200


def test_households_with_an_email_are_invited(client, auth, parent, make_user):
    existing = make_user("member@example.kr", name="박구성")
    auth.login("parent@example.kr")
    data = registration_data(emails={1: "Treasurer@Example.kr", 2: "member@example.kr"})
    assert client.post_form(f"{URL}/finish", data).status_code == 303
    group = db.session.scalar(select(Group))
    treasurer, member = group.members[1], group.members[2]
    new_user = db.session.scalar(select(User).where(User.email == "treasurer@example.kr"))
    # nobody is linked on the 대표's say-so: each invited owner accepts first
    assert treasurer.user_id is None and treasurer.invited_at is not None
    assert not new_user.has_password and not new_user.is_verified
    assert db.session.scalar(select(AuthToken).where(AuthToken.user_id == new_user.id)).purpose == "invite"
    assert member.user_id is None
    assert sorted(i.user_id for i in db.session.scalars(select(MemberInvitation))) == sorted([new_user.id, existing.id])
    recipients = sorted(db.session.scalars(select(OutboxMessage.recipient)).all())
    assert recipients == ["member@example.kr", "treasurer@example.kr"]
    invite_body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.recipient == "treasurer@example.kr"))
    assert "/invite/" in invite_body and group.reg_no in invite_body


def test_invitation_emails_are_checked_at_step_three(client, auth, parent):
    auth.login("parent@example.kr")
    data = registration_data(step=3, emails={1: "not-an-email", 2: "a@example.kr", 3: "A@example.kr"})
    response = client.post_form(f"{URL}/next", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "이메일 주소 형식이 올바르지 않습니다" in page
    assert "다른 가구와 이메일이 같습니다." in page


def test_finishing_with_an_earlier_step_wrong_goes_back_to_that_step(client, auth, parent):
    auth.login("parent@example.kr")
    data = registration_data()
    data["households-3-child_1"] = ""
    response = client.post_form(f"{URL}/finish", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "2단계 · 가구" in page and "자녀 한 명 이상의 출생 연월을 적어 주세요." in page
    assert count(Group) == 0


# The live eligibility panel -------------------------------------------------------------------

def test_panel_turns_ok_with_five_households_and_explains_what_is_missing(client, auth, parent, make_programme):
    make_programme()
    auth.login("parent@example.kr")
    response = client.htmx("POST", "/groups/register/check", target="eligibility-panel",
                           data=registration_data(step=2, households=5))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert "eligibility--ok" in page and "모든 지원 요건을 충족합니다." in page

    data = registration_data(step=2, households=4, birth_ym="2024-05")
    data["households-3-child_1"] = "2019-01"
    page = client.htmx("POST", "/groups/register/check", target="eligibility-panel", data=data).get_data(as_text=True)
    assert "eligibility--todo" in page
    assert "3가구입니다. 최소 5가구가 필요하므로 2가구가 더 있어야 합니다." in page
    assert "보호자3 가구: 2019년 1월생은 만 8세입니다." in page
    assert count(Group) == 0  # the panel never saves


def test_panel_without_any_programme_says_so(client, auth, parent):
    auth.login("parent@example.kr")
    page = client.htmx("POST", "/groups/register/check", target="eligibility-panel",
                       data=registration_data(step=1)).get_data(as_text=True)
    assert "지금 확인할 공모사업이 없습니다" in page


def test_panel_is_rendered_with_every_step_without_javascript(client, auth, parent, make_programme):
    make_programme()
    auth.login("parent@example.kr")
    page = client.post_form(f"{URL}/next", registration_data(step=1, households=1)).get_data(as_text=True)
    assert 'id="eligibility-panel"' in page and "1가구입니다" in page


def test_panel_judges_against_published_programmes_only(app, make_programme):
    from datetime import timedelta

    from blueprints.core.models import utcnow
    from blueprints.groups.services import current_programme

    now = utcnow()
    assert current_programme() is None
    past = make_programme(title="지난 사업", opens_at=now - timedelta(days=400), closes_at=now - timedelta(days=380))
    assert current_programme() == past
    upcoming = make_programme(title="다음 사업", opens_at=now + timedelta(days=30), closes_at=now + timedelta(days=50))
    assert current_programme() == upcoming
    open_now = make_programme(title="열린 사업", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=90))
    assert current_programme() == open_now
    open_now.rules = {**open_now.rules, "status": "draft"}
    db.session.commit()
    assert current_programme() == upcoming
