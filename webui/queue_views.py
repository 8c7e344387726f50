"""The review queue's rows: the statements of its lists and the lines it prints.

``reviews`` decides which plans belong on each list (the WHERE terms); this
module turns those terms into statements (a page of rows in queue order,
and the count), runs them, and works out each row's words and links in
Python, ready for the template.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask import url_for
from sqlalchemy import ColumnElement, Connection, Row, Select, bindparam, case, func
from sqlalchemy import select as sa_select
from sqlmodel import col

from planflow.app import Planflow
from planflow.core.org import OrgSnapshot
from planflow.storage.tables import Plan

from .i18n import quick_gettext, role_label, when_formatter
from .plan_lists import LIST_COLUMNS, ListLabels

#: The page's moment, bound when a statement runs (so a statement outlives a request).
NOW = bindparam("now", type_=Plan.__table__.c.task_due_at.type)  # type: ignore[attr-defined]

_COLUMNS = (
    *LIST_COLUMNS,
    col(Plan.task_role),
    col(Plan.task_unit_id),
    col(Plan.task_escalated_unit_id),
    col(Plan.task_since),
    col(Plan.task_due_at),
    col(Plan.task_level),
)


def queue_order() -> list[Any]:
    """Escalated first (highest level first), then overdue (due before ``NOW``), then
    the longest waiting, as ORDER BY terms over ``Plan``."""
    overdue = case((col(Plan.task_due_at) < NOW, 0), else_=1)
    return [
        col(Plan.task_level).desc(),
        overdue,
        col(Plan.task_since).is_(None),
        col(Plan.task_since),
        col(Plan.id),
    ]


@dataclass(frozen=True)
class QueueList:
    """One list of the queue as two statements: a page of its rows, and its count.

    The values that change from request to request (the moment, the page) are
    bound parameters, so the same statement objects serve every request of
    viewers with the same roles. That matters: building the terms (a task
    term per role held, the overseen units in IN lists) and SQLAlchemy's
    cache key of the result cost more than running the queries, and a
    statement object keeps its cache key once computed.
    """

    rows: Select[*tuple[Any, ...]]
    count: Select[int]

    @classmethod
    def where(cls, terms: Sequence[ColumnElement[bool]]) -> QueueList:
        rows = (
            sa_select(*_COLUMNS)
            .where(*terms)
            .order_by(*queue_order())
            .offset(bindparam("offset"))
            .limit(bindparam("limit"))
        )
        return cls(rows, sa_select(func.count()).select_from(Plan).where(*terms))

    def page(self, conn: Connection, now: datetime, offset: int, limit: int) -> list[Row[Any]]:
        return list(conn.execute(self.rows, {"now": now, "offset": offset, "limit": limit}))

    def total(self, conn: Connection) -> int:
        return int(conn.execute(self.count).scalar_one())


class QueueLine(NamedTuple):
    """A queue row with its words and links worked out, ready to print.

    A queue page shows fifty rows; doing this in Python instead of in
    template calls (a macro, several gettext and format calls per row) halved
    the page's time in the W3 benchmark's profile. A named tuple, not a frozen
    dataclass, which takes twice as long to build.
    """

    url: str
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


def queue_lines(
    pf: Planflow, org: OrgSnapshot, rows: Iterable[Row[Any]], now: datetime, to_me: set[int]
) -> list[QueueLine]:
    """``rows`` (of ``QueueList.page``) as the queue prints them; ``to_me`` are the ids
    escalated to the viewer. Unit names come from ``org``, the request's organisation.

    Everything the rows share (the catalogue's templates, the formats, the labels
    of a definition's states, of a role) is looked up once per call, not per row.
    """
    base = url_for("plans.detail", plan_id=0)[: -len("0")]
    labels = ListLabels(pf)
    when = when_formatter()
    waiting_for = quick_gettext("%(role)s at %(unit)s")
    escalated_to = quick_gettext("escalated to %(unit)s")
    due = quick_gettext("due %(when)s")
    escalation = quick_gettext("Escalated (level %(level)d)")
    roles: dict[str, str] = {}
    units = org.units
    lines = []
    for r in rows:
        state_label, workflow_title = labels(r.workflow_name, r.workflow_version, r.state)
        role = r.task_role or ""
        role_text = roles.get(role)
        if role_text is None:
            role_text = roles[role] = role_label(role)
        unit = units.get(r.unit_id)
        task_unit = units.get(r.task_unit_id) if r.task_unit_id is not None else None
        escalated = units.get(r.task_escalated_unit_id) if r.task_escalated_unit_id else None
        lines.append(
            QueueLine(
                url=f"{base}{r.id}",
                title=r.title,
                subtitle=f"{workflow_title} · {r.year}",
                unit_name=unit.name if unit else "?",
                state=r.state,
                state_label=state_label,
                waiting_for=waiting_for
                % {"role": role_text, "unit": task_unit.name if task_unit else "?"},
                escalated_to=escalated_to % {"unit": escalated.name} if escalated else None,
                escalated_to_you=r.id in to_me,
                since=when(r.task_since),
                due=due % {"when": when(r.task_due_at)} if r.task_due_at else "",
                overdue=r.task_due_at is not None and r.task_due_at < now,
                escalation=escalation % {"level": r.task_level} if r.task_level else None,
            )
        )
    return lines
