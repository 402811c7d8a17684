"""Sign-up, sign-in, passwords and invitations; the admin's user and role management."""
import math
import secrets
import time

from flask import abort, current_app, flash, g, redirect, request, session, url_for

from blueprints.core.auth import ROLE_LABELS, authorize, login_required, permission_required, register_permission
from blueprints.core.persistence import commit, get_or_404
from blueprints.core.security import same_site_path
from blueprints.core.forms import EmptyForm
from blueprints.core.htmx import is_inline, render
from extensions import db

from . import bp, services
from . import sessions as user_sessions
from .forms import (AcceptInviteForm, ChangePasswordForm, ForgotPasswordForm, InviteForm, LoginForm,
                    ResetPasswordForm, RoleChangeForm, SignupForm, UserSearchForm, VerifyEmailForm)
from .models import User

register_permission("manage_users", "admin")


@bp.before_app_request
def load_signed_in_user():
    """g.user from the server-side session record the cookie names (sessions.py)."""
    g.user = g.user_session = None
    token = session.get("sid")
    if token is None:
        if "user_id" in session:
            session.clear()  # a cookie from before server-side sessions: sign in again
        return
    row = user_sessions.find_live_session(token)
    user = row.user if row is not None else None
    if (user is None or user.id != session.get("user_id") or not user.is_active
            or session.get("session_version") != user.session_version):
        session.clear()
        return
    if user.second_factor_required and row.second_factor_at is None:
        # Signed in with the password only, and now needs the second factor (a role granted
        # since, or an admin reset): not signed in until that step is done.
        begin_second_factor(user, request.full_path if request.method == "GET" else "")
        return
    g.user, g.user_session = user, row


def start_session(user: User, *, second_factor: bool = False) -> None:
    old = session.get("sid")
    if old:
        user_sessions.revoke_session(old)
    session.clear()  # a fresh session on sign-in: no fixation
    session.permanent = True
    session["sid"] = user_sessions.open_user_session(user, second_factor=second_factor)
    session["user_id"] = user.id
    session["session_version"] = user.session_version
    commit()


def end_session() -> None:
    """Log out here and on the server: the cookie's session row is revoked."""
    user_sessions.revoke_session(session.get("sid"))
    commit()
    session.clear()


# Second factor at sign-in: between the password and the code (second_factor_views.py) -------

PENDING_KEY = "second_factor"


def begin_second_factor(user: User, next_path: str | None) -> None:
    """The password was right; the cookie now says only that (no session record, no g.user)."""
    session.clear()
    session[PENDING_KEY] = {"uid": user.id, "v": user.session_version, "at": int(time.time()),
                            "next": same_site_path(next_path) or "", "nonce": secrets.token_urlsafe(16), "fails": 0}


def pending_second_factor_user() -> User | None:
    """Who passed the password step in this browser within SECOND_FACTOR_PENDING_TTL, if anyone."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
        return None
    if time.time() - data.get("at", 0) > current_app.config["SECOND_FACTOR_PENDING_TTL"].total_seconds():
        return None
    user = db.session.get(User, data["uid"])
    if (user is None or not user.is_active or user.session_version != data.get("v")
            or not user.second_factor_required):
        return None
    return user


def finish_sign_in(user: User, next_path: str | None, welcome: str):
    """After the password: the second-factor step (enrolment first if there is none yet) for
    those who need it, otherwise a session at once."""
    if user.second_factor_required:
        begin_second_factor(user, next_path)
        step = "accounts.second_factor_verify" if user.has_second_factor else "accounts.second_factor_setup"
        return redirect(url_for(step), 303)
    start_session(user)
    flash(welcome, "success")
    return redirect(safe_next(next_path), 303)


def safe_next(target: str | None) -> str:
    return same_site_path(target) or url_for("home.dashboard")


def client_ip() -> str:
    """The client's address as sign-in throttling counts it (an IPv6 /64 is one client)."""
    return services.throttle_address(request.remote_addr)


# An account whose address is not proved yet reaches only these pages; every other page
# sends it to "이메일 주소를 확인해 주세요" (a way on, not a dead end).
UNVERIFIED_MAY_USE = frozenset({
    "accounts.verify_notice", "accounts.resend_verification", "accounts.verify_email", "accounts.disown_signup",
    "accounts.logout", "accounts.login", "accounts.signup", "accounts.accept_invite", "accounts.forgot_password",
    "accounts.reset_password", "home.index", "home.privacy", "core.healthz", "static",
})
VERIFY_THROTTLED = "확인 메일 요청이 너무 많습니다. 15분 뒤에 다시 시도해 주세요."


@bp.before_app_request
def require_verified_address():
    user = g.get("user")
    if user is None or user.is_verified or request.endpoint in UNVERIFIED_MAY_USE or request.endpoint is None:
        return None
    return redirect(url_for("accounts.verify_notice"), 303)


# Sign-up and sign-in ----------------------------------------------------------------------

@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if g.user:
        return redirect(url_for("home.dashboard"))
    form = SignupForm()
    status = 200
    if form.validate_on_submit():
        if services.verify_mail_is_throttled(form.email.data, client_ip()):
            form.form_errors.append(VERIFY_THROTTLED)
            status = 429
        else:
            # One answer whatever the address (new, invited, unverified or finished): no probing.
            services.request_signup(email=form.email.data, password=form.password.data, name=form.name.data,
                                    phone=form.phone.data, ip=client_ip())
            commit()
            session["signup_email"] = services.normalize_email(form.email.data)
            return redirect(url_for("accounts.verify_notice"), 303)
    elif form.errors:
        status = 422
    return render("accounts/signup.html", form=form, status=status)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.user:
        return redirect(url_for("home.dashboard"))
    if request.method == "GET" and pending_second_factor_user() is not None:
        return redirect(url_for("accounts.second_factor_verify"))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        ip = client_ip()
        wait = services.login_wait(form.email.data, ip)
        if wait is not None:
            return _login_throttled(form, wait)
        else:
            user = services.authenticate(form.email.data, form.password.data, ip)
            commit()
            if user is not None:
                return finish_sign_in(user, form.next.data, f"{user.name}님, 환영합니다.")
            form.form_errors.append("이메일 또는 비밀번호가 맞지 않습니다.")
            status = 422
    elif form.errors:
        status = 422
    form.password.data = ""
    return render("accounts/login.html", form=form, status=status)


def _login_throttled_message(wait) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    later = f"{seconds}초" if seconds < 60 else f"{math.ceil(seconds / 60)}분"
    return f"로그인 시도가 너무 많습니다. {later} 뒤에 다시 시도하거나 비밀번호 찾기를 이용해 주세요."


def _login_throttled(form, wait):
    form.form_errors.append(_login_throttled_message(wait))
    form.password.data = ""
    response = render("accounts/login.html", form=form, status=429)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait.total_seconds())))
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    end_session()
    flash("로그아웃했습니다.", "info")
    return redirect(url_for("accounts.login"), 303)


# Passwords --------------------------------------------------------------------------------

@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        # The current password is checked like a sign-in (the same back-off): a borrowed
        # session must not try passwords at full speed.
        wait = services.login_wait(g.user.email, client_ip())
        if wait is not None:
            form.form_errors.append(_login_throttled_message(wait))
            status = 429
        elif not services.verify_password(g.user, form.current_password.data):
            services.note_attempt(g.user.email, client_ip())
            commit()
            form.current_password.errors.append("현재 비밀번호가 맞지 않습니다.")
        else:
            services.change_password(g.user, form.password.data)
            commit()
            start_session(g.user, second_factor=g.user_session.second_factor_at is not None)  # a new one here, the others end
            flash("비밀번호를 바꾸었습니다. 다른 기기에서는 다시 로그인해야 합니다.", "success")
            return redirect(url_for("home.dashboard"), 303)
    if status == 200 and form.errors:
        status = 422
    return render("accounts/change_password.html", form=form, status=status)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if services.reset_is_throttled(form.email.data, client_ip()):
            form.form_errors.append("재설정 요청이 너무 많습니다. 15분 뒤에 다시 시도해 주세요.")
            return render("accounts/forgot_password.html", form=form, status=429)
        services.request_password_reset(form.email.data, client_ip())
        commit()
        flash("가입된 이메일이면 비밀번호 재설정 링크를 보냈습니다. 메일함을 확인해 주세요.", "info")
        return redirect(url_for("accounts.login"), 303)
    return render("accounts/forgot_password.html", form=form, status=422 if form.errors else 200)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    row = services.find_valid_token(token, "reset")
    if row is None:
        return render("accounts/token_invalid.html", status=410)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(row, form.password.data)
        except services.LinkSpent:
            return _link_spent()
        commit()
        session.clear()
        flash("새 비밀번호를 설정했습니다. 새 비밀번호로 로그인해 주세요.", "success")
        return redirect(url_for("accounts.login"), 303)
    return render("accounts/reset_password.html", form=form, status=422 if form.errors else 200)


def _link_spent():
    """Another request used the link a moment ago (a double press): nothing done here."""
    db.session.rollback()
    return render("accounts/token_invalid.html", status=410)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token):
    row = services.find_valid_token(token, "invite")
    if row is None:
        return render("accounts/token_invalid.html", status=410)
    # Opened with the name the inviter entered; the number they entered is kept unless another is
    # typed, and shown masked (the mail may have gone to a mistyped address). An account someone
    # signed up (it has a password) but never verified is set up anew: what was typed then is not
    # the inviter's, and perhaps not the owner's (services._send_fresh_setup_link).
    signed_up = row.user.has_password
    number_on_file = None if signed_up else row.user.phone
    form = (AcceptInviteForm(name="" if signed_up else row.user.name, number_on_file=number_on_file)
            if request.method == "GET" else AcceptInviteForm(number_on_file=number_on_file))
    if form.validate_on_submit():
        try:
            user = services.accept_invite(row, name=form.name.data, phone=form.phone.data or number_on_file,
                                          password=form.password.data)
        except services.LinkSpent:
            return _link_spent()
        commit()
        return finish_sign_in(user, "", "계정을 설정했습니다. 환영합니다.")
    return render("accounts/accept_invite.html", form=form, invited=row.user, number_on_file=number_on_file,
                  status=422 if form.errors else 200)


# Proving the address -----------------------------------------------------------------------

@bp.route("/account/verify")
def verify_notice():
    if g.user and g.user.is_verified:
        return redirect(url_for("home.dashboard"))
    email = g.user.email if g.user else session.get("signup_email")
    return render("accounts/verify_notice.html", email=email, form=EmptyForm(), error=None)


@bp.route("/account/verify/resend", methods=["POST"])
def resend_verification():
    if not EmptyForm().validate_on_submit():
        abort(400)
    if g.user and g.user.is_verified:
        return redirect(url_for("home.dashboard"), 303)
    email = g.user.email if g.user else session.get("signup_email")
    if not email:
        return redirect(url_for("accounts.signup"), 303)
    if services.verify_mail_is_throttled(email, client_ip()):
        return render("accounts/verify_notice.html", email=email, form=EmptyForm(), error=VERIFY_THROTTLED,
                      status=429)
    user = g.user or services.find_user_by_email(email)
    if user is not None:
        services.resend_address_mail(user, client_ip())
    else:
        services.note_attempt(email, client_ip(), kind="verify")
    commit()
    flash("안내 메일을 다시 보냈습니다. 메일함(스팸함 포함)을 확인해 주세요.", "info")
    return redirect(url_for("accounts.verify_notice"), 303)


@bp.route("/account/verify/<token>", methods=["GET", "POST"])
def verify_email(token):
    row = services.find_valid_token(token, "verify")
    if row is None:
        return render("accounts/token_invalid.html", status=410)
    user = row.user
    signed_in_as_owner = g.user is not None and g.user.id == user.id
    form = VerifyEmailForm()
    status = 200
    if form.validate_on_submit():
        wait = None if signed_in_as_owner else services.login_wait(user.email, client_ip())
        if wait is not None:
            form.form_errors.append(_login_throttled_message(wait))
            status = 429
        elif signed_in_as_owner or services.verify_password(user, form.password.data or ""):
            try:
                services.verify_email(row)
            except services.LinkSpent:
                return _link_spent()
            commit()
            session.pop("signup_email", None)
            message = "이메일 주소를 확인했습니다. 이제 모든 기능을 쓸 수 있습니다."
            if not signed_in_as_owner:
                return finish_sign_in(user, "", message)  # the second factor too, where it is needed
            flash(message, "success")
            return redirect(url_for("home.dashboard"), 303)
        else:
            services.note_attempt(user.email, client_ip())
            commit()
            form.password.errors.append("비밀번호가 맞지 않습니다. 가입할 때 정한 비밀번호를 입력해 주세요.")
            status = 422
    elif form.errors:
        status = 422
    return render("accounts/verify_email.html", form=form, token=token, invited=user,
                  ask_password=not signed_in_as_owner, disown_form=EmptyForm(), status=status)


@bp.route("/account/verify/<token>/disown", methods=["POST"])
def disown_signup(token):
    row = services.find_valid_token(token, "verify")
    if row is None:
        return render("accounts/token_invalid.html", status=410)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.disown_signup(row)
    except services.AccountError as exc:
        commit()  # the link is used up either way
        flash(str(exc), "error")
        return redirect(url_for("accounts.login"), 303)
    commit()
    if g.user is not None and g.user.id == row.user_id:
        session.clear()
    flash("알려 주셔서 고맙습니다. 이 주소로 만든 계정은 쓸 수 없게 했습니다. 직접 가입하려면 회원가입을 해 주세요.", "info")
    return redirect(url_for("accounts.signup"), 303)


# Admin: users and roles ------------------------------------------------------------------

@bp.route("/admin/users")
@permission_required("manage_users")
def admin_users():
    search = UserSearchForm(request.args)
    search.validate()
    page = request.args.get("page", 1, type=int)
    users = services.search_users(search.q.data or "", search.role.data or "", page=page)
    return render("admin/users.html", fragments={"user-table": "user_table", "user-search": "user_table"},
                  search=search, users=users, invite_form=InviteForm(), role_form=RoleChangeForm(),
                  role_labels=ROLE_LABELS)


@bp.route("/admin/users/invite", methods=["POST"])
@permission_required("manage_users")
def admin_invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = services.invite_user(email=form.email.data, name=form.name.data, roles=form.roles.data, by=g.user)
        except services.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            commit()
            flash(f"{user.email}에 초대 메일을 보냈습니다.", "success")
            return redirect(url_for("accounts.admin_users"), 303)
    users = services.search_users()
    return render("admin/users.html", fragments={"invite-form": "invite_form"}, search=UserSearchForm(),
                  users=users, invite_form=form, role_form=RoleChangeForm(), role_labels=ROLE_LABELS, status=422)


def _user_row_response(user: User):
    return render("admin/users.html", fragments={f"user-{user.id}": "user_row"}, user=user,
                  role_form=RoleChangeForm(), role_labels=ROLE_LABELS)


@bp.route("/admin/users/<int:user_id>/roles/<action>", methods=["POST"])
@permission_required("manage_users")
def admin_change_role(user_id, action):
    user = authorize("grant_role", get_or_404(User, user_id))
    form = RoleChangeForm()
    if action not in {"grant", "revoke"} or not form.validate_on_submit():
        abort(400)
    try:
        if action == "grant":
            changed = services.grant_role(user, form.role.data, by=g.user)
        else:
            changed = services.revoke_role(user, form.role.data, by=g.user)
    except services.AccountError as exc:
        flash(str(exc), "error")
    else:
        commit()
        if changed:
            verb = "부여" if action == "grant" else "회수"
            flash(f"{user.name or user.email}: {ROLE_LABELS[form.role.data]} 역할을 {verb}했습니다.", "success")
    if is_inline():
        return _user_row_response(user)
    return redirect(url_for("accounts.admin_users"), 303)


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@permission_required("manage_users")
def admin_set_active(user_id):
    user = authorize("deactivate", get_or_404(User, user_id))
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_active(user, request.form.get("active") == "1", by=g.user)
    except services.AccountError as exc:
        flash(str(exc), "error")
    else:
        commit()
        flash("계정 상태를 바꾸었습니다.", "success")
    if is_inline():
        return _user_row_response(user)
    return redirect(url_for("accounts.admin_users"), 303)
