"""A calendar feed written as iCalendar (RFC 5545), with the ``icalendar`` package.

``to_ics`` writes the events ``services.calendar_feeds`` computed: a moment
(a task's deadline) in the deployment's time zone with its VTIMEZONE, a
whole day (an inspection visit, a round, an item's due date) as a DATE.
The serialiser is the maintained ``icalendar`` package rather than strings
of our own: it folds long lines, escapes commas, semicolons and line breaks
in texts and writes the VTIMEZONE from the zone's rules, the parts of the
format where hand-written feeds go wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, Timezone

from planflow.services.calendar_feeds import Feed, FeedEvent

PRODID = "-//planflow//calendar feed//EN"


def to_ics(feed: Feed, now: datetime, link: Callable[[int], str] | None = None) -> bytes:
    """``feed`` as an iCalendar document; ``link(plan_id)`` gives each plan event its URL."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", feed.name)
    cal.add("x-wr-timezone", feed.tz.key)
    stamp = now.astimezone(UTC)
    events = [_event(e, stamp, feed, link) for e in feed.events]
    # The one zone the moments use (none for UTC, written with "Z"): its VTIMEZONE, once.
    # (``add_missing_timezones`` finds the same by walking every property: a third of the time.)
    tzids = {e["DTSTART"].params.get("TZID") for e in events if "TZID" in e["DTSTART"].params}
    for tzid in sorted(tzids):
        cal.add_component(Timezone.from_tzid(tzid))
    for event in events:
        cal.add_component(event)
    return bytes(cal.to_ical())


def _event(e: FeedEvent, stamp: datetime, feed: Feed, link: Callable[[int], str] | None) -> Event:
    """One event; a whole day runs to the next day's start and does not mark the time busy."""
    event = Event()
    event.add("uid", e.uid)
    event.add("dtstamp", stamp)
    event.add("summary", e.summary)
    if isinstance(e.start, datetime):
        # A deadline is a moment: no DTEND, so the event ends when it starts (RFC 5545 3.6.1).
        event.add("dtstart", e.start.astimezone(feed.tz))
    else:
        event.add("dtstart", e.start)
        event.add("dtend", _next_day(e.start))
        event.add("transp", "TRANSPARENT")
    event.add("sequence", e.sequence)
    if e.last_modified is not None:
        event.add("last-modified", e.last_modified.astimezone(UTC))
    if e.description:
        event.add("description", e.description)
    if link is not None and e.plan_id is not None:
        event.add("url", link(e.plan_id))
    return event


def _next_day(day: date) -> date:
    return day + timedelta(days=1)


__all__ = ["PRODID", "to_ics"]
