"""Award acceptance (the group), payments and the finance dashboard (finance staff)."""
from flask import abort, flash, g, redirect, request, url_for

from blueprints.awards.models import AwardState
from blueprints.core.auth import authorize, login_required, permission_required, register_permission
from blueprints.core.exports import FORMATS, send_table
from blueprints.core.formatting import kdate
from blueprints.core.htmx import render
from blueprints.core.persistence import commit, get_or_404, id_arg
from blueprints.core.timeutil import today_kst
from extensions import db

from . import bp, services
from .forms import AcceptForm, PaymentForm

register_permission("view_finance_dashboard", "finance", "staff")


@bp.app_context_processor
def inject_my_awards():
    """`my_awards()` for the dashboard: awards of the groups the signed-in parent is an officer of."""
    def my_awards():
        from sqlalchemy import select

        from blueprints.applications.models import Application
        from blueprints.awards.models import Award
        from blueprints.groups.models import GroupMember

        user = g.get("user")
        if user is None:
            return []
        return db.session.scalars(
            select(Award).join(Application, Application.id == Award.application_id)
            .join(GroupMember, GroupMember.group_id == Application.group_id)
            .where(GroupMember.user_id == user.id, GroupMember.role.in_(("leader", "treasurer")))
            .order_by(Award.id.desc())).all()

    return {"my_awards": my_awards}
register_permission("record_payment", "finance")
# The full account number (to make the transfer): finance only, each look audited (a POST).
register_permission("view_account_number", "finance")


@bp.app_context_processor
def inject_payments_closed():
    return {"payments_closed_reason": services.payments_closed_reason}


def load_award(award_id: int):
    from blueprints.awards.models import Award

    return authorize("view", get_or_404(Award, award_id))


def _payment_form(disb, form=None, *, prefill=None):
    form = form or PaymentForm()
    if disb is not None:
        form.instalment.choices = [(str(row["instalment"]), f"{row['instalment']}회차 (남은 금액 {row['left']:,}원)")
                                   for row in disb.instalments() if row["left"] > 0]
        nxt = disb.next_instalment()
        if (request.method == "GET" if prefill is None else prefill) and nxt:
            form.instalment.data = str(nxt["instalment"])
            form.amount_won.data = nxt["left"]
            form.paid_on.data = today_kst()
        if not _own_key(disb, form.idempotency_key.data):
            form.idempotency_key.data = services.new_payment_key(disb)
    return form


def _own_key(disb, token) -> bool:
    try:
        services.payment_key_nonce(disb, token)
    except services.DisbursementError:
        return False
    return True


@bp.route("/awards/<int:award_id>", methods=["GET", "POST"])
def show_award(award_id):
    award = load_award(award_id)
    officer = award.application.group.is_officer(g.user)
    form = AcceptForm()
    status = 200
    if request.method == "POST":
        if not officer:
            abort(403)
        if award.status != AwardState.offered:
            flash("이미 교부 신청을 했습니다.", "info")
            return redirect(url_for("disbursement.show_award", award_id=award.id), 303)
        if form.validate_on_submit():
            try:
                services.accept_award(award, bank=form.bank.data, account_number=form.account_number.data,
                                      holder=form.account_holder.data, user=g.user)
            except services.DisbursementError as exc:
                db.session.rollback()
                if award.status != AwardState.offered:   # the other officer's acceptance, just before
                    flash("이미 교부 신청을 했습니다.", "info")
                    return redirect(url_for("disbursement.show_award", award_id=award.id), 303)
                form.account_number.errors = [str(exc)]
            else:
                commit()
                flash("교부 신청을 했습니다. 회계담당이 지급하면 알려 드립니다.", "success")
                return redirect(url_for("disbursement.show_award", award_id=award.id), 303)
        status = 422
    disb = getattr(award, "disbursement", None)
    return render("disbursement/award.html", award=award, disb=disb, officer=officer, form=form,
                  payment_form=_payment_form(disb) if g.user.has_role("finance") and disb else None, status=status)


@bp.route("/awards/<int:award_id>/account", methods=["POST"])
@permission_required("view_account_number")
def reveal_account(award_id):
    """계좌번호 보기: the full number and a copy button, for the transfer. A POST, because the
    look is written to the audit trail (a GET never writes)."""
    from blueprints.core.forms import EmptyForm

    award = load_award(award_id)
    disb = getattr(award, "disbursement", None)
    if disb is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.reveal_account(disb, user=g.user)
    commit()
    award = load_award(award_id)
    disb = award.disbursement
    return render("disbursement/award.html", fragments={"account": "account"}, award=award, disb=disb,
                  officer=award.application.group.is_officer(g.user), form=AcceptForm(formdata=None),
                  payment_form=_payment_form(disb, PaymentForm(formdata=None), prefill=True), account_revealed=True)


@bp.route("/awards/<int:award_id>/payments", methods=["POST"])
@permission_required("record_payment")
def record_payment(award_id):
    award = load_award(award_id)
    disb = getattr(award, "disbursement", None)
    if disb is None:
        flash("교부 신청(수락) 전에는 지급할 수 없습니다.", "error")
        return redirect(url_for("disbursement.show_award", award_id=award.id), 303)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            key = services.payment_key_nonce(disb, form.idempotency_key.data)
        except services.DisbursementError as exc:
            form.form_errors.append(str(exc))
        else:
            try:
                payment, created = services.record_payment(
                    disb, instalment=int(form.instalment.data or 0), amount_won=form.amount_won.data,
                    paid_on=form.paid_on.data, reference=form.reference.data or "", idempotency_key=key, user=g.user)
            except services.DisbursementError as exc:
                db.session.rollback()
                getattr(form, getattr(exc, "field", "amount_won")).errors.append(str(exc))
            else:
                commit()
                _flash_payment(payment, created)
                return redirect(url_for("disbursement.show_award", award_id=award.id), 303)
    award = load_award(award_id)
    form = _payment_form(award.disbursement, form)
    return render("disbursement/award.html", award=award, disb=award.disbursement, officer=False,
                  form=AcceptForm(), payment_form=form, status=422)


def _flash_payment(payment, created: bool) -> None:
    """What the submit did; the same form sent twice says what was paid the first time."""
    if created:
        flash("지급을 기록했습니다.", "success")
    else:
        flash(f"이 양식의 지급은 이미 기록되어 있습니다: {payment.instalment}회차 {payment.amount_won:,}원, "
              f"지급일 {kdate(payment.paid_on)}. 같은 양식이 두 번 제출되어 한 번만 기록했습니다.", "info")


@bp.route("/awards/<int:award_id>/mid-check", methods=["POST"])
@permission_required("record_payment")
def mid_check(award_id):
    from blueprints.core.forms import EmptyForm

    award = load_award(award_id)
    if not EmptyForm().validate_on_submit() or getattr(award, "disbursement", None) is None:
        abort(400)
    services.pass_mid_check(award.disbursement, user=g.user)
    commit()
    flash("중간 점검 완료로 표시했습니다. 2회차를 지급할 수 있습니다.", "success")
    return redirect(url_for("disbursement.show_award", award_id=award.id), 303)


def _programme_arg() -> int | None:
    """?programme=: None for every programme (absent or not a number); an id no programme can
    have (past the database's INTEGER) filters to nothing, never a database error."""
    raw = request.args.get("programme", type=int)
    return raw if raw is None else (id_arg(raw) or 0)


@bp.route("/")
@permission_required("view_finance_dashboard")
def dashboard():
    from sqlalchemy import select

    from blueprints.awards.models import Award
    from blueprints.programmes.models import Programme

    programme_id = _programme_arg()
    programmes = db.session.scalars(select(Programme).order_by(Programme.year.desc(), Programme.id.desc())).all()
    rows = services.dashboard_rows(programme_id)
    due = request.args.get("due") == "1"
    from sqlalchemy.orm import selectinload

    # Each row's disbursement and settlement in one statement each, not two per award.
    query = (select(Award).options(selectinload(Award.disbursement), selectinload(Award.settlement))
             .order_by(Award.programme_id, Award.rank))
    if programme_id is not None:
        query = query.where(Award.programme_id == programme_id)
    if due:   # 지급할 교부만: the dashboard's "지급할 교부 N건" links here
        from .models import Disbursement

        query = query.join(Disbursement, Disbursement.award_id == Award.id).where(services.payment_due())
    awards = db.session.scalars(query).unique().all()
    totals = dict(awards=sum(r["awards"] for r in rows), awarded=sum(r["awarded"] for r in rows),
                  paid=sum(r["paid"] for r in rows), unpaid=sum(r["unpaid"] for r in rows))
    return render("disbursement/dashboard.html", rows=rows, awards=awards, totals=totals, programmes=programmes,
                  programme_id=programme_id, due=due, fragments={"dash-body": "body"})


@bp.route("/payments.<fmt>")
@permission_required("view_finance_dashboard")
def export_payments(fmt):
    if fmt not in FORMATS:
        abort(404)
    sheet = services.payments_sheet(_programme_arg())
    return send_table(sheet, fmt, f"교부내역.{fmt}", fallback=f"payments.{fmt}")
