"""Error pages, and library errors turned into words and HTTP statuses.

Views catch the errors they can explain in place (a stale plan, a refused
action, a bad form) and re-render their page with the user's input kept;
whatever escapes reaches the handlers here, which show a short page in the
user's language. No page ever shows a traceback; unexpected errors are
logged and answered with a plain 500 page that needs no database.

When the database cannot be used (``DatabaseUnavailable``, or a driver's
error that ``planflow.storage.db_errors.unavailable`` recognises: a server that is
down, restarting or refusing us, a SQLite file that is locked or unreadable)
every page answers 503 with ``Retry-After``: the database is unavailable,
nothing was saved, try again. The page needs no database either (not even
for the user's language: it takes what is known without one), and after a
form it shows what the user typed, so that it can be copied and is not lost.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, make_response, render_template, request, session
from flask_babel import force_locale, gettext  # type: ignore[import-untyped]
from flask_wtf.csrf import CSRFError  # type: ignore[import-untyped]
from werkzeug.exceptions import HTTPException, InternalServerError
from wtforms.fields.core import UnboundField  # type: ignore[import-untyped]

from planflow.errors import (
    DatabaseNotInitialised,
    DatabaseUnavailable,
    NotFound,
    PermissionDenied,
    PlanflowError,
    StaleVersion,
    ValidationError,
)
from planflow.storage.db_errors import DATABASE_ERRORS, unavailable

from .codes import blocked_intro, error_text, refusal_text
from .i18n import HTML_LANG, LANGUAGES

#: Seconds a client is asked to wait before it tries again when the database is unavailable.
RETRY_AFTER = 30
#: Form fields never shown back: secrets, and the page's own bookkeeping.
_NOT_SHOWN = ("csrf", "password", "secret", "token")
_BOOKKEEPING = ("expected", "next")


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
    if isinstance(error, DatabaseUnavailable | DatabaseNotInitialised):
        return 503
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


def _language_without_database() -> str:
    """The reader's language from what this request knows without asking the database:
    the signed-in user if they were loaded already, the choice kept in the session,
    the browser's preference."""
    user = g.get("_login_user")  # Flask-Login's: set only once the user was loaded
    language = getattr(user, "language", None)
    if language not in LANGUAGES:
        language = session.get("language")
    if language not in LANGUAGES:
        language = request.accept_languages.best_match(LANGUAGES) or "en"
    return str(language)


def typed_values() -> tuple[list[tuple[str, str]], list[str]]:
    """What the user typed into the form this request sent (field name, text), and
    the names of the files it carried; neither secrets nor the page's bookkeeping."""
    if request.method != "POST":
        return [], []
    try:
        fields = list(request.form.items(multi=True))
        files = [f.filename for f in request.files.values() if f.filename]
    except Exception:  # a body that cannot be read again: there is nothing to show
        return [], []
    shown = []
    for name, value in fields:
        lowered = name.lower()
        if any(word in lowered for word in _NOT_SHOWN) or lowered.startswith(_BOOKKEEPING):
            continue
        if value.strip():
            shown.append((name, value))
    return shown, files


def field_label(name: str) -> str:
    """The label the UI's forms give a field named ``name``, where they agree on one
    (in the current language); the name itself otherwise."""
    from .forms import PlanflowForm

    found: set[str] = set()
    stack: list[type] = list(PlanflowForm.__subclasses__())
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        unbound = form.__dict__.get(name)
        if isinstance(unbound, UnboundField):
            label = unbound.kwargs.get("label", unbound.args[0] if unbound.args else None)
            if label:
                found.add(str(label))
    return found.pop() if len(found) == 1 else name


def unavailable_page(error: DatabaseUnavailable | DatabaseNotInitialised) -> Response:
    """503 with ``Retry-After``: the database is unavailable, or has no planflow tables
    yet (nobody ran ``planflow init`` on it); what was typed, shown back.

    Rendered straight from the template, past the context processors (the
    layout's unread count and menu ask the database).
    """
    current_app.logger.warning(
        "database cannot be used on %s %s: %s", request.method, request.path, error
    )
    language = _language_without_database()
    typed, files = typed_values()
    g.pop("planflow_translations", None)  # the catalogue of this language, not a cached one
    with force_locale(language):
        template = current_app.jinja_env.get_template("errors/503.html")
        context: dict[str, Any] = {
            "html_lang": HTML_LANG.get(language, "en"),
            # Nobody set the database up: trying again is not what helps.
            "title": (
                gettext("The database is not set up yet")
                if isinstance(error, DatabaseNotInitialised)
                else gettext("The database is unavailable")
            ),
            "message": describe(error),
            "typed": [(field_label(name), value) for name, value in typed],
            "files": files,
            "again": request.full_path.rstrip("?") if request.method == "GET" else None,
        }
        html = template.render(**context)
    g.pop("planflow_translations", None)
    response = make_response(html, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


#: ``app.extensions`` key of the HTTP API's error answer (``webui.api.errors``): called
#: with the status and the error, it returns problem details for an API request, else None.
API_ANSWER = "planflow.api_answer"


def _api_answer(status: int, error: Exception | None = None) -> Response | None:
    answer = current_app.extensions.get(API_ANSWER)
    return answer(status, error) if answer is not None else None


def init_app(app: Flask) -> None:
    # Pages show a refusal (an action's ``blocked_by``) in the reader's words.
    app.jinja_env.globals["refusal_text"] = refusal_text
    app.jinja_env.globals["blocked_intro"] = blocked_intro

    @app.errorhandler(PlanflowError)
    def _planflow_error(error: PlanflowError) -> tuple[str, int] | Response:
        api = _api_answer(status_of(error), error)
        if api is not None:
            return api
        if isinstance(error, DatabaseUnavailable | DatabaseNotInitialised):
            return unavailable_page(error)
        return error_page(status_of(error), describe(error))

    @app.after_request
    def _retry_after(response: Response) -> Response:
        # A view that kept the form on the page after ``DatabaseUnavailable``
        # answers 503 too (``status_of``): say when to try again there as well.
        if response.status_code == 503:
            response.headers.setdefault("Retry-After", str(RETRY_AFTER))
        return response

    def _driver_error(error: Exception) -> tuple[str, int] | Response:
        found = unavailable(error)
        if found is not None:
            return _api_answer(503, found) or unavailable_page(found)
        return _server_error(error)

    for kind in DATABASE_ERRORS:
        app.register_error_handler(kind, _driver_error)

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
    def _http_error(error: HTTPException) -> tuple[str, int] | Response:
        code = error.code or 500
        if code >= 500:
            return _server_error(error)
        return _api_answer(code, error) or error_page(code)

    @app.errorhandler(InternalServerError)
    def _server_error(error: Exception) -> tuple[str, int] | Response:
        current_app.logger.error(
            "unhandled error", exc_info=getattr(error, "original_exception", error)
        )
        api = _api_answer(500)
        if api is not None:
            return api
        # A stand-alone page, past the context processors: the database may be what failed.
        return current_app.jinja_env.get_template("errors/500.html").render(), 500
