"""Who is calling: the personal access token in the ``Authorization`` header.

Only ``Bearer`` tokens are read; cookies are ignored, so a browser session
alone opens nothing under ``/api/v1``, and no CSRF token is needed (a page
on another site cannot make a browser send the header). A missing,
malformed, unknown, revoked or expired token answers 401 with
``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

from flask import g

from planflow.errors import PlanflowError
from planflow.services.api_tokens import SCOPES
from planflow.views import ApiTokenView

from ..users import planflow


class TokenMissing(PlanflowError):
    code = "token_missing"

    def __init__(self) -> None:
        super().__init__("send a personal access token: Authorization: Bearer pft_…")


def authenticate(header: str | None) -> ApiTokenView:
    if not header:
        raise TokenMissing()
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise TokenMissing()
    return planflow().tokens.authenticate(secret.strip())


def caller() -> str:
    """The username the request acts as."""
    token: ApiTokenView = g.api_token
    return token.username


class ScopeTooNarrow(PlanflowError):
    code = "token_scope"
    http_status = 403

    def __init__(self, needed: str, scope: str) -> None:
        super().__init__(
            f"this needs a token with scope {needed!r}; this one has {scope!r}",
            params={"needed": needed, "scope": scope},
        )


def require_scope(needed: str) -> None:
    """Refuse (403, ``token_scope``) unless the request's token has ``needed`` or more."""
    token: ApiTokenView = g.api_token
    if SCOPES.index(token.scope) < SCOPES.index(needed):
        raise ScopeTooNarrow(needed, token.scope)
