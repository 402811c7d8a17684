"""Authentication gates and the one authorisation helper every blueprint uses.

Permissions are asked of the object: ``authorize("edit", application)`` calls
``application.can(user, "edit")``. Actions without an object (``"manage_users"``) are
looked up in a role table that each domain fills with ``register_permission``.
"""
from functools import wraps

from flask import abort, g, redirect, request, url_for

ROLE_LABELS = {
    "applicant": "신청자",
    "reviewer": "심사위원",
    "staff": "사업담당",
    "finance": "회계담당",
    "admin": "관리자",
    "city": "시 담당관",   # the city's officer: reads the centre's view, changes nothing
}
ROLES = tuple(ROLE_LABELS)

_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {}


def register_permission(action: str, *roles: str) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    _ROLE_PERMISSIONS[action] = frozenset(roles)


def can(user, action: str, obj=None) -> bool:
    if user is None or not user.is_active:
        return False
    if obj is not None:
        return bool(obj.can(user, action))
    try:
        allowed = _ROLE_PERMISSIONS[action]
    except KeyError:
        raise LookupError(f"no permission registered for {action!r}") from None
    return user.has_any_role(allowed)


def _login_redirect():
    return redirect(url_for("accounts.login", next=request.full_path if request.method == "GET" else None))


def authorize(action: str, obj=None):
    """Abort unless the signed-in user may do ``action`` (on ``obj``); returns ``obj``.

    Anonymous users are sent to the login page; signed-in users without the right get 403.
    """
    if g.get("user") is None:
        abort(_login_redirect())
    if not can(g.user, action, obj):
        abort(403)
    return obj


def login_required(view):
    @wraps(view)
    def wrapped(**kwargs):
        if g.get("user") is None:
            return _login_redirect()
        return view(**kwargs)

    return wrapped


def permission_required(action: str):
    """Route guard for object-less actions; object checks happen in the view via authorize()."""

    def decorator(view):
        @wraps(view)
        def wrapped(**kwargs):
            authorize(action)
            return view(**kwargs)

        return wrapped

    return decorator
