"""The signed-in person: loading them for a session, signing in, their settings.

A session cookie carries ``"<user id>:<session_version>"``. Bumping the
user's ``session_version`` (a password change, signing out) makes every
cookie issued before it worthless, even a copy an attacker kept: the cookie
is signed but client-side, so the version is what makes it revocable.

Everything here goes through the library's ``pf.accounts`` (passwords, the
rate limits, session versions, the language); this module only turns its
answers into what Flask-Login wants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from flask_login import UserMixin  # type: ignore[import-untyped]

from planflow.app import Planflow
from planflow.services.accounts import MAX_PASSWORD as MAX_PASSWORD
from planflow.services.accounts import MIN_PASSWORD as MIN_PASSWORD
from planflow.services.accounts import Account
from planflow.services.accounts import SignIn as Outcome

from .ratelimit import LoginPolicy
from .ratelimit import accounts as limited_accounts


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
    def of(cls, account: Account) -> WebUser:
        return cls(
            account.id,
            account.username,
            account.display_name,
            account.language,
            account.session_version,
        )


def load_session_user(pf: Planflow, token: str) -> WebUser | None:
    """The user of a session token, or None if it is malformed, stale or inactive."""
    user_id, sep, version = token.partition(":")
    if not (sep and user_id.isdigit() and version.isdigit()) or len(token) > 40:
        return None
    account = pf.accounts.session_account(int(user_id), int(version))
    return WebUser.of(account) if account is not None else None


class SignIn(Enum):
    OK = "ok"
    FAILED = "failed"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class SignInResult:
    outcome: SignIn
    user: WebUser | None = None
    retry_at: datetime | None = None
    #: The device token to keep in the browser after a sign-in (``DEVICE_COOKIE``).
    device: str | None = None


def sign_in(
    pf: Planflow,
    policy: LoginPolicy,
    username: str,
    password: str,
    address: str | None,
    device: str | None = None,
) -> SignInResult:
    result = limited_accounts(pf, policy).sign_in(username, password, address, device=device)
    if result.outcome is Outcome.LIMITED:
        return SignInResult(SignIn.BLOCKED, retry_at=result.retry_at)
    if result.outcome is Outcome.OK and result.account is not None:
        return SignInResult(SignIn.OK, user=WebUser.of(result.account), device=result.device)
    return SignInResult(SignIn.FAILED)


def change_password(
    pf: Planflow, policy: LoginPolicy, user_id: int, current: str, new: str, address: str | None
) -> WebUser:
    """Change the password (rate limited like signing in); every other session ends.

    Raises the library's ``LoginLimited``, ``WrongPassword`` or ``ValidationError``.
    """
    account = limited_accounts(pf, policy).change_password(user_id, current, new, address=address)
    return WebUser.of(account)


def end_sessions(pf: Planflow, user_id: int) -> None:
    """Make every session cookie of the user worthless."""
    pf.accounts.end_sessions(user_id)


def set_language(pf: Planflow, user_id: int, language: str) -> None:
    pf.accounts.set_language(user_id, language)
