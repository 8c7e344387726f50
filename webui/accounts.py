"""The signed-in person: loading them for a session, signing in, their settings.

A session cookie carries ``"<user id>:<session_version>"``. Bumping the
user's ``session_version`` (a password change, signing out) makes every
cookie issued before it worthless, even a copy an attacker kept: the cookie
is signed but client-side, so the version is what makes it revocable.

Passwords are checked with the library's Argon2id helpers. Changing the
password goes through the library (``OrgRepository.set_password``); the
language and the session version have no library call yet, so the two small
writes for them are here (see the report of the web UI increment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from flask_login import UserMixin  # type: ignore[import-untyped]
from sqlalchemy import update
from sqlmodel import col, select

from planflow.api import Planflow
from planflow.errors import ValidationError
from planflow.storage.org_repo import LANGUAGES, hash_password, verify_password
from planflow.storage.tables import User

from .ratelimit import LoginPolicy, blocked_until, record_attempt

user_table = User.__table__  # type: ignore[attr-defined]

MIN_PASSWORD = 8
MAX_PASSWORD = 256


class WebUser(UserMixin):  # type: ignore[misc]
    """What a request knows about its user; loaded fresh on every request."""

    def __init__(
        self, id: int, username: str, display_name: str, language: str, session_version: int
    ) -> None:
        self.id = id
        self.username = username
        self.display_name = display_name
        self.language = language
        self.session_version = session_version

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @classmethod
    def of(cls, user: User) -> WebUser:
        assert user.id is not None
        return cls(user.id, user.username, user.display_name, user.language, user.session_version)


def load_session_user(pf: Planflow, token: str) -> WebUser | None:
    """The user of a session token, or None if it is malformed, stale or inactive."""
    user_id, sep, version = token.partition(":")
    if not (sep and user_id.isdigit() and version.isdigit()) or len(token) > 40:
        return None
    with pf.db.read_session() as s:
        user = s.get(User, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return WebUser.of(user)


class SignIn(Enum):
    OK = "ok"
    FAILED = "failed"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class SignInResult:
    outcome: SignIn
    user: WebUser | None = None
    retry_at: datetime | None = None


_dummy_hash: str | None = None


def _spend_like_a_check(password: str) -> None:
    """Verify against a throw-away hash, so an unknown name costs as long as a known one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("not-a-password-of-anyone")
    verify_password(_dummy_hash, password)


def sign_in(
    pf: Planflow, policy: LoginPolicy, username: str, password: str, address: str | None
) -> SignInResult:
    retry_at = blocked_until(pf, policy, username, address)
    if retry_at is not None:
        return SignInResult(SignIn.BLOCKED, retry_at=retry_at)
    with pf.db.read_session() as s:
        user = s.exec(select(User).where(User.username == username)).first()
        found = WebUser.of(user) if user is not None and user.active else None
        stored_hash = user.password_hash if user is not None else None
    if found is None or not stored_hash:
        # Unknown, inactive or without a password: refuse, after the same work.
        _spend_like_a_check(password)
        ok = False
    else:
        ok = verify_password(stored_hash, password)
    record_attempt(pf, policy, username, address, success=ok)
    if not ok:
        return SignInResult(SignIn.FAILED)
    return SignInResult(SignIn.OK, user=found)


def check_password(pf: Planflow, user_id: int, password: str) -> bool:
    with pf.db.read_session() as s:
        user = s.get(User, user_id)
        return user is not None and verify_password(user.password_hash, password)


def change_password(pf: Planflow, username: str, new_password: str) -> WebUser:
    """Set the password through the library; every other session of the user ends."""
    if len(new_password) > MAX_PASSWORD:
        raise ValidationError(f"a password can have at most {MAX_PASSWORD} characters")
    with pf.session() as s:
        user = pf.org.set_password(s, username, new_password)
        s.flush()
        return WebUser.of(user)


def end_sessions(pf: Planflow, user_id: int) -> None:
    """Make every session cookie of the user worthless."""
    with pf.db.write() as conn:
        conn.execute(
            update(user_table)
            .where(col(User.id) == user_id)
            .values(session_version=user_table.c.session_version + 1)
        )


def set_language(pf: Planflow, user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValidationError(f"language must be one of {', '.join(LANGUAGES)}")
    with pf.db.write() as conn:
        conn.execute(update(user_table).where(col(User.id) == user_id).values(language=language))
