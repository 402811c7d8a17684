"""Activity sessions can be corrected and deleted while the settlement is editable — without
JS (303) and with htmx (the row swaps) — photos leave the disk, each change is audited, and
nothing moves once the settlement is submitted."""
import io
import json
from datetime import date

from sqlalchemy import func, select

from blueprints.core.audit import AuditEvent
from blueprints.core.files import StoredFile
from blueprints.settlement import services as s
from blueprints.settlement.models import ActivityPhoto, ActivitySession
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

EDIT = {"edit-held_on": "2027-04-21", "edit-title": "숲놀이(비)", "edit-place": "불광천", "edit-content": "비가 와서 실내",
        "edit-households": "4", "edit-adults": "5", "edit-children": "6", "edit-outcome": "좋았다"}


def a_session(paid_award):
    leader, treasurer, award = paid_award()
    row = s.save_session(award, held_on=date(2027, 4, 20), title="숲놀이", place="불광천", content="", households=5,
                         adults=6, children=7, outcome="", photos=[Upload(jpeg_bytes(color=(9, 9, 9)), "p.jpg")],
                         user=treasurer)
    db.session.commit()
    return treasurer, award, row


def test_edit_without_js_replaces_a_photo_and_is_audited(paid_award, client, auth):
    treasurer, award, row = a_session(paid_award)
    old_id, old_path = row.photos[0].id, row.photos[0].stored_file.path()
    auth.login(treasurer.email)
    page = client.get(f"/settlement/sessions/{row.id}/edit").get_data(as_text=True)
    assert 'name="edit-title"' in page and 'value="숲놀이"' in page and 'id="title"' in page   # add form still there
    data = dict(EDIT, remove_photos=str(old_id), **{"edit-photos": (io.BytesIO(jpeg_bytes(color=(1, 2, 3))), "새.jpg")})
    response = client.post_form(f"/settlement/sessions/{row.id}/edit", data, content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/sessions#session-{row.id}")
    row = db.session.get(ActivitySession, row.id)
    assert (row.held_on, row.title, row.households, row.content) == (date(2027, 4, 21), "숲놀이(비)", 4, "비가 와서 실내")
    assert [p.id for p in row.photos] != [old_id] and len(row.photos) == 1
    assert not old_path.exists() and row.photos[0].stored_file.path().exists()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "activity.updated"))
    changes = json.loads(event.changes)
    assert changes["before"]["title"] == "숲놀이" and changes["after"]["title"] == "숲놀이(비)"
    assert "사진 1장 삭제" in event.summary


def test_edit_with_htmx_swaps_the_row_and_errors_come_back_in_the_row(paid_award, client, auth):
    treasurer, award, row = a_session(paid_award)
    auth.login(treasurer.email)
    target = f"session-{row.id}"
    form = client.htmx("GET", f"/settlement/sessions/{row.id}/edit", target=target).get_data(as_text=True)
    assert "<html" not in form and f'id="{target}"' in form and 'name="edit-households"' in form

    bad = client.htmx("POST", f"/settlement/sessions/{row.id}/edit", target=target,
                      data=dict(EDIT, **{"edit-held_on": "2027-09-01"}))
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "<html" not in body and "활동기간 안의 날짜" in body and 'value="숲놀이(비)"' in body
    assert db.session.get(ActivitySession, row.id).title == "숲놀이"

    ok = client.htmx("POST", f"/settlement/sessions/{row.id}/edit", target=target, data=EDIT)
    body = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "<html" not in body and f'id="{target}"' in body
    assert "숲놀이(비)" in body and "고치기" in body and 'name="edit-title"' not in body
    assert "활동실적을 고쳤습니다" in body          # flash out of band


def test_delete_without_js_and_with_htmx_removes_rows_and_photos(paid_award, client, auth):
    treasurer, award, first = a_session(paid_award)
    second = s.save_session(award, held_on=date(2027, 5, 2), title="만들기", place="", content="", households=5,
                            adults=5, children=5, outcome="", photos=[Upload(jpeg_bytes(color=(4, 4, 4)), "q.jpg")],
                            user=treasurer)
    db.session.commit()
    paths = [first.photos[0].stored_file.path(), second.photos[0].stored_file.path()]
    auth.login(treasurer.email)
    response = client.post_form(f"/settlement/sessions/{first.id}/delete")
    assert response.status_code == 303
    swapped = client.htmx("POST", f"/settlement/sessions/{second.id}/delete", target=f"session-{second.id}")
    assert swapped.status_code == 200 and "session-" not in swapped.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ActivitySession)) == 0
    assert db.session.scalar(select(func.count()).select_from(ActivityPhoto)) == 0
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
    assert not any(p.exists() for p in paths)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "activity.deleted")) == 2


def test_a_session_that_spending_points_at_is_not_deleted(paid_award, client, auth):
    treasurer, award, row = a_session(paid_award)
    s.save_expense(award, expense_in(session_id=row.id), user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
    db.session.commit()
    auth.login(treasurer.email)
    response = client.htmx("POST", f"/settlement/sessions/{row.id}/delete", target=f"session-{row.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "증빙-001" in body and f'id="session-{row.id}"' in body
    assert db.session.get(ActivitySession, row.id) is not None


def test_nothing_changes_after_submission(paid_award, client, auth):
    treasurer, award, row = a_session(paid_award)
    s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(jpeg_bytes(), "r.jpg"))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="결과", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    auth.login(treasurer.email)
    assert client.get(f"/settlement/sessions/{row.id}/edit").status_code == 403
    assert client.post_form(f"/settlement/sessions/{row.id}/edit", EDIT).status_code == 403
    assert client.post_form(f"/settlement/sessions/{row.id}/delete").status_code == 403
    page = client.get(f"/settlement/awards/{award.id}/sessions").get_data(as_text=True)
    assert "숲놀이" in page and f"/sessions/{row.id}/edit" not in page
    assert db.session.get(ActivitySession, row.id).title == "숲놀이"


def test_spending_links_only_a_session_of_its_own_award(paid_award):
    """The form offers only the award's own sessions; the service refuses another award's too
    (issue 12), so no caller can point a group's spending at a neighbour's activity."""
    import pytest

    _treasurer, _award, neighbours = a_session(paid_award)
    _leader, treasurer, award = paid_award(email="other@example.kr", name="다른 모임")
    with pytest.raises(s.SettlementError, match="이 교부결정의 활동만"):
        s.save_expense(award, expense_in(session_id=neighbours.id), user=treasurer,
                       receipt=Upload(jpeg_bytes(), "r.jpg"))
    db.session.rollback()
    assert not award_expenses(award)


def award_expenses(award):
    from blueprints.settlement.models import Expense

    return db.session.scalars(select(Expense).where(Expense.award_id == award.id)).all()
