"""Personal access tokens through the front door: by username, as views.

See ``services.api_tokens`` for what a token is and how it is kept. A
person makes and revokes their own tokens; an admin may revoke anyone's;
the command line (``actor=None``) may do both for anyone.
"""

from __future__ import annotations

from datetime import datetime

from planflow.facade.names import Names
from planflow.services.api_tokens import SCOPES, ApiTokens, TokenRow, admin_over
from planflow.views import ApiTokenView, NewApiToken


def token_view(row: TokenRow) -> ApiTokenView:
    return ApiTokenView(
        id=row.id,
        username=row.username,
        name=row.name,
        prefix=row.prefix,
        scope=row.scope,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class TokensAPI:
    def __init__(self, tokens: ApiTokens, names: Names) -> None:
        self.service = tokens
        self.names = names

    def create(
        self,
        username: str,
        *,
        scope: str = "read",
        name: str = "API token",
        expires_at: datetime | None = None,
        actor: str | None = None,
    ) -> NewApiToken:
        """A new token for ``username``; keep ``secret``: it is not shown again.

        ``actor``: who makes it (the user on their token page), on the
        organisation's audit trail; None: the command line.
        """
        actor_id = self.names.user_id(actor) if actor is not None else None
        row, secret = self.service.create(
            self.names.user_id(username),
            name=name,
            scope=scope,
            expires_at=expires_at,
            actor_id=actor_id,
        )
        return NewApiToken(token_view(row), secret)

    def scopes_for(self, username: str) -> tuple[str, ...]:
        """The scopes worth offering ``username``: ``admin`` only to a holder of the admin role.

        A token never gives more than its user has, so an admin scope for
        someone who administers nothing would be a promise it cannot keep.
        """
        user_id, org = self.names.user_id(username), self.names.current()
        administers = any(
            role == "admin" and user_id in holders
            for (_unit, role), holders in org.holders_by_unit_role.items()
        )
        return SCOPES if administers else tuple(s for s in SCOPES if s != "admin")

    def of_user(self, username: str) -> list[ApiTokenView]:
        """``username``'s tokens, newest first (revoked and expired ones too)."""
        return [token_view(r) for r in self.service.of_user(self.names.user_id(username))]

    def revoke(self, token_id: int, *, actor: str | None) -> ApiTokenView:
        """Revoke a token (its owner, an admin, or ``None``: the command line)."""
        if actor is None:
            return token_view(self.service.revoke(token_id, may_revoke=lambda _owner: True))
        actor_id, org = self.names.user_id(actor), self.names.current()

        def may_revoke(owner: int) -> bool:
            return owner == actor_id or admin_over(org, actor_id, owner)

        return token_view(self.service.revoke(token_id, may_revoke=may_revoke, actor_id=actor_id))

    def authenticate(self, secret: str) -> ApiTokenView:
        """The token whose secret this is, if usable now; else ``TokenRefused``."""
        return token_view(self.service.authenticate(secret))
