"""Sign-in rate limiting, per account and per address, in the ``login_attempt`` table.

Attempts live in the database, not in a worker's memory, so the limit holds
across every worker and host. Failures count within a sliding window; for an
account only the failures since its last successful sign-in count, so the
owner is not held back by their own earlier typos. A refused (blocked)
attempt is not recorded and the password is not checked, so a block ends at
most one window after the last real failure.

The library has no module for this table yet; this is the only code that
writes it (see the report of the web UI increment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import col, select

from planflow.api import Planflow
from planflow.storage.tables import LoginAttempt

#: Column widths of login_attempt: longer input is cut, never refused by the database.
USERNAME_WIDTH = 80
ADDRESS_WIDTH = 64
#: Rows older than this many windows are deleted when the same key signs in again.
KEEP_WINDOWS = 8


@dataclass(frozen=True)
class LoginPolicy:
    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


def account_key(username: str) -> str:
    # Case-folded so that "Chair_A" and "chair_a" share one counter.
    return username.strip().casefold()[:USERNAME_WIDTH]


def address_key(address: str | None) -> str:
    return (address or "unknown")[:ADDRESS_WIDTH]


def blocked_until(
    pf: Planflow, policy: LoginPolicy, username: str, address: str | None
) -> datetime | None:
    """When sign-in may be tried again, or None if it may be tried now."""
    now = pf.clock.now()
    start = now - policy.window
    account, addr = account_key(username), address_key(address)
    until: datetime | None = None
    with pf.db.read_session() as s:
        last_success = s.exec(
            select(func.max(LoginAttempt.at)).where(
                LoginAttempt.username == account, col(LoginAttempt.success).is_(True)
            )
        ).one()
        since = max(start, last_success) if last_success is not None else start
        checks = (
            (col(LoginAttempt.username) == account, since, policy.per_account),
            (col(LoginAttempt.address) == addr, start, policy.per_address),
        )
        for where, after, limit in checks:
            recent = s.exec(
                select(LoginAttempt.at)
                .where(where, col(LoginAttempt.success).is_(False), col(LoginAttempt.at) > after)
                .order_by(col(LoginAttempt.at).desc())
                .limit(limit)
            ).all()
            if len(recent) >= limit:
                # Free again once the oldest of the last `limit` failures leaves the window.
                free_at = min(recent) + policy.window
                until = free_at if until is None else max(until, free_at)
    return until if until is not None and until > now else None


def record_attempt(
    pf: Planflow, policy: LoginPolicy, username: str, address: str | None, *, success: bool
) -> None:
    now = pf.clock.now()
    account, addr = account_key(username), address_key(address)
    old = now - KEEP_WINDOWS * policy.window
    with pf.db.session() as s:
        s.add(LoginAttempt(username=account, address=addr, at=now, success=success))
        # Housekeeping on the two indexed keys only, so it stays cheap.
        conn = s.connection()
        for key in (col(LoginAttempt.username) == account, col(LoginAttempt.address) == addr):
            conn.execute(delete(LoginAttempt).where(key, col(LoginAttempt.at) < old))
