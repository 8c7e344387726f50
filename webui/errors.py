"""Error pages, and library errors turned into words and HTTP statuses.

Views catch the errors they can explain in place (a stale plan, a refused
action, a bad form) and re-render their page with the user's input kept;
whatever escapes reaches the handlers here, which show a short page in the
user's language. No page ever shows a traceback; unexpected errors are
logged and answered with a plain 500 page that needs no database.
"""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_wtf.csrf import CSRFError  # type: ignore[import-untyped]
from werkzeug.exceptions import HTTPException, InternalServerError

from planflow.errors import (
    NotFound,
    PermissionDenied,
    PlanflowError,
    StaleVersion,
    ValidationError,
)

from .codes import error_text, refusal_text


def describe(error: PlanflowError) -> str:
    """A library error as one or two sentences in the user's language, by its code."""
    text = error_text(error)
    if text is not None:
        return text
    if isinstance(error, ValidationError):
        # A code this catalogue does not know: the library's own explanation,
        # which names the field and the limit.
        return str(error)
    return str(gettext("The request could not be carried out."))


def status_of(error: PlanflowError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, StaleVersion):
        return 409
    return 422


def _http_title(code: int) -> str:
    # Literal gettext calls so that extraction finds every title.
    titles = {
        400: gettext("The request could not be understood."),
        403: gettext("You do not have access to this page."),
        404: gettext("Page not found."),
        405: gettext("This address does not accept that kind of request."),
        409: gettext("Someone else changed this first."),
        413: gettext("What you sent is too large."),
        422: gettext("The request could not be carried out."),
        429: gettext("Too many attempts. Please wait a little and try again."),
    }
    return str(titles.get(code, gettext("Something went wrong.")))


def error_page(code: int, message: str | None = None) -> tuple[str, int]:
    return render_template(
        "errors/error.html", code=code, title=_http_title(code), message=message
    ), code


def init_app(app: Flask) -> None:
    # Pages show a refusal (an action's ``blocked_by``) in the reader's words.
    app.jinja_env.globals["refusal_text"] = refusal_text

    @app.errorhandler(PlanflowError)
    def _planflow_error(error: PlanflowError) -> tuple[str, int]:
        return error_page(status_of(error), describe(error))

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int]:
        return error_page(
            400,
            gettext(
                "This form has expired or was not sent from this site. "
                "Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        if code >= 500:
            return _server_error(error)
        return error_page(code)

    @app.errorhandler(InternalServerError)
    def _server_error(error: Exception) -> tuple[str, int]:
        current_app.logger.error(
            "unhandled error", exc_info=getattr(error, "original_exception", error)
        )
        # A stand-alone page: the database may be what failed.
        return render_template("errors/500.html"), 500
