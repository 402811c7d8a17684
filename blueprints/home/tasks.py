"""What waits for staff (사업담당) and finance (회계담당), per programme, for the dashboard: each
count comes from the same condition as the list its link opens (the domains' own queries), in a
fixed number of grouped queries whatever the number of programmes or rows."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import func, select

from blueprints.applications.models import Application, ApplicationState
from blueprints.disbursement import services as disbursement
from blueprints.programmes.models import Programme
from blueprints.review import queries as review
from blueprints.settlement import worklist
from extensions import db


@dataclass(frozen=True)
class Task:
    label: str      # "확인할 신청서"
    count: int
    unit: str       # "건"
    url: str
    note: str = ""  # e.g. "고친 줄 3건"
    key: str = ""   # a stable name for tests and styling


@dataclass(frozen=True)
class ProgrammeTasks:
    programme: Programme
    tasks: list[Task]

    @property
    def total(self) -> int:
        return sum(t.count for t in self.tasks)


def _programmes(ids) -> list[Programme]:
    return db.session.scalars(select(Programme).where(Programme.id.in_(list(ids)))
                              .order_by(Programme.year.desc(), Programme.id.desc())).all()


def staff_tasks() -> list[ProgrammeTasks]:
    """Applications to check (submitted, not yet checked, returned or sent to review) and reviews
    not yet submitted, for every programme that has any."""
    to_check = dict(db.session.execute(
        select(Application.programme_id, func.count(Application.id))
        .where(Application.status == ApplicationState.submitted).group_by(Application.programme_id)).all())
    pending = review.pending_reviews_by_programme()
    result = []
    for programme in _programmes(set(to_check) | set(pending)):
        tasks = []
        if to_check.get(programme.id):
            tasks.append(Task("확인할 신청서", to_check[programme.id], "건", key="check",
                              url=url_for("applications.staff_list", programme_id=programme.id, status="submitted")))
        if pending.get(programme.id):
            tasks.append(Task("끝나지 않은 심사", pending[programme.id], "건", key="reviews",
                              url=url_for("review.overview", programme_id=programme.id, _anchor="pending-reviews")))
        result.append(ProgrammeTasks(programme, tasks))
    return result


def finance_tasks() -> list[ProgrammeTasks]:
    """Payments due, settlements submitted (waiting for review) and settlements submitted again
    with fixed lines to judge again, for every programme that has any."""
    due = disbursement.payments_due_by_programme()
    waiting = worklist.waiting_by_programme()
    rereview = worklist.rereview_by_programme()
    result = []
    for programme in _programmes(set(due) | set(waiting) | set(rereview)):
        tasks = []
        if due.get(programme.id):
            tasks.append(Task("지급할 교부", due[programme.id], "건", key="payments",
                              url=url_for("disbursement.dashboard", programme=programme.id, due=1)))
        if waiting.get(programme.id):
            tasks.append(Task("검토할 정산", waiting[programme.id], "건", key="settlements",
                              url=url_for("settlement.programme_list", programme_id=programme.id,
                                          status=worklist.WAITING)))
        if rereview.get(programme.id):
            settlements, lines = rereview[programme.id]
            tasks.append(Task("보완 후 다시 낸 정산", settlements, "건", key="rereview", note=f"고친 줄 {lines}건",
                              url=url_for("settlement.programme_list", programme_id=programme.id,
                                          status=worklist.REREVIEW)))
        result.append(ProgrammeTasks(programme, tasks))
    return result
