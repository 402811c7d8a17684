"""The results report follows the numbers until the group edits it (and says what changed
since); 정산서 제출 and 정산 승인 ask first, with the numbers; the 회계 finds the returned lines
from the dashboard and the mail, and is told to submit again once the last one is fixed."""
import io
import re
import shutil
import subprocess
from datetime import date

import pytest
from sqlalchemy import func, select

from blueprints.core.audit import AuditEvent
from blueprints.core.mail import OutboxMessage
from blueprints.settlement import services as s
from blueprints.settlement.models import Settlement
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes
from tests.settlement.test_flow import FORM

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")


def _spend(award, treasurer, amounts):
    for i, amount in enumerate(amounts):
        s.save_expense(award, expense_in(description=f"재료 {i}", amount_won=amount), user=treasurer,
                       receipt=Upload(jpeg_bytes(color=(i * 40, 90, 90)), f"r{i}.jpg"))
    db.session.commit()


def _events(action):
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# The results report ---------------------------------------------------------------------------

@needs_poppler
def test_draft_report_follows_the_spending_until_edited_and_the_pdf_says_the_current_amount(paid_award, client, auth, tmp_path):
    _, treasurer, award = paid_award()
    _spend(award, treasurer, [40_000])
    auth.login(treasurer.email)
    page = client.get(f"/settlement/awards/{award.id}").get_data(as_text=True)
    assert "40,000원을 집행했습니다" in page
    # the first save stores the draft as shown (the hidden copy of the draft comes back with it)
    draft = re.search(r'name="report_draft" type="hidden" value="([^"]*)"', page).group(1)
    assert client.post_form(f"/settlement/awards/{award.id}", {"report_text": draft.replace("&#10;", "\n"),
                                                               "report_draft": draft, "interest_won": "0"}).status_code == 303
    settlement = db.session.scalar(select(Settlement))
    assert not settlement.report_edited

    _spend(award, treasurer, [70_000])   # 110,000원 spent now
    page = client.get(f"/settlement/awards/{award.id}").get_data(as_text=True)
    assert "110,000원을 집행했습니다" in page and "40,000원을 집행" not in page
    pdf = client.get(f"/settlement/{settlement.id}/pdf")
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "110,000원을 집행했습니다" in text and "40,000원을 집행" not in text


def test_an_edited_report_is_kept_and_the_page_says_what_changed_since(paid_award, client, auth):
    _, treasurer, award = paid_award()
    _spend(award, treasurer, [40_000])
    auth.login(treasurer.email)
    own = "우리 모임은 봄에 숲놀이를 했습니다. 40,000원을 썼습니다."
    assert client.post_form(f"/settlement/awards/{award.id}", {"report_text": own, "report_draft": s.draft_report(award),
                                                               "interest_won": "0"}).status_code == 303
    settlement = db.session.scalar(select(Settlement))
    assert settlement.report_edited and settlement.report_basis["spent"] == 40_000

    _spend(award, treasurer, [70_000])
    page = client.get(f"/settlement/awards/{award.id}").get_data(as_text=True)
    assert own in page                                            # the group's words stay
    assert "집행액이 40,000원에서 110,000원으로 바뀌었습니다." in page and "초안 다시 만들기" in page
    # saving again with the same words (only the interest changed) keeps the numbers it answers to
    client.post_form(f"/settlement/awards/{award.id}", {"report_text": own, "interest_won": "10"})
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).report_basis["spent"] == 40_000

    assert client.post_form(f"/settlement/{settlement.id}/report/redraft").status_code == 303
    db.session.expire_all()
    row = db.session.get(Settlement, settlement.id)
    assert not row.report_edited and "110,000원을 집행했습니다" in row.report_text
    page = client.get(f"/settlement/awards/{award.id}").get_data(as_text=True)
    assert "바뀌었습니다." not in page and own not in page
    assert _events("settlement.report_redrafted") == 1
    client.post_form(f"/settlement/{settlement.id}/report/redraft")   # a second tap: nothing more
    assert _events("settlement.report_redrafted") == 1


def test_submission_freezes_the_drafted_report(paid_award):
    _, treasurer, award = paid_award()
    _spend(award, treasurer, [40_000])
    settlement = s.settlement_for(award, create=True)
    s.submit(settlement, user=treasurer)
    assert "40,000원을 집행했습니다" in settlement.report_text == settlement.snapshot["report_text"]
    # a finance officer or the PDF reads what was submitted, not a draft made again
    assert s.report_text(settlement) == settlement.report_text


def test_report_change_sentences_choose_their_particles():
    from blueprints.core.korean import with_particle

    assert with_particle("110,000원", "으로/로") == "110,000원으로"
    assert with_particle("3회", "으로/로") == "3회로"
    assert with_particle("활동 횟수", "이/가") == "활동 횟수가"


# Confirmation before 정산서 제출 and 정산 승인 ------------------------------------------------------

def test_submit_asks_first_with_the_numbers_and_only_the_confirmed_post_submits(paid_award, client, auth, monkeypatch):
    monkeypatch.setattr(s, "today_kst", lambda: date(2027, 5, 1))   # 30 days of the activity period left
    _, treasurer, award = paid_award()
    _spend(award, treasurer, [100_000, 44_000])
    settlement = s.settlement_for(award, create=True)
    db.session.commit()
    auth.login(treasurer.email)

    asked = client.post_form(f"/settlement/{settlement.id}/submit")
    page = _text(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "정산서를 제출할까요?" in page
    assert "활동기간이 아직 남았고(2027. 5. 31.까지 30일) 집행률 18%입니다." in page
    assert "집행액 144,000원 (2건, 집행률 18%)" in page and "잔액 656,000원" in page and "반환 예정액 656,000원" in page
    assert "고칠 수 없습니다" in page and 'name="confirm" value="1"' in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).status == "draft" and _events("settlement.submitted") == 0

    # htmx: the same confirmation as a fragment under the button
    inline = client.htmx("POST", f"/settlement/{settlement.id}/submit", target="submit-confirm")
    assert "<html" not in inline.get_data(as_text=True) and "집행률 18%" in inline.get_data(as_text=True)
    assert db.session.get(Settlement, settlement.id).status == "draft"

    done = client.post_form(f"/settlement/{settlement.id}/submit", {"confirm": "1"})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).status == "submitted" and _events("settlement.submitted") == 1
    again = client.post_form(f"/settlement/{settlement.id}/submit", {"confirm": "1"})   # a double tap
    assert again.status_code == 303 and _events("settlement.submitted") == 1
    assert "이미 제출한 정산입니다" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_submit_confirmation_lists_what_blocks_it(paid_award, client, auth):
    _, treasurer, award = paid_award()
    settlement = s.settlement_for(award, create=True)
    db.session.commit()
    auth.login(treasurer.email)
    asked = client.post_form(f"/settlement/{settlement.id}/submit", {"confirm": ""})
    assert asked.status_code == 422 and "집행내역을 하나 이상 기록해 주세요." in asked.get_data(as_text=True)
    assert ">제출</button>" not in asked.get_data(as_text=True)


def test_submit_needs_csrf_and_an_officer(paid_award, client, auth, make_user):
    _, treasurer, award = paid_award()
    _spend(award, treasurer, [10_000])
    settlement = s.settlement_for(award, create=True)
    db.session.commit()
    leader_b, _, _ = paid_award(email="b@example.kr")
    auth.login(leader_b.email)
    assert client.post_form(f"/settlement/{settlement.id}/submit", {"confirm": "1"}).status_code == 403
    auth.logout()
    auth.login(treasurer.email)
    assert client.post(f"/settlement/{settlement.id}/submit", data={"confirm": "1"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).status == "draft"


def test_approve_asks_first_with_counts_and_sums(paid_award, finance, client, auth):
    _, treasurer, award = paid_award()
    _spend(award, treasurer, [100_000, 50_000, 30_000])
    settlement = s.settlement_for(award, create=True)
    s.submit(settlement, user=treasurer)
    first, second, third = s.expenses(award)
    s.review_line(first, decision="recognised", reason="", user=finance)
    s.review_line(second, decision="recognised", reason="", user=finance)
    s.review_line(third, decision="not_recognised", reason="개인 용품", user=finance)
    db.session.commit()
    auth.login(finance.email)

    asked = client.post_form(f"/settlement/review/{settlement.id}/approve")
    page = _text(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "정산을 승인할까요?" in page
    assert "인정 2건 150,000원" in page and "불인정 1건 30,000원" in page and "반환액 650,000원" in page
    assert "되돌릴 수 없습니다" in page
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).status == "submitted" and _events("settlement.approved") == 0
    inline = client.htmx("POST", f"/settlement/review/{settlement.id}/approve", target="approve-confirm")
    assert "<html" not in inline.get_data(as_text=True) and "불인정 1건 30,000원" in _text(inline.get_data(as_text=True))

    assert client.post_form(f"/settlement/review/{settlement.id}/approve", {"confirm": "1"}).status_code == 303
    db.session.expire_all()
    row = db.session.get(Settlement, settlement.id)
    assert (row.status, row.refund_due_won) == ("approved", 650_000) and _events("settlement.approved") == 1
    client.post_form(f"/settlement/review/{settlement.id}/approve", {"confirm": "1"})
    assert _events("settlement.approved") == 1


# The 회계 is told a fix is needed -------------------------------------------------------------

def _returned(paid_award, finance, amounts=(100_000, 50_000, 30_000), fix=(1, 2)):
    leader, treasurer, award = paid_award()
    _spend(award, treasurer, list(amounts))
    settlement = s.settlement_for(award, create=True)
    s.submit(settlement, user=treasurer)
    lines = s.expenses(award)
    for i, e in enumerate(lines):
        if i in fix:
            s.review_line(e, decision="needs_fix", reason=f"품목이 보이는 영수증 {i}", user=finance)
        else:
            s.review_line(e, decision="recognised", reason="", user=finance)
    db.session.commit()
    return leader, treasurer, award, settlement, lines


def test_return_mail_links_to_the_first_returned_line(paid_award, finance, client, auth):
    _, treasurer, award, settlement, lines = _returned(paid_award, finance)
    auth.login(finance.email)
    assert client.post_form(f"/settlement/review/{settlement.id}/return", {"message": "두 줄 보완"}).status_code == 303
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == treasurer.email,
                                                         OutboxMessage.subject.contains("보완 요청")))
    assert "보완 요청 2건" in mail.subject + mail.body and "두 줄 보완" in mail.body
    assert f"http://localhost/settlement/expenses/{lines[1].id}/edit" in mail.body
    assert f"http://localhost/settlement/awards/{award.id}#returned" in mail.body


def test_dashboard_shows_returned_lines_and_after_the_last_fix_submit_again(paid_award, finance, client, auth):
    _, treasurer, award, settlement, lines = _returned(paid_award, finance)
    s.return_for_changes(settlement, message="", user=finance)
    db.session.commit()
    auth.login(treasurer.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "보완 요청 2건" in page
    first_link = f'/settlement/expenses/{lines[1].id}/edit#form-h'
    assert f'class="krds-btn primary" href="{first_link}"' in page       # one tap to the first returned line

    # fixing the first one leads on to the next
    r = client.post_form(f"/settlement/expenses/{lines[1].id}/edit", dict(FORM, description="재료 1 (색종이)", amount_won="50,000"),
                         content_type="multipart/form-data")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/settlement/expenses/{lines[2].id}/edit#form-h")
    assert "보완 요청이 1건 남았습니다" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert "보완 요청 1건" in client.get("/dashboard").get_data(as_text=True)

    # the last one: the settlement page says to submit again, with the button right there
    r = client.post_form(f"/settlement/expenses/{lines[2].id}/edit", dict(FORM, description="재료 2 (풀)", amount_won="30,000"),
                         content_type="multipart/form-data")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/settlement/awards/{award.id}#returned")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "이제 다시 제출하세요" in page and f'action="/settlement/{settlement.id}/submit"' in page
    dash = client.get("/dashboard").get_data(as_text=True)
    assert "이제 다시 제출하세요" in dash and f'action="/settlement/{settlement.id}/submit"' in dash
    assert "보완 요청 2건" not in dash and "보완 요청 1건" not in dash


def test_dashboard_shows_nothing_to_fix_to_other_people(paid_award, finance, client, auth):
    _returned(paid_award, finance)
    s.return_for_changes(db.session.scalar(select(Settlement)), message="", user=finance)
    db.session.commit()
    leader_b, _, _ = paid_award(email="b@example.kr")
    auth.login(leader_b.email)
    assert "보완 요청" not in client.get("/dashboard").get_data(as_text=True)


# What changed, as people read it -----------------------------------------------------------------

def test_a_replaced_receipt_shows_as_replaced_with_both_pictures_never_a_hash(paid_award, finance, client, auth):
    _, treasurer, award, settlement, lines = _returned(paid_award, finance, amounts=(100_000, 50_000), fix=(1,))
    s.return_for_changes(settlement, message="", user=finance)
    old_receipt = lines[1].receipt
    s.save_expense(award, expense_in(description="재료 1", amount_won=50_000), user=treasurer, expense=lines[1],
                   receipt=Upload(jpeg_bytes(color=(10, 200, 10)), "new.jpg"))
    s.submit(settlement, user=treasurer)
    db.session.commit()
    new_receipt = db.session.get(type(lines[1]), lines[1].id).receipt
    auth.login(finance.email)
    page = client.get(f"/settlement/review/{settlement.id}").get_data(as_text=True)
    assert "영수증 교체됨" in page
    assert old_receipt.sha256[:12] not in page and new_receipt.sha256[:12] not in page
    for stored in (old_receipt, new_receipt):
        url = f"/settlement/{settlement.id}/submitted-receipts/{stored.id}/thumbnail"
        assert url in page and client.get(url).status_code == 200
    # a file the submissions do not hold is not served through this settlement
    other = s.expenses(award)[0].receipt_file_id
    assert client.get(f"/settlement/{settlement.id}/submitted-receipts/{other + 999}/thumbnail").status_code == 404
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "expense.updated"))
    assert "영수증 교체됨" in event.summary


def test_rule_messages_choose_the_particle_by_the_label():
    from blueprints.settlement import checks

    rules = {"expense_categories": [{"code": "snack", "label": "간식", "allowed": True,
                                     "caps": {"per_participant_per_session_won": 5_000}}]}
    ledger = checks.Ledger(award_won=500_000, planned={"snack": 100_000}, spent={}, instructor_by_day={}, member_names=[])
    result = checks.check_expense(expense_in(category="snack", participants=0, amount_won=10_000), rules, ledger,
                                  activity_start=date(2027, 4, 1), activity_end=date(2027, 5, 31), today=date(2027, 6, 10))
    messages = " ".join(i.message for i in result.issues)
    assert "간식은 참석 인원을 적어야 합니다" in messages and "간식는" not in messages
