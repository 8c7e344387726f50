"""The HTTP API under ``/api/v1``: JSON for other systems, thin over the library.

Authentication is a personal access token only (``Authorization: Bearer
pft_…``, ``planflow tokens create``): no cookies, no CSRF, and a browser's
session cookie alone opens nothing here. Each token acts as its user, with
the same visibility, permissions and guards as the web UI, because every
endpoint calls the same library functions; a plan the user may not see
answers exactly like one that does not exist.

Every error is RFC 9457 problem details (``application/problem+json``) with
the library's stable refusal ``code`` and ``params`` (``errors``), never an
HTML page or a 500. The OpenAPI 3.1 document is generated from the
endpoints' pydantic models by spectree (``/api/v1/openapi.json``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

from planflow.errors import PlanflowError
from planflow.services.api_limits import ApiLimits

from ..errors import status_of
from . import (
    admin,
    delegations,
    documents,
    handover,
    inbox,
    inspections,
    plans,
    records,
    reviews,
    webhooks,
)
from .errors import (
    BodyBroken,
    BodyNotJson,
    InvalidRequest,
    answer_for_the_api,
    init_errors,
    problem,
)
from .spec import TAKE_NO_QUERY

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


@bp.url_value_preprocessor
def _room_for_a_document(endpoint: str | None, _values: object) -> None:
    # Before the body is read: a plan document may be larger than any JSON body.
    if endpoint == documents.IMPORT_ENDPOINT:
        request.max_content_length = documents.MAX_IMPORT_REQUEST


@bp.before_request
def _authenticate() -> Response | None:
    from .auth import authenticate

    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    try:
        g.api_token = authenticate(request.headers.get("Authorization"))
    except PlanflowError as error:
        if status_of(error) == 503:  # the database, not the token: said as such
            raise
        return problem(error, status=401)
    # Counted after authentication: a guesser without a token spends nobody's limit.
    current_app.extensions[LIMITS].take(g.api_token.id)
    return None


#: Endpoints open without a token: the API's own description.
PUBLIC_ENDPOINTS = frozenset({"api.openapi", "api.docs"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


@bp.before_request
def _json_body() -> Response | None:
    """A body, where one is sent, must be JSON: a form or a file is refused, not guessed at."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
        return None
    if request.endpoint == documents.IMPORT_ENDPOINT and request.mimetype == "multipart/form-data":
        refused = documents.multipart_refusal()  # a plan document is sent as a file part
        return problem(refused) if refused is not None else None
    if not request.is_json or request.mimetype in _FORMS:
        return problem(BodyNotJson())
    sent = request.get_json(silent=True)
    if sent is None:
        return problem(BodyBroken())
    if not isinstance(sent, dict):
        # Every body is an object. One that is false ([], 0, "") reached the endpoint
        # as no body at all (spectree validates only a true one), and was answered so.
        message = "Input should be an object"  # pydantic's, worded by its code
        found: list[dict[str, Any]] = [{"field": "body", "message": message, "code": "model_type"}]
        return problem(InvalidRequest(found))
    return None


@bp.before_request
def _no_stray_query() -> Response | None:
    """A query parameter sent where the endpoint takes none: refused as an unknown field;
    one sent twice, where no parameter takes a list: refused as such, not as "not text"."""
    if not request.args or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view in TAKE_NO_QUERY:
        stray = sorted(set(request.args))
        message = "Extra inputs are not permitted"  # pydantic's, worded by its code
        unknown: list[dict[str, Any]] = [
            {"field": n, "message": message, "code": "extra_forbidden"} for n in stray
        ]
        return problem(InvalidRequest(unknown))
    twice = {n: len(v) for n, v in request.args.lists() if len(v) > 1}
    if twice:
        found = [
            {"field": n, "message": f"send {n} once, not {count} times", "code": "repeated"}
            | {"params": {"count": count}}
            for n, count in sorted(twice.items())
        ]
        return problem(InvalidRequest(found))
    return None


plans.register(bp)
documents.register(bp)
reviews.register(bp)
handover.register(bp)
delegations.register(bp)
records.register(bp)
inbox.register(bp)
inspections.register(bp)
admin.register(bp)
webhooks.register(bp)
init_errors(bp)


#: ``app.extensions`` key of the per-token request limits.
LIMITS = "planflow.api_limits"


def init_app(app: Flask) -> None:
    pf = app.extensions["planflow"]
    app.extensions[LIMITS] = ApiLimits(pf.db, pf.clock, app.config["API_REQUESTS_PER_MINUTE"])
    app.register_blueprint(bp)
    answer_for_the_api(app, is_api_request)


__all__ = ["PREFIX", "bp", "init_app", "is_api_request"]
