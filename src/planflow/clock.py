"""Time as an injected dependency.

Everything that needs "now" takes a ``Clock``; tests and ``run-once --now``
use ``FixedClock`` and move it instead of sleeping. All times are timezone-aware
UTC ``datetime`` values: SQLModel's ``UTCDateTime`` columns insist on that and
give them back in UTC on SQLite and PostgreSQL alike, and the audit hash
depends on them round-tripping exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        self._at = to_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = to_utc(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def to_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
