"""The settlement page before its first save (issue 12, "GET never writes"): the 회계 sees a
draft with the report drafted from the activity results, and nothing is written until they save
it; the save makes the row, and then the submission is offered."""
from sqlalchemy import event, func, select

from blueprints.core.audit import AuditEvent
from blueprints.settlement.models import Settlement
from extensions import db
from tests.test_get_never_writes import WriteLog


def test_the_settlement_page_is_a_draft_until_saved(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    db.session.commit()
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    log = WriteLog()
    event.listen(db.engine, "before_cursor_execute", log)
    try:
        page = client.get(f"/settlement/awards/{award.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", log)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "먼저 저장해 주세요" in body and "/submit" not in body      # nothing to submit yet
    assert log.statements == []
    assert db.session.scalar(select(func.count(Settlement.id))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events

    saved = client.post_form(f"/settlement/awards/{award.id}", {"report_text": "보고", "interest_won": "0"})
    assert saved.status_code == 303
    settlement = db.session.scalar(select(Settlement))
    assert settlement is not None and settlement.award_id == award.id and settlement.report_text == "보고"
    assert f"/settlement/{settlement.id}/submit" in client.get(f"/settlement/awards/{award.id}").get_data(as_text=True)


def test_people_who_cannot_edit_still_get_404_before_the_first_save(paid_award, client, auth, make_user):
    _, _, award = paid_award()
    make_user("staff@example.kr", roles=("staff",))
    auth.login("staff@example.kr")
    assert client.get(f"/settlement/awards/{award.id}").status_code == 404
    assert db.session.scalar(select(func.count(Settlement.id))) == 0
