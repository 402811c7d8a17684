"""Every page works without JavaScript: the 회계담당's judgement of one line, sent as a plain
form, answers 303 to the review page with a message saying what was recorded (htmx swaps the
line in place and needs none)."""
from blueprints.settlement import services as s
from extensions import db
from tests.settlement.conftest import Upload, jpeg_bytes
from tests.settlement.test_flow import _spend


def test_a_line_judged_without_javascript_says_so_on_the_page_it_returns_to(paid_award, finance, client, auth):
    leader, treasurer, award = paid_award()
    _spend(award, treasurer, n=2)
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text=s.draft_report(award), interest_won=0,
                      interest_file=Upload(jpeg_bytes(), "통장.jpg"), user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    first, second = s.expenses(award)

    auth.login(finance.email)
    done = client.post_form(f"/settlement/review/{settlement.id}/lines/{first.id}", {"decision": "recognised"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"#line-{first.id}")
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"{first.evidence_no} 줄을 인정으로 검토했습니다" in page

    done = client.post_form(f"/settlement/review/{settlement.id}/lines/{second.id}",
                            {"decision": "not_recognised", "reason": "개인 용품"})
    assert done.status_code == 303
    assert f"{second.evidence_no} 줄을 불인정으로 검토했습니다" in client.get(done.headers["Location"]).get_data(as_text=True)
