"""Personal access tokens: how a program acts as a person through the HTTP API.

A token belongs to one user and carries a scope: ``read`` (look), ``write``
(also act: fire actions, edit, comment) or ``admin`` (also the
organisation's administration, where the user is an admin). Each scope
includes the ones before it, and a token never gives more than its user
has: the same visibility, permissions and guards apply as in the web UI.

The secret (``pft_`` and 43 URL-safe characters, 256 random bits) is shown
once, when the token is made. Only its SHA-256 is kept: a fast hash is
right here, unlike for passwords, because nobody can guess 256 random bits,
so there is nothing for a slow hash to slow down; and a lookup by hash is
one indexed SELECT per request. An expired or revoked token, or one whose
user was deactivated, authenticates nobody.

``last_used_at`` is written at most once a minute per token, so that a busy
client does not turn every read into a write.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, insert, select, update

from planflow.clock import Clock
from planflow.core.org import OrgSnapshot
from planflow.core.text import clean_text
from planflow.errors import NotFound, PlanflowError, ValidationError
from planflow.storage import org_audit
from planflow.storage.db import Database
from planflow.storage.db_errors import DATABASE_ERRORS, unavailable
from planflow.storage.tables import ApiToken, User

token_t = ApiToken.__table__  # type: ignore[attr-defined]
user_t = User.__table__  # type: ignore[attr-defined]

#: Scopes, each including the ones before it.
SCOPES = ("read", "write", "admin")
PREFIX = "pft_"
#: How many characters of the secret a list shows (with ``PREFIX``).
SHOWN = 8
MAX_NAME = 100
#: The longest life a token may be given.
MAX_LIFETIME = timedelta(days=366 * 5)
log = logging.getLogger(__name__)
#: ``last_used_at`` is written at most this often.
TOUCH_EVERY = timedelta(minutes=1)


class TokenRefused(PlanflowError):
    """A request's token authenticates nobody: unknown, revoked, expired or its user inactive.

    The message does not say which of unknown and revoked: the holder of a
    revoked token learns no more than a guesser. An expired token says so,
    because its holder then knows what to do.
    """

    code = "token_invalid"

    def __init__(self, *, expired: bool = False) -> None:
        if expired:
            super().__init__("the API token has expired", code="token_expired")
        else:
            super().__init__("the API token is not valid (unknown or revoked)")


@dataclass(frozen=True)
class TokenRow:
    """A token as stored (no secret)."""

    id: int
    user_id: int
    username: str
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def allows(self, needed: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(needed)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise ValidationError(
            f"a token's scope is one of {', '.join(SCOPES)}, not {scope[:20]!r}",
            code="token_scope_invalid",
            params={"scope": scope[:20], "allowed": list(SCOPES)},
        )
    return scope


_COLUMNS = (
    token_t.c.id,
    token_t.c.user_id,
    user_t.c.username,
    token_t.c.name,
    token_t.c.prefix,
    token_t.c.scope,
    token_t.c.created_at,
    token_t.c.expires_at,
    token_t.c.last_used_at,
    token_t.c.revoked_at,
)


def _query() -> Select[Any]:
    return select(*_COLUMNS).join(user_t, user_t.c.id == token_t.c.user_id)


class ApiTokens:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def create(
        self,
        user_id: int,
        *,
        name: str,
        scope: str,
        expires_at: datetime | None,
        actor_id: int | None = None,
    ) -> tuple[TokenRow, str]:
        """A new token for ``user_id``: its row and its secret (shown once, never again).

        On the organisation's audit trail, by ``actor_id`` (None: the command line).
        """
        now = self.clock.now()
        name = clean_text(name, field="name", max_length=MAX_NAME)
        if not name:
            raise ValidationError(
                f"a token needs a name of 1-{MAX_NAME} characters",
                code="token_name_required",
                params={"max": MAX_NAME},
            )
        check_scope(scope)
        if expires_at is not None and not now < expires_at <= now + MAX_LIFETIME:
            raise ValidationError(
                "a token expires after now and within five years",
                code="token_expiry_invalid",
                params={"max_days": MAX_LIFETIME.days},
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        with self.db.write() as conn:
            active = conn.execute(
                select(user_t.c.active).where(user_t.c.id == user_id)
            ).scalar_one_or_none()
            if active is None:
                raise NotFound("user", user_id)
            if not active:
                raise ValidationError(
                    "an inactive user cannot be given a token", code="token_user_inactive"
                )
            token_id = conn.execute(
                insert(token_t)
                .values(
                    user_id=user_id,
                    name=name,
                    token_hash=token_hash(secret),
                    prefix=secret[: len(PREFIX) + SHOWN],
                    scope=scope,
                    created_at=now,
                    expires_at=expires_at,
                )
                .returning(token_t.c.id)
            ).scalar_one()
            row = TokenRow(*conn.execute(_query().where(token_t.c.id == token_id)).one())
            org_audit.record_in(
                conn,
                actor_id,
                now,
                "token_created",
                token=row.id,
                user=row.username,
                name=row.name,
                scope=row.scope,
                expires_at=expires_at.isoformat() if expires_at else None,
            )
        return row, secret

    def authenticate(self, secret: str) -> TokenRow:
        """The token whose secret this is, if it may be used now; else ``TokenRefused``."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            raise TokenRefused()
        now = self.clock.now()
        with self.db.read() as conn:
            found = conn.execute(
                _query()
                .add_columns(user_t.c.active)
                .where(token_t.c.token_hash == token_hash(secret))
            ).one_or_none()
        if found is None:
            raise TokenRefused()
        row, active = TokenRow(*found[:-1]), found[-1]
        if row.revoked_at is not None or not active:
            raise TokenRefused()
        if row.expires_at is not None and row.expires_at <= now:
            raise TokenRefused(expired=True)
        if row.last_used_at is None or row.last_used_at <= now - TOUCH_EVERY:
            try:
                with self.db.write() as conn:
                    conn.execute(
                        update(token_t).where(token_t.c.id == row.id).values(last_used_at=now)
                    )
            except DATABASE_ERRORS as exc:
                # Bookkeeping, not the caller's request: the token was found valid, and
                # the next use within TOUCH_EVERY writes the time (a lost connection,
                # a restart must not turn a read into a 503).
                if unavailable(exc) is None:
                    raise
                log.warning("token %s: last use not recorded (%s)", row.id, exc)
        return row

    def of_user(self, user_id: int) -> list[TokenRow]:
        """The user's tokens, newest first, revoked ones too."""
        with self.db.read() as conn:
            rows = conn.execute(
                _query().where(token_t.c.user_id == user_id).order_by(token_t.c.id.desc())
            ).all()
        return [TokenRow(*r) for r in rows]

    def revoke(
        self,
        token_id: int,
        *,
        may_revoke: Callable[[int], bool],
        actor_id: int | None = None,
    ) -> TokenRow:
        """Revoke a token if ``may_revoke(owner's user id)``; someone else's is ``NotFound``.

        On the organisation's audit trail, by ``actor_id`` (None: the command line).
        """
        now = self.clock.now()
        with self.db.write() as conn:
            found = conn.execute(_query().where(token_t.c.id == token_id)).one_or_none()
            if found is None or not may_revoke(found.user_id):
                # Someone else's token answers as if it did not exist.
                raise NotFound("token", token_id)
            row = TokenRow(*found)
            if row.revoked_at is None:
                conn.execute(
                    update(token_t)
                    .where(token_t.c.id == token_id, token_t.c.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
                row = TokenRow(*conn.execute(_query().where(token_t.c.id == token_id)).one())
                org_audit.record_in(
                    conn,
                    actor_id,
                    now,
                    "token_revoked",
                    token=row.id,
                    user=row.username,
                    name=row.name,
                )
        return row


def admin_over(org: OrgSnapshot, actor_id: int, user_id: int) -> bool:
    """Does ``actor_id`` hold the admin role at or above a unit where ``user_id`` has a role?"""
    admin_units = {
        u for (u, role), h in org.holders_by_unit_role.items() if role == "admin" and actor_id in h
    }
    return any(
        unit in admin_units or admin_units.intersection(org.ancestors(unit))
        for (unit, _role), holders in org.holders_by_unit_role.items()
        if user_id in holders
    )


__all__ = ["SCOPES", "ApiTokens", "TokenRefused", "TokenRow", "admin_over", "check_scope"]
