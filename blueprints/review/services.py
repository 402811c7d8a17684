"""Review operations: settings, conflicts, assignment (by hand and automatic), declining,
scoring, reopening, selection scenarios, publishing's checks, reminders. They mutate, flush
and record the audit event; the view commits once. What the pages read is in queries.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from blueprints.accounts.models import User
from blueprints.applications.models import Application, ApplicationState
from blueprints.core import audit
from blueprints.core.korean import with_particle
from blueprints.core.mail import queue_email
from blueprints.core.models import utcnow
from blueprints.core.persistence import lock_row
from blueprints.core.timeutil import to_kst
from blueprints.programmes.models import Programme
from extensions import db

from . import assignment as A
from . import scoring as S
from . import selection as SEL
from .conflicts import DECLARATION_KINDS, ReviewerInfo, conflict_reasons
from .models import (AssignmentState, ConflictDeclaration, ReminderLog, ReviewAssignment, ReviewerProfile, ReviewSettings, Score,
                     ScenarioState, SelectionEntry, SelectionScenario)
# The read model: what the operations below consult, and reachable as services.<name> too.
from .queries import (IN_REVIEW, MATRIX_PER_PAGE, applications_in_review, assignment_of,  # noqa: F401
                      assignment_panel, assignments_of_programme, compare, conflicts_for, conflicts_now, declarations,
                      feedback_for, group_info, loads, matrix, matrix_page, my_assignments, pass_mark, pending_reviews_count,
                      profiles, progress, proposed_for, ranking, reviewers, reviewers_per_application, rounding_unit, rubric,
                      scenario_summary, score_text, score_totals, scores_moved, settings_for, stats, tie_break)

SUBJECT = "[공동육아 자조모임]"
LOCKED = "제출한 심사는 고칠 수 없습니다. 수정이 필요하면 사업담당에게 재개를 요청해 주세요."
CANCELLED = "사업담당이 이 배정을 취소했습니다. 입력한 내용은 저장되지 않았습니다."
REVIEW_OVER = "심사가 끝난 신청서입니다(보완 요청, 부적격 처리 또는 결과 공개). 점수를 저장하지 않았습니다."


class ReviewError(Exception):
    """A rule of the review domain; the message is shown to the person."""


class AssignmentGone(ReviewError):
    """Staff cancelled the assignment since the reviewer's page was loaded (nothing to show)."""


# Settings -----------------------------------------------------------------------------------

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

def refuse_own_group(application: Application, user) -> None:
    """An officer whose own household is in the applying group (their account is a member's,
    or they share a member's mobile or e-mail) does not steer its review or selection:
    choosing or removing reviewers, recording a conflict, reopening, adjusting the selection.
    The mechanical steps (자동 배정, a scenario's calculation, publishing) stay open."""
    reasons = conflict_reasons(ReviewerInfo(user_id=user.id, name=user.name, phone=user.phone or "", email=user.email),
                               group_info(application.group))
    if reasons:
        raise ReviewError(f"본인이 구성원으로 있는 모임의 신청서(#{application.id})입니다: {', '.join(reasons)}. "
                          "다른 사업담당이 처리해 주세요.")


def declare_conflict(application: Application, reviewer: User, *, kind: str, reason: str, user) -> ConflictDeclaration:
    if user.id != reviewer.id:   # the reviewer declaring their own conflict (declining) may
        refuse_own_group(application, user)
    if kind not in DECLARATION_KINDS:
        raise ReviewError("제척·기피·회피 중 하나를 골라 주세요.")
    if not reason.strip():
        raise ReviewError("사유를 적어 주세요.")
    # The same declaration sent twice at once: the second waits here, then finds the first's.
    lock_row(Application, application.id)
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
    # A review already submitted comes out too while the application is in review: a score
    # given with a conflict must not count (publishing then sees the scores moved). After the
    # decision the declaration is recorded and the reviewer no longer sees it (conflicts_now).
    if current is not None and (current.status == AssignmentState.assigned or (
            current.status == AssignmentState.submitted and application.status == ApplicationState.under_review)):
        _set_declined(current, "conflict", f"{DECLARATION_KINDS[kind]}: {reason.strip()}", user=user)
    return declaration


# Assignment ---------------------------------------------------------------------------------

def mark_under_review(application: Application, *, user) -> None:
    """submitted → under_review, when its first reviewer is assigned."""
    if application.status == ApplicationState.under_review:
        return
    if application.status != ApplicationState.submitted:
        raise ReviewError("제출된 신청서만 심사에 넘길 수 있습니다.")
    application.status = ApplicationState.under_review
    db.session.flush()
    audit.record("application.under_review", application, summary=f"{application.group.name}: 심사 시작",
                 before={"status": ApplicationState.submitted}, after={"status": ApplicationState.under_review}, actor=user)


def assign(application: Application, reviewer: User, *, user, auto: bool = False, settings=None,
           notify: bool = True) -> ReviewAssignment:
    if application.status not in IN_REVIEW:
        raise ReviewError("제출되었거나 심사 중인 신청서에만 심사위원을 배정할 수 있습니다.")
    if not auto:
        refuse_own_group(application, user)
        lock_row(Programme, application.programme_id)   # after a 자동 배정 running meanwhile (auto_assign)
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
    # One assignment run per programme at a time: a second 자동 배정 (or a hand assignment)
    # waits here and then plans from what the first made (both planned the same pairs from the
    # same start: the unique pair answered 500, a hand assignment could add a fourth reviewer).
    lock_row(Programme, programme.id)
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
        if item.status != AssignmentState.declined:
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
    # An application returned while in review and sent again is '제출' with its reviewers
    # still on it: it is in review again (with every place filled no assign() below does it).
    for application in apps:
        if active.get(application.id):
            mark_under_review(application, user=user)
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
    if item.status == AssignmentState.submitted:
        raise ReviewError("제출된 심사는 배정을 취소할 수 없습니다. 먼저 재개해 주세요.")
    refuse_own_group(item.application, user)
    summary = f"신청서 #{item.application_id}에서 {item.reviewer.name} 위원 배정 취소"
    audit.record("review.unassigned", item, summary=summary, before={"status": item.status}, actor=user)
    db.session.delete(item)
    db.session.flush()


def _set_declined(item: ReviewAssignment, kind: str, reason: str, *, user) -> None:
    before = item.status
    item.status = AssignmentState.declined
    item.decline_kind = kind
    item.decline_reason = reason
    item.submitted_at = None
    for score in list(item.scores):
        item.scores.remove(score)
    db.session.flush()
    audit.record("review.declined", item, summary=f"{item.reviewer.name} 위원 거절({_decline_label(kind)}): {reason[:100]}",
                 before={"status": before}, after={"status": AssignmentState.declined}, actor=user)


def _decline_label(kind):
    from .models import DECLINE_KINDS

    return DECLINE_KINDS.get(kind, kind)


def decline(item: ReviewAssignment, *, kind: str, reason: str, conflict_kind: str | None = None, user) -> None:
    """The reviewer declines: for a conflict (recorded as a declaration) or for another reason."""
    # A double tap: the second waits, then finds it declined. The application first, as
    # declare_conflict locks it (one order: a staff declaration at the same moment cannot deadlock).
    lock_row(Application, item.application_id)
    if lock_row(ReviewAssignment, item.id) is None:
        raise AssignmentGone(CANCELLED)
    db.session.refresh(item)
    if item.status != AssignmentState.assigned:
        raise ReviewError("진행 중인 배정만 거절할 수 있습니다.")
    if kind not in ("conflict", "unavailable"):
        raise ReviewError("거절 사유의 종류를 골라 주세요.")
    if not reason.strip():
        raise ReviewError("거절 사유를 적어 주세요.")
    if kind == "conflict":
        declare_conflict(item.application, item.reviewer, kind=conflict_kind or "recusal", reason=reason, user=user)
        if item.status == AssignmentState.declined:
            return
    _set_declined(item, kind, reason.strip(), user=user)


# Scoring ------------------------------------------------------------------------------------

def check_for(item: ReviewAssignment, scores: dict, comments: dict, *, final: bool) -> S.ScoreCheck:
    settings = settings_for(item.application.programme)
    return S.check_scores(rubric(item.application.programme), scores, comments, rule=settings.comment_rule,
                          below_pct=settings.comment_below_pct, final=final)


def submission_summary(item: ReviewAssignment, check: S.ScoreCheck, *, user) -> dict:
    """What the reviewer reads before 심사 제출: each score and the total it submits, and that
    it cannot change them afterwards."""
    criteria = rubric(item.application.programme)
    facts = [(c["label"], f"{check.values.get(c['code'])}점 / {c['max']}점") for c in criteria]
    facts.append(("총점", f"{check.total}점 / {sum(c['max'] for c in criteria)}점"))
    done, total = progress(user)
    warnings = []
    empty = [c["label"] for c in criteria if not (check.comments.get(c["code"]) or "").strip()]
    if empty:
        warnings.append(f"의견을 적지 않은 항목이 {len(empty)}개 있습니다: " + ", ".join(empty))
    consequences = ["점수와 의견을 더 고칠 수 없습니다. 고쳐야 하면 사업담당이 심사를 다시 열어야 합니다.",
                    f"제출하면 배정된 {total}건 가운데 {done + 1}건을 제출한 것이 됩니다."]
    return dict(facts=facts, warnings=warnings, consequences=consequences, blockers=[],
                hidden=[*((f"score-{c['code']}", "" if check.values.get(c["code"]) is None else check.values[c["code"]])
                          for c in criteria),
                        *((f"comment-{c['code']}", check.comments.get(c["code"], "")) for c in criteria)])


def save_scores(item: ReviewAssignment, check: S.ScoreCheck, *, user, submit: bool = False) -> None:
    """Save the reviewer's scores as a draft, or submit them (then they are locked)."""
    # Lock the row (a second tab submitting at once waits here, on SQLite too), then read it
    # and its scores fresh.
    if lock_row(ReviewAssignment, item.id) is None:   # staff cancelled it since the page was loaded
        raise AssignmentGone(CANCELLED)
    db.session.refresh(item)
    if item.status != AssignmentState.assigned:
        raise ReviewError(LOCKED)
    if item.application.status != ApplicationState.under_review:
        raise ReviewError(REVIEW_OVER)
    conflict = conflicts_now([item]).get(item.id)
    if conflict:
        raise ReviewError("이 신청서와 이해충돌이 있어 심사할 수 없습니다(" + ", ".join(conflict) + "). 배정을 거절해 주세요.")
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
        item.status = AssignmentState.submitted
        item.submitted_at = utcnow()
    item.updated_at = utcnow()
    db.session.flush()
    if submit:
        audit.record("review.submitted", item, summary=f"신청서 #{item.application_id} 심사 제출 (총점 {check.total}점)",
                     before={"status": AssignmentState.assigned}, after={"status": AssignmentState.submitted, "total": check.total}, actor=user)
    else:
        audit.record("review.draft_saved", item, summary=f"신청서 #{item.application_id} 심사 임시 저장", actor=user)


def reopen(item: ReviewAssignment, *, reason: str, user) -> None:
    if item.status != AssignmentState.submitted:
        raise ReviewError("제출된 심사만 재개할 수 있습니다.")
    if not reason.strip():
        raise ReviewError("재개 사유를 적어 주세요.")
    refuse_own_group(item.application, user)
    item.status = AssignmentState.assigned
    item.submitted_at = None
    item.reopened_count += 1
    db.session.flush()
    audit.record("review.reopened", item, summary=f"{item.reviewer.name} 위원의 신청서 #{item.application_id} 심사 재개: "
                 f"{reason.strip()[:100]}", before={"status": AssignmentState.submitted}, after={"status": AssignmentState.assigned}, actor=user)
    queue_email(item.reviewer.email, f"{SUBJECT} 심사 재개 안내",
                f"{item.reviewer.name} 위원님, 제출하신 심사 1건이 다시 열렸습니다.\n사유: {reason.strip()}\n"
                "‘내 심사’에서 고친 뒤 다시 제출해 주세요.")


# Selection and publishing -------------------------------------------------------------------

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
    # Lock the scenario and read its entries fresh: two officers selecting at once would each
    # sum the others without the other's choice and together pass the budget. The second waits
    # here and then counts the first's.
    scenario = lock_row(SelectionScenario, entry.scenario_id)
    db.session.refresh(scenario, ["entries"])
    entry = next(e for e in scenario.entries if e.id == entry.id)
    programme = db.session.get(Programme, scenario.programme_id)
    if scenario.status != ScenarioState.draft:
        raise ReviewError("결과를 공개한 시나리오는 고칠 수 없습니다.")
    refuse_own_group(entry.application, user)
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


def record_result(application: Application, *, selected: bool, user) -> None:
    """under_review → selected | not_selected, on publishing the decision."""
    if application.status != ApplicationState.under_review:
        raise ReviewError(f"{with_particle(f'신청서 #{application.id}', '은/는')} 심사 중이 아니라 결과를 정할 수 없습니다.")
    new = ApplicationState.selected if selected else ApplicationState.not_selected
    application.status = new
    db.session.flush()
    audit.record(f"application.{new}", application, summary=f"{application.group.name}: {'선정' if selected else '미선정'}",
                 before={"status": ApplicationState.under_review}, after={"status": new}, actor=user)


@dataclass(frozen=True)
class PublishBlocker:
    """One reason the results cannot be published yet: ``kind`` tells the page where the
    missing piece is fixed (``window``, ``unassigned``, ``pending``, ``conflict``, ``moved``, ``published``),
    ``count`` how many applications or reviews wait."""

    kind: str
    text: str
    count: int = 0


def publish_blocker_list(programme: Programme, scenario: SelectionScenario,
                         now: datetime | None = None) -> list[PublishBlocker]:
    """Why the results cannot be published yet. Results come after the application window:
    while it is open a group could still apply or change its application after the
    decision (and the decision would not be final). The scenario page shows these before the
    click (the button disabled, each reason linked to where it is fixed); publishing checks
    them again inside its transaction."""
    problems = []
    if scenario.status != ScenarioState.draft:
        problems.append(PublishBlocker("published", "이미 공개한 시나리오입니다."))
    elif programme.results_published:
        # Results go out once: a later scenario (empty, nothing is in review any more) hit the
        # one-published-scenario index as a 500.
        problems.append(PublishBlocker("published", f"이미 선정 결과를 공개했습니다"
                                       f"({to_kst(programme.results_published_at):%Y. %-m. %-d. %H:%M}). "
                                       "결과는 한 번만 공개합니다."))
    if not programme.is_closed(now):
        problems.append(PublishBlocker("window", f"신청 기간이 아직 끝나지 않았습니다"
                                       f"({to_kst(programme.closes_at):%Y. %-m. %-d. %H:%M} 마감). "
                                       "신청을 마감한 뒤에 결과를 공개할 수 있습니다."))
    waiting = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.programme_id == programme.id, Application.status == ApplicationState.submitted))
    if waiting:
        # Of these, the ones returned while in review and sent again still have their reviewers.
        again = db.session.scalar(select(func.count(func.distinct(ReviewAssignment.application_id))).join(
            Application, Application.id == ReviewAssignment.application_id).where(
            Application.programme_id == programme.id, Application.status == ApplicationState.submitted,
            ReviewAssignment.status != AssignmentState.declined))
        if waiting - again:
            problems.append(PublishBlocker("unassigned", f"심사위원이 배정되지 않은 신청서가 {waiting - again}건 있습니다. "
                                           "배정하거나 부적격 처리해 주세요.", waiting - again))
        if again:
            problems.append(PublishBlocker("unassigned", f"보완 후 다시 제출된 신청서가 {again}건 있습니다. "
                                           "배정 화면에서 ‘빈 자리 자동 배정’을 누르면 심사가 다시 시작됩니다.", again))
    pending = pending_reviews_count(programme)
    if pending:
        problems.append(PublishBlocker("pending", f"심사 {pending}건이 아직 끝나지 않았습니다. "
                                       "심사위원이 모두 제출하면 공개할 수 있습니다.", pending))
    conflicted = conflicts_now([i for i in assignments_of_programme(programme)
                                if i.application.status == ApplicationState.under_review])
    if conflicted:
        # A conflict that arose after the assignment (a household took the reviewer's number):
        # its score must not decide; recording the conflict takes the review out.
        problems.append(PublishBlocker("conflict", f"심사위원과 이해충돌이 새로 확인된 심사가 {len(conflicted)}건 있습니다. "
                                       "배정 관리에서 이해충돌을 기록해 주세요(그 심사는 점수에서 빠집니다).", len(conflicted)))
    if scores_moved(scenario, programme):
        problems.append(PublishBlocker("moved", "시나리오를 만든 뒤 점수나 대상이 바뀌었습니다. 새 시나리오를 만들어 주세요."))
    return problems


def publish_blockers(programme: Programme, scenario: SelectionScenario, now: datetime | None = None) -> list[str]:
    """The reasons of ``publish_blocker_list`` as text (what publishing refuses with)."""
    return [b.text for b in publish_blocker_list(programme, scenario, now)]


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
            ReviewAssignment.programme_id == settings.programme_id, ReviewAssignment.status == AssignmentState.assigned,
            Application.status == ApplicationState.under_review).group_by(ReviewAssignment.reviewer_id)).all()
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
