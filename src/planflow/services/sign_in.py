"""Sign-in limits that slow password guessing without letting anyone lock others out.

The reference is OWASP ASVS 2.2.1 (anti-automation against brute force,
credential stuffing and *account lockout*) and OWASP's "device cookies"
scheme. Attempts live in the ``login_attempt`` table, so the limits hold
across every worker and host.

- **Counted and decided at once.** An attempt first takes a slot: inside one
  write transaction, serialised per account and address (SQLite's
  ``BEGIN IMMEDIATE``; on PostgreSQL a transaction-scoped advisory lock per
  key), the recent failures are counted and, if the attempt may go ahead, it
  is recorded as a failure *before* the password is checked; a right password
  then marks it a success. Forty simultaneous guesses at one account get
  exactly as many checks as the limit allows, however many workers run.
- **Per account**: ``per_account`` failures (since the account's last
  successful sign-in, within ``window``) stop further attempts until the
  oldest of them leaves the window.
- **Trusted devices.** A successful sign-in hands the client a device token
  (kept hashed in ``trusted_device``). Attempts that present a token of that
  account are counted apart from all others: an attacker's failures against
  an account do not lock its owner out of the browsers they have used, and
  the owner's own typos there are limited the same way.
- **Per address, a slow lane instead of a lockout.** After ``per_address``
  failures from one address within the window, attempts from it without a
  trusted device go one at a time, ``slow_lane`` apart: password spraying
  from one address is slowed to a crawl, while a colleague behind the same
  proxy who signs in for the first time waits seconds, not fifteen minutes,
  and people on their usual browsers are not slowed at all.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, text, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from planflow.clock import Clock
from planflow.storage.db import Database
from planflow.storage.db_errors import once_more_if_lost
from planflow.storage.tables import LoginAttempt, TrustedDevice

attempt_t = LoginAttempt.__table__  # type: ignore[attr-defined]
device_t = TrustedDevice.__table__  # type: ignore[attr-defined]

#: Column widths of login_attempt: longer input is cut, never refused by the database.
USERNAME_WIDTH = 80
ADDRESS_WIDTH = 64
#: Devices remembered per account; the least recently used go first.
MAX_DEVICES = 20

# Characters neither database can take in a text parameter (NUL on PostgreSQL,
# unpaired surrogates anywhere), and other control characters.
UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def account_key(username: str) -> str:
    """The counter of an account: case-folded, so "Chair_A" and "chair_a" share one."""
    return UNSTORABLE.sub("\ufffd", username.strip().casefold())[:USERNAME_WIDTH]


def address_key(address: str | None) -> str:
    """The counter of an address; None counts as the address "unknown"."""
    return UNSTORABLE.sub("\ufffd", address or "unknown")[:ADDRESS_WIDTH]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _lock_key(kind: str, key: str) -> int:
    """A signed 64-bit advisory-lock key for ``kind:key``."""
    digest = hashlib.blake2b(f"{kind}:{key}".encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class SignInLimits:
    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    slow_lane: timedelta = timedelta(seconds=10)
    keep: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if self.per_account < 1 or self.per_address < 1:
            raise ValueError("the sign-in limits must be at least 1")
        if self.window <= timedelta(0) or self.keep < self.window:
            raise ValueError("the window must be positive and no longer than keep")
        if self.slow_lane < timedelta(0):
            raise ValueError("the slow lane's interval cannot be negative")


@dataclass(frozen=True)
class Slot:
    """An attempt that may go ahead (``attempt_id``), or when one may (``retry_at``)."""

    attempt_id: int | None = None
    retry_at: datetime | None = None


class SignInGate:
    """The attempts of one database under one set of limits."""

    def __init__(self, db: Database, clock: Clock, limits: SignInLimits) -> None:
        self.db = db
        self.clock = clock
        self.limits = limits

    # -- the decision --------------------------------------------------------------

    def take_slot(self, username: str, address: str | None, *, trusted: bool) -> Slot:
        """Count and decide in one step; an attempt that may go ahead is recorded as failed.

        Once more on a new connection when the first was lost (the sign-in form is
        the first thing people meet after a database restart): had the first try
        committed after all, its attempt counts twice, a stricter limit, never a
        looser one.
        """
        return once_more_if_lost(lambda: self._take_slot(username, address, trusted=trusted))

    def _take_slot(self, username: str, address: str | None, *, trusted: bool) -> Slot:
        account, addr = account_key(username), address_key(address)
        now = self.clock.now()
        with self.db.session() as s:
            if self.db.is_postgres:
                for kind, key in (("account", account), ("address", addr)):  # always this order
                    s.connection().execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(kind, key)}
                    )
            retry_at = self._account_limit(s, account, trusted, now)
            if retry_at is None and not trusted:
                retry_at = self._address_limit(s, addr, now)
            if retry_at is not None:
                return Slot(retry_at=retry_at)
            attempt = LoginAttempt(
                username=account, address=addr, at=now, success=False, trusted=trusted
            )
            s.add(attempt)
            s.flush()
            return Slot(attempt_id=attempt.id)

    def succeeded(self, attempt_id: int) -> None:
        """The attempt was right (once more if its connection was lost: it sets a flag)."""
        once_more_if_lost(lambda: self._succeeded(attempt_id))

    def _succeeded(self, attempt_id: int) -> None:
        with self.db.write() as conn:
            conn.execute(update(attempt_t).where(attempt_t.c.id == attempt_id).values(success=True))

    def _account_limit(
        self, s: Session, account: str, trusted: bool, now: datetime
    ) -> datetime | None:
        # A success resets its own class only: the owner signing in on a new
        # browser does not hand an attacker a fresh set of guesses, nor the reverse.
        last_success = s.exec(
            select(func.max(LoginAttempt.at)).where(
                LoginAttempt.username == account,
                col(LoginAttempt.trusted).is_(trusted),
                col(LoginAttempt.success).is_(True),
            )
        ).one()
        since = now - self.limits.window
        if last_success is not None:
            since = max(since, last_success)
        recent = s.exec(
            select(LoginAttempt.at)
            .where(
                LoginAttempt.username == account,
                col(LoginAttempt.trusted).is_(trusted),
                col(LoginAttempt.success).is_(False),
                col(LoginAttempt.at) > since,
            )
            .order_by(col(LoginAttempt.at).desc())
            .limit(self.limits.per_account)
        ).all()
        if len(recent) < self.limits.per_account:
            return None
        free_at = min(recent) + self.limits.window
        return free_at if free_at > now else None

    def _address_limit(self, s: Session, addr: str, now: datetime) -> datetime | None:
        """None, or when the address's slow lane lets the next untrusted attempt through."""
        failures = s.exec(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.address == addr,
                col(LoginAttempt.trusted).is_(False),
                col(LoginAttempt.success).is_(False),
                col(LoginAttempt.at) > now - self.limits.window,
            )
        ).one()
        if failures < self.limits.per_address:
            return None
        last = s.exec(
            select(func.max(LoginAttempt.at)).where(
                LoginAttempt.address == addr, col(LoginAttempt.trusted).is_(False)
            )
        ).one()
        next_at = last + self.limits.slow_lane if last is not None else now
        return next_at if next_at > now else None

    # -- what the limits say now (no attempt taken) ----------------------------------

    def account_limited_until(self, username: str, *, trusted: bool = False) -> datetime | None:
        with self.db.read_session() as s:
            return self._account_limit(s, account_key(username), trusted, self.clock.now())

    def address_limited_until(self, address: str | None) -> datetime | None:
        with self.db.read_session() as s:
            return self._address_limit(s, address_key(address), self.clock.now())

    # -- trusted devices -------------------------------------------------------------

    def device_known(self, user_id: int, token: str | None) -> bool:
        if not token or len(token) > 200:
            return False
        with self.db.read() as conn:
            found = conn.execute(
                core_select(device_t.c.id).where(
                    device_t.c.user_id == user_id, device_t.c.token_hash == _token_hash(token)
                )
            ).first()
        return found is not None

    def remember_device(self, user_id: int, token: str | None) -> str:
        """The device's token after a successful sign-in: the one it had, or a new one.

        Once more if its connection was lost: a first try that committed after all
        leaves one unused device row, dropped with the oldest ones."""
        return once_more_if_lost(lambda: self._remember_device(user_id, token))

    def _remember_device(self, user_id: int, token: str | None) -> str:
        now = self.clock.now()
        with self.db.session() as s:
            conn = s.connection()
            if token and self._touch(conn, user_id, token, now):
                return token
            token = secrets.token_urlsafe(32)
            s.add(
                TrustedDevice(
                    user_id=user_id, token_hash=_token_hash(token), created_at=now, last_used_at=now
                )
            )
            s.flush()
            stale = conn.execute(
                core_select(device_t.c.id)
                .where(device_t.c.user_id == user_id)
                .order_by(device_t.c.last_used_at.desc(), device_t.c.id.desc())
                .offset(MAX_DEVICES)
            ).scalars()
            ids = list(stale)
            if ids:
                conn.execute(delete(device_t).where(device_t.c.id.in_(ids)))
            return token

    @staticmethod
    def _touch(conn: Any, user_id: int, token: str, now: datetime) -> bool:
        changed = conn.execute(
            update(device_t)
            .where(device_t.c.user_id == user_id, device_t.c.token_hash == _token_hash(token))
            .values(last_used_at=now)
        )
        return bool(changed.rowcount)

    def forget_devices(self, user_id: int) -> None:
        """After a password change every device must earn its trust again."""
        with self.db.write() as conn:
            conn.execute(delete(device_t).where(device_t.c.user_id == user_id))

    # -- upkeep ----------------------------------------------------------------------

    def prune(self, s: Session, now: datetime) -> int:
        result = s.connection().execute(
            delete(LoginAttempt).where(col(LoginAttempt.at) < now - self.limits.keep)
        )
        return int(result.rowcount)
