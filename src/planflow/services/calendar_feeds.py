"""What a calendar feed holds: the events, computed from the library's own views.

A feed (``facade.feeds`` gathers one; ``integrations.ics`` writes it as
RFC 5545) is a list of ``FeedEvent``: task deadlines (a moment), inspection
visits and rectification dues, round dates and plan items' due dates (whole
days). Each event's ``uid`` is made from what the event is about, never
from a row id that changes: the plan's id with the task's state, the
inspection's round, the item's stable key, or the definition's schedule
with its date. So a moved deadline is the same event at a new time, and a
calendar app updates it instead of adding a second one. ``sequence`` is the
plan's version (it grows with every change of the plan, so a client sees a
newer copy as newer); ``last_modified`` the plan's last change.

The texts are in the feed owner's language (en, zh, ko), like the e-mails.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from planflow.core.content.items import due_date
from planflow.core.content.model import PlanContent
from planflow.core.definitions.spec import WorkflowSpec
from planflow.scheduling.rounds import occurrences
from planflow.services.inspections.calendar import CalendarEntry
from planflow.services.inspections.visits import RECTIFICATION

#: The host part of every UID (RFC 5545 suggests a domain to make them unique worldwide).
UID_DOMAIN = "planflow"

_TEXTS: dict[str, dict[str, str]] = {
    "task": {
        "en": "Due: {state} – {title}",
        "zh": "截止：{state} – {title}",
        "ko": "마감: {state} – {title}",
    },
    # A deputy's (委托): the task of someone away they stand in for.
    "task_for": {
        "en": "Due: {state} – {title} (on behalf of {name})",
        "zh": "截止：{state} – {title}（代{name}办理）",
        "ko": "마감: {state} – {title} ({name} 대리)",
    },
    "on_behalf": {
        "en": "You act on behalf of {name}, as their deputy.",
        "zh": "您作为代理人代{name}办理。",
        "ko": "{name} 님의 대리인으로 처리합니다.",
    },
    "visit": {
        "en": "Inspection visit – {title}",
        "zh": "检查走访 – {title}",
        "ko": "점검 방문 – {title}",
    },
    "rectification": {
        "en": "Rectification due – {title}",
        "zh": "整改截止 – {title}",
        "ko": "시정 마감 – {title}",
    },
    "round": {"en": "Round: {label}", "zh": "轮次：{label}", "ko": "회차: {label}"},
    "item": {
        "en": "{number} {text} – {title}",
        "zh": "{number} {text} – {title}",
        "ko": "{number} {text} – {title}",
    },
    "unit_feed": {
        "en": "planflow: {unit}",
        "zh": "planflow：{unit}",
        "ko": "planflow: {unit}",
    },
    "user_feed": {
        "en": "planflow: {name}",
        "zh": "planflow：{name}",
        "ko": "planflow: {name}",
    },
}


def text(key: str, language: str, **values: object) -> str:
    """A feed text in ``language`` (English for a language it does not have)."""
    texts = _TEXTS[key]
    return texts.get(language, texts["en"]).format(**values)


@dataclass(frozen=True)
class FeedEvent:
    """One event of a feed. ``start``: a ``date`` is a whole day, a ``datetime`` a moment."""

    uid: str
    summary: str
    start: date | datetime
    sequence: int
    last_modified: datetime | None = None
    description: str = ""
    #: The plan it is about (the web UI links it), if any.
    plan_id: int | None = None


@dataclass(frozen=True)
class Feed:
    name: str
    language: str
    tz: ZoneInfo
    events: tuple[FeedEvent, ...]


def _uid(*parts: object) -> str:
    return "-".join(str(p) for p in parts) + f"@{UID_DOMAIN}"


def task_event(
    *,
    plan_id: int,
    title: str,
    state: str,
    state_label: str,
    due_at: datetime,
    version: int,
    updated_at: datetime | None,
    language: str,
    on_behalf_of: str | None = None,
) -> FeedEvent:
    """A plan's open task, due at ``due_at``: one event per plan and state.

    ``on_behalf_of``: the name of the person away whose task a deputy holds
    (委托); the summary and the description say so. The UID stays the task's:
    the same task in the delegator's own feed is the same event."""
    if on_behalf_of is None:
        summary, description = text("task", language, state=state_label, title=title), ""
    else:
        name = on_behalf_of
        summary = text("task_for", language, state=state_label, title=title, name=name)
        description = text("on_behalf", language, name=name)
    return FeedEvent(
        uid=_uid("plan", plan_id, "task", state),
        summary=summary,
        start=due_at,
        sequence=version,
        last_modified=updated_at,
        description=description,
        plan_id=plan_id,
    )


def inspection_event(entry: CalendarEntry, language: str) -> FeedEvent:
    """An inspection on its day (the visit, else its task's due date), or a rectification due."""
    kind = "rectification" if entry.kind == RECTIFICATION else "visit"
    return FeedEvent(
        uid=_uid("plan", entry.plan_id, kind, entry.round),
        summary=text(kind, language, title=entry.title),
        start=entry.day,
        sequence=entry.version,
        description=entry.unit_name,
        plan_id=entry.plan_id,
    )


def item_events(
    *,
    plan_id: int,
    title: str,
    version: int,
    updated_at: datetime | None,
    content: PlanContent,
    language: str,
) -> Iterator[FeedEvent]:
    """Each item with a due month or date, on its deadline (a month: its last day)."""
    for number, section, item in content.numbered_items():
        due = due_date(item, content.year)
        if due is None:
            continue
        yield FeedEvent(
            uid=_uid("plan", plan_id, "item", item.key),
            summary=text("item", language, number=number, text=item.text[:200], title=title),
            start=due,
            sequence=version,
            last_modified=updated_at,
            description=section.title,
            plan_id=plan_id,
        )


def round_events(
    specs: Iterable[WorkflowSpec], tz: ZoneInfo, first: date, last: date, language: str
) -> Iterator[FeedEvent]:
    """The dates the latest definitions' scheduled rounds fire, from ``first`` to ``last``."""
    after = datetime.combine(first - timedelta(days=1), datetime.min.time(), tz)
    until = datetime.combine(last, datetime.max.time(), tz)
    for spec in specs:
        for schedule in spec.schedules:
            for occurrence in occurrences(schedule, tz, after, until):
                yield FeedEvent(
                    uid=_uid("round", spec.name, schedule.name, occurrence.period),
                    summary=text("round", language, label=schedule.label.get(language)),
                    start=date.fromisoformat(occurrence.period),
                    sequence=0,
                    description=spec.title.get(language),
                )


__all__ = [
    "Feed",
    "FeedEvent",
    "inspection_event",
    "item_events",
    "round_events",
    "task_event",
    "text",
]
