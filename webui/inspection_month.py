"""The inspection calendar's month page: the grid, the day-by-day list, the months around.

Only layout: the library finds the inspections of a date range a user may
see and places each on its day (``InspectionCalendar.entries``); this module
asks for one month (and, in the current month, for what is still open from
earlier ones) and lays it out in the user's language, week start and time
zone. Also the small helpers both inspection pages share.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton
from flask import render_template
from flask_babel import format_date, get_locale, get_timezone  # type: ignore[import-untyped]
from flask_babel import gettext as _gettext

from planflow.services.inspections.calendar import CalendarEntry
from planflow.services.inspections.visits import MAX_DAYS_AHEAD

from .access import current_org
from .i18n import state_label
from .users import me, planflow

#: The most inspections one month (and its "still open" list) shows.
LIMIT = 500
FIRST_YEAR, LAST_YEAR = 2000, 2100


def gettext(message: str, **variables: Any) -> str:
    """flask-babel's gettext, typed (it is found by pybabel extract under this name)."""
    return str(_gettext(message, **variables))


def local_tz() -> tzinfo:
    """The time zone dates are shown in (``PLANFLOW_TIMEZONE``), as a zoneinfo zone."""
    try:
        return ZoneInfo(str(get_timezone()))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


@dataclass(frozen=True)
class Day:
    day: date
    in_month: bool
    entries: list[CalendarEntry]


def shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def month_key(text: str | None) -> tuple[int, int] | None:
    """``YYYY-MM`` (from a hidden field), if it is a month the calendar shows."""
    parts = (text or "").split("-")
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 4 for p in parts):
        return None
    year, month = int(parts[0]), int(parts[1])
    return (year, month) if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12 else None


def _weekday_names() -> list[str]:
    """Short weekday names, in the order the locale starts its week."""
    locale = get_locale()
    names = locale.days["format"]["abbreviated"]
    return [names[(locale.first_week_day + i) % 7] for i in range(7)]


def _weeks(year: int, month: int, entries: Iterable[CalendarEntry]) -> list[list[Day]]:
    days = dict(_by_day(entries))
    weeks = calendar.Calendar(get_locale().first_week_day).monthdatescalendar(year, month)
    return [[Day(d, d.month == month, days.get(d, [])) for d in week] for week in weeks]


def _by_day(entries: Iterable[CalendarEntry]) -> list[tuple[date, list[CalendarEntry]]]:
    grouped: dict[date, list[CalendarEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.day, []).append(entry)
    return sorted(grouped.items())


def month_page(year: int, month: int) -> str:
    pf, user = planflow(), me()
    calendar, tz = pf.inspections.calendar, local_tz()
    first = date(year, month, 1)
    last = date(*shift_month(year, month, 1), 1) - timedelta(days=1)
    org = current_org(pf)
    entries = calendar(user.username, first, last, tz=tz, limit=LIMIT + 1, org=org)
    today = pf.inspections.today(tz)
    earlier: list[CalendarEntry] = []
    if first <= today <= last:
        # Whatever still waits from an earlier month is late: show it here too.
        before = first - timedelta(days=1)
        earlier = calendar(user.username, None, before, tz=tz, limit=LIMIT + 1, org=org)

    def state_of(workflow: str, version: int, state: str) -> str:
        return state_label(pf.definition(workflow, version), state)

    prev, nxt = shift_month(year, month, -1), shift_month(year, month, 1)
    return render_template(
        "inspections/calendar.html",
        title=format_skeleton("yMMMM", first, locale=get_locale()),
        weekdays=_weekday_names(),
        weeks=_weeks(year, month, entries[:LIMIT]),
        days=_by_day(entries[:LIMIT]),
        earlier=_by_day(earlier[:LIMIT]),
        more=len(entries) > LIMIT or len(earlier) > LIMIT,
        limit=LIMIT,
        prev=prev if prev[0] >= FIRST_YEAR else None,
        next=nxt if nxt[0] <= LAST_YEAR else None,
        month_key=f"{year:04d}-{month:02d}",
        today=today,
        latest=today + timedelta(days=MAX_DAYS_AHEAD),
        state_of=state_of,
        format_day=format_date,
    )
