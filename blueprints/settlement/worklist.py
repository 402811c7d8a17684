"""Finance's work list of settlements: what waits for a review (submitted) and which lines the
group changed after finance judged them (back to 검토 전 in a settlement submitted again). The
dashboard counts these and the programme's settlement list filters by the same conditions, so
a count and the list behind its link always agree."""
from __future__ import annotations

from sqlalchemy import and_, exists, func, select

from blueprints.awards.models import Award
from extensions import db

from .models import Expense, ExpenseReviewState, Settlement, SettlementState

WAITING = "submitted"     # the list filter values (SettlementListFilter.status)
REREVIEW = "rereview"


def rereview_line():
    """A line judged once (it has a review time) and changed by the group since: a line sent back
    for a fix (보완 요청) and fixed, or a line edited after 인정. Saving it put it back to 검토 전
    (settlement.services._back_to_review) and kept the time of the earlier judgement."""
    return and_(Expense.review_status == ExpenseReviewState.pending, Expense.reviewed_at.is_not(None))


def has_rereview_lines():
    """The settlement (joined by its award) is submitted again with fixed lines to judge."""
    return and_(Settlement.status == SettlementState.submitted,
                exists().where(Expense.award_id == Settlement.award_id, rereview_line()))


def waiting_by_programme() -> dict[int, int]:
    """Submitted settlements (waiting for finance's review), per programme."""
    return dict(db.session.execute(
        select(Award.programme_id, func.count(Settlement.id)).join(Settlement, Settlement.award_id == Award.id)
        .where(Settlement.status == SettlementState.submitted).group_by(Award.programme_id)).all())


def rereview_by_programme() -> dict[int, tuple[int, int]]:
    """Per programme: (settlements submitted again with fixed lines, those lines)."""
    rows = db.session.execute(
        select(Award.programme_id, func.count(func.distinct(Settlement.id)), func.count(Expense.id))
        .join(Settlement, Settlement.award_id == Award.id).join(Expense, Expense.award_id == Award.id)
        .where(Settlement.status == SettlementState.submitted, rereview_line()).group_by(Award.programme_id)).all()
    return {programme_id: (settlements, lines) for programme_id, settlements, lines in rows}


def rereview_counts(settlement_ids) -> dict[int, int]:
    """Lines to judge again, per submitted settlement (for the list's column), in one query."""
    return dict(db.session.execute(
        select(Settlement.id, func.count(Expense.id)).join(Expense, Expense.award_id == Settlement.award_id)
        .where(Settlement.id.in_(list(settlement_ids)), Settlement.status == SettlementState.submitted, rereview_line())
        .group_by(Settlement.id)).all())
