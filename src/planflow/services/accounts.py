"""Accounts: signing in, sign-in rate limits, the password, sessions, the language.

The storage adapter for what a person does with their own account, on the
``app_user`` and ``login_attempt`` tables. The web UI (or any other front
end) calls it and never writes those tables itself.

Sessions. A front end's session names ``(user id, session_version)``;
bumping the user's ``session_version`` (a password change, signing out
everywhere, deactivation) makes every session issued before it worthless,
even a copy an attacker kept.

Signing in. The password is checked with the Argon2id helpers of
``storage.org_repo``. An unknown, inactive or password-less user costs the
same work as a wrong password (a check against a throw-away hash) and gives
the same answer, so neither the answer nor its timing tells which names
exist.

Rate limits. Attempts live in the database, not in a worker's memory, so
the limits hold across every worker and host. Failures count within a
sliding ``window``: at most ``per_account`` per account (counting only the
failures since its last successful sign-in, so the owner is not held back by
their own earlier typos) and ``per_address`` per address. A refused (limited)
attempt is not recorded and the password is not checked, so a limit ends at
most one window after the last real failure. Attempts older than ``keep``
(a day) are deleted now and then by ``record_attempt``, or by ``prune``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import ColumnElement, delete, func, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from planflow.clock import Clock
from planflow.errors import NotFound, PlanflowError, ValidationError
from planflow.storage.db import Database
from planflow.storage.org_repo import LANGUAGES, hash_password, verify_password
from planflow.storage.tables import LoginAttempt, User

user_table = User.__table__  # type: ignore[attr-defined]

MIN_PASSWORD = 8
MAX_PASSWORD = 256
#: Column widths of login_attempt: longer input is cut, never refused by the database.
USERNAME_WIDTH = 80
ADDRESS_WIDTH = 64
#: ``record_attempt`` deletes old attempts at most this often (per process).
PRUNE_EVERY = timedelta(hours=1)

# Characters neither database can take in a text parameter (NUL on PostgreSQL,
# unpaired surrogates anywhere), and other control characters.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Account:
    """What a session needs to know about its user."""

    id: int
    username: str
    display_name: str
    language: str
    active: bool
    session_version: int

    @classmethod
    def of(cls, user: User) -> Account:
        assert user.id is not None
        return cls(
            user.id,
            user.username,
            user.display_name,
            user.language,
            user.active,
            user.session_version,
        )


class SignIn(Enum):
    OK = "ok"
    FAILED = "failed"
    LIMITED = "limited"


@dataclass(frozen=True)
class SignInResult:
    outcome: SignIn
    account: Account | None = None
    #: When a LIMITED sign-in may be tried again.
    retry_at: datetime | None = None


class LoginLimited(PlanflowError):
    """Too many failed attempts for the account or the address; ``retry_at`` says until when."""

    code = "limited"

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"too many failed attempts; try again after {retry_at.isoformat()}")
        self.retry_at = retry_at


class WrongPassword(ValidationError):
    """The current password given for a change is not the user's password."""

    code = "wrong_password"

    def __init__(self) -> None:
        super().__init__("the current password is not right")


def account_key(username: str) -> str:
    """The counter of an account: case-folded, so "Chair_A" and "chair_a" share one."""
    return _storable(username.strip().casefold())[:USERNAME_WIDTH]


def address_key(address: str | None) -> str:
    """The counter of an address; None counts as the address "unknown"."""
    return _storable(address or "unknown")[:ADDRESS_WIDTH]


def _storable(value: str) -> str:
    return _UNSTORABLE.sub("\ufffd", value)


def _check(password_hash: str | None, password: str) -> bool:
    try:
        return verify_password(password_hash, password)
    except UnicodeEncodeError:  # an unpaired surrogate: never anyone's password
        return False


_dummy_hash: str | None = None
_dummy_lock = threading.Lock()


def _spend_like_a_check(password: str) -> None:
    """Verify against a throw-away hash, so an unknown name costs as long as a known one."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = hash_password("not-a-password-of-anyone")
    _check(_dummy_hash, password)


class _PruneMark:
    """When this process last pruned; shared by an ``Accounts`` and its ``with_limits`` copies."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def due(self, now: datetime) -> bool:
        last = self.at
        if last is None or now - last >= PRUNE_EVERY or now < last:
            self.at = now
            return True
        return False


class Accounts:
    """The accounts of one database: ``pf.accounts``.

    ``per_account``/``per_address`` failures within ``window`` limit
    signing in; attempts are kept for ``keep`` (at least one window).
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window: timedelta = timedelta(minutes=15),
        keep: timedelta = timedelta(days=1),
    ) -> None:
        if per_account < 1 or per_address < 1:
            raise ValueError("the sign-in limits must be at least 1")
        if window <= timedelta(0) or keep < window:
            raise ValueError("the window must be positive and no longer than keep")
        self.db = db
        self.clock = clock
        self.per_account = per_account
        self.per_address = per_address
        self.window = window
        self.keep = keep
        self._prune_mark = _PruneMark()

    def with_limits(
        self,
        *,
        per_account: int | None = None,
        per_address: int | None = None,
        window: timedelta | None = None,
    ) -> Accounts:
        """The same accounts with other sign-in limits (self if they are the same)."""
        limits = (
            self.per_account if per_account is None else per_account,
            self.per_address if per_address is None else per_address,
            self.window if window is None else window,
        )
        if limits == (self.per_account, self.per_address, self.window):
            return self
        other = Accounts(
            self.db,
            self.clock,
            per_account=limits[0],
            per_address=limits[1],
            window=limits[2],
            keep=max(self.keep, limits[2]),
        )
        other._prune_mark = self._prune_mark
        return other

    # -- sessions -------------------------------------------------------------------

    def account(self, user_id: int) -> Account | None:
        """The user's session data, or None for an unknown id."""
        with self.db.read_session() as s:
            user = s.get(User, user_id)
            return Account.of(user) if user is not None else None

    def session_account(self, user_id: int, session_version: int) -> Account | None:
        """The user of a session, or None if they are unknown, inactive or the session ended."""
        account = self.account(user_id)
        if account is None or not account.active or account.session_version != session_version:
            return None
        return account

    def end_sessions(self, user_id: int) -> int:
        """End every session of the user; returns the new session version."""
        with self.db.write() as conn:
            changed = conn.execute(
                update(user_table)
                .where(user_table.c.id == user_id)
                .values(session_version=user_table.c.session_version + 1)
            )
            if changed.rowcount != 1:
                raise NotFound("user", user_id)
            version = conn.execute(
                core_select(user_table.c.session_version).where(user_table.c.id == user_id)
            ).scalar_one()
        return int(version)

    # -- signing in -----------------------------------------------------------------

    def sign_in(self, username: str, password: str, address: str | None) -> SignInResult:
        """Check a sign-in, within the limits, and record the attempt."""
        retry_at = self.limited_until(username, address)
        if retry_at is not None:
            return SignInResult(SignIn.LIMITED, retry_at=retry_at)
        account, password_hash = self._by_name(username)
        if account is None or not account.active or not password_hash:
            # Unknown, inactive or without a password: refuse, after the same work.
            _spend_like_a_check(password)
            ok = False
        else:
            ok = _check(password_hash, password)
        self.record_attempt(username, address, success=ok)
        if not ok or account is None:
            return SignInResult(SignIn.FAILED)
        return SignInResult(SignIn.OK, account=account)

    def _by_name(self, username: str) -> tuple[Account | None, str | None]:
        """The account of that exact name and its password hash, or (None, None)."""
        if len(username) > USERNAME_WIDTH or _UNSTORABLE.search(username):
            return None, None  # no such name can exist; do not send it to the database
        with self.db.read_session() as s:
            user = s.exec(select(User).where(User.username == username)).first()
            if user is None:
                return None, None
            return Account.of(user), user.password_hash

    # -- rate limits ----------------------------------------------------------------

    def account_limited_until(self, username: str) -> datetime | None:
        """When the account may try again, or None if it may try now."""
        return self.limited_until(username, None, address_too=False)

    def address_limited_until(self, address: str | None) -> datetime | None:
        """When the address may try again, or None if it may try now."""
        return self.limited_until(None, address)

    def limited_until(
        self, username: str | None, address: str | None, *, address_too: bool = True
    ) -> datetime | None:
        """When a sign-in as ``username`` from ``address`` may be tried, or None for now.

        ``username`` None checks the address alone; ``address_too=False``
        the account alone.
        """
        now = self.clock.now()
        start = now - self.window
        checks: list[tuple[ColumnElement[bool], datetime, int]] = []
        until: datetime | None = None
        with self.db.read_session() as s:
            if username is not None:
                account = account_key(username)
                last_success = s.exec(
                    select(func.max(LoginAttempt.at)).where(
                        LoginAttempt.username == account, col(LoginAttempt.success).is_(True)
                    )
                ).one()
                since = max(start, last_success) if last_success is not None else start
                checks.append((col(LoginAttempt.username) == account, since, self.per_account))
            if address_too:
                addr = address_key(address)
                checks.append((col(LoginAttempt.address) == addr, start, self.per_address))
            for where, after, limit in checks:
                recent = s.exec(
                    select(LoginAttempt.at)
                    .where(
                        where, col(LoginAttempt.success).is_(False), col(LoginAttempt.at) > after
                    )
                    .order_by(col(LoginAttempt.at).desc())
                    .limit(limit)
                ).all()
                if len(recent) >= limit:
                    # Free again once the oldest of the last `limit` failures leaves the window.
                    free_at = min(recent) + self.window
                    until = free_at if until is None else max(until, free_at)
        return until if until is not None and until > now else None

    def record_attempt(self, username: str, address: str | None, *, success: bool) -> None:
        """Record a sign-in attempt (and, now and then, delete the old ones)."""
        now = self.clock.now()
        with self.db.session() as s:
            s.add(
                LoginAttempt(
                    username=account_key(username),
                    address=address_key(address),
                    at=now,
                    success=success,
                )
            )
            if self._prune_mark.due(now):
                self._prune(s, now)

    def prune(self) -> int:
        """Delete the attempts older than ``keep``; returns how many."""
        with self.db.session() as s:
            return self._prune(s, self.clock.now())

    def _prune(self, s: Session, now: datetime) -> int:
        result = s.connection().execute(
            delete(LoginAttempt).where(col(LoginAttempt.at) < now - self.keep)
        )
        return result.rowcount

    # -- settings -------------------------------------------------------------------

    def change_password(
        self, user_id: int, current: str, new: str, *, address: str | None = None
    ) -> Account:
        """Set a new password, given the current one; every session of the user ends.

        Guessing the current password (from a stolen session, say) is rate
        limited like signing in: a wrong one counts as a failed attempt of the
        account and ``address``. Raises ``ValidationError`` for an unfit new
        password, ``LoginLimited`` and ``WrongPassword``. Returns the account
        with its new session version (a front end renews its session with it).
        """
        if len(new) < MIN_PASSWORD:
            raise ValidationError(
                f"a password needs at least {MIN_PASSWORD} characters",
                code="password_too_short",
                params={"min": MIN_PASSWORD},
            )
        if len(new) > MAX_PASSWORD:
            raise ValidationError(
                f"a password can have at most {MAX_PASSWORD} characters",
                code="password_too_long",
                params={"max": MAX_PASSWORD},
            )
        if re.search("[\ud800-\udfff]", new):
            raise ValidationError(
                "a password cannot contain an unpaired surrogate", code="password_invalid"
            )
        with self.db.read_session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("user", user_id)
            username, old_hash = user.username, user.password_hash
        retry_at = self.limited_until(username, address)
        if retry_at is not None:
            raise LoginLimited(retry_at)
        if not _check(old_hash, current):
            self.record_attempt(username, address, success=False)
            raise WrongPassword()
        new_hash = hash_password(new)  # slow: done outside the write transaction
        with self.db.session() as s:
            # Only over the hash just checked: a change made meanwhile is not overwritten.
            changed = s.connection().execute(
                update(user_table)
                .where(user_table.c.id == user_id, user_table.c.password_hash == old_hash)
                .values(password_hash=new_hash, session_version=user_table.c.session_version + 1)
            )
            if changed.rowcount != 1:
                raise WrongPassword()
            user = s.get(User, user_id)
            assert user is not None
            return Account.of(user)

    def set_language(self, user_id: int, language: str) -> None:
        """Remember the user's language (en, zh or ko)."""
        if language not in LANGUAGES:
            raise ValidationError(
                f"language must be one of {', '.join(LANGUAGES)}",
                code="unknown_language",
                params={"languages": list(LANGUAGES)},
            )
        with self.db.write() as conn:
            changed = conn.execute(
                update(user_table).where(user_table.c.id == user_id).values(language=language)
            )
        if changed.rowcount != 1:
            raise NotFound("user", user_id)
