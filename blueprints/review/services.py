"""Review operations: settings, conflicts, assignment (by hand and automatic), declining,
scoring, reopening, the score matrix and ranking, selection scenarios, reminders.
They mutate, flush and record the audit event; the view commits once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload, lazyload, selectinload

from blueprints.accounts.models import User, UserRole
from blueprints.applications.models import Application
from blueprints.core import audit
from blueprints.core.mail import queue_email
from blueprints.core.models import utcnow
from blueprints.core.paging import Page, page_number
from blueprints.core.persistence import lock_row
from blueprints.core.timeutil import end_of_day_kst, to_kst
from blueprints.groups.models import Group
from blueprints.programmes.models import Programme
from blueprints.programmes.rules import tie_break_label
from extensions import db

from . import assignment as A
from . import scoring as S
from . import selection as SEL
from .conflicts import DECLARATION_KINDS, GroupInfo, MemberInfo, ReviewerInfo, conflict_reasons
from .models import (ConflictDeclaration, ReminderLog, ReviewAssignment, ReviewerProfile, ReviewSettings, Score,
                     SelectionEntry, SelectionScenario)

IN_REVIEW = ("submitted", "under_review")
SUBJECT = "[공동육아 자조모임]"
LOCKED = "제출한 심사는 고칠 수 없습니다. 수정이 필요하면 사업담당에게 재개를 요청해 주세요."


class ReviewError(Exception):
    """A rule of the review domain; the message is shown to the person."""


# Settings -----------------------------------------------------------------------------------

def review_rules(programme: Programme) -> dict:
    return (programme.rules or {}).get("review") or {}


def rubric(programme: Programme) -> list[dict]:
    return list(review_rules(programme).get("rubric") or [])


def reviewers_per_application(programme: Programme) -> int:
    return int(review_rules(programme).get("reviewers_per_application") or 3)


def pass_mark(programme: Programme) -> int:
    return int(review_rules(programme).get("pass_mark") or 0)


def tie_break(programme: Programme) -> list[str]:
    return list(review_rules(programme).get("tie_break") or [])


def settings_for(programme: Programme) -> ReviewSettings:
    """The programme's review settings, created from the rules' defaults the first time."""
    settings = db.session.scalar(select(ReviewSettings).where(ReviewSettings.programme_id == programme.id))
    if settings is None:
        aggregate = "trimmed_mean" if "trimmed" in str(review_rules(programme).get("aggregate", "")) else "mean"
        deadline = end_of_day_kst(programme.review_to) if programme.review_to else None
        settings = ReviewSettings(programme_id=programme.id, aggregate=aggregate, deadline=deadline)
        db.session.add(settings)
        db.session.flush()
    return settings


SETTING_FIELDS = ("blind", "comment_rule", "comment_below_pct", "aggregate", "disagreement_points",
                  "calibration_points", "same_dong_rule", "deadline", "remind_days_before")


def save_settings(settings: ReviewSettings, values: dict, *, user) -> None:
    before = {k: getattr(settings, k) for k in SETTING_FIELDS}
    for key in SETTING_FIELDS:
        setattr(settings, key, values[key])
    after = {k: getattr(settings, k) for k in SETTING_FIELDS}
    changed = {k for k in SETTING_FIELDS if before[k] != after[k]}
    db.session.flush()
    if changed:
        audit.record("review.settings_changed", settings, summary="심사 설정 변경: " + ", ".join(sorted(changed)),
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})


def reviewers() -> list[User]:
    return db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                              .where(UserRole.role == "reviewer", User.is_active.is_(True))
                              .order_by(User.name, User.id)).unique().all()


def profiles() -> dict[int, ReviewerProfile]:
    return {p.user_id: p for p in db.session.scalars(select(ReviewerProfile))}


def save_profile(reviewer: User, *, district: str, dong: str, affiliation: str = "", user) -> ReviewerProfile:
    profile = db.session.scalar(select(ReviewerProfile).where(ReviewerProfile.user_id == reviewer.id))
    if profile is None:
        profile = ReviewerProfile(user_id=reviewer.id)
        db.session.add(profile)
    before = {"district": profile.district, "dong": profile.dong}
    profile.district, profile.dong, profile.affiliation = district, dong, affiliation
    db.session.flush()
    audit.record("review.reviewer_profile_saved", reviewer, summary=f"심사위원 거주지: {district} {dong}",
                 before=before, after={"district": district, "dong": dong})
    return profile


# Conflicts ----------------------------------------------------------------------------------

def reviewer_info(user: User, profile: ReviewerProfile | None) -> ReviewerInfo:
    return ReviewerInfo(user_id=user.id, name=user.name, phone=user.phone or "", email=user.email,
                        district=profile.district if profile else "", dong=profile.dong if profile else "")


def group_info(group: Group) -> GroupInfo:
    return GroupInfo(district=group.district, dong=group.dong,
                     members=tuple(MemberInfo(m.user_id, m.phone, m.email or "") for m in group.members))


def declarations(application_ids) -> dict[tuple[int, int], ConflictDeclaration]:
    ids = list(application_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(ConflictDeclaration).where(ConflictDeclaration.application_id.in_(ids)))
    return {(d.application_id, d.reviewer_id): d for d in rows}


def conflicts_for(application: Application, people: list[User], settings: ReviewSettings,
                  declared: dict | None = None, profile_map: dict | None = None) -> dict[int, list[str]]:
    declared = declarations([application.id]) if declared is None else declared
    profile_map = profiles() if profile_map is None else profile_map
    info = group_info(application.group)
    result = {}
    for person in people:
        declaration = declared.get((application.id, person.id))
        result[person.id] = conflict_reasons(reviewer_info(person, profile_map.get(person.id)), info,
                                             declared=declaration.kind if declaration else None,
                                             same_dong_rule=settings.same_dong_rule)
    return result


def declare_conflict(application: Application, reviewer: User, *, kind: str, reason: str, user) -> ConflictDeclaration:
    if kind not in DECLARATION_KINDS:
        raise ReviewError("제척·기피·회피 중 하나를 골라 주세요.")
    if not reason.strip():
        raise ReviewError("사유를 적어 주세요.")
    existing = db.session.scalar(select(ConflictDeclaration).where(
        ConflictDeclaration.application_id == application.id, ConflictDeclaration.reviewer_id == reviewer.id))
    if existing is not None:
        raise ReviewError("이미 이해충돌이 신고되어 있습니다.")
    declaration = ConflictDeclaration(application_id=application.id, reviewer_id=reviewer.id, kind=kind,
                                      reason=reason.strip(), declared_by_id=user.id)
    db.session.add(declaration)
    db.session.flush()
    audit.record("review.conflict_declared", application,
                 summary=f"이해충돌 신고({DECLARATION_KINDS[kind]}): 심사위원 {reviewer.name} — {reason.strip()[:100]}")
    current = assignment_of(application, reviewer)
    if current is not None and current.status == "assigned":
        _set_declined(current, "conflict", f"{DECLARATION_KINDS[kind]}: {reason.strip()}", user=user)
    return declaration


# Assignment ---------------------------------------------------------------------------------

def applications_in_review(programme: Programme) -> list[Application]:
    return db.session.scalars(select(Application).join(Group, Group.id == Application.group_id)
                              .where(Application.programme_id == programme.id, Application.status.in_(IN_REVIEW))
                              .order_by(Application.submitted_at, Application.id)).unique().all()


def assignments_of_programme(programme: Programme) -> list[ReviewAssignment]:
    # Scores come in one extra query for all assignments (totals are summed from them).
    return db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.programme_id == programme.id)
                              .options(selectinload(ReviewAssignment.scores))
                              .order_by(ReviewAssignment.application_id, ReviewAssignment.id)).unique().all()


def assignment_of(application: Application, reviewer: User) -> ReviewAssignment | None:
    return db.session.scalar(select(ReviewAssignment).where(ReviewAssignment.application_id == application.id,
                                                            ReviewAssignment.reviewer_id == reviewer.id))


def loads(programme: Programme) -> dict[int, int]:
    rows = db.session.execute(select(ReviewAssignment.reviewer_id, func.count()).where(
        ReviewAssignment.programme_id == programme.id, ReviewAssignment.status != "declined")
        .group_by(ReviewAssignment.reviewer_id)).all()
    return dict(rows)


def mark_under_review(application: Application, *, user) -> None:
    """submitted → under_review, when its first reviewer is assigned."""
    if application.status == "under_review":
        return
    if application.status != "submitted":
        raise ReviewError("제출된 신청서만 심사에 넘길 수 있습니다.")
    application.status = "under_review"
    db.session.flush()
    audit.record("application.under_review", application, summary=f"{application.group.name}: 심사 시작",
                 before={"status": "submitted"}, after={"status": "under_review"}, actor=user)


def assign(application: Application, reviewer: User, *, user, auto: bool = False, settings=None,
           notify: bool = True) -> ReviewAssignment:
    if application.status not in IN_REVIEW:
        raise ReviewError("제출되었거나 심사 중인 신청서에만 심사위원을 배정할 수 있습니다.")
    if not reviewer.has_role("reviewer") or not reviewer.is_active:
        raise ReviewError("심사위원 역할이 있는 활성 계정만 배정할 수 있습니다.")
    settings = settings or settings_for(application.programme)
    reasons = conflicts_for(application, [reviewer], settings)[reviewer.id]
    if reasons:
        raise ReviewError(f"{reviewer.name} 위원은 배정할 수 없습니다: " + ", ".join(reasons))
    if assignment_of(application, reviewer) is not None:
        raise ReviewError(f"{reviewer.name} 위원은 이미 이 신청서에 배정되었거나 거절했습니다.")
    item = ReviewAssignment(programme_id=application.programme_id, application_id=application.id,
                            reviewer_id=reviewer.id, assigned_by_id=user.id, auto=auto)
    db.session.add(item)
    db.session.flush()
    mark_under_review(application, user=user)
    audit.record("review.assigned", item, summary=f"신청서 #{application.id}에 {reviewer.name} 위원 배정"
                 + (" (자동)" if auto else ""), actor=user)
    if notify:
        _notify_assigned(reviewer, application.programme, 1)
    return item


def _notify_assigned(reviewer: User, programme: Programme, count: int) -> None:
    settings = settings_for(programme)
    deadline = f"\n심사 기한: {to_kst(settings.deadline):%Y. %-m. %-d. %H:%M}" if settings.deadline else ""
    queue_email(reviewer.email, f"{SUBJECT} 심사 배정 안내 ({programme.title})",
                f"{reviewer.name} 위원님, {programme.title} 신청서 {count}건이 배정되었습니다.{deadline}\n"
                "로그인 후 ‘내 심사’에서 확인해 주세요.")


def auto_assign(programme: Programme, *, user) -> A.Plan:
    """Fill every application in review up to N reviewers, balanced, never a conflict."""
    settings = settings_for(programme)
    people = reviewers()
    by_id = {p.id: p for p in people}
    apps = applications_in_review(programme)
    n = reviewers_per_application(programme)
    existing = assignments_of_programme(programme)
    on_app: dict[int, set[int]] = {}
    active: dict[int, int] = {}
    for item in existing:
        on_app.setdefault(item.application_id, set()).add(item.reviewer_id)
        if item.status != "declined":
            active[item.application_id] = active.get(item.application_id, 0) + 1
    declared = declarations(a.id for a in apps)
    profile_map = profiles()
    blocked = set()
    for application in apps:
        for reviewer_id, reasons in conflicts_for(application, people, settings, declared, profile_map).items():
            if reasons:
                blocked.add((application.id, reviewer_id))
    plan = A.auto_assign({a.id: n - active.get(a.id, 0) for a in apps}, [p.id for p in people],
                         on_application=on_app, loads=loads(programme), blocked=blocked)
    apps_by_id = {a.id: a for a in apps}
    per_reviewer: dict[int, int] = {}
    for app_id, reviewer_id in plan.pairs:
        assign(apps_by_id[app_id], by_id[reviewer_id], user=user, auto=True, settings=settings, notify=False)
        per_reviewer[reviewer_id] = per_reviewer.get(reviewer_id, 0) + 1
    for reviewer_id, count in per_reviewer.items():
        _notify_assigned(by_id[reviewer_id], programme, count)
    audit.record("review.auto_assigned", programme,
                 summary=f"자동 배정 {len(plan.pairs)}건, 채우지 못한 자리 {sum(plan.shortfall.values())}개")
    return plan


def unassign(item: ReviewAssignment, *, user) -> None:
    if item.status == "submitted":
        raise ReviewError("제출된 심사는 배정을 취소할 수 없습니다. 먼저 재개해 주세요.")
    summary = f"신청서 #{item.application_id}에서 {item.reviewer.name} 위원 배정 취소"
    audit.record("review.unassigned", item, summary=summary, before={"status": item.status}, actor=user)
    db.session.delete(item)
    db.session.flush()


def _set_declined(item: ReviewAssignment, kind: str, reason: str, *, user) -> None:
    item.status = "declined"
    item.decline_kind = kind
    item.decline_reason = reason
    for score in list(item.scores):
        item.scores.remove(score)
    db.session.flush()
    audit.record("review.declined", item, summary=f"{item.reviewer.name} 위원 거절({_decline_label(kind)}): {reason[:100]}",
                 before={"status": "assigned"}, after={"status": "declined"}, actor=user)


def _decline_label(kind):
    from .models import DECLINE_KINDS

    return DECLINE_KINDS.get(kind, kind)


def decline(item: ReviewAssignment, *, kind: str, reason: str, conflict_kind: str | None = None, user) -> None:
    """The reviewer declines: for a conflict (recorded as a declaration) or for another reason."""
    if item.status != "assigned":
        raise ReviewError("진행 중인 배정만 거절할 수 있습니다.")
    if kind not in ("conflict", "unavailable"):
        raise ReviewError("거절 사유의 종류를 골라 주세요.")
    if not reason.strip():
        raise ReviewError("거절 사유를 적어 주세요.")
    if kind == "conflict":
        declare_conflict(item.application, item.reviewer, kind=conflict_kind or "recusal", reason=reason, user=user)
        if item.status == "declined":
            return
    _set_declined(item, kind, reason.strip(), user=user)


def assignment_panel(application: Application) -> list[dict]:
    """Every reviewer and where they stand for this application, with the reason when they are
    not (or cannot be) assigned."""
    programme = application.programme
    settings = settings_for(programme)
    people = reviewers()
    conflicts = conflicts_for(application, people, settings)
    mine = {a.reviewer_id: a for a in db.session.scalars(
        select(ReviewAssignment).where(ReviewAssignment.application_id == application.id))}
    load = loads(programme)
    rows = []
    for person in people:
        item = mine.get(person.id)
        if item is not None:
            state = item.status
            why = [f"{item.decline_reason}"] if item.status == "declined" else []
        elif conflicts[person.id]:
            state, why = "conflict", conflicts[person.id]
        else:
            state, why = "available", []
        rows.append(dict(reviewer=person, state=state, reasons=why, load=load.get(person.id, 0), assignment=item))
    return rows


# Scoring ------------------------------------------------------------------------------------

def my_assignments(user: User) -> list[ReviewAssignment]:
    """The queue's rows (totals: ``score_totals``). The frozen snapshot and the draft's marks
    (JSON, decoded per row) stay unloaded, and the few programmes (their rules JSON) load once
    each, not once per row."""
    return db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == user.id,
                                                             ReviewAssignment.status != "declined")
                              .options(lazyload(ReviewAssignment.reviewer),  # the signed-in user, in the session
                                       joinedload(ReviewAssignment.application).options(
                                           defer(Application.snapshot), defer(Application.section_marks),
                                           selectinload(Application.programme)))
                              .order_by(ReviewAssignment.status, ReviewAssignment.id)).unique().all()


def score_totals(items: list[ReviewAssignment]) -> dict[int, int]:
    """{assignment id: total of its scores} for the assignments that have score rows (one
    aggregate query instead of loading every score row)."""
    if not items:
        return {}
    return dict(db.session.execute(
        select(Score.assignment_id, func.coalesce(func.sum(Score.score), 0))
        .where(Score.assignment_id.in_([item.id for item in items])).group_by(Score.assignment_id)).all())


def progress(user: User) -> tuple[int, int]:
    """(submitted, total) of the reviewer's assignments that are not declined."""
    rows = dict(db.session.execute(select(ReviewAssignment.status, func.count()).where(
        ReviewAssignment.reviewer_id == user.id, ReviewAssignment.status != "declined")
        .group_by(ReviewAssignment.status)).all())
    return rows.get("submitted", 0), sum(rows.values())


def check_for(item: ReviewAssignment, scores: dict, comments: dict, *, final: bool) -> S.ScoreCheck:
    settings = settings_for(item.application.programme)
    return S.check_scores(rubric(item.application.programme), scores, comments, rule=settings.comment_rule,
                          below_pct=settings.comment_below_pct, final=final)


def save_scores(item: ReviewAssignment, check: S.ScoreCheck, *, user, submit: bool = False) -> None:
    """Save the reviewer's scores as a draft, or submit them (then they are locked)."""
    # Lock the row (a second tab submitting at once waits here, on SQLite too), then read it
    # and its scores fresh.
    lock_row(ReviewAssignment, item.id)
    db.session.refresh(item)
    if item.status != "assigned":
        raise ReviewError(LOCKED)
    if item.application.status != "under_review":
        raise ReviewError("심사가 끝난 신청서입니다.")
    if not check.ok:
        raise ReviewError("입력 내용을 확인해 주세요.")
    if submit and not check.complete:
        raise ReviewError("모든 항목의 점수를 입력해야 제출할 수 있습니다.")
    rows = {s.criterion: s for s in item.scores}
    for code, value in check.values.items():
        row = rows.get(code)
        if row is None:
            row = Score(criterion=code)
            item.scores.append(row)
        row.score = value
        row.comment = check.comments.get(code, "")
    if submit:
        item.status = "submitted"
        item.submitted_at = utcnow()
    item.updated_at = utcnow()
    db.session.flush()
    if submit:
        audit.record("review.submitted", item, summary=f"신청서 #{item.application_id} 심사 제출 (총점 {check.total}점)",
                     before={"status": "assigned"}, after={"status": "submitted", "total": check.total}, actor=user)
    else:
        audit.record("review.draft_saved", item, summary=f"신청서 #{item.application_id} 심사 임시 저장", actor=user)


def reopen(item: ReviewAssignment, *, reason: str, user) -> None:
    if item.status != "submitted":
        raise ReviewError("제출된 심사만 재개할 수 있습니다.")
    if not reason.strip():
        raise ReviewError("재개 사유를 적어 주세요.")
    item.status = "assigned"
    item.submitted_at = None
    item.reopened_count += 1
    db.session.flush()
    audit.record("review.reopened", item, summary=f"{item.reviewer.name} 위원의 신청서 #{item.application_id} 심사 재개: "
                 f"{reason.strip()[:100]}", before={"status": "submitted"}, after={"status": "assigned"}, actor=user)
    queue_email(item.reviewer.email, f"{SUBJECT} 심사 재개 안내",
                f"{item.reviewer.name} 위원님, 제출하신 심사 1건이 다시 열렸습니다.\n사유: {reason.strip()}\n"
                "‘내 심사’에서 고친 뒤 다시 제출해 주세요.")


# Matrix and ranking -------------------------------------------------------------------------

def first_time(application: Application) -> bool:
    """No earlier selected application of the same group."""
    return application.group_id not in groups_selected_before(application.programme, [application.group_id])


def groups_selected_before(programme: Programme, group_ids) -> set[int]:
    """Of these groups, those with a selected application in an earlier programme (one query)."""
    if not group_ids:
        return set()
    return set(db.session.scalars(select(Application.group_id).join(
        Programme, Programme.id == Application.programme_id).where(
        Application.group_id.in_(list(group_ids)), Application.status == "selected",
        Programme.opens_at < programme.opens_at)))


def matrix(programme: Programme) -> dict:
    """Applications × reviewers: submitted totals, aggregate, spread, flags; calibration."""
    settings = settings_for(programme)
    apps = db.session.scalars(select(Application).where(
        Application.programme_id == programme.id,
        Application.status.in_(("submitted", "under_review", "selected", "not_selected")))
        .order_by(Application.id)).unique().all()
    items = assignments_of_programme(programme)
    reviewer_ids = sorted({i.reviewer_id for i in items if i.status != "declined"})
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(reviewer_ids)))} if reviewer_ids else {}
    by_app: dict[int, list[ReviewAssignment]] = {}
    for item in items:
        by_app.setdefault(item.application_id, []).append(item)
    totals_matrix: dict[int, dict[int, int]] = {}
    rows = []
    for application in apps:
        cells = {i.reviewer_id: i for i in by_app.get(application.id, [])}
        totals = {r: i.total for r, i in cells.items() if i.status == "submitted"}
        totals_matrix[application.id] = totals
        values = list(totals.values())
        score = S.aggregate(values, settings.aggregate)
        rows.append(dict(application=application, cells=cells, totals=totals, score=score,
                         sd=S.std_dev(values), disagree=S.disagrees(values, settings.disagreement_points),
                         pending=sum(1 for i in cells.values() if i.status == "assigned")))
    calib = S.calibration(totals_matrix, settings.calibration_points)
    return dict(rows=rows, reviewers=[people[r] for r in reviewer_ids], calibration=calib, settings=settings)


MATRIX_STATUSES = ("submitted", "under_review", "selected", "not_selected")
MATRIX_PER_PAGE = 50


@dataclass(slots=True)
class MatrixCell:
    reviewer_id: int
    name: str
    status: str            # assigned | declined | submitted
    total: int
    off: float | None      # total − the row's median, when submitted and there are two totals or more


@dataclass(slots=True)
class MatrixRow:
    id: int
    group_name: str
    reg_no: str
    district: str
    status: str
    cells: list[MatrixCell]
    score: Fraction | None
    sd: float | None
    spread: int | None
    disagree: bool
    pending: int


@dataclass(slots=True)
class MatrixReviewer:
    id: int
    name: str
    calibration: S.Calibration | None


def _matrix_sort_key(sort: str):
    # Floats, not the Fractions of the aggregate: sorting a thousand Fractions costs tens of ms.
    keys = {
        "score_desc": lambda r: (r["score_f"] is None, -(r["score_f"] or 0), r["id"]),
        "score_asc": lambda r: (r["score_f"] is None, r["score_f"] or 0, r["id"]),
        "spread": lambda r: (r["spread"] is None, -(r["spread"] or 0), r["id"]),
        "sd": lambda r: (r["sd"] is None, -(r["sd"] or 0), r["id"]),
        "pending": lambda r: (-r["pending"], r["id"]),
        "district": lambda r: (r["district"], r["id"]),
    }
    return keys.get(sort, lambda r: r["id"])


# Computed rows of a programme's matrix, per process: {programme id: (fingerprint, summary)}.
_MATRIX_CACHE: dict[int, tuple[tuple, dict]] = {}


def _matrix_fingerprint(programme: Programme, settings: ReviewSettings) -> tuple:
    """What the matrix's figures depend on, in two index-range aggregates: the programme's
    assignments (a submitted total only changes with its assignment: submitting, reopening,
    unassigning and declining all write the assignment row, and submitted scores are locked),
    its applications (status) and their groups (자치구), and the settings used."""
    ra, app, grp = ReviewAssignment.__table__.c, Application.__table__.c, Group.__table__.c
    assignments = db.session.execute(select(func.count(), func.sum(ra.id), func.max(ra.updated_at))
                                     .where(ra.programme_id == programme.id)).one()
    applications = db.session.execute(select(func.count(), func.sum(app.id), func.max(app.updated_at),
                                             func.max(grp.updated_at))
                                      .select_from(Application.__table__.join(Group.__table__, grp.id == app.group_id))
                                      .where(app.programme_id == programme.id)).one()
    return (tuple(assignments), tuple(applications), settings.aggregate, settings.disagreement_points,
            settings.calibration_points)


def _matrix_summary(programme: Programme, settings: ReviewSettings) -> dict:
    """Every application's submitted totals, aggregate, spread, standard deviation and flags,
    and the reviewers' calibration: two Core queries (one row per assignment, its total summed
    in SQL), kept per process until the fingerprint changes."""
    key = _matrix_fingerprint(programme, settings)
    cached = _MATRIX_CACHE.get(programme.id)
    if cached and cached[0] == key:
        return cached[1]
    ra, sc, app, grp = (ReviewAssignment.__table__.c, Score.__table__.c, Application.__table__.c,
                        Group.__table__.c)
    apps = db.session.execute(select(app.id, app.status, grp.district)
                              .select_from(Application.__table__.join(Group.__table__, grp.id == app.group_id))
                              .where(app.programme_id == programme.id, app.status.in_(MATRIX_STATUSES))
                              .order_by(app.id)).all()
    cells = db.session.execute(
        select(ra.application_id, ra.reviewer_id, ra.status, func.coalesce(func.sum(sc.score), 0))
        .select_from(ReviewAssignment.__table__.outerjoin(Score.__table__, sc.assignment_id == ra.id))
        .where(ra.programme_id == programme.id)
        .group_by(ra.id, ra.application_id, ra.reviewer_id, ra.status)).all()
    by_app: dict[int, list[tuple[int, str, int]]] = {}
    for application_id, reviewer, state, total in cells:
        by_app.setdefault(application_id, []).append((reviewer, state, int(total)))
    rows, totals_matrix = [], {}
    for application_id, app_status, app_district in apps:
        mine = by_app.get(application_id, [])
        totals = {r: t for r, state, t in mine if state == "submitted"}
        totals_matrix[application_id] = totals
        values = list(totals.values())
        score = S.aggregate(values, settings.aggregate)
        rows.append(dict(
            id=application_id, status=app_status, district=app_district, cells=mine,
            score=score, score_f=float(score) if score is not None else None, sd=S.std_dev(values),
            spread=max(values) - min(values) if len(values) >= 2 else None,
            median=S.median(values) if len(values) >= 2 else None,
            disagree=S.disagrees(values, settings.disagreement_points),
            pending=sum(1 for _r, state, _t in mine if state == "assigned"),
            reviewers=frozenset(r for r, state, _t in mine if state != "declined")))
    summary = dict(rows=rows, calibration=S.calibration(totals_matrix, settings.calibration_points),
                   reviewer_ids=sorted({r for _a, r, state, _t in cells if state != "declined"}))
    if len(_MATRIX_CACHE) >= 16:
        _MATRIX_CACHE.clear()
    _MATRIX_CACHE[programme.id] = (key, summary)
    return summary


def matrix_page(programme: Programme, *, district: str | None = None, reviewer_id: int | None = None,
                status: str | None = None, min_spread: int | None = None, sort: str = "id", page: int = 1,
                per_page: int = MATRIX_PER_PAGE) -> dict:
    """The score matrix one page at a time, for staff: the programme's applications in review
    or decided, filtered (자치구, reviewer, status, spread at least ``min_spread`` points) and
    sorted, each with its reviewers' totals (a short list per row rather than a column per
    reviewer), aggregate, spread, standard deviation and flags; the reviewers with their
    calibration over the whole programme. Only the page shown loads its groups' names; the
    number of queries does not depend on the size."""
    settings = settings_for(programme)
    summary = _matrix_summary(programme, settings)
    shown = summary["rows"]
    if district:
        shown = [r for r in shown if r["district"] == district]
    if reviewer_id:
        shown = [r for r in shown if reviewer_id in r["reviewers"]]
    if status == "pending":
        shown = [r for r in shown if r["pending"]]
    elif status == "complete":
        shown = [r for r in shown if not r["pending"] and r["score"] is not None]
    elif status == "disagree":
        shown = [r for r in shown if r["disagree"]]
    elif status in ("selected", "not_selected"):
        shown = [r for r in shown if r["status"] == status]
    if min_spread is not None:
        shown = [r for r in shown if r["spread"] is not None and r["spread"] >= min_spread]
    if sort != "id":
        shown = sorted(shown, key=_matrix_sort_key(sort))
    number = page_number(page, len(shown), per_page)
    items = shown[(number - 1) * per_page:number * per_page]
    app, grp = Application.__table__.c, Group.__table__.c
    groups = {i: (name, reg_no) for i, name, reg_no in db.session.execute(
        select(app.id, grp.name, grp.reg_no).select_from(Application.__table__.join(Group.__table__, grp.id == app.group_id))
        .where(app.id.in_([r["id"] for r in items])))}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(summary["reviewer_ids"]))).all())
    page_rows = []
    for row in items:
        middle = row["median"]
        cells = sorted((MatrixCell(r, names.get(r, "-"), state, t,
                                   (t - middle) if middle is not None and state == "submitted" else None)
                        for r, state, t in row["cells"]), key=lambda c: (c.name, c.reviewer_id))
        name, reg_no = groups[row["id"]]
        page_rows.append(MatrixRow(row["id"], name, reg_no, row["district"], row["status"], cells, row["score"],
                                   row["sd"], row["spread"], row["disagree"], row["pending"]))
    calibration = summary["calibration"]
    people = sorted((MatrixReviewer(r, names.get(r, "-"), calibration.get(r)) for r in summary["reviewer_ids"]),
                    key=lambda p: (p.name, p.id))
    return dict(page=Page(items=page_rows, page=number, per_page=per_page, total=len(shown)), reviewers=people,
                settings=settings, total=len(summary["rows"]),
                flagged=sum(1 for r in summary["rows"] if r["disagree"]))


def criterion_means(items: list[ReviewAssignment]) -> dict[str, Fraction]:
    sums: dict[str, list[int]] = {}
    for item in items:
        if item.status != "submitted":
            continue
        for s in item.scores:
            if s.score is not None:
                sums.setdefault(s.criterion, []).append(s.score)
    return {code: Fraction(sum(v), len(v)) for code, v in sums.items()}


def ranking(programme: Programme) -> list[dict]:
    """Ranked applications (in review or decided) with score, tie-break, pass mark and warnings."""
    settings = settings_for(programme)
    apps = db.session.scalars(select(Application).where(
        Application.programme_id == programme.id,
        Application.status.in_(("submitted", "under_review", "selected", "not_selected")))).unique().all()
    by_app: dict[int, list[ReviewAssignment]] = {}
    for item in assignments_of_programme(programme):
        by_app.setdefault(item.application_id, []).append(item)
    items, extra = [], {}
    returning = groups_selected_before(programme, {a.group_id for a in apps})
    for application in apps:
        mine = by_app.get(application.id, [])
        totals = [i.total for i in mine if i.status == "submitted"]
        items.append(S.RankItem(application_id=application.id, score=S.aggregate(totals, settings.aggregate),
                                criterion_means=criterion_means(mine), first_time=application.group_id not in returning,
                                submitted_at=application.submitted_at, eligible=True))
        extra[application.id] = dict(application=application, reviewers=len(totals),
                                     pending=sum(1 for i in mine if i.status == "assigned"),
                                     sd=S.std_dev(totals), disagree=S.disagrees(totals, settings.disagreement_points))
    ordered = S.rank(items, tie_break(programme), pass_mark(programme))
    rub = rubric(programme)
    result = []
    for item in ordered:
        row = dict(extra[item.application_id], item=item)
        row["decided_by_label"] = (tie_break_label(item.decided_by, rub) if item.decided_by not in (None, "application_id")
                                   else ("신청번호 순" if item.decided_by else ""))
        result.append(row)
    return result


def score_text(score: Fraction | None) -> str:
    return "" if score is None else f"{float(score):.2f}"


# Selection ----------------------------------------------------------------------------------

def proposed_for(application: Application) -> int:
    programme = application.programme
    grant = (programme.rules or {}).get("grant") or {}
    return SEL.proposed_amount(application.requested_won, len(application.group.members), grant.get("tiers") or [],
                               programme.max_per_group_won, int(grant.get("rounding_unit_won") or 10_000))


def rounding_unit(programme: Programme) -> int:
    return int(((programme.rules or {}).get("grant") or {}).get("rounding_unit_won") or 10_000)


def create_scenario(programme: Programme, *, name: str, quota_per_district: int | None, user) -> SelectionScenario:
    if not name.strip():
        raise ReviewError("시나리오 이름을 적어 주세요.")
    ranked = [r for r in ranking(programme) if r["application"].status in IN_REVIEW]
    candidates = [SEL.Candidate(r["item"].application_id, r["item"].rank, r["item"].passes,
                                proposed_for(r["application"]), r["application"].group.district) for r in ranked]
    decisions = {d.application_id: d for d in SEL.simulate(candidates, programme.budget_total_won,
                                                            quota_per_district=quota_per_district)}
    scenario = SelectionScenario(programme_id=programme.id, name=name.strip(), quota_per_district=quota_per_district,
                                 created_by_id=user.id, basis={str(r["item"].application_id): score_text(r["item"].score)
                                                               for r in ranked})
    for position, r in enumerate(ranked, start=1):
        d = decisions[r["item"].application_id]
        scenario.entries.append(SelectionEntry(
            application_id=d.application_id, rank=position, score=score_text(r["item"].score),
            passes=r["item"].passes, auto_selected=d.selected, proposed_won=d.amount_won, selected=d.selected,
            amount_won=d.amount_won, note=d.note))
    db.session.add(scenario)
    db.session.flush()
    audit.record("review.scenario_created", scenario,
                 summary=f"선정 시나리오 ‘{scenario.name}’: {scenario.selected_count}개 모임, {scenario.total_selected_won:,}원"
                 + (f", 자치구별 {quota_per_district}개 이내" if quota_per_district else ""), actor=user)
    return scenario


def adjust_entry(entry: SelectionEntry, *, selected: bool, amount_won: int, reason: str, user) -> None:
    """Staff change the selection or the amount; a written reason is required, the budget holds."""
    scenario = entry.scenario
    programme = db.session.get(Programme, scenario.programme_id)
    if scenario.status != "draft":
        raise ReviewError("결과를 공개한 시나리오는 고칠 수 없습니다.")
    reason = reason.strip()
    differs = selected != entry.auto_selected or (amount_won != entry.proposed_won)
    if differs and not reason:
        raise ReviewError("조정하려면 사유를 적어 주세요.")
    if selected:
        if not entry.passes and not reason:
            raise ReviewError("합격점에 못 미친 신청서를 선정하려면 사유를 적어 주세요.")
        problem = SEL.check_amount(amount_won, entry.proposed_won, rounding_unit(programme))
        if problem:
            raise ReviewError(problem)
        others = sum(e.amount_won for e in scenario.entries if e.selected and e.id != entry.id)
        if others + amount_won > programme.budget_total_won:
            left = programme.budget_total_won - others
            raise ReviewError(f"예산을 넘습니다. 이 모임에 쓸 수 있는 금액은 {max(left, 0):,}원까지입니다.")
    else:
        amount_won = entry.proposed_won  # not selected: the amount stays what was proposed
    before = {"selected": entry.selected, "amount_won": entry.amount_won}
    entry.selected, entry.amount_won = selected, amount_won
    entry.reason = reason
    entry.updated_by_id = user.id
    db.session.flush()
    audit.record("review.selection_adjusted", entry,
                 summary=f"시나리오 ‘{scenario.name}’ 신청서 #{entry.application_id}: "
                 f"{'선정' if selected else '미선정'} {amount_won:,}원 — {reason[:100]}",
                 before=before, after={"selected": selected, "amount_won": amount_won}, actor=user)


def scenario_summary(scenario: SelectionScenario, programme: Programme) -> dict:
    used = scenario.total_selected_won
    return dict(used=used, left=programme.budget_total_won - used, count=scenario.selected_count,
                adjusted=sum(1 for e in scenario.entries if e.adjusted))


def compare(scenarios: list[SelectionScenario]) -> list[dict]:
    """Per application: selected and amount in each scenario (the rows where they differ first)."""
    apps: dict[int, dict] = {}
    for scenario in scenarios:
        for e in scenario.entries:
            row = apps.setdefault(e.application_id, dict(application=e.application, rank=e.rank, cells={}))
            row["cells"][scenario.id] = e
    rows = list(apps.values())
    for row in rows:
        picks = {(c.selected, c.amount_won if c.selected else 0) for c in row["cells"].values()}
        row["differs"] = len(picks) > 1 or len(row["cells"]) < len(scenarios)
    rows.sort(key=lambda r: (not r["differs"], r["rank"]))
    return rows


def scores_moved(scenario: SelectionScenario, programme: Programme) -> bool:
    now = {str(r["item"].application_id): score_text(r["item"].score)
           for r in ranking(programme) if r["application"].status in IN_REVIEW}
    return now != scenario.basis


def record_result(application: Application, *, selected: bool, user) -> None:
    """under_review → selected | not_selected, on publishing the decision."""
    if application.status != "under_review":
        raise ReviewError(f"신청서 #{application.id}는 심사 중이 아니라 결과를 정할 수 없습니다.")
    new = "selected" if selected else "not_selected"
    application.status = new
    db.session.flush()
    audit.record(f"application.{new}", application, summary=f"{application.group.name}: {'선정' if selected else '미선정'}",
                 before={"status": "under_review"}, after={"status": new}, actor=user)


def publish_blockers(programme: Programme, scenario: SelectionScenario, now: datetime | None = None) -> list[str]:
    """Why the results cannot be published yet. Results come after the application window:
    while it is open a group could still apply or change its application after the
    decision (and the decision would not be final)."""
    problems = []
    if scenario.status != "draft":
        problems.append("이미 공개한 시나리오입니다.")
    if not programme.is_closed(now):
        problems.append(f"신청 기간이 아직 끝나지 않았습니다({to_kst(programme.closes_at):%Y. %-m. %-d. %H:%M} 마감). "
                        "신청을 마감한 뒤에 결과를 공개할 수 있습니다.")
    waiting = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.programme_id == programme.id, Application.status == "submitted"))
    if waiting:
        problems.append(f"심사위원이 배정되지 않은 신청서가 {waiting}건 있습니다. 배정하거나 부적격 처리해 주세요.")
    pending = db.session.scalar(select(func.count()).select_from(ReviewAssignment).join(
        Application, Application.id == ReviewAssignment.application_id).where(
        ReviewAssignment.programme_id == programme.id, ReviewAssignment.status == "assigned",
        Application.status == "under_review"))
    if pending:
        problems.append(f"아직 제출되지 않은 심사가 {pending}건 있습니다.")
    if scores_moved(scenario, programme):
        problems.append("시나리오를 만든 뒤 점수나 대상이 바뀌었습니다. 새 시나리오를 만들어 주세요.")
    return problems


def feedback_for(application: Application) -> dict | None:
    """Anonymised feedback for a not-selected group, when staff chose to share it: criterion
    means and comments, without reviewer names or other reviewers' identities."""
    scenario = db.session.scalar(select(SelectionScenario).where(
        SelectionScenario.programme_id == application.programme_id, SelectionScenario.status == "published"))
    if scenario is None or not scenario.share_feedback or application.status != "not_selected":
        return None
    items = db.session.scalars(select(ReviewAssignment).where(
        ReviewAssignment.application_id == application.id, ReviewAssignment.status == "submitted")).unique().all()
    means = criterion_means(items)
    criteria = []
    for c in rubric(application.programme):
        comments = sorted(s.comment for i in items for s in i.scores if s.criterion == c["code"] and s.comment)
        criteria.append(dict(label=c["label"], max=c["max"], mean=float(means[c["code"]]) if c["code"] in means else None,
                             comments=comments))
    return dict(criteria=criteria, pass_mark=pass_mark(application.programme))


# Reminders ----------------------------------------------------------------------------------

def send_reminders(today: date, *, now: datetime | None = None) -> int:
    """One e-mail per reviewer with unfinished assignments, per programme whose deadline is
    within its ``remind_days_before`` days; at most one per reviewer, programme and day."""
    now = now or utcnow()
    sent = 0
    for settings in db.session.scalars(select(ReviewSettings).where(ReviewSettings.deadline.is_not(None))):
        if settings.deadline < now or settings.deadline - now > timedelta(days=settings.remind_days_before):
            continue
        rows = db.session.execute(select(ReviewAssignment.reviewer_id, func.count()).join(
            Application, Application.id == ReviewAssignment.application_id).where(
            ReviewAssignment.programme_id == settings.programme_id, ReviewAssignment.status == "assigned",
            Application.status == "under_review").group_by(ReviewAssignment.reviewer_id)).all()
        for reviewer_id, count in rows:
            already = db.session.scalar(select(ReminderLog.id).where(
                ReminderLog.programme_id == settings.programme_id, ReminderLog.reviewer_id == reviewer_id,
                ReminderLog.sent_on == today))
            if already:
                continue
            reviewer = db.session.get(User, reviewer_id)
            programme = db.session.get(Programme, settings.programme_id)
            queue_email(reviewer.email, f"{SUBJECT} 심사 기한 안내 ({programme.title})",
                        f"{reviewer.name} 위원님, 아직 제출하지 않은 심사가 {count}건 있습니다.\n"
                        f"심사 기한: {to_kst(settings.deadline):%Y. %-m. %-d. %H:%M}\n‘내 심사’에서 확인해 주세요.")
            db.session.add(ReminderLog(programme_id=settings.programme_id, reviewer_id=reviewer_id, sent_on=today,
                                       open_count=count))
            audit.record("review.reminder_sent", programme, summary=f"{reviewer.name} 위원에게 기한 안내 ({count}건)",
                         actor=None)
            sent += 1
    db.session.flush()
    return sent
