"""Who gets a notification's e-mail, and how: the routing rules of the outbox.

Owns reading recipients (and actors, for "who did it") from ``app_user`` and
the one decision per recipient — send now, keep for the daily digest, or
skip — plus the small conversions of raw rows both senders share.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from typing import Any, Literal

from planflow.integrations.mail import sql
from planflow.integrations.mail.settings import parse_address
from planflow.storage.tx import Tx

log = logging.getLogger("planflow.integrations.mail")

Route = Literal["send", "digest", "skipped"]


@dataclass(frozen=True)
class Recipient:
    id: int
    email: str
    language: str
    active: bool
    preference: str
    name: str

    @property
    def address(self) -> Address | None:
        parsed = parse_address(self.email) if self.email else None
        if parsed is None:
            return None
        # Only the address from the e-mail column; the name from display_name.
        return Address(display_name=self.name, username=parsed.username, domain=parsed.domain)


def load_users(tx: Tx, ids: set[int]) -> dict[int, Recipient]:
    found: dict[int, Recipient] = {}
    ordered = sorted(ids)
    # Chunks keep far below SQLite's bound-parameter limit.
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for uid, email, language, active, preference, name in tx.all(
            sql.user_query(len(chunk)), sql.numbered("u", chunk)
        ):
            found[int(uid)] = Recipient(
                int(uid), email or "", language or "en", bool(active), preference or "", name or ""
            )
    return found


def route(user: Recipient | None, what: str) -> Route:
    """Send now, keep for the digest, or skip (saying in the log why ``what`` is skipped)."""
    if user is None:
        reason = "the user no longer exists"
    elif not user.active:
        reason = "the user is inactive"
    elif user.preference == "off":
        reason = "the user switched e-mail off"
    elif user.address is None:
        reason = f"the user's address {user.email!r} is missing or not valid"
    elif user.preference == "digest":
        return "digest"
    else:
        # "immediately", and anything unknown: sending is the safe default
        # for a notification that asks someone to act.
        return "send"
    log.info("%s: no e-mail, %s", what, reason)
    return "skipped"


def payload_of(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str | bytes) else text
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def actor_of(payload: dict[str, Any]) -> int | None:
    actor = payload.get("actor")
    return actor if isinstance(actor, int) and not isinstance(actor, bool) else None


def as_utc(value: Any) -> datetime:
    """A datetime from a raw row: text on SQLite, a datetime on PostgreSQL."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def domain_of(sender: str) -> str:
    """The sender's domain, for Message-IDs."""
    parsed = parse_address(sender)
    return parsed.domain if parsed is not None else "planflow.invalid"
