"""Webhook events and delivery statuses in the reader's language.

The library names events by their wire names (``plan.state_changed``) and
deliveries by their status (``failed``). Receivers' programmers need the
wire name; the admin choosing what a webhook or robot hears, in Chinese or
Korean, needs to read what each one means. So each event reads as a short
sentence with its wire name after it, and each status as a word.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from markupsafe import escape
from wtforms import SelectChoice  # type: ignore[import-untyped]

EVENT_LABELS = {
    "plan.state_changed": _l("A plan moved to another step"),
    "plan.comment": _l("Someone commented on a plan"),
    "task.created": _l("A plan waits for someone"),
    "task.overdue": _l("A task is overdue"),
    "task.escalated": _l("An overdue task was escalated"),
    "inspection.finished": _l("An inspection was finished"),
    "audit.verification_failed": _l("The audit trail check found a change"),
}

DELIVERY_STATUSES = {
    "pending": _l("waiting to be sent"),
    "delivered": _l("delivered"),
    "failed": _l("failed"),
    "cancelled": _l("cancelled"),
}


def event_label(event: str) -> str:
    """``A plan moved to another step (plan.state_changed)``; an unknown event is its name."""
    label = EVENT_LABELS.get(event)
    return f"{label} ({event})" if label is not None else event


def event_choices(events: tuple[str, ...]) -> list[SelectChoice]:
    """Check boxes for a form, in the reader's language (labels are looked up when drawn)."""
    return [SelectChoice(e, _LazyEventLabel(e)) for e in events]


def delivery_status_label(status: str) -> str:
    return str(DELIVERY_STATUSES.get(status, status))


class _LazyEventLabel:
    """A choice label worded when the form is drawn, in that request's language."""

    def __init__(self, event: str) -> None:
        self.event = event

    def __str__(self) -> str:
        return event_label(self.event)

    def __html__(self) -> str:
        return str(escape(str(self)))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        event_label=event_label, delivery_status_label=delivery_status_label
    )
