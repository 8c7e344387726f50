"""Problem details (RFC 9457) for every error under ``/api/v1``.

A library refusal keeps its stable ``code`` and ``params`` (docs/codes.md);
``detail`` words it in the reader's language (``Accept-Language``), the
same catalogue as the web pages. HTTP errors (404 for an unknown address,
405, 413 …) and request validation failures take the same shape, so a
client has one error format to read. A 500 is never a traceback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask_babel import lazy_gettext  # type: ignore[import-untyped]
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from planflow.core.korean import attach_particles
from planflow.errors import DatabaseUnavailable, PlanflowError, StaleVersion
from planflow.services.api_limits import RateLimited
from planflow.storage.db_errors import unavailable

from .. import errors as web_errors
from ..codes.words import worded
from ..i18n import current_language
from ..users import planflow
from .field_words import CHOICES, PARAMS, REFUSALS, field_message

MEDIA_TYPE = "application/problem+json"
#: Problem types are URNs: stable names that do not pretend to be pages.
TYPE_PREFIX = "urn:planflow:problem:"

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "database_unavailable",
}
_TITLES = {
    400: lazy_gettext("Bad request"),
    401: lazy_gettext("Unauthorized"),
    403: lazy_gettext("Forbidden"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Method not allowed"),
    409: lazy_gettext("Conflict"),
    413: lazy_gettext("Content too large"),
    415: lazy_gettext("Unsupported media type"),
    422: lazy_gettext("Unprocessable content"),
    429: lazy_gettext("Too many requests"),
    500: lazy_gettext("Internal error"),
    503: lazy_gettext("Service unavailable"),
}
_ERROR = lazy_gettext("Error")


class InvalidRequest(PlanflowError):
    """A request whose query or body does not fit the endpoint's schema (400/422)."""

    code = "invalid_request"

    def __init__(self, errors: list[dict[str, Any]], *, status: int = 422) -> None:
        names = ", ".join(e["field"] for e in errors) or "the request"
        super().__init__(f"the request does not fit: {names}", params={"fields": names})
        self.errors = errors
        self.http_status = status

    @classmethod
    def from_pydantic(cls, error: Any) -> InvalidRequest:
        found = []
        for e in error.errors(include_url=False, include_input=False):
            where = ".".join(str(part) for part in e.get("loc", ())) or "body"
            context = e.get("ctx") or {}
            params = {k: _plain(context[k]) for k in PARAMS if k in context}
            allowed = _choices(context.get("expected")) if e["type"] in CHOICES else []
            if allowed:
                params["allowed"] = allowed
            entry: dict[str, Any] = {"field": where, "message": str(e.get("msg", ""))}
            found.append(entry | {"code": e["type"]} | ({"params": params} if params else {}))
        return cls(found)


class NoSuchAddress(PlanflowError):
    """An address under ``/api/v1`` that matches no endpoint (404)."""

    code = "not_found"
    http_status = 404

    def __init__(self, path: str) -> None:
        super().__init__(
            f"the API has no address {path}; see /api/v1/docs",
            params={"kind": "address", "ident": path},
        )


class BodyTooLarge(PlanflowError):
    """A body over what the address takes (413): ``max_bytes``."""

    code = "too_large"
    http_status = 413

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            f"the body is larger than this address takes ({max_bytes} bytes)",
            params={"max_bytes": max_bytes},
        )


class MethodRefused(PlanflowError):
    """A method the address does not take (405); ``allowed`` are those it does."""

    code = "method_not_allowed"
    http_status = 405

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(
            f"this address takes only {', '.join(allowed)}", params={"allowed": allowed}
        )


def http_refusal(error: HTTPException | None, status: int) -> PlanflowError | None:
    """The refusal an HTTP error of the API's routing stands for, if it says more
    than its status: which methods an address takes, where the addresses are."""
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        return MethodRefused(sorted(error.valid_methods))
    if status == 404:
        return NoSuchAddress(request.path)
    if status == 413 and request.max_content_length:
        return BodyTooLarge(request.max_content_length)
    return None


#: RFC 9110 §11.6.1 and RFC 6750 §3: a 401 names the scheme it wants, and a token it
#: could not use as such (``error="invalid_token"``).
_CHALLENGE = 'Bearer realm="planflow"'
_BAD_TOKEN = ("token_invalid", "token_expired")


class BodyNotJson(PlanflowError):
    code = "json_required"
    http_status = 415

    def __init__(self) -> None:
        super().__init__("send the body as application/json")


class BodyBroken(PlanflowError):
    code = "json_invalid"
    http_status = 400

    def __init__(self) -> None:
        super().__init__("the body is not valid JSON")


_SAFE_TEXT = re.compile(r"[\x00-\x1f\x7f]")
#: A choice in pydantic's ``expected`` ("'year', 'recent' or 'id'"): a string's repr.
_CHOICE = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _choices(expected: Any) -> list[str]:
    """The values of a choice pydantic lists in English ("'a', 'b' or 'c'"), one by one,
    so that the answer words the list in the reader's language; [] if not all strings."""
    if not isinstance(expected, str):
        return []
    found = _CHOICE.findall(expected)
    rest = _CHOICE.sub("", expected).replace(",", "").replace(" or ", "").strip()
    return found if found and not rest else []


def _plain(value: Any) -> Any:
    """A pydantic context value as JSON can carry it (a number stays a number)."""
    return value if isinstance(value, int | float | str | bool) else str(value)


def _for_a_program(error: PlanflowError) -> str | None:
    """The API's own words for ``error`` (``field_words.REFUSALS``), if it has them."""
    return worded(REFUSALS, error.code, error.params)


def _worded(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each field problem with its message in the request's language (by its code)."""
    worded = []
    for e in errors:
        params = e.get("params", {})
        message = _fitted(field_message(e["code"], params, e["message"]))
        worded.append(e | {"message": message, "params": params})  # params always: {} if none
    return worded


def _fitted(text: str) -> str:
    """Korean particles fitted to the words filled in, as on the pages (``webui.i18n``)."""
    return attach_particles(text) if current_language() == "ko" else text


def problem(
    error: PlanflowError | None = None,
    *,
    status: int | None = None,
    code: str | None = None,
    detail: str | None = None,
) -> Response:
    """A problem+json response for ``error`` (or a bare HTTP ``status``)."""
    if error is not None:
        status = status or getattr(error, "http_status", None) or web_errors.status_of(error)
        code = code or error.code
        detail = detail or _for_a_program(error) or web_errors.describe(error)
    status = status or 500
    code = code or _HTTP_CODES.get(status, "error")
    response_headers: dict[str, str] = {}
    if status == 401:
        bad = ', error="invalid_token"' if code in _BAD_TOKEN else ""
        response_headers["WWW-Authenticate"] = _CHALLENGE + bad
    if isinstance(error, MethodRefused):
        response_headers["Allow"] = ", ".join(error.params["allowed"])
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": str(_TITLES.get(status, _ERROR)),
        "status": status,
        "detail": _SAFE_TEXT.sub(" ", _fitted(detail or str(_TITLES.get(status, _ERROR)))),
        "code": code,
        "params": dict(error.params) if error is not None else {},
        "errors": _worded(getattr(error, "errors", [])),
    }
    if isinstance(error, StaleVersion):
        body["current_version"] = error.current
    if isinstance(error, RateLimited):
        wait = (error.retry_at - planflow().clock.now()).total_seconds()
        response_headers["Retry-After"] = str(max(1, math.ceil(wait)))
    response = jsonify(body)
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    response.headers.update(response_headers)
    if status == 503 or isinstance(error, DatabaseUnavailable):
        # As the pages do (``webui.errors.unavailable_page``): the operator sees each one.
        current_app.logger.warning(
            "database unavailable on %s %s: %s", request.method, request.path, error
        )
        response.headers["Retry-After"] = str(web_errors.RETRY_AFTER)
    return response


def init_errors(bp: Blueprint) -> None:
    @bp.errorhandler(PlanflowError)
    def _refused(error: PlanflowError) -> Response:
        return problem(error)

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        return problem(http_refusal(error, status), status=status)

    @bp.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        found = unavailable(error)
        if found is not None:
            return problem(found)
        current_app.logger.error("unhandled API error", exc_info=error)
        return problem(status=500, detail="Something went wrong; nothing more is known.")


def answer_for_the_api(app: Flask, is_api: Callable[[], bool]) -> None:
    # Errors outside the blueprint's views (an address under /api/v1 that matches
    # no endpoint, a failure in a before_request hook) reach the application's
    # handlers; they ask this first (webui.errors.API_ANSWER).
    def answer(status: int, error: Exception | None) -> Response | None:
        if not is_api():
            return None
        if isinstance(error, PlanflowError):
            return problem(error)
        refused = http_refusal(error if isinstance(error, HTTPException) else None, status)
        return problem(refused, status=status)

    app.extensions[web_errors.API_ANSWER] = answer
