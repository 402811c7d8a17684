"""Review's read model: what the pages show, computed without writing — the programme's review
rules and settings, reviewers and conflicts, assignments and loads, the reviewer's queue, the
score matrix and the ranking (one computation of an application's figures: ``stats``), the
selection's proposed amounts and comparisons, the anonymised feedback. The operations that
change anything are in services.py."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload, lazyload, selectinload

from blueprints.accounts.models import User, UserRole
from blueprints.applications.models import Application, ApplicationState
from blueprints.core.paging import Page, page_number
from blueprints.groups.models import Group, GroupMember
from blueprints.programmes.models import Programme
from blueprints.programmes.rules import tie_break_label
from extensions import db

from . import scoring as S
from . import selection as SEL
from .conflicts import GroupInfo, MemberInfo, ReviewerInfo, conflict_reasons
from .models import (AssignmentState, ConflictDeclaration, ReviewAssignment, ReviewerProfile, ReviewSettings, Score,
                     ScenarioState, SelectionScenario)

IN_REVIEW = (ApplicationState.submitted, ApplicationState.under_review)
MATRIX_STATUSES = (ApplicationState.submitted, ApplicationState.under_review, ApplicationState.selected,
                   ApplicationState.not_selected)


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
    """The programme's review settings (made with the programme: models._settings_with_the_programme)."""
    return db.session.scalars(select(ReviewSettings).where(ReviewSettings.programme_id == programme.id)).one()


def reviewers() -> list[User]:
    return db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                              .where(UserRole.role == "reviewer", User.is_active.is_(True))
                              .order_by(User.name, User.id)).unique().all()


def profiles() -> dict[int, ReviewerProfile]:
    return {p.user_id: p for p in db.session.scalars(select(ReviewerProfile))}


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


def conflicts_now(items: list[ReviewAssignment]) -> dict[int, list[str]]:
    """{assignment id: reasons} for the assignments whose reviewer has a conflict with the
    application today, whatever held when they were assigned: a household of the group may
    take the reviewer's number or account later, or a conflict be declared after the review
    was submitted. Four statements for any number of assignments (the reviewer's queue)."""
    items = [i for i in items if i.status != AssignmentState.declined]
    if not items:
        return {}
    group_ids = {i.application.group_id for i in items}
    members: dict[int, list[MemberInfo]] = {}
    for m in db.session.execute(select(GroupMember.group_id, GroupMember.user_id, GroupMember.phone, GroupMember.email)
                                .where(GroupMember.group_id.in_(group_ids))):
        members.setdefault(m.group_id, []).append(MemberInfo(m.user_id, m.phone, m.email or ""))
    declared = declarations(i.application_id for i in items)
    rules = dict(db.session.execute(select(ReviewSettings.programme_id, ReviewSettings.same_dong_rule).where(
        ReviewSettings.programme_id.in_({i.programme_id for i in items}))).all())
    reviewer_ids = {i.reviewer_id for i in items}
    profile_map = {p.user_id: p for p in db.session.scalars(select(ReviewerProfile).where(
        ReviewerProfile.user_id.in_(reviewer_ids)))}
    result = {}
    for item in items:
        group = item.application.group
        declaration = declared.get((item.application_id, item.reviewer_id))
        reasons = conflict_reasons(reviewer_info(item.reviewer, profile_map.get(item.reviewer_id)),
                                   GroupInfo(group.district, group.dong, tuple(members.get(group.id, ()))),
                                   declared=declaration.kind if declaration else None,
                                   same_dong_rule=rules.get(item.programme_id, False))
        if reasons:
            result[item.id] = reasons
    return result


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


def pending_reviews_statement():
    """Assignments still open on applications in review: the reviews that hold the results
    back (the dashboard's count and the overview's list use the same condition)."""
    return (select(ReviewAssignment).join(Application, Application.id == ReviewAssignment.application_id)
            .where(ReviewAssignment.status == AssignmentState.assigned,
                   Application.status == ApplicationState.under_review))


def holds_results_back(assignment: ReviewAssignment) -> bool:
    """pending_reviews_statement's condition for an assignment already loaded (kept beside it so
    that the two cannot drift apart)."""
    return (assignment.status == AssignmentState.assigned
            and assignment.application.status == ApplicationState.under_review)


def pending_reviews_count(programme: Programme) -> int:
    stmt = pending_reviews_statement().where(ReviewAssignment.programme_id == programme.id)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


def pending_reviews_by_programme() -> dict[int, int]:
    """Reviews not submitted yet, per programme (the staff dashboard's count)."""
    stmt = pending_reviews_statement().subquery()
    return dict(db.session.execute(select(stmt.c.programme_id, func.count()).group_by(stmt.c.programme_id)).all())


def assignment_of(application: Application, reviewer: User) -> ReviewAssignment | None:
    return db.session.scalar(select(ReviewAssignment).where(ReviewAssignment.application_id == application.id,
                                                            ReviewAssignment.reviewer_id == reviewer.id))


def loads(programme: Programme) -> dict[int, int]:
    rows = db.session.execute(select(ReviewAssignment.reviewer_id, func.count()).where(
        ReviewAssignment.programme_id == programme.id, ReviewAssignment.status != AssignmentState.declined)
        .group_by(ReviewAssignment.reviewer_id)).all()
    return dict(rows)


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
            # A conflict that arose after the assignment: the reviewer can no longer open it;
            # staff record it (이해충돌 기록) or cancel the assignment.
            why = [f"{item.decline_reason}"] if item.status == AssignmentState.declined else conflicts[person.id]
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
                                                             ReviewAssignment.status != AssignmentState.declined)
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
        ReviewAssignment.reviewer_id == user.id, ReviewAssignment.status != AssignmentState.declined)
        .group_by(ReviewAssignment.status)).all())
    return rows.get(AssignmentState.submitted, 0), sum(rows.values())


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
        Application.group_id.in_(list(group_ids)), Application.status == ApplicationState.selected,
        Programme.opens_at < programme.opens_at)))


def stats(reviews, settings: ReviewSettings) -> S.Stats:
    """The one computation of an application's figures (matrix page, ranking, minutes)."""
    return S.application_stats(reviews, method=settings.aggregate, disagreement_points=settings.disagreement_points)


def matrix(programme: Programme) -> dict:
    """Applications × reviewers: submitted totals, aggregate, spread, flags; calibration."""
    settings = settings_for(programme)
    apps = db.session.scalars(select(Application).where(
        Application.programme_id == programme.id,
        Application.status.in_(MATRIX_STATUSES))
        .order_by(Application.id)).unique().all()
    items = assignments_of_programme(programme)
    reviewer_ids = sorted({i.reviewer_id for i in items if i.status != AssignmentState.declined})
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(reviewer_ids)))} if reviewer_ids else {}
    by_app: dict[int, list[ReviewAssignment]] = {}
    for item in items:
        by_app.setdefault(item.application_id, []).append(item)
    totals_matrix: dict[int, dict[int, int]] = {}
    rows = []
    for application in apps:
        cells = {i.reviewer_id: i for i in by_app.get(application.id, [])}
        totals = {r: i.total for r, i in cells.items() if i.status == AssignmentState.submitted}
        totals_matrix[application.id] = totals
        st = stats(((i.status, i.total) for i in cells.values()), settings)
        rows.append(dict(application=application, cells=cells, totals=totals, score=st.score, sd=st.sd,
                         disagree=st.disagree, pending=st.pending))
    calib = S.calibration(totals_matrix, settings.calibration_points)
    return dict(rows=rows, reviewers=[people[r] for r in reviewer_ids], calibration=calib, settings=settings)


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
        totals_matrix[application_id] = {r: t for r, state, t in mine if state == AssignmentState.submitted}
        st = stats(((state, t) for _r, state, t in mine), settings)
        rows.append(dict(
            id=application_id, status=app_status, district=app_district, cells=mine,
            score=st.score, score_f=float(st.score) if st.score is not None else None, sd=st.sd,
            spread=st.spread, median=st.median, disagree=st.disagree, pending=st.pending,
            reviewers=frozenset(r for r, state, _t in mine if state != AssignmentState.declined)))
    summary = dict(rows=rows, calibration=S.calibration(totals_matrix, settings.calibration_points),
                   reviewer_ids=sorted({r for _a, r, state, _t in cells if state != AssignmentState.declined}))
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
    elif status in (ApplicationState.selected, ApplicationState.not_selected):
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
                                   (t - middle) if middle is not None and state == AssignmentState.submitted else None)
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
        if item.status != AssignmentState.submitted:
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
        Application.status.in_(MATRIX_STATUSES))).unique().all()
    by_app: dict[int, list[ReviewAssignment]] = {}
    for item in assignments_of_programme(programme):
        by_app.setdefault(item.application_id, []).append(item)
    items, extra = [], {}
    returning = groups_selected_before(programme, {a.group_id for a in apps})
    for application in apps:
        mine = by_app.get(application.id, [])
        st = stats(((i.status, i.total) for i in mine), settings)
        items.append(S.RankItem(application_id=application.id, score=st.score,
                                criterion_means=criterion_means(mine), first_time=application.group_id not in returning,
                                submitted_at=application.submitted_at, eligible=True))
        extra[application.id] = dict(application=application, reviewers=st.count, pending=st.pending, sd=st.sd,
                                     disagree=st.disagree)
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


def feedback_for(application: Application) -> dict | None:
    """Anonymised feedback for a not-selected group, when staff chose to share it: criterion
    means and comments, without reviewer names or other reviewers' identities."""
    scenario = db.session.scalar(select(SelectionScenario).where(
        SelectionScenario.programme_id == application.programme_id, SelectionScenario.status == ScenarioState.published))
    if scenario is None or not scenario.share_feedback or application.status != ApplicationState.not_selected:
        return None
    items = db.session.scalars(select(ReviewAssignment).where(
        ReviewAssignment.application_id == application.id, ReviewAssignment.status == AssignmentState.submitted)).unique().all()
    means = criterion_means(items)
    criteria = []
    for c in rubric(application.programme):
        comments = sorted(s.comment for i in items for s in i.scores if s.criterion == c["code"] and s.comment)
        criteria.append(dict(label=c["label"], max=c["max"], mean=float(means[c["code"]]) if c["code"] in means else None,
                             comments=comments))
    return dict(criteria=criteria, pass_mark=pass_mark(application.programme))
