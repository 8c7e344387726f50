"""Time as an injected dependency.

Everything that needs "now" takes a ``Clock``; tests and ``run-once --now``
use ``FixedClock`` and move it instead of sleeping. All times are naive UTC
``datetime`` values: the database stores them that way on SQLite and
PostgreSQL alike, and the audit hash depends on them round-tripping exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, naive UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        self._at = to_naive_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = to_naive_utc(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
