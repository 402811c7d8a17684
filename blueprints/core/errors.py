"""Error pages in Korean: a full page, or for htmx a fragment shown in the message region."""
import traceback

from flask import current_app, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from extensions import db

from .htmx import is_htmx

MESSAGES = {
    400: ("잘못된 요청입니다", "요청을 처리할 수 없습니다. 페이지를 새로 고친 뒤 다시 시도해 주세요."),
    403: ("접근 권한이 없습니다", "이 페이지나 기능을 사용할 권한이 없습니다. 필요한 경우 담당자에게 문의해 주세요."),
    404: ("페이지를 찾을 수 없습니다", "주소가 바뀌었거나 삭제된 페이지입니다. 주소를 다시 확인해 주세요."),
    405: ("허용되지 않는 요청입니다", "이 주소에서는 해당 방식의 요청을 처리하지 않습니다."),
    409: ("다른 변경과 충돌했습니다", "다른 사람이 먼저 내용을 바꾸었습니다. 페이지를 새로 고쳐 최신 내용을 확인해 주세요."),
    413: ("파일이 너무 큽니다", "올릴 수 있는 크기를 넘었습니다. 더 작은 파일로 다시 시도해 주세요."),
    422: ("입력 내용을 처리할 수 없습니다", "입력한 내용에 문제가 있습니다. 안내를 확인하고 다시 시도해 주세요."),
    429: ("요청이 너무 많습니다", "잠시 후 다시 시도해 주세요."),
    500: ("일시적인 오류가 발생했습니다", "요청을 처리하지 못했습니다. 입력한 내용은 저장되지 않았을 수 있으니 잠시 후 다시 시도해 주세요."),
    503: ("서비스를 잠시 사용할 수 없습니다", "점검 중이거나 일시적인 문제입니다. 잠시 후 다시 시도해 주세요."),
}


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    context = dict(code=code, title=title, message=detail or message)
    if is_htmx():
        response = current_app.make_response((render_template("errors/_fragment.html", **context), code))
        # Show the message in the page's message region instead of the target element.
        response.headers["HX-Retarget"] = "#flash-region"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        response = current_app.make_response((render_template("errors/page.html", **context), code))
    response.vary.add("HX-Request")
    return response


def handle_http_exception(error: HTTPException):
    if error.response is not None:  # abort(redirect(...)) and the like
        return error.response
    if error.code is None or error.code < 400:
        return error
    if error.code >= 500:
        db.session.rollback()
    return render_error(error.code)


def handle_csrf_error(error: CSRFError):
    return render_error(400, "보안 토큰이 없거나 만료되었습니다. 페이지를 새로 고친 뒤 다시 시도해 주세요.")


def loggable(error: Exception) -> str:
    """The error as it may be written to the log. A database error's own message carries row
    values (PostgreSQL: "Key (email)=(…) already exists"), so only its kind, constraint and SQL
    are kept; bound parameters are hidden by the engine option hide_parameters."""
    if isinstance(error, DBAPIError):
        orig = error.orig
        diag = getattr(orig, "diag", None)
        return (f"{type(error).__name__}({type(orig).__name__}) sqlstate={getattr(orig, 'sqlstate', None)} "
                f"constraint={getattr(diag, 'constraint_name', None)} statement={error.statement}")
    return f"{type(error).__name__}: {error}"


def handle_unexpected(error: Exception):
    db.session.rollback()
    frames = "".join(traceback.format_tb(error.__traceback__))
    current_app.logger.error("처리되지 않은 오류: %s\n%s", loggable(error), frames)
    return render_error(500)


def register_error_handlers(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    # Tests let unexpected exceptions propagate so a failure shows its traceback.
    if not app.testing or app.config.get("HANDLE_UNEXPECTED_IN_TESTS"):
        app.register_error_handler(Exception, handle_unexpected)
