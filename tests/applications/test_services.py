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
    # The residency figures that held at submission (households move; districts get corrected).
    residency = snap["residency"]
    assert (residency["households"], residency["resident"]) == (5, 5) and residency["unknown"] == []
    assert residency["share_percent"] == "100" and residency["scope"]
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


def test_budget_save_updates_changed_lines_in_place_and_skips_an_unchanged_save(complete_application):
    leader, _, application = complete_application()
    ids = [line.id for line in application.lines]
    version, events = application.version, count_events("application.saved")
    # The same lines again (an autosave after a pause without a change): nothing is written.
    assert services.save_budget(application, [dict(l) for l in GOOD_LINES], based_on_version=version, user=leader,
                                editor="form-1") is False
    db.session.commit()
    assert application.version == version and count_events("application.saved") == events
    # One quantity changed: that line is updated in place, the others untouched, the total follows.
    changed = [dict(l) for l in GOOD_LINES]
    changed[1]["quantity"] = 30
    assert services.save_budget(application, changed, based_on_version=version, user=leader, editor="form-1") is True
    db.session.commit()
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert [l.id for l in application.lines] == ids and application.version == version + 1
    assert [l.amount_won for l in application.lines] == [200_000, 150_000, 60_000]
    assert application.requested_won == 410_000
    # A line added at the end and then the first removed: positions stay 0..n-1, in order.
    grown = changed + [dict(category="books", item="그림책", unit_price_won=12_000, quantity=5, note="")]
    services.save_budget(application, grown, based_on_version=application.version, user=leader, editor="form-1")
    services.save_budget(application, grown[1:], based_on_version=application.version, user=leader, editor="form-1")
    db.session.commit()
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert [(l.position, l.item) for l in application.lines] == [(0, "만들기 재료"), (1, "과일 간식"), (2, "그림책")]
    assert application.requested_won == 150_000 + 60_000 + 60_000


def test_an_unchanged_save_from_a_stale_form_still_records_the_conflict(complete_application):
    """Skipping an unchanged save never skips the version check: the other form's newer save
    is still reported to the person looking at an older version."""
    leader, treasurer, application = complete_application()
    seen = application.version
    newer = [dict(l) for l in GOOD_LINES]
    newer[0]["quantity"] = 25
    services.save_budget(application, newer, based_on_version=seen, user=treasurer, editor="form-T")
    db.session.commit()
    with pytest.raises(services.VersionConflict):
        services.save_budget(application, newer, based_on_version=seen, user=leader, editor="form-L")
    assert count_events("application.save_conflict") == 1


def _saved_events(application):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "application.saved", AuditEvent.object_id == str(application.id))
        .order_by(AuditEvent.id)).all()


def _lines_with(quantity):
    lines = [dict(l) for l in GOOD_LINES]
    lines[0]["quantity"] = quantity
    return lines


def test_autosaves_of_one_person_and_section_share_one_audit_event(complete_application, monkeypatch):
    leader, treasurer, application = complete_application()
    clock = [now_utc() + timedelta(hours=1)]  # (the set-up's own saves are a run of their own)
    monkeypatch.setattr(services, "utcnow", lambda: clock[0])
    before = len(_saved_events(application))

    def save(user, quantity, minutes, section="budget"):
        clock[0] += timedelta(minutes=minutes)
        if section == "budget":
            services.save_budget(application, _lines_with(quantity), based_on_version=application.version,
                                 user=user, editor=f"form-{user.id}")
        else:
            services.save_statements(application, purpose=f"목적 {quantity}", need="필요", other_funding=False,
                                     other_funding_detail="", based_on_version=application.version, user=user,
                                     editor=f"form-{user.id}")
        db.session.commit()

    first_at = clock[0] + timedelta(minutes=1)
    save(leader, 21, 1)
    save(leader, 22, 1)
    save(leader, 23, 2)                       # three pauses of the leader: one event
    events = _saved_events(application)[before:]
    assert len(events) == 1
    event = events[0]
    assert event.actor_id == leader.id and event.created_at == first_at
    assert "3회" in event.summary and event.changes_dict["after"]["saves"] == 3
    assert event.changes_dict["after"]["version"] == application.version
    assert event.changes_dict["after"]["last_saved_at"] == clock[0].isoformat()

    save(treasurer, 24, 1)                    # someone else in between: their own event
    save(leader, 25, 1)                       # and the leader's next save starts a new one
    save(leader, 26, 1, section="purpose")    # another section: a new one
    save(leader, 27, 1, section="purpose")    # (coalesced with the previous purpose save)
    save(leader, 28, 11, section="purpose")   # past the 10-minute window from the event's start: new
    actors = [(e.actor_id, e.summary.split()[0]) for e in _saved_events(application)[before:]]
    assert actors == [(leader.id, "budget"), (treasurer.id, "budget"), (leader.id, "budget"),
                      (leader.id, "purpose"), (leader.id, "purpose")]
