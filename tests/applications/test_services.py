"""Submission rules: the window in KST, frozen snapshots, optimistic locking, idempotency."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.applications import services
from blueprints.applications.models import Application, DraftConflict
from blueprints.core.audit import AuditEvent
from blueprints.core.timeutil import kst_datetime, now_utc
from extensions import db
from tests.applications.conftest import GOOD_LINES


def count_events(action):
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_submit_freezes_a_snapshot(complete_application):
    leader, _, application = complete_application()
    assert services.submit(application, user=leader) is True
    db.session.commit()
    assert application.status == "submitted" and application.submission_count == 1
    snap = application.snapshot
    assert snap["total_won"] == 360_000 and len(snap["lines"]) == 3 and snap["group"]["households"] == 5
    assert snap["lines"][2]["category_label"] == "간식비"
    with pytest.raises(services.ApplicationError):
        services.save_budget(application, [], based_on_version=None, user=leader)  # frozen while submitted


def test_returned_application_is_edited_and_resubmitted_with_a_new_snapshot(complete_application, make_user):
    leader, _, application = complete_application()
    staff = make_user("staff@example.kr", roles=("staff",))
    services.submit(application, user=leader)
    first = dict(application.snapshot)
    services.return_for_changes(application, "간식비 내역을 자세히 적어 주세요.", user=staff)
    db.session.commit()
    assert application.status == "returned" and application.is_editable
    services.save_budget(application, GOOD_LINES[:2], based_on_version=application.version, user=leader)
    assert first["total_won"] == 360_000  # the old snapshot is not touched by edits
    assert services.submit(application, user=leader) is True
    db.session.commit()
    assert application.snapshot["total_won"] == 300_000 and application.snapshot["submission"] == 2
    assert count_events("application.resubmitted") == 1


def test_submit_is_refused_when_a_hard_rule_fails(complete_application):
    leader, _, application = complete_application()
    services.save_budget(application, GOOD_LINES + [dict(category="materials", item="맥주", unit_price_won=3000, quantity=2)],
                         based_on_version=None, user=leader)
    with pytest.raises(services.ApplicationError, match="고쳐야 할 항목"):
        services.submit(application, user=leader)
    assert application.status == "draft"


def test_provision_consent_is_required_to_apply(complete_application):
    leader, _, application = complete_application()
    application.group.consent_provision_at = None
    with pytest.raises(services.ApplicationError):
        services.submit(application, user=leader)


def test_window_edges_judged_in_kst(open_programme, complete_application):
    closes = kst_datetime(2027, 3, 8, 18, 0)  # 18:00 in Seoul = 09:00 UTC
    programme = open_programme(opens_at=kst_datetime(2027, 2, 15, 9, 0), closes_at=closes)
    assert closes.hour == 9
    lead, _, app_ok = _draft_at(complete_application, programme, "a@example.kr")
    assert services.submit(app_ok, user=lead, now=closes - timedelta(seconds=1)) is True
    lead2, _, app_late = _draft_at(complete_application, programme, "b@example.kr")
    with pytest.raises(services.ApplicationError, match="신청 기간"):
        services.submit(app_late, user=lead2, now=closes)
    with pytest.raises(services.ApplicationError, match="저장되어"):
        services.submit(app_late, user=lead2, now=closes + timedelta(seconds=1))
    assert app_late.status == "draft" and app_late.lines  # the draft is kept
    with pytest.raises(services.ApplicationError):
        services.submit(app_late, user=lead2, now=kst_datetime(2027, 2, 15, 8, 59, 59))  # before opening


def _draft_at(complete_application, programme, email):
    """A complete draft on a programme whose window is in the future/past (start it while open)."""
    opens, closes = programme.opens_at, programme.closes_at
    programme.opens_at, programme.closes_at = now_utc() - timedelta(days=1), now_utc() + timedelta(days=1)
    db.session.commit()
    result = complete_application(programme=programme, email=email)
    programme.opens_at, programme.closes_at = opens, closes
    db.session.commit()
    return result


def test_submit_twice_creates_one_submission(complete_application):
    leader, _, application = complete_application()
    assert services.submit(application, user=leader) is True
    db.session.commit()
    assert services.submit(application, user=leader) is False
    db.session.commit()
    assert application.submission_count == 1 and count_events("application.submitted") == 1


def test_optimistic_locking_keeps_both_versions(complete_application):
    leader, treasurer, application = complete_application()
    seen_by_both = application.version
    services.save_statements(application, purpose="대표가 고친 목적", need=application.need, other_funding=False,
                             other_funding_detail="", based_on_version=seen_by_both, user=leader)
    db.session.commit()
    with pytest.raises(services.VersionConflict) as excinfo:
        services.save_statements(application, purpose="회계가 고친 목적", need=application.need, other_funding=False,
                                 other_funding_detail="", based_on_version=seen_by_both, user=treasurer)
    db.session.commit()
    assert application.purpose == "대표가 고친 목적"  # not overwritten silently
    conflict = db.session.scalar(select(DraftConflict))
    assert conflict.id == excinfo.value.conflict.id and conflict.user_id == treasurer.id
    assert conflict.data["purpose"] == "회계가 고친 목적"  # and the other version is kept


def test_withdraw_only_before_the_window_closes(complete_application):
    leader, _, application = complete_application()
    services.submit(application, user=leader)
    programme = application.programme
    with pytest.raises(services.ApplicationError):
        services.withdraw(application, user=leader, now=programme.closes_at + timedelta(seconds=1))
    services.withdraw(application, user=leader)
    assert application.status == "withdrawn"


def test_one_application_per_group_per_programme(complete_application):
    leader, _, application = complete_application()
    again = services.start_application(application.group, application.programme, user=leader)
    assert again.id == application.id
    assert db.session.scalar(select(func.count(Application.id))) == 1


@pytest.mark.postgres_only
def test_concurrent_submits_make_one_submission(app, complete_application):
    """Two threads submit the same application at the same moment: exactly one wins."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL")
    leader, _, application = complete_application()
    app_id, leader_id = application.id, leader.id
    db.session.commit()
    barrier = threading.Barrier(2)
    results = []

    def worker():
        with app.app_context():
            from blueprints.accounts.models import User

            a = db.session.get(Application, app_id)
            user = db.session.get(User, leader_id)
            a.lines, a.sessions, a.group.members  # load before racing
            barrier.wait()
            try:
                results.append(services.submit(a, user=user))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - recorded for the assertion
                db.session.rollback()
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(map(str, results)) == ["False", "True"], results
    db.session.expire_all()
    assert db.session.get(Application, app_id).submission_count == 1
    assert count_events("application.submitted") == 1


def test_saves_of_other_sections_or_the_same_form_never_conflict(complete_application):
    leader, treasurer, application = complete_application()
    seen = application.version
    # The treasurer saves the budget; the leader's purpose form, opened earlier, still saves.
    services.save_budget(application, GOOD_LINES[:2], based_on_version=seen, user=treasurer, editor="form-T")
    services.save_statements(application, purpose="새 목적", need="필요", other_funding=False, other_funding_detail="",
                             based_on_version=seen, user=leader, editor="form-L")
    # The same open form's autosaves overtaking each other are not a conflict either.
    services.save_statements(application, purpose="새 목적 2", need="필요", other_funding=False, other_funding_detail="",
                             based_on_version=seen, user=leader, editor="form-L")
    # But another form saving the same section after what the leader saw is.
    with pytest.raises(services.VersionConflict):
        services.save_budget(application, GOOD_LINES, based_on_version=seen, user=leader, editor="form-L2")
    assert application.purpose == "새 목적 2" and len(application.lines) == 2


def test_group_eligibility_rules_block_submission(complete_application):
    leader, _, application = complete_application(households=5, birth_ym="2019-01")  # 만 8세 at the start
    result = services.full_check(application)
    assert "eligibility_child_age" in {i.code for i in result.hard}
    with pytest.raises(services.ApplicationError):
        services.submit(application, user=leader)
