"""Tests of ``planflow.core.calendar``: working days, holidays and calendar files (pure Python)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planflow.core.calendar import MAX_REMEMBERED_SHIFTS, BusinessCalendar, load_calendar
from planflow.core.definitions import Duration
from planflow.errors import ValidationError

MON = datetime(2027, 1, 4, 8, 30, tzinfo=UTC)  # Monday 4 January 2027
FRI = datetime(2027, 1, 8, 8, 30, tzinfo=UTC)
SAT = datetime(2027, 1, 9, 8, 30, tzinfo=UTC)
WEEKDAYS = BusinessCalendar()


def day(iso: str, at: datetime = MON) -> datetime:
    """``iso`` at the time of day (and zone) of ``at``."""
    return datetime.combine(date.fromisoformat(iso), at.timetz())


def reference_shift(calendar: BusinessCalendar, start: datetime, count: int) -> datetime:
    """The obvious day-by-day walk, for comparison."""
    current, step = start, (1 if count > 0 else -1)
    for _ in range(abs(count)):
        current += timedelta(days=step)
        while not calendar.is_working_day(current.date()):
            current += timedelta(days=step)
    return current


# -- working days ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (MON, 0, "2027-01-04"),
        (MON, 1, "2027-01-05"),
        (MON, 4, "2027-01-08"),
        (MON, 5, "2027-01-11"),  # over the weekend
        (MON, 10, "2027-01-18"),
        (FRI, 1, "2027-01-11"),
        (SAT, 0, "2027-01-09"),  # zero days: the start itself, even on a weekend
        (SAT, 1, "2027-01-11"),
        (MON, -1, "2027-01-01"),  # back over the weekend
        (MON, -5, "2026-12-28"),
        (SAT, -1, "2027-01-08"),
        (FRI, -4, "2027-01-04"),
    ],
)
def test_working_days_across_weekends(start: datetime, count: int, expected: str) -> None:
    result = WEEKDAYS.add_working_days(start, count)
    assert result == day(expected)
    assert result.timetz() == start.timetz()  # same time of day, same zone


def test_holidays_are_skipped_both_ways() -> None:
    # National day week 2027: Friday 1 October to Thursday 7 October.
    golden_week = frozenset(date(2027, 10, d) for d in range(1, 8))
    cal = BusinessCalendar(holidays=golden_week)
    thu = datetime(2027, 9, 30, 9, 0, tzinfo=UTC)
    assert cal.add_working_days(thu, 1) == datetime(2027, 10, 8, 9, 0, tzinfo=UTC)
    assert cal.add_working_days(thu, 2) == datetime(2027, 10, 11, 9, 0, tzinfo=UTC)
    assert cal.add_working_days(datetime(2027, 10, 8, 9, tzinfo=UTC), -1) == thu
    assert not cal.is_working_day(date(2027, 10, 4))  # a Monday, but a holiday
    assert cal.is_working_day(date(2027, 10, 8))


def test_extra_working_days_count() -> None:
    # Saturday 9 October 2027 is worked to make up for the holiday week.
    cal = BusinessCalendar(
        holidays=frozenset(date(2027, 10, d) for d in range(1, 8)),
        extra_working_days=frozenset({date(2027, 10, 9)}),
    )
    fri = datetime(2027, 10, 8, 17, 0, tzinfo=UTC)
    assert cal.is_working_day(date(2027, 10, 9))
    assert cal.add_working_days(fri, 1) == datetime(2027, 10, 9, 17, 0, tzinfo=UTC)
    assert cal.add_working_days(fri, 2) == datetime(2027, 10, 11, 17, 0, tzinfo=UTC)
    assert cal.add_working_days(datetime(2027, 10, 11, 17, tzinfo=UTC), -1) == (
        datetime(2027, 10, 9, 17, 0, tzinfo=UTC)
    )


def test_an_extra_working_day_wins_over_a_holiday() -> None:
    both = date(2027, 1, 9)
    cal = BusinessCalendar(holidays=frozenset({both}), extra_working_days=frozenset({both}))
    assert cal.is_working_day(both)


def test_other_working_weekdays() -> None:
    six_days = BusinessCalendar(working_weekdays=frozenset(range(6)))  # Monday to Saturday
    assert six_days.add_working_days(FRI, 1) == SAT
    assert six_days.add_working_days(SAT, 1) == day("2027-01-11", SAT)


def test_a_calendar_without_working_days_is_refused() -> None:
    with pytest.raises(ValidationError, match="no working days"):
        BusinessCalendar(working_weekdays=frozenset()).add_working_days(MON, 1)


def test_a_long_count_is_not_mistaken_for_a_calendar_without_working_days() -> None:
    assert WEEKDAYS.add_working_days(MON, 3000) == reference_shift(WEEKDAYS, MON, 3000)


def test_time_zone_and_time_of_day_are_kept() -> None:
    beijing = timezone(timedelta(hours=8))
    start = datetime(2027, 1, 8, 23, 30, tzinfo=beijing)  # Friday night in Beijing
    assert WEEKDAYS.add_working_days(start, 1) == datetime(2027, 1, 11, 23, 30, tzinfo=beijing)


# -- durations -----------------------------------------------------------------------


def test_add_and_subtract_durations() -> None:
    assert WEEKDAYS.add(MON, Duration(working_days=10)) == day("2027-01-18")
    assert WEEKDAYS.add(MON, Duration(days=30)) == day("2027-02-03")
    assert WEEKDAYS.add(MON, Duration(hours=12)) == MON + timedelta(hours=12)
    # Calendar days first, then working days: Mon + 5 days = Sat, + 1 working day = Mon.
    assert WEEKDAYS.add(MON, Duration(days=5, working_days=1)) == day("2027-01-11")
    assert WEEKDAYS.subtract(day("2027-01-18"), Duration(working_days=2)) == day("2027-01-14")
    assert WEEKDAYS.subtract(MON, Duration(days=7)) == day("2026-12-28")
    assert WEEKDAYS.add(MON, Duration()) == MON


# -- properties -----------------------------------------------------------------------

dates_2027 = st.dates(min_value=date(2026, 12, 1), max_value=date(2028, 3, 31))
calendars = st.builds(
    BusinessCalendar,
    holidays=st.frozensets(dates_2027, max_size=40),
    extra_working_days=st.frozensets(dates_2027, max_size=10),
)
starts = st.datetimes(
    min_value=datetime(2027, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts, count=st.integers(-300, 300))
def test_shifting_matches_a_day_by_day_walk(
    calendar: BusinessCalendar, start: datetime, count: int
) -> None:
    result = calendar.add_working_days(start, count)
    assert result == reference_shift(calendar, start, count)
    if count:
        assert calendar.is_working_day(result.date())


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts, count=st.integers(1, 200))
def test_shifting_there_and_back_returns_to_a_working_start(
    calendar: BusinessCalendar, start: datetime, count: int
) -> None:
    there = calendar.add_working_days(start, count)
    back = calendar.add_working_days(there, -count)
    if calendar.is_working_day(start.date()):
        assert back == start
    else:  # the last working day before it
        assert back < start
        assert back == calendar.add_working_days(start, -1)


# -- calendar files -------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_calendar_reads_holidays_extra_days_and_comments(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# Holidays 2027\n"
        "\n"
        "2027-10-01   # National Day 国庆节\n"
        "  2027-10-04\n"
        "+2027-10-09  # worked Saturday\n"
        "+ 2027-09-26\n"
        "   # indented comment\n",
    )
    cal = load_calendar(path)
    assert cal.holidays == {date(2027, 10, 1), date(2027, 10, 4)}
    assert cal.extra_working_days == {date(2027, 10, 9), date(2027, 9, 26)}
    assert cal.working_weekdays == frozenset(range(5))
    assert load_calendar(str(path)) == cal


def test_load_calendar_names_the_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path, "2027-10-01\n# fine\n2027-13-01\n")
    with pytest.raises(ValidationError) as caught:
        load_calendar(path)
    assert str(caught.value) == f"{path}:3: not a date: '2027-13-01'"


def test_load_calendar_reports_every_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path, "Oct 1\n2027-10-01\n+\n2027-02-30 # no such day\n")
    with pytest.raises(ValidationError) as caught:
        load_calendar(path)
    assert str(caught.value).split("; ") == [
        f"{path}:1: not a date: 'Oct 1'",
        f"{path}:3: not a date: '+'",
        f"{path}:4: not a date: '2027-02-30 # no such day'",
    ]


def test_load_calendar_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANFLOW_CALENDAR", raising=False)
    assert load_calendar() == BusinessCalendar()
    monkeypatch.setenv("PLANFLOW_CALENDAR", "")
    assert load_calendar() == BusinessCalendar()
    monkeypatch.setenv("PLANFLOW_CALENDAR", str(write(tmp_path, "2027-01-05\n")))
    assert load_calendar().holidays == {date(2027, 1, 5)}
    assert load_calendar().add_working_days(MON, 1) == day("2027-01-06")


@pytest.mark.parametrize("content", [None, b"\xff\xfe 2027-01-01\n"], ids=["missing", "binary"])
def test_an_unreadable_calendar_file_is_a_validation_error(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "calendar.txt"
    if content is not None:
        path.write_bytes(content)
    try:
        load_calendar(path)
    except ValidationError as exc:
        assert str(path) in str(exc)
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__} instead of ValidationError") from exc
    else:
        raise AssertionError("no error")


durations = st.builds(
    Duration,
    days=st.integers(-40, 40),
    working_days=st.integers(-40, 40),
    hours=st.sampled_from([0, 0, 0, 5, 23, -7]),
)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=starts, duration=durations)
def test_durations_match_days_then_a_day_by_day_walk(
    calendar: BusinessCalendar, start: datetime, duration: Duration
) -> None:
    for _ in range(2):  # the second time from the remembered shift
        moved = start + timedelta(days=duration.days, hours=duration.hours)
        assert calendar.add(start, duration) == reference_shift(
            calendar, moved, duration.working_days
        )
        back = start - timedelta(days=duration.days, hours=duration.hours)
        assert calendar.subtract(start, duration) == reference_shift(
            calendar, back, -duration.working_days
        )


def test_remembered_shifts_stay_bounded() -> None:
    cal = BusinessCalendar()
    for n in range(MAX_REMEMBERED_SHIFTS + 10):
        cal.add(MON + timedelta(days=n), Duration(working_days=3))
    assert 0 < len(cal._shifts) <= MAX_REMEMBERED_SHIFTS
    assert cal == BusinessCalendar() and hash(cal) == hash(BusinessCalendar())
