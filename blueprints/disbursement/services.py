"""Disbursement operations: accept an award (교부 신청), record a payment exactly once, the
finance dashboard's figures. They mutate, flush and audit; the view commits."""
from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from blueprints.applications.models import Application
from blueprints.awards.models import Award, AwardState
from blueprints.core import audit
from blueprints.core.exports import DATE, INT, WON, Column, Sheet
from blueprints.core.formatting import kdate
from blueprints.core.models import utcnow
from blueprints.core.persistence import lock_row
from blueprints.core.timeutil import today_kst
from blueprints.groups.models import Group
from blueprints.programmes.models import Programme
from blueprints.settlement.models import Settlement, SettlementState
from extensions import db

from .models import Disbursement, Payment


class DisbursementError(Exception):
    """A rule of disbursement; the message is shown to the person."""


class PaymentNotMade(DisbursementError):
    """A payment dated after today (Asia/Seoul): the money has not left yet. Shown next to the date."""

    field = "paid_on"


def schedule_for(award) -> list[dict]:
    """Instalments from the programme: one payment by default, or shares (70/30 after the
    mid-term check) when ``disbursement.mode`` is ``split``. The last instalment takes the
    remainder so the amounts add up to the award exactly."""
    block = (award.programme.rules or {}).get("disbursement") or {}
    plan = block.get("alt_schedule") if block.get("mode") == "split" else block.get("schedule")
    plan = plan or [{"instalment": 1, "share": 1.0}]
    rows, left = [], award.amount_won
    for i, step in enumerate(plan):
        last = i == len(plan) - 1
        amount = left if last else int(award.amount_won * float(step.get("share", 1.0))) // 10 * 10
        left -= amount
        rows.append({"instalment": int(step.get("instalment", i + 1)), "amount_won": amount,
                     "after": step.get("after")})
    return rows


def normalise_account(text: str) -> str:
    """Full-width digits and dashes made plain (NFKC), spaces and dashes gone. Other scripts'
    digits stay as typed, for ``accept_award`` to refuse (str.isdigit() says yes to them, a
    bank transfer does not)."""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", text or ""))


def accept_award(award, *, bank: str, account_number: str, holder: str, user) -> Disbursement:
    digits = normalise_account(account_number)
    if not re.fullmatch(r"[0-9]{8,20}", digits):
        raise DisbursementError("계좌번호는 숫자 8~20자리로 입력해 주세요.")
    # The award's row lock, then its status (both officers pressing 교부 신청 at once, or a
    # double click without JS: the second waits here and finds it accepted, not a unique error).
    award = lock_row(Award, award.id)
    if award is None or award.status != AwardState.offered:
        raise DisbursementError("이미 수락했거나 수락할 수 없는 교부결정입니다.")
    row = Disbursement(award_id=award.id, amount_won=award.amount_won, paid_won=0, bank=bank,
                       account_number=digits, account_holder=holder, schedule=schedule_for(award),
                       accepted_at=utcnow(), accepted_by_id=user.id)
    db.session.add(row)
    award.status = AwardState.accepted
    db.session.flush()
    audit.record("award.accepted", award, summary=f"교부 신청(수락): {bank} {row.masked_account} {holder}",
                 after={"bank": bank, "account": row.masked_account, "holder": holder})
    return row


def reveal_account(disbursement: Disbursement, *, user) -> str:
    """The full account number, for finance to make the transfer; every look is audited (who,
    when, which group's account; never the number itself). Returns the number."""
    group = disbursement.award.application.group
    audit.record("disbursement.account_viewed", disbursement, actor=user,
                 summary=f"{group.name} 보조금 계좌번호 전체 보기 (지급용): {disbursement.bank} {disbursement.masked_account}")
    return disbursement.account_number


def lock(disbursement_id: int) -> Disbursement:
    # Lock the disbursement row only (its award is joined-loaded; PostgreSQL refuses to lock
    # the nullable side of an outer join). On SQLite it takes the database's write lock, so a
    # second request with the same key finds the first one's payment below (not a unique error).
    row = lock_row(Disbursement, disbursement_id)
    if row is None:
        raise DisbursementError("교부 정보를 찾을 수 없습니다.")
    return row


# Payment forms ----------------------------------------------------------------------------------

_KEY_SALT = "disbursement.payment-form"


def new_payment_key(disbursement: Disbursement) -> str:
    """A fresh key for one payment form of ``disbursement``, made and signed by the server: the
    same form sent twice pays once; a key from another award's form, or one typed by hand, is
    refused (``payment_key_nonce``)."""
    return URLSafeSerializer(current_app.secret_key, salt=_KEY_SALT).dumps([disbursement.id, uuid.uuid4().hex])


def payment_key_nonce(disbursement: Disbursement, token: str) -> str:
    """The idempotency key a payment form carries, checked: signed by us and made for this
    disbursement. Returns the stored part (unique per disbursement)."""
    try:
        disbursement_id, nonce = URLSafeSerializer(current_app.secret_key, salt=_KEY_SALT).loads(token or "")
    except (BadSignature, TypeError, ValueError):
        raise DisbursementError("지급 양식이 올바르지 않습니다. 화면에 새로 표시된 양식으로 다시 기록해 주세요.") from None
    if disbursement_id != disbursement.id or not isinstance(nonce, str) or not 0 < len(nonce) <= 64:
        raise DisbursementError("다른 교부 건의 지급 양식입니다. 화면에 새로 표시된 양식으로 다시 기록해 주세요.")
    return nonce


def _paid_with_key(disbursement_id: int, key: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.disbursement_id == disbursement_id,
                                                   Payment.idempotency_key == key))


# Payments stop at the settlement -------------------------------------------------------------

PAYABLE_AWARD_STATUSES = {AwardState.accepted, AwardState.paid}


def payments_closed_reason(award) -> str | None:
    """Why no payment may be recorded for ``award`` now (Korean), or None while it may.

    A finance office settles a grant on what the group had received when it submitted its
    settlement: the group's statement (정산서) names that amount, finance staff judge the lines
    against it, and the refund (반환액 = 지급액 + 이자 − 인정액) is fixed at approval. So from
    the first submission on — submitted, returned for changes (보완 요청), approved, closed —
    no payment is recorded: a late payment would change a refund already computed or one that
    finance staff are computing, and no reviewer would see it (it is not in the submission).
    Returning the settlement for changes does not reopen payments either: a group that was
    still owed an instalment says so in its settlement, and any further money is a new
    decision, not a payment slipped under an account under review. Before submission (no
    settlement yet, or a draft) the unpaid instalments stay payable."""
    settlement = getattr(award, "settlement", None)
    if award.status not in PAYABLE_AWARD_STATUSES or (settlement is not None and settlement.status != SettlementState.draft):
        label = settlement.status_label if settlement is not None else award.status_label
        return (f"정산서를 제출한 뒤에는 지급을 기록할 수 없습니다(정산 상태: {label}). "
                "정산은 제출할 때까지 지급된 금액을 기준으로 합니다.")
    return None


def payment_due():
    """The condition (on Award joined with its Disbursement) of an award finance still has to
    pay: the group accepted it (gave its account), it is not paid in full, and no settlement has
    been submitted (``payments_closed_reason``). The dashboard's count and the 지급할 교부 list
    use it both."""
    return and_(Award.status.in_(PAYABLE_AWARD_STATUSES), Disbursement.paid_won < Disbursement.amount_won,
                ~exists().where(Settlement.award_id == Award.id, Settlement.status != SettlementState.draft))


def payments_due_by_programme() -> dict[int, int]:
    return dict(db.session.execute(
        select(Award.programme_id, func.count(Award.id)).join(Disbursement, Disbursement.award_id == Award.id)
        .where(payment_due()).group_by(Award.programme_id)).all())


def _lock_settlement(award) -> None:
    """The award's row lock, then its settlement's (the order every spending and settlement
    change takes): a payment and a submission at the same moment run one after the other, and
    the payment sees the settlement as the submission left it."""
    from blueprints.settlement.services import lock as lock_spending

    lock_spending(award)


def record_payment(disbursement: Disbursement, *, instalment: int, amount_won: int, paid_on: date,
                   reference: str, idempotency_key: str, user, note: str = "") -> tuple[Payment, bool]:
    """Record a payment on one instalment: all of it or a part, never more than is left of it
    in the schedule (the rest stays payable). Returns (payment, created). The same
    idempotency key (scoped to this disbursement) returns the payment already made (a double
    click); two people recording the same instalment at once: the second waits on the row
    lock, then finds what the first paid. Refused once the settlement has been submitted
    (``payments_closed_reason``)."""
    existing = _paid_with_key(disbursement.id, idempotency_key)
    if existing is not None:
        return existing, False
    _lock_settlement(disbursement.award)
    row = lock(disbursement.id)
    existing = _paid_with_key(row.id, idempotency_key)
    if existing is not None:
        return existing, False
    if row.award.status in {AwardState.offered}:
        raise DisbursementError("교부 신청(수락) 전에는 지급할 수 없습니다.")
    refusal = payments_closed_reason(row.award)
    if refusal:
        raise DisbursementError(refusal)
    planned = next((s for s in row.schedule if s["instalment"] == instalment), None)
    if planned is None:
        raise DisbursementError("교부 계획에 없는 회차입니다.")
    left = planned["amount_won"] - instalment_paid(row.id, instalment)
    if left <= 0:
        raise DisbursementError(f"{instalment}회차는 이미 지급을 마쳤습니다.")
    if planned.get("after") == "mid_check" and row.mid_check_passed_at is None:
        raise DisbursementError(f"{instalment}회차는 중간 점검을 마친 뒤 지급합니다.")
    if amount_won <= 0:
        raise DisbursementError("지급액을 입력해 주세요.")
    today = today_kst()
    if paid_on > today:
        # A payment counts as paid at once (the dashboard, the group's balance, its refund).
        raise PaymentNotMade(f"지급일이 오늘({kdate(today)})보다 뒤입니다. 이체한 날을 적어 주세요. "
                             "지급은 이체한 뒤에 기록합니다.")
    if amount_won > row.amount_won - row.paid_won:
        raise DisbursementError(f"지급액 합계가 교부결정액을 넘습니다. 남은 금액은 {row.amount_won - row.paid_won:,}원입니다.")
    if amount_won > left:
        raise DisbursementError(f"{instalment}회차에 남은 금액은 {left:,}원입니다. 그보다 많이 지급할 수 없습니다.")
    payment = Payment(disbursement_id=row.id, instalment=instalment, amount_won=amount_won, paid_on=paid_on,
                      reference=reference, note=note, idempotency_key=idempotency_key, recorded_by_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(payment)
            db.session.flush()
            # The database keeps the total: paid_won <= amount_won is a CHECK.
            db.session.execute(update(Disbursement).where(Disbursement.id == row.id)
                               .values(paid_won=Disbursement.paid_won + amount_won))
    except IntegrityError as exc:
        raise DisbursementError("이미 처리된 지급이거나 교부결정액을 넘는 지급입니다.") from exc
    db.session.refresh(row)
    award = row.award
    if award.status == AwardState.accepted:
        award.status = AwardState.paid
    audit.record("payment.recorded", payment, summary=f"{award.application.group.name} {instalment}회차 "
                 f"{amount_won:,}원 지급", after={"instalment": instalment, "amount_won": amount_won,
                                                "paid_on": paid_on.isoformat(), "reference": reference})
    return payment, True


def instalment_paid(disbursement_id: int, instalment: int) -> int:
    """What was paid on one instalment so far (it may be paid in parts)."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Payment.amount_won), 0)).where(
        Payment.disbursement_id == disbursement_id, Payment.instalment == instalment)) or 0)


def pass_mid_check(disbursement: Disbursement, *, user) -> None:
    if disbursement.mid_check_passed_at is not None:
        return
    disbursement.mid_check_passed_at = utcnow()
    audit.record("disbursement.mid_check", disbursement, summary="중간 점검 완료")


def dashboard_rows(programme_id: int | None = None):
    """Per programme and 자치구: number of awards, awarded, paid, unpaid."""
    paid = func.coalesce(func.sum(Disbursement.paid_won), 0)
    query = (select(Programme.id, Programme.title, Group.district, func.count(Award.id),
                    func.coalesce(func.sum(Award.amount_won), 0), paid)
             .select_from(Award).join(Programme, Programme.id == Award.programme_id)
             .join(Application, Application.id == Award.application_id).join(Group, Group.id == Application.group_id)
             .outerjoin(Disbursement, Disbursement.award_id == Award.id)
             .group_by(Programme.id, Programme.title, Group.district).order_by(Programme.id, Group.district))
    if programme_id is not None:
        query = query.where(Programme.id == programme_id)
    return [dict(programme_id=r[0], programme=r[1], district=r[2], awards=r[3], awarded=int(r[4]), paid=int(r[5]),
                 unpaid=int(r[4]) - int(r[5])) for r in db.session.execute(query)]


PAYMENT_COLUMNS = [Column("사업"), Column("모임 등록번호"), Column("모임명"), Column("자치구"), Column("교부결정액", WON),
                   Column("회차", INT), Column("지급일", DATE), Column("지급액", WON), Column("참조"), Column("은행"),
                   Column("계좌(끝4자리)")]


def payments_sheet(programme_id: int | None = None) -> Sheet:
    """Every payment made, for the accounting system (교부내역), in one query."""
    query = (select(Payment, Disbursement, Award, Programme.title, Group)
             .join(Disbursement, Disbursement.id == Payment.disbursement_id)
             .join(Award, Award.id == Disbursement.award_id).join(Programme, Programme.id == Award.programme_id)
             .join(Application, Application.id == Award.application_id).join(Group, Group.id == Application.group_id)
             .order_by(Award.programme_id, Award.rank, Payment.instalment))
    if programme_id is not None:
        query = query.where(Award.programme_id == programme_id)
    rows = [[title, group.reg_no, group.name, group.district, award.amount_won, p.instalment, p.paid_on, p.amount_won,
             p.reference, disb.bank, disb.masked_account] for p, disb, award, title, group in db.session.execute(query)]
    return Sheet("교부내역", PAYMENT_COLUMNS, rows)
