"""Publishing a selection decision: awards for the selected, results for everyone, notices.

The total awarded for a programme never exceeds its budget. The check runs inside the
publishing transaction: the programme row is locked (SELECT … FOR UPDATE on PostgreSQL; on
SQLite the single writer lock serialises), the awards already made are summed in SQL, and
only then are the new ones inserted. A second publisher waits for the first and then sees
its awards in the sum.
"""
from __future__ import annotations

from datetime import datetime

from flask import has_request_context, url_for
from sqlalchemy import func, select

from blueprints.core import audit
from blueprints.core.mail import queue_email
from blueprints.applications.models import ApplicationState
from blueprints.core.models import utcnow
from blueprints.programmes.models import Programme
from blueprints.review import services as review
from blueprints.review.models import ScenarioState, SelectionScenario
from extensions import db

from .models import Award, AwardState
from blueprints.core.korean import with_particle


class AwardError(Exception):
    """Why a decision cannot be published; shown to staff."""


def awarded_total(programme_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(Award.amount_won), 0))
                                 .where(Award.programme_id == programme_id)) or 0)


def lock_programme(programme_id: int) -> Programme:
    programme = db.session.scalar(select(Programme).where(Programme.id == programme_id)
                                  .with_for_update().execution_options(populate_existing=True))
    if programme is None:
        raise AwardError("공모사업을 찾을 수 없습니다.")
    return programme


def publish_decision(scenario, *, user, share_feedback: bool = False, conditions: str = "",
                     now: datetime | None = None) -> list[Award]:
    """Publish ``scenario`` (a review.SelectionScenario): create an Award per selected entry,
    move every application to selected / not_selected, e-mail the groups."""
    now = now or utcnow()
    programme = lock_programme(scenario.programme_id)
    # Re-read the scenario after the lock: another publisher may have finished meanwhile.
    scenario = db.session.scalar(select(SelectionScenario).where(SelectionScenario.id == scenario.id)
                                 .execution_options(populate_existing=True))
    problems = review.publish_blockers(programme, scenario, now)
    if problems:
        raise AwardError(" ".join(problems))
    selected = [e for e in scenario.entries if e.selected]
    new_total = sum(e.amount_won for e in selected)
    already = awarded_total(programme.id)
    if already + new_total > programme.budget_total_won:
        raise AwardError(f"총 교부결정액이 예산을 넘습니다: 이미 결정 {already:,}원 + 이번 {new_total:,}원 > "
                         f"예산 {programme.budget_total_won:,}원")
    awards = []
    for entry in scenario.entries:
        application = entry.application
        if application.status != ApplicationState.under_review:
            continue
        review.record_result(application, selected=entry.selected, user=user)
        if entry.selected:
            award = Award(application_id=application.id, programme_id=programme.id, scenario_id=scenario.id,
                          amount_won=entry.amount_won, rank=entry.rank, conditions=conditions.strip(),
                          decided_at=now, decided_by_id=user.id)
            db.session.add(award)
            awards.append(award)
    db.session.flush()
    # The sum again, now including what this transaction inserted (belt and braces).
    if awarded_total(programme.id) > programme.budget_total_won:
        raise AwardError("총 교부결정액이 예산을 넘습니다.")
    scenario.status = ScenarioState.published
    scenario.published_at = now
    programme.results_published_at = now
    scenario.share_feedback = share_feedback
    scenario.conditions = conditions.strip()
    db.session.flush()
    for award in awards:
        audit.record("award.offered", award, summary=f"{award.application.group.name}: 교부결정 {award.amount_won:,}원 "
                     f"({award.rank}위)", after={"amount_won": award.amount_won, "status": AwardState.offered}, actor=user)
    audit.record("review.decision_published", scenario,
                 summary=f"선정 결과 공개: {len(awards)}개 모임, {new_total:,}원 (예산 {programme.budget_total_won:,}원)",
                 actor=user)
    _notify(scenario, programme, {a.application_id: a for a in awards})
    return awards


def _notify(scenario, programme, awards: dict[int, Award]) -> None:
    for entry in scenario.entries:
        application = entry.application
        award = awards.get(application.id)
        if award is not None:
            subject = f"[공동육아 자조모임] {programme.title} 선정 결과: 선정"
            body = (f"{with_particle(application.group.name, '이/가')} {programme.title}에 선정되었습니다.\n"
                    f"교부결정액: {award.amount_won:,}원 (요청액 {application.requested_won:,}원)\n")
            if award.conditions:
                body += f"조건: {award.conditions}\n"
        elif application.status == ApplicationState.not_selected:
            subject = f"[공동육아 자조모임] {programme.title} 선정 결과 안내"
            body = f"아쉽게도 {with_particle(application.group.name, '은/는')} 이번 {programme.title}에 선정되지 않았습니다.\n"
            if scenario.share_feedback:
                link = (url_for("review.feedback", application_id=application.id, _external=True)
                        if has_request_context() else "")
                body += f"심사 의견(심사위원 이름 없이)을 볼 수 있습니다. {link}\n"
        else:
            continue
        for member in application.group.members:
            if member.role in {"leader", "treasurer"} and member.user is not None:
                queue_email(member.user.email, subject, body)
