"""Passwords: the rule every path that sets one applies, and their Argon2id hashes."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from planflow.errors import ValidationError

# OWASP's Argon2id baseline: 19 MiB, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


#: A password's length, on every path that sets one (admin page, account page,
#: command line, library).
MIN_PASSWORD = 8
MAX_PASSWORD = 256


def check_password(password: str) -> None:
    """``ValidationError`` (with its code) unless ``password`` may be set, on every path."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"a password needs at least {MIN_PASSWORD} characters",
            code="password_too_short",
            params={"min": MIN_PASSWORD},
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationError(
            f"a password can have at most {MAX_PASSWORD} characters",
            code="password_too_long",
            params={"max": MAX_PASSWORD},
        )
    if any("\ud800" <= c <= "\udfff" for c in password):  # bytes a terminal could not decode
        raise ValidationError(
            "a password cannot contain an unpaired surrogate", code="password_invalid"
        )


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
