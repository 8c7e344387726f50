"""The business calendar: which days are working days.

Definitions say "due in 10 working days"; this module turns that into a date.
Working weekdays and holidays are per deployment (a file of dates, see
``load_calendar``); extra working days cover the weekend days that some
countries make up for long holidays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from planflow.core.definitions.spec import Duration
from planflow.errors import ValidationError

MONDAY_TO_FRIDAY = frozenset(range(5))
#: Whole-day shifts a calendar remembers before it starts afresh.
MAX_REMEMBERED_SHIFTS = 4096


@dataclass(frozen=True)
class BusinessCalendar:
    holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    working_weekdays: frozenset[int] = MONDAY_TO_FRIDAY
    #: (date, days, working days) -> the whole shift; see ``_shift``.
    _shifts: dict[tuple[date, int, int], timedelta] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() in self.working_weekdays and day not in self.holidays

    def add_working_days(self, start: datetime, count: int) -> datetime:
        """``count`` working days after ``start`` (before it when negative), same time of day."""
        if count == 0:
            return start
        day = _shift_working_days(self, start.date(), count)
        return start + timedelta(days=(day - start.date()).days)

    def add(self, start: datetime, duration: Duration) -> datetime:
        """Calendar days and hours first, then working days from there."""
        return self._shift(start, duration.days, duration.hours, duration.working_days)

    def subtract(self, start: datetime, duration: Duration) -> datetime:
        return self._shift(start, -duration.days, -duration.hours, -duration.working_days)

    def _shift(self, start: datetime, days: int, hours: int, working_days: int) -> datetime:
        if hours:
            moved = start + timedelta(days=days, hours=hours)
            return self.add_working_days(moved, working_days)
        # Without hours the result is ``start`` moved by whole days, and how
        # many depends on its date alone: remembered, because every
        # transition into a waiting state computes a due date and up to
        # three timers from it, almost always on the same few dates.
        first = start.date()
        key = (first, days, working_days)
        shift = self._shifts.get(key)
        if shift is None:
            day = first + timedelta(days=days)
            landed = _shift_working_days(self, day, working_days) if working_days else day
            shift = landed - first
            if len(self._shifts) >= MAX_REMEMBERED_SHIFTS:
                self._shifts.clear()
            self._shifts[key] = shift
        return start + shift


def load_calendar(path: str | os.PathLike[str] | None = None) -> BusinessCalendar:
    """Read a calendar file; ``PLANFLOW_CALENDAR`` names it when ``path`` is None.

    One entry per line: ``2027-10-01`` (a holiday), ``+2027-10-09`` (a working
    day on a weekend); ``#`` starts a comment. No file means Monday to Friday.
    """
    name = path if path is not None else os.environ.get("PLANFLOW_CALENDAR")
    if not name:
        return BusinessCalendar()
    holidays: set[date] = set()
    extra: set[date] = set()
    problems: list[str] = []
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{name}: cannot read the calendar file: {exc}") from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        target = extra if line.startswith("+") else holidays
        try:
            target.add(date.fromisoformat(line.lstrip("+").strip()))
        except ValueError:
            problems.append(f"{name}:{number}: not a date: {raw.strip()!r}")
    if problems:
        raise ValidationError("; ".join(problems))
    return BusinessCalendar(frozenset(holidays), frozenset(extra))


@lru_cache(maxsize=4096)
def _shift_working_days(calendar: BusinessCalendar, start: date, count: int) -> date:
    # Memoised: every transition into a waiting state computes a due date
    # and its timers, almost always from the same few days.
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    current = start
    idle = 0  # calendar days in a row without a working day
    while remaining:
        current += timedelta(days=step)
        if calendar.is_working_day(current):
            remaining -= 1
            idle = 0
        else:
            idle += 1
            if idle > 3660:
                raise ValidationError("the calendar has no working days for ten years")
    return current
