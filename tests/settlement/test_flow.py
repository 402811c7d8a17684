"""Spending through the pages (receipt upload checks, live balance), the fix-and-resubmit
cycle with its diff, approval and refund, and per-object access."""
import io
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import func, select

from blueprints.core.files import StoredFile
from blueprints.settlement import services as s
from blueprints.settlement.models import Expense, Settlement
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

FORM = {"spent_on": "2027-04-10", "category": "materials", "vendor": "다이소 망원점", "biz_no": "124-82-10324",
        "description": "만들기 재료", "amount_won": "50,000", "method": "clean_card", "evidence_kind": "card_slip",
        "participants": "10", "session_id": "", "hours": "", "cash_reason": "", "approval_no": "12345678"}


def post_expense(client, award, data=None, file=None):
    payload = dict(FORM, **(data or {}))
    if file is not None:
        payload["receipt"] = file
    return client.post_form(f"/settlement/awards/{award.id}/expenses", payload, content_type="multipart/form-data")


def gps_jpeg() -> bytes:
    image = Image.new("RGB", (3000, 2000), (120, 130, 140))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 20.0), 3: "E", 4: (126.0, 58.0, 40.0)}
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_expense_with_photo_is_saved_cleaned_and_the_balance_moves(paid_award, client, auth, app):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    raw = gps_jpeg()
    assert b"PhoneMaker" in raw
    response = post_expense(client, award, file=(io.BytesIO(raw), "IMG_0001.jpg"))
    assert response.status_code == 303
    expense = db.session.scalar(select(Expense))
    stored = expense.receipt
    data = stored.path().read_bytes()
    with Image.open(io.BytesIO(data)) as img:
        assert max(img.size) <= 2000 and not img.getexif().get_ifd(0x8825)
    assert b"PhoneMaker" not in data
    page = client.get(f"/settlement/awards/{award.id}/expenses").get_data(as_text=True)
    assert "750,000원" in page          # 800,000 − 50,000 left
    fragment = client.htmx("GET", f"/settlement/awards/{award.id}/balance", target="balance")
    assert "<html" not in fragment.get_data(as_text=True) and "750,000원" in fragment.get_data(as_text=True)


@pytest.mark.parametrize("name, data, message", [
    ("receipt.jpg", b"MZ\x90\x00" + b"\x00" * 4000, "파일만 올릴 수 있습니다"),
    ("receipt.jpg", jpeg_bytes()[:600], "손상"),
    ("receipt.pdf", b"%PDF-1.4\n1 0 obj\n", "손상"),
])
def test_bad_receipts_are_refused_with_a_message_never_a_500(paid_award, client, auth, name, data, message):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    response = post_expense(client, award, file=(io.BytesIO(data), name))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body
    assert 'value="다이소 망원점"' in body           # what was typed is kept
    assert db.session.scalar(select(func.count(Expense.id))) == 0


def test_a_30_mb_image_is_refused(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    big = jpeg_bytes()[:-2] + b"\x00" * (30 * 1024 * 1024)
    response = post_expense(client, award, file=(io.BytesIO(big), "huge.jpg"))
    assert response.status_code in (413, 422)
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0


def test_rule_violation_is_shown_and_not_saved(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    response = post_expense(client, award, {"description": "맥주", "method": "cash"},
                            file=(io.BytesIO(jpeg_bytes()), "r.jpg"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "주류" in body and "현금 결제는 인정되지 않습니다" in body
    live = client.htmx("POST", f"/settlement/awards/{award.id}/expenses/check", target="expense-check",
                       data=dict(FORM, description="소주"))
    text = live.get_data(as_text=True)
    assert "<html" not in text and "주류" in text


def _spend(award, treasurer, n=3):
    for i in range(n):
        s.save_expense(award, expense_in(description=f"재료 {i}", amount_won=100_000), user=treasurer,
                       receipt=Upload(jpeg_bytes(color=(i * 40, 90, 90)), f"r{i}.jpg"))
    s.save_session(award, held_on=date(2027, 4, 10), title="봄 숲놀이", place="불광천", content="숲에서 놀이",
                   households=5, adults=6, children=7, outcome="즐거웠어요", user=treasurer)
    db.session.commit()


def test_fix_and_resubmit_cycle_with_diff_then_approval_and_refund(paid_award, finance, client, auth):
    leader, treasurer, award = paid_award()
    _spend(award, treasurer)
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text=s.draft_report(award), interest_won=1_234,
                      interest_file=Upload(jpeg_bytes(), "통장.jpg"), user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    first, second, third = s.expenses(award)

    auth.login(finance.email)
    client.post_form(f"/settlement/review/{settlement.id}/lines/{first.id}", {"decision": "recognised"})
    r = client.post_form(f"/settlement/review/{settlement.id}/lines/{second.id}", {"decision": "needs_fix", "reason": ""})
    assert r.status_code == 422 and "사유" in r.get_data(as_text=True)
    client.htmx("POST", f"/settlement/review/{settlement.id}/lines/{second.id}", target=f"line-{second.id}",
                data={"decision": "needs_fix", "reason": "품목이 보이는 영수증을 올려 주세요"})
    client.post_form(f"/settlement/review/{settlement.id}/lines/{third.id}",
                     {"decision": "not_recognised", "reason": "개인 용품"})
    asked = client.post_form(f"/settlement/review/{settlement.id}/approve")    # the confirmation says why not
    assert asked.status_code == 422 and "보완 중인 줄이 1건" in asked.get_data(as_text=True)
    assert "confirm" in asked.get_data(as_text=True) and ">승인</button>" not in asked.get_data(as_text=True)
    assert client.post_form(f"/settlement/review/{settlement.id}/approve", {"confirm": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).status == "submitted"     # a line still needs a fix
    assert client.post_form(f"/settlement/review/{settlement.id}/return", {"message": "1건 보완"}).status_code == 303
    auth.logout()

    auth.login(treasurer.email)
    page = client.get(f"/settlement/awards/{award.id}").get_data(as_text=True)
    assert "품목이 보이는 영수증을 올려 주세요" in page and "개인 용품" in page
    edit = dict(FORM, description="재료 1 (품목: 색종이)", amount_won="90,000")
    r = client.post_form(f"/settlement/expenses/{second.id}/edit", edit, content_type="multipart/form-data")
    assert r.status_code == 303
    assert client.post_form(f"/settlement/{settlement.id}/submit", {"confirm": "1"}).status_code == 303
    auth.logout()

    auth.login(finance.email)
    review = client.get(f"/settlement/review/{settlement.id}").get_data(as_text=True)
    # the line, and the report drafted from the numbers, which followed them (290,000원 spent now)
    assert "바뀐 내용 2건" in review and "사업실적(결과보고)" in review and "금액 <del>100,000원</del> → <ins>90,000원</ins>" in review
    client.post_form(f"/settlement/review/{settlement.id}/lines/{second.id}", {"decision": "recognised"})
    assert client.post_form(f"/settlement/review/{settlement.id}/approve", {"confirm": "1"}).status_code == 303
    db.session.expire_all()
    row = db.session.get(Settlement, settlement.id)
    # paid 800,000 + interest 1,234 − recognised (100,000 + 90,000) = 611,234
    assert (row.status, row.recognised_won, row.refund_due_won) == ("approved", 190_000, 611_234)
    bad = client.post_form(f"/settlement/review/{settlement.id}/refund",
                           {"amount_won": "611,230", "received_on": "2027-06-10", "depositor": "x"})
    assert bad.status_code == 422
    ok = client.post_form(f"/settlement/review/{settlement.id}/refund",
                          {"amount_won": "611,234", "received_on": "2027-06-10",
                           "depositor": s.expected_depositor(row)})
    assert ok.status_code == 303
    db.session.expire_all()
    assert db.session.get(Settlement, settlement.id).status == "closed" and award.status == "closed"


def test_late_submission_is_marked(paid_award, monkeypatch):
    _, treasurer, award = paid_award()
    _spend(award, treasurer, n=1)
    settlement = s.settlement_for(award, create=True)
    monkeypatch.setattr(s, "today_kst", lambda: date(2027, 7, 5))
    s.submit(settlement, user=treasurer)
    assert settlement.is_late


def test_reminders_before_the_due_date(paid_award):
    from blueprints.core.mail import OutboxMessage

    leader, treasurer, award = paid_award()
    assert s.send_due_reminders(date(2027, 6, 25)) == 1
    assert s.send_due_reminders(date(2027, 6, 25)) == 0          # once a day
    assert s.send_due_reminders(date(2027, 6, 1)) == 0           # not yet
    subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    assert any("정산 마감" in x for x in subjects)


def test_per_object_access(paid_award, make_user, client, auth):
    leader, treasurer, award = paid_award()
    _spend(award, treasurer, n=1)
    settlement = s.settlement_for(award, create=True)
    db.session.commit()
    expense = s.expenses(award)[0]
    leader_b, _, _ = paid_award(email="b@example.kr")
    urls = [f"/settlement/awards/{award.id}/expenses", f"/settlement/awards/{award.id}",
            f"/settlement/expenses/{expense.id}/receipt", f"/settlement/{settlement.id}/pdf",
            f"/disbursement/awards/{award.id}"]
    auth.login(leader_b.email)
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert post_expense(client, award, file=(io.BytesIO(jpeg_bytes()), "r.jpg")).status_code == 403
    assert client.get(f"/settlement/review/{settlement.id}").status_code == 403
    assert client.get("/disbursement/").status_code == 403
    auth.logout()
    auth.login(leader.email)
    assert client.get(f"/settlement/expenses/{expense.id}/receipt").status_code == 200
    assert client.post_form(f"/disbursement/awards/{award.id}/payments", {"instalment": "1"}).status_code == 403


def test_review_side_panel_and_interest_evidence(paid_award, finance, client, auth):
    _, treasurer, award = paid_award()
    _spend(award, treasurer, n=1)
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="보고", interest_won=500, interest_file=Upload(jpeg_bytes(), "통장.jpg"),
                      user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    auth.login(finance.email)
    assert client.get(f"/settlement/{settlement.id}/interest-evidence").headers["Content-Type"] == "image/jpeg"
    line = s.expenses(award)[0]
    r = client.htmx("POST", f"/settlement/review/{settlement.id}/lines/{line.id}", target=f"line-{line.id}",
                    data={"decision": "recognised"})
    assert "review-changed" in r.headers["HX-Trigger"] and "<html" not in r.get_data(as_text=True)
    line_html = r.get_data(as_text=True)  # the line again, still with its form and receipt link
    assert 'name="decision" value="recognised" checked' in line_html
    assert f'src="/settlement/expenses/{line.id}/receipt/thumbnail"' in line_html   # its receipt, as a thumbnail
    assert f'hx-post="/settlement/review/{settlement.id}/lines/{line.id}"' in line_html
    side = client.htmx("GET", f"/settlement/review/{settlement.id}", target="review-side").get_data(as_text=True)
    assert "<html" not in side and "정산 총괄" in side and "100,000원" in side


def test_a_saved_interest_of_zero_is_shown_as_zero(paid_award, client, auth):
    """"없으면 0": the 회계 who typed 0 sees 0 again, not an empty field that looks unanswered."""
    import re

    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    url = f"/settlement/awards/{award.id}"
    client.get(url)
    assert client.post_form(url, {"report_text": "보고", "interest_won": "0"}).status_code == 303
    field = re.search(r'<input[^>]*id="interest_won"[^>]*>', client.get(url).get_data(as_text=True)).group(0)
    assert 'value="0"' in field
    assert client.post_form(url, {"report_text": "보고", "interest_won": "1,234"}).status_code == 303
    field = re.search(r'<input[^>]*id="interest_won"[^>]*>', client.get(url).get_data(as_text=True)).group(0)
    assert 'value="1,234"' in field


def test_review_lines_link_each_line_and_escape_what_the_group_typed(paid_award, finance, client, auth):
    # The review lines are worked out in Python (staff_views.ReviewLine) with one URL pattern
    # for all lines: each line's form and receipt link must still name its own expense, and
    # text the group typed is escaped.
    _, treasurer, award = paid_award()
    s.save_expense(award, expense_in(vendor="<b>망원</b>", description="재료 & 간식 <i>", amount_won=40_000),
                   user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
    s.save_expense(award, expense_in(description="종이", amount_won=30_000, participants=0), user=treasurer,
                   receipt=Upload(jpeg_bytes(color=(9, 9, 9)), "r2.jpg"))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    first, second = s.expenses(award)
    auth.login(finance.email)
    page = client.get(f"/settlement/review/{settlement.id}").get_data(as_text=True)
    assert "<b>망원</b>" not in page and "&lt;b&gt;망원&lt;/b&gt;" in page and "재료 &amp; 간식 &lt;i&gt;" in page
    for e in (first, second):
        assert f'action="/settlement/review/{settlement.id}/lines/{e.id}"' in page
        assert f'id="d-{e.id}-needs_fix"' in page and f'<label for="r-{e.id}" class="sr-only">{e.evidence_no} 사유' in page
    for e in (first, second):
        assert f'href="/settlement/expenses/{e.id}/receipt?inline=1"' in page
    assert "종이 <span class=\"muted\">· 클린카드</span>" in page     # no participants: no "0명"
    r = client.post_form(f"/settlement/review/{settlement.id}/lines/{second.id}", {"decision": "not_recognised"})
    assert r.status_code == 422
    line = r.get_data(as_text=True).split(f'id="line-{second.id}"')[1].split("</article>")[0]
    assert 'role="alert"' in line and 'value="not_recognised"' in line


def test_officer_accepts_the_award_on_the_page(awarded, client, auth):
    leader, _, award = awarded()
    auth.login(leader.email)
    bad = client.post_form(f"/disbursement/awards/{award.id}", {"bank": "신한은행", "account_number": "12-34",
                                                               "account_holder": "햇살"})
    assert bad.status_code == 422 and "교부 조건에 동의" in bad.get_data(as_text=True)
    ok = client.post_form(f"/disbursement/awards/{award.id}", {"bank": "신한은행", "account_number": "110-123-456789",
                                                              "account_holder": "햇살", "confirm": "y"})
    assert ok.status_code == 303
    page = client.get(f"/disbursement/awards/{award.id}").get_data(as_text=True)
    assert "********6789" in page and "110123456789" not in page and "110-123-456789" not in page
