"""Calendar-feed tokens: the secret in a feed's address, kept hashed like API tokens.

A calendar app fetches a feed by a URL without a header or cookie, so the
secret is in the address (``/feeds/pfc_….ics``). Whoever has the address
reads that one feed and nothing else: the secret has its own prefix and its
own table, so it is never an API token, and it opens no page or action.

A token is the user's own feed (``unit_id`` None) or a unit's: the plans of
that unit, read with the user's visibility, so a feed never shows more than
its owner may see now (roles lost since it was made narrow it at once).
Only the SHA-256 of the secret is kept (``api_tokens`` says why a fast hash
is right for 256 random bits). A revoked token, or one whose user was
deactivated, opens nothing: the feed answers as if it did not exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from planflow.clock import Clock
from planflow.errors import NotFound
from planflow.services.api_tokens import SHOWN, token_hash
from planflow.storage.db import Database
from planflow.storage.tables import FeedToken, User

feed_t = FeedToken.__table__  # type: ignore[attr-defined]
user_t = User.__table__  # type: ignore[attr-defined]

PREFIX = "pfc_"


@dataclass(frozen=True)
class FeedTokenRow:
    """A feed token as stored (no secret)."""

    id: int
    user_id: int
    unit_id: int | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    #: The owner's language (``resolve`` only): the feed's texts are in it.
    language: str = "en"


_COLUMNS = (
    feed_t.c.id,
    feed_t.c.user_id,
    feed_t.c.unit_id,
    feed_t.c.prefix,
    feed_t.c.created_at,
    feed_t.c.revoked_at,
)


class FeedTokens:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def create(self, user_id: int, unit_id: int | None) -> tuple[FeedTokenRow, str]:
        """A new feed address for ``user_id`` (of ``unit_id``'s plans, or their own).

        The caller has checked that the user may see the unit's plans.
        """
        secret = PREFIX + secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.db.write() as conn:
            token_id = conn.execute(
                insert(feed_t)
                .values(
                    user_id=user_id,
                    unit_id=unit_id,
                    token_hash=token_hash(secret),
                    prefix=secret[: len(PREFIX) + SHOWN],
                    created_at=now,
                )
                .returning(feed_t.c.id)
            ).scalar_one()
            row = conn.execute(select(*_COLUMNS).where(feed_t.c.id == token_id)).one()
        return FeedTokenRow(*row), secret

    def resolve(self, secret: str) -> FeedTokenRow:
        """The open feed token whose secret this is; anything else is ``NotFound``."""
        if not secret.startswith(PREFIX) or len(secret) > 100:
            raise NotFound("feed", 0)
        with self.db.read() as conn:
            found = conn.execute(
                select(*_COLUMNS, user_t.c.language, user_t.c.active)
                .join(user_t, user_t.c.id == feed_t.c.user_id)
                .where(feed_t.c.token_hash == token_hash(secret))
            ).one_or_none()
        if found is None or found.revoked_at is not None or not found.active:
            raise NotFound("feed", 0)
        return FeedTokenRow(*found[:-1])

    def of_user(self, user_id: int) -> list[FeedTokenRow]:
        """The user's feed tokens, newest first, revoked ones too."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(*_COLUMNS).where(feed_t.c.user_id == user_id).order_by(feed_t.c.id.desc())
            ).all()
        return [FeedTokenRow(*r) for r in rows]

    def revoke(self, token_id: int, *, may_revoke: Callable[[int], bool]) -> FeedTokenRow:
        """Revoke a feed token if ``may_revoke(owner's user id)``; else ``NotFound``."""
        now = self.clock.now()
        with self.db.write() as conn:
            found = conn.execute(select(*_COLUMNS).where(feed_t.c.id == token_id)).one_or_none()
            if found is None or not may_revoke(found.user_id):
                raise NotFound("feed", token_id)
            conn.execute(
                update(feed_t)
                .where(feed_t.c.id == token_id, feed_t.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            row = conn.execute(select(*_COLUMNS).where(feed_t.c.id == token_id)).one()
        return FeedTokenRow(*row)


__all__ = ["PREFIX", "FeedTokenRow", "FeedTokens"]
