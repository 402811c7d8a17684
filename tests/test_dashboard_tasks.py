"""Staff (사업담당) and finance (회계담당) see what waits for them on the dashboard: each count is a
link to a list that shows exactly that many rows; the 결과 공개 button says why it is disabled
before the click; finance reveals the full account number by an audited POST."""
import html
import re

from sqlalchemy import func, select

from extensions import db
from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.review.conftest import close_window, make_reviewers, scored, spread, staff, submitted  # noqa: F401
from tests.settlement.conftest import (Upload, _frozen_today, awarded, expense_in, finance,  # noqa: F401
                                      jpeg_bytes, open_programme_period, paid_award)

TASK_RE = re.compile(r'<a href="([^"]+)" data-task="(\w+)">.*?data-count="(\d+)"', re.S)


def tasks_on(page: str) -> dict[str, tuple[str, int]]:
    """{task key: (url, count)} of the dashboard's to-do links (one programme in these tests)."""
    return {key: (html.unescape(url), int(count)) for url, key, count in TASK_RE.findall(page)}


def test_staff_dashboard_counts_match_the_lists_they_open(client, auth, submitted, make_reviewers, staff):
    from blueprints.review import services as review

    programme, apps = submitted(3)
    first, second = make_reviewers(2, prefix="d")
    done = review.assign(apps[0], first, user=staff)
    review.assign(apps[0], second, user=staff)          # not submitted: one review outstanding
    rubric = review.rubric(programme)
    review.save_scores(done, review.check_for(done, spread(70, rubric), {c["code"]: "의견" for c in rubric}, final=True),
                       user=first, submit=True)
    db.session.commit()

    auth.login(staff.email)
    page = client.get("/dashboard").get_data(as_text=True)
    tasks = tasks_on(page)
    assert set(tasks) == {"check", "reviews"} and programme.title in page
    url, count = tasks["check"]
    assert count == 2 and "status=submitted" in url
    listed = client.get(url).get_data(as_text=True)
    assert listed.count('name="ids"') == 2 and apps[0].group.name not in listed
    url, count = tasks["reviews"]
    assert count == 1 and url.endswith("#pending-reviews")
    overview = client.get(url).get_data(as_text=True)
    assert overview.count('class="pending-review"') == 1 and second.name in overview

    # The last review in: nothing outstanding any more, the link is gone.
    item = review.assignment_of(apps[0], second)
    review.save_scores(item, review.check_for(item, spread(60, rubric), {c["code"]: "의견" for c in rubric}, final=True),
                       user=second, submit=True)
    db.session.commit()
    assert "reviews" not in tasks_on(client.get("/dashboard").get_data(as_text=True))


def test_finance_dashboard_counts_match_the_lists_they_open(client, auth, awarded, paid_award, finance,
                                                            open_programme_period):
    from blueprints.disbursement import services as d
    from blueprints.settlement import services as s

    programme = open_programme_period()
    # Payment due: accepted (account given), nothing paid yet. An award paid in full is not due.
    leader, _, due = awarded(email="due@example.kr", programme=programme)
    d.accept_award(due, bank="신한은행", account_number="110123456789", holder="두레", user=leader)
    paid_award(email="paid@example.kr", programme=programme)
    # One settlement submitted for the first time, one returned, fixed and submitted again.
    settlements = []
    for email in ("first@example.kr", "again@example.kr"):
        _, treasurer, award = paid_award(email=email, programme=programme)
        for i in range(2):
            s.save_expense(award, expense_in(description=f"재료 {i}"), user=treasurer, receipt=Upload(jpeg_bytes()))
        settlement = s.settlement_for(award, create=True)
        s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
        s.submit(settlement, user=treasurer)
        settlements.append((settlement, treasurer))
    again, treasurer = settlements[1]
    lines = s.expenses(again.award)
    s.review_line(lines[0], decision="recognised", reason="", user=finance)
    s.review_line(lines[1], decision="needs_fix", reason="거래명세서를 올려 주세요", user=finance)
    s.return_for_changes(again, message="", user=finance)
    s.save_expense(again.award, expense_in(description="재료 1 — 거래명세서 첨부"), user=treasurer, expense=lines[1],
                   receipt=Upload(jpeg_bytes(color=(10, 10, 10))))
    s.submit(again, user=treasurer)
    db.session.commit()

    auth.login(finance.email)
    tasks = tasks_on(client.get("/dashboard").get_data(as_text=True))
    assert set(tasks) == {"payments", "settlements", "rereview"}

    url, count = tasks["payments"]
    assert count == 1
    listed = client.get(url).get_data(as_text=True)
    assert listed.count('class="award-row"') == 1 and due.application.group.name in listed

    url, count = tasks["settlements"]
    assert count == 2
    assert client.get(url).get_data(as_text=True).count(">PDF</a>") == 2

    url, count = tasks["rereview"]
    assert count == 1 and "status=rereview" in url
    listed = client.get(url).get_data(as_text=True)
    assert listed.count(">PDF</a>") == 1 and "고친 줄 1건 재검토" in listed
    assert again.award.application.group.name in listed
    page = client.get("/dashboard").get_data(as_text=True)
    assert "고친 줄 1건" in page

    # Paying the due award takes it off the list.
    d.record_payment(due.disbursement, instalment=1, amount_won=due.amount_won, paid_on=due.decided_at.date(),
                     reference="", idempotency_key="pay-due", user=finance)
    db.session.commit()
    assert "payments" not in tasks_on(client.get("/dashboard").get_data(as_text=True))


def test_the_other_roles_see_no_staff_or_finance_tasks(client, auth, submitted, make_user):
    submitted(1)
    make_user("plain@example.kr")
    auth.login("plain@example.kr")
    page = client.get("/dashboard").get_data(as_text=True)
    assert tasks_on(page) == {} and "처리할 일" not in page


# 결과 공개: disabled with the reason while reviews are pending ---------------------------------

def test_publish_button_is_disabled_with_the_reason_while_reviews_are_pending(client, auth, scored, make_reviewers,
                                                                               staff):
    from blueprints.awards.models import Award
    from blueprints.review import services as review

    programme, apps, _ = scored([[90], [80]])
    scenario = review.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    late = make_reviewers(2, prefix="late")
    for reviewer in late:
        review.assign(apps[0], reviewer, user=staff)
    db.session.commit()
    auth.login(staff.email)
    page = client.get(f"/review/scenario/{scenario.id}").get_data(as_text=True)
    button = re.search(r'<button type="submit" class="krds-btn primary"[^>]*>결과 공개</button>', page).group(0)
    assert "disabled" in button and 'aria-disabled="true"' in button
    assert "심사 2건이 아직 끝나지 않았습니다" in page
    link = f'/review/programme/{programme.id}#pending-reviews'
    assert f'href="{link}"' in page
    overview = client.get(link.split("#")[0]).get_data(as_text=True)
    assert overview.count('class="pending-review"') == 2
    # The server still refuses (a hand-made POST), with the same words.
    response = client.post_form(f"/review/scenario/{scenario.id}/publish", {"confirm": "y"})
    assert response.status_code == 422 and "심사 2건이 아직 끝나지 않았습니다" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Award.id))) == 0


def test_publish_button_is_enabled_when_nothing_holds_the_results_back(client, auth, scored, staff):
    from blueprints.review import services as review

    programme, _, _ = scored([[90], [80]])
    scenario = review.create_scenario(programme, name="기본", quota_per_district=None, user=staff)
    db.session.commit()
    auth.login(staff.email)
    page = client.get(f"/review/scenario/{scenario.id}").get_data(as_text=True)
    assert '<button type="submit" class="krds-btn primary">결과 공개</button>' in page
    assert "아직 공개할 수 없습니다" not in page


# The full account number: finance only, by an audited POST ---------------------------------

def test_finance_sees_the_full_account_number_after_an_audited_reveal(client, auth, awarded, finance, make_user,
                                                                     staff):
    from blueprints.core.audit import AuditEvent
    from blueprints.disbursement import services as d

    leader, _, award = awarded(email="acct@example.kr")
    d.accept_award(award, bank="신한은행", account_number="110-123-456789", holder="햇살품앗이 김대표", user=leader)
    db.session.commit()
    url = f"/disbursement/awards/{award.id}"

    def events():
        return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "disbursement.account_viewed"))

    # Everyone else sees the masked number, and cannot reveal it.
    reviewer = make_user("rev-acct@example.kr", roles=("reviewer",))
    for email, status in ((leader.email, 200), (staff.email, 200), (reviewer.email, 403)):
        auth.logout()
        auth.login(email)
        response = client.get(url)
        assert response.status_code == status
        assert "110123456789" not in response.get_data(as_text=True)
        if status == 200:
            assert "********6789" in response.get_data(as_text=True) and "계좌번호 보기" not in response.get_data(as_text=True)
        assert client.post_form(f"{url}/account").status_code == 403
    assert events() == 0

    auth.logout()
    auth.login(finance.email)
    page = client.get(url).get_data(as_text=True)
    assert "110123456789" not in page and "계좌번호 보기" in page and events() == 0   # a GET shows it masked
    # Without JavaScript: the POST answers the whole page with the number, the holder and a copy button.
    page = client.post_form(f"{url}/account").get_data(as_text=True)
    assert 'id="account-number">110123456789<' in page and "햇살품앗이 김대표" in page
    assert 'data-copy-target="account-number"' in page and "지급 기록" in page
    # With htmx: only the account fragment.
    token = client.csrf_token()
    part = client.post(f"{url}/account", data={"csrf_token": token},
                       headers={"HX-Request": "true", "HX-Target": "account"}).get_data(as_text=True)
    assert "110123456789" in part and "<html" not in part
    assert events() == 2
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "disbursement.account_viewed")).first()
    assert event.actor_id == finance.id and "110123456789" not in (event.summary + (event.changes or ""))


def test_payment_button_says_the_mid_check_comes_first(client, auth, awarded, finance):
    """The second instalment waits for the mid-term check: the page says so and disables 지급 기록
    before the click; after 중간 점검 완료 the button works."""
    from datetime import date

    from blueprints.disbursement import services as d

    leader, _, award = awarded(email="split@example.kr")
    rules = award.programme.rules
    award.programme.rules = {**rules, "disbursement": {**rules["disbursement"], "mode": "split"}}
    db.session.commit()
    disb = d.accept_award(award, bank="신한은행", account_number="110123456789", holder="햇살", user=leader)
    d.record_payment(disb, instalment=1, amount_won=560_000, paid_on=date(2027, 3, 28), reference="",
                     idempotency_key="first", user=finance)
    db.session.commit()
    auth.login(finance.email)
    page = client.get(f"/disbursement/awards/{award.id}").get_data(as_text=True)
    assert "2회차는 중간 점검을 마친 뒤 지급합니다" in page
    assert re.search(r'<button type="submit" class="krds-btn primary" disabled aria-disabled="true"[^>]*>지급 기록', page)
    assert client.post_form(f"/disbursement/awards/{award.id}/mid-check").status_code == 303
    page = client.get(f"/disbursement/awards/{award.id}").get_data(as_text=True)
    assert "2회차는 중간 점검을 마친 뒤 지급합니다" not in page
    assert '<button type="submit" class="krds-btn primary" data-disable-on-submit>지급 기록</button>' in page
