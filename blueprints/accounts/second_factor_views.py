"""Second-factor pages: enrolment, the code at sign-in, the account's security page and the
admin's reset. The password step and the session helpers are in views.py."""
from flask import abort, current_app, flash, g, redirect, session, url_for

from blueprints.core.auth import authorize, login_required, permission_required
from blueprints.core.forms import EmptyForm
from blueprints.core.htmx import is_inline, render
from blueprints.core.models import utcnow
from blueprints.core.persistence import commit, get_or_404

from . import bp, second_factor, services
from .forms import SecondFactorCodeForm, SecondFactorLoginForm
from .models import SECOND_FACTOR_ROLES, User
from .views import (PENDING_KEY, _login_throttled_message, _user_row_response, client_ip, pending_second_factor_user,
                    safe_next, start_session)

WRONG_CODE = "인증 코드가 맞지 않습니다. 인증 앱에 지금 보이는 6자리 숫자를 입력해 주세요."


def _pending_data() -> dict:
    return dict(session.get(PENDING_KEY) or {})


def _count_failure(user: User) -> bool:
    """A wrong code at sign-in: counted for the login back-off of this address, and after
    SECOND_FACTOR_MAX_FAILURES the password step starts over. True when it did."""
    services.note_attempt(user.email, client_ip())
    commit()
    data = _pending_data()
    data["fails"] = int(data.get("fails", 0)) + 1
    if data["fails"] >= current_app.config["SECOND_FACTOR_MAX_FAILURES"]:
        session.clear()
        flash("인증 코드가 여러 번 맞지 않아 처음부터 다시 로그인해야 합니다.", "error")
        return True
    session[PENDING_KEY] = data
    return False


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor_verify():
    if g.user:
        return redirect(url_for("home.dashboard"))
    user = pending_second_factor_user()
    if user is None:
        return redirect(url_for("accounts.login"))
    if not user.has_second_factor:
        return redirect(url_for("accounts.second_factor_setup"))
    form = SecondFactorLoginForm()
    status = 200
    if form.validate_on_submit():
        wait = services.login_wait(user.email, client_ip())
        if wait is not None:
            form.form_errors.append(_login_throttled_message(wait))
            status = 429
        else:
            how = second_factor.verify(user, form.code.data)
            if how is not None:
                next_path = _pending_data().get("next")
                commit()
                start_session(user, second_factor=True)
                if how == "recovery":
                    left = second_factor.remaining_recovery_codes(user)
                    flash(f"복구 코드로 로그인했습니다. 남은 복구 코드는 {left}개입니다. "
                          "휴대전화를 잃어버렸다면 관리자에게 2단계 인증 초기화를 요청해 주세요.", "warning")
                flash(f"{user.name}님, 환영합니다.", "success")
                return redirect(safe_next(next_path), 303)
            if _count_failure(user):
                return redirect(url_for("accounts.login"), 303)
            form.code.errors.append("인증 코드가 맞지 않습니다. 인증 앱에 지금 보이는 6자리 숫자나 "
                                    "아직 쓰지 않은 복구 코드를 입력해 주세요.")
            status = 422
    elif form.errors:
        status = 422
    form.code.data = ""
    return render("accounts/second_factor_verify.html", form=form, status=status)


@bp.route("/login/second-factor/setup", methods=["GET", "POST"])
def second_factor_setup():
    """Enrolment: on first sign-in for staff, finance and admin (nothing else is reachable
    until it is done), or from the account page for anyone signed in who opts in."""
    if g.user is not None:
        user, nonce = g.user, session.get("sid")
        if user.has_second_factor:
            flash("이미 2단계 인증을 쓰고 있습니다.", "info")
            return redirect(url_for("accounts.account_security"))
    else:
        user = pending_second_factor_user()
        if user is None:
            return redirect(url_for("accounts.login"))
        if user.has_second_factor:
            return redirect(url_for("accounts.second_factor_verify"))
        nonce = _pending_data().get("nonce")
    secret = second_factor.enrolment_secret(user, nonce)
    form = SecondFactorCodeForm()
    if form.validate_on_submit():
        codes = second_factor.enrol(user, secret, form.code.data)
        if codes is None:
            form.code.errors.append(WRONG_CODE)
        elif g.user is not None:
            g.user_session.second_factor_at = utcnow()
            commit()
            return render("accounts/recovery_codes.html", codes=codes, next_url=url_for("accounts.account_security"))
        else:
            next_path = _pending_data().get("next")
            commit()
            start_session(user, second_factor=True)
            return render("accounts/recovery_codes.html", codes=codes, next_url=safe_next(next_path))
    form.code.data = ""
    return render("accounts/second_factor_setup.html", form=form, user=user, required=g.user is None,
                  qr=second_factor.qr_code_data_uri(second_factor.provisioning_uri(user, secret)),
                  secret=second_factor.grouped(secret), status=422 if form.errors else 200)


# The account's security page ------------------------------------------------------------

def _code_check_wait(form) -> bool:
    """An app code typed on the security page is checked like one at sign-in (the same
    back-off per account and address); True, with the message on the form, while it must wait."""
    wait = services.login_wait(g.user.email, client_ip())
    if wait is None:
        return False
    form.form_errors.append(_login_throttled_message(wait))
    return True


def _wrong_code(form) -> None:
    services.note_attempt(g.user.email, client_ip())
    commit()
    form.code.errors.append(WRONG_CODE)


def _security_page(form=None, status=200):
    remaining = second_factor.remaining_recovery_codes(g.user) if g.user.has_second_factor else 0
    return render("accounts/security.html", form=form or SecondFactorCodeForm(), remaining=remaining,
                  required=g.user.has_any_role(SECOND_FACTOR_ROLES), status=status)


@bp.route("/account/security")
@login_required
def account_security():
    return _security_page()


@bp.route("/account/security/disable", methods=["POST"])
@login_required
def second_factor_disable():
    form = SecondFactorCodeForm()
    if not g.user.has_second_factor:
        return redirect(url_for("accounts.account_security"), 303)
    if form.validate_on_submit():
        if _code_check_wait(form):
            form.code.data = ""
            return _security_page(form, 429)
        try:
            done = second_factor.disable(g.user, form.code.data)
        except services.AccountError as exc:
            form.form_errors.append(str(exc))
            return _security_page(form, 422)
        if done:
            commit()
            flash("2단계 인증을 껐습니다. 다음 로그인부터는 비밀번호만 묻습니다.", "success")
            return redirect(url_for("accounts.account_security"), 303)
        _wrong_code(form)
    form.code.data = ""
    return _security_page(form, 422)


@bp.route("/account/security/recovery-codes", methods=["POST"])
@login_required
def renew_recovery_codes():
    form = SecondFactorCodeForm()
    if not g.user.has_second_factor:
        return redirect(url_for("accounts.account_security"), 303)
    if form.validate_on_submit():
        if _code_check_wait(form):
            form.code.data = ""
            return _security_page(form, 429)
        codes = second_factor.new_recovery_codes(g.user, form.code.data)
        if codes is not None:
            commit()
            return render("accounts/recovery_codes.html", codes=codes, next_url=url_for("accounts.account_security"))
        _wrong_code(form)
    form.code.data = ""
    return _security_page(form, 422)


# Admin ------------------------------------------------------------------------------------

@bp.route("/admin/users/<int:user_id>/second-factor/reset", methods=["POST"])
@permission_required("manage_users")
def admin_reset_second_factor(user_id):
    user = authorize("reset_second_factor", get_or_404(User, user_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    second_factor.admin_reset(user, by=g.user)
    commit()
    flash(f"{user.name or user.email}님의 2단계 인증을 초기화했습니다. 다음 로그인 때 다시 등록합니다.", "success")
    if g.user.id == user.id:  # their own: every session of theirs ended, this one too
        session.clear()
        return redirect(url_for("accounts.login"), 303)
    if is_inline():
        return _user_row_response(user)
    return redirect(url_for("accounts.admin_users"), 303)
