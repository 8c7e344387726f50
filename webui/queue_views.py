"""The review queue's lines: each entry's words and links, worked out in Python.

The library says which plans are on the queue and in which order
(``Planflow.review_queue``); this module turns its entries into what the
template prints, in the user's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from flask import url_for

from planflow.app import Planflow
from planflow.views import QueueEntry

from .i18n import quick_gettext, role_label, when_formatter
from .plan_lists import ListLabels


class QueueLine(NamedTuple):
    """A queue entry with its words and links worked out, ready to print.

    A queue page shows fifty rows; doing this in Python instead of in
    template calls (a macro, several gettext and format calls per row) halved
    the page's time in the W3 benchmark's profile. A named tuple, not a frozen
    dataclass, which takes twice as long to build.
    """

    url: str
    #: The queue's "Review" button (``reviews.open_task``) and the version it was shown at.
    open_url: str
    version: int
    #: ``ID@VERSION``: the plan and the version the queue shows (a bulk action's check).
    item: str
    title: str
    subtitle: str
    unit_name: str
    state: str
    state_label: str
    waiting_for: str
    escalated_to: str | None
    escalated_to_you: bool
    since: str
    due: str
    overdue: bool
    escalation: str | None


def queue_lines(pf: Planflow, entries: Iterable[QueueEntry], now: datetime) -> list[QueueLine]:
    """``entries`` as the queue prints them.

    Everything the rows share (the catalogue's templates, the formats, the labels
    of a definition's states, of a role) is looked up once per call, not per row.
    """
    base = url_for("plans.detail", plan_id=0)[: -len("0")]
    open_base, open_end = url_for("reviews.open_task", plan_id=0).split("/0", 1)
    labels = ListLabels(pf)
    when = when_formatter()
    waiting_for = quick_gettext("%(role)s at %(unit)s")
    escalated_to = quick_gettext("escalated to %(unit)s")
    escalation = quick_gettext("Escalated (level %(level)d)")
    roles: dict[str, str] = {}
    lines = []
    for e in entries:
        p, task = e.plan, e.task
        state_label, workflow_title = labels(p.workflow, p.workflow_version, p.state)
        role_text = roles.get(task.role)
        if role_text is None:
            role_text = roles[task.role] = role_label(task.role)
        lines.append(
            QueueLine(
                url=f"{base}{p.id}",
                open_url=f"{open_base}/{p.id}{open_end}",
                version=p.version,
                item=f"{p.id}@{p.version}",
                title=p.title,
                subtitle=f"{workflow_title} · {p.year}",
                unit_name=p.unit.name,
                state=p.state,
                state_label=state_label,
                waiting_for=waiting_for
                % {"role": role_text, "unit": task.unit.name if task.unit else "?"},
                escalated_to=escalated_to % {"unit": task.escalated_to.name}
                if task.escalated_to
                else None,
                escalated_to_you=e.escalated_to_you,
                since=when(task.since),
                # Under the column (on a phone: the line) "Due": the moment alone.
                due=when(task.due_at) if task.due_at else "",
                overdue=task.due_at is not None and task.due_at < now,
                escalation=escalation % {"level": task.level} if task.level else None,
            )
        )
    return lines
