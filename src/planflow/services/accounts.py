"""Accounts: signing in, the password, sessions, the language.

The adapter for what a person does with their own account, on the
``app_user`` table; the sign-in limits (and the ``login_attempt`` and
``trusted_device`` tables) are ``planflow.services.sign_in``'s. The web UI (or
any other front end) calls it and never writes those tables itself.

Sessions. A front end's session names ``(user id, session_version)``;
bumping the user's ``session_version`` (a password change, signing out
everywhere, deactivation) makes every session issued before it worthless,
even a copy an attacker kept.

Signing in. The password is checked with the Argon2id helpers of
``storage.passwords``, after the attempt has taken its slot under the limits.
An unknown, inactive or password-less user costs the same work as a wrong
password (a check against a throw-away hash) and gives the same answer, so
neither the answer nor its timing tells which names exist. A successful
sign-in returns a device token for the client to keep and present next time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import select as core_select
from sqlalchemy import update
from sqlmodel import select

from planflow.clock import Clock
from planflow.errors import NotFound, PlanflowError, ValidationError
from planflow.services.sign_in import (
    UNSTORABLE,
    USERNAME_WIDTH,
    SignInGate,
    SignInLimits,
    account_key,
    address_key,
)
from planflow.storage.db import Database
from planflow.storage.org_repo import LANGUAGES
from planflow.storage.passwords import MAX_PASSWORD as MAX_PASSWORD
from planflow.storage.passwords import MIN_PASSWORD as MIN_PASSWORD
from planflow.storage.passwords import check_password, hash_password, verify_password
from planflow.storage.tables import LoginAttempt, User

user_table = User.__table__  # type: ignore[attr-defined]

#: ``record_attempt`` deletes old attempts at most this often (per process).
PRUNE_EVERY = timedelta(hours=1)


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
    #: After an OK sign-in: the device token the client keeps and presents next time.
    device: str | None = None


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

    ``per_account``/``per_address`` failures within ``window`` limit signing
    in, as ``planflow.services.sign_in`` says; attempts are kept for ``keep``
    (at least one window).
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
        slow_lane: timedelta = timedelta(seconds=10),
    ) -> None:
        self.db = db
        self.clock = clock
        self.limits = SignInLimits(per_account, per_address, window, slow_lane, keep)
        self.gate = SignInGate(db, clock, self.limits)
        self._prune_mark = _PruneMark()

    @property
    def per_account(self) -> int:
        return self.limits.per_account

    @property
    def per_address(self) -> int:
        return self.limits.per_address

    @property
    def window(self) -> timedelta:
        return self.limits.window

    def with_limits(
        self,
        *,
        per_account: int | None = None,
        per_address: int | None = None,
        window: timedelta | None = None,
    ) -> Accounts:
        """The same accounts with other sign-in limits (self if they are the same)."""
        limits = replace(
            self.limits,
            per_account=self.per_account if per_account is None else per_account,
            per_address=self.per_address if per_address is None else per_address,
            window=self.window if window is None else window,
        )
        if limits == self.limits:
            return self
        other = Accounts(
            self.db,
            self.clock,
            per_account=limits.per_account,
            per_address=limits.per_address,
            window=limits.window,
            keep=max(self.limits.keep, limits.window),
            slow_lane=limits.slow_lane,
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

    def sign_in(
        self, username: str, password: str, address: str | None, *, device: str | None = None
    ) -> SignInResult:
        """Check a sign-in within the limits; ``device`` is the token of an earlier one."""
        account, password_hash = self._by_name(username)
        usable = account is not None and account.active and bool(password_hash)
        trusted = usable and account is not None and self.gate.device_known(account.id, device)
        slot = self.gate.take_slot(username, address, trusted=trusted)
        self._prune_now_and_then()
        if slot.attempt_id is None:
            return SignInResult(SignIn.LIMITED, retry_at=slot.retry_at)
        if not usable or account is None:
            # Unknown, inactive or without a password: refuse, after the same work.
            _spend_like_a_check(password)
            return SignInResult(SignIn.FAILED)
        if not _check(password_hash, password):
            return SignInResult(SignIn.FAILED)
        self.gate.succeeded(slot.attempt_id)
        token = self.gate.remember_device(account.id, device if trusted else None)
        return SignInResult(SignIn.OK, account=account, device=token)

    def _by_name(self, username: str) -> tuple[Account | None, str | None]:
        """The account of that exact name and its password hash, or (None, None)."""
        if len(username) > USERNAME_WIDTH or UNSTORABLE.search(username):
            return None, None  # no such name can exist; do not send it to the database
        with self.db.read_session() as s:
            user = s.exec(select(User).where(User.username == username)).first()
            if user is None:
                return None, None
            return Account.of(user), user.password_hash

    # -- rate limits ----------------------------------------------------------------

    def account_limited_until(self, username: str, *, trusted: bool = False) -> datetime | None:
        """When the account may try again (from an untrusted client), or None for now."""
        return self.gate.account_limited_until(username, trusted=trusted)

    def address_limited_until(self, address: str | None) -> datetime | None:
        """When the address's slow lane lets an untrusted attempt through, or None for now."""
        return self.gate.address_limited_until(address)

    def limited_until(self, username: str, address: str | None) -> datetime | None:
        """When an untrusted sign-in as ``username`` from ``address`` may be tried."""
        times = [self.account_limited_until(username), self.address_limited_until(address)]
        found = [t for t in times if t is not None]
        return max(found) if found else None

    def record_attempt(
        self, username: str, address: str | None, *, success: bool, trusted: bool = False
    ) -> None:
        """Record a sign-in attempt that took no slot (imports, tests), pruning now and then."""
        with self.db.session() as s:
            s.add(
                LoginAttempt(
                    username=account_key(username),
                    address=address_key(address),
                    at=self.clock.now(),
                    success=success,
                    trusted=trusted,
                )
            )
        self._prune_now_and_then()

    def prune(self) -> int:
        """Delete the attempts older than ``keep``; returns how many."""
        with self.db.session() as s:
            return self.gate.prune(s, self.clock.now())

    def _prune_now_and_then(self) -> None:
        now = self.clock.now()
        if self._prune_mark.due(now):
            with self.db.session() as s:
                self.gate.prune(s, now)

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
        check_password(new)
        with self.db.read_session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("user", user_id)
            username, old_hash = user.username, user.password_hash
        # A stolen session guessing the password is an untrusted client.
        slot = self.gate.take_slot(username, address, trusted=False)
        if slot.attempt_id is None:
            assert slot.retry_at is not None
            raise LoginLimited(slot.retry_at)
        if not _check(old_hash, current):
            raise WrongPassword()
        self.gate.succeeded(slot.attempt_id)
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
            account = Account.of(user)
        self.gate.forget_devices(user_id)  # a new password: every device earns trust again
        return account

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
