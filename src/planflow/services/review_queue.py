"""The review queue of someone who oversees part of the tree: which plans, in which order.

Two lists, each escalated first (highest level first), then overdue, then
the longest waiting:

1. *Waiting for you* (``mine``): the plans whose open task the user may act
   on, as the inbox finds them (``inbox.task_clause``: the role of the task,
   where it waits or where it was escalated to), in an oversight role
   (reviewer, committee member, inspector, officer, ...). A drafter's or
   submitter's own-unit tasks are their tasks (``Inbox.tasks``), not here.
2. *Elsewhere in your part of the tree* (``others``): submitted plans of the
   units the user oversees (``visibility.Viewer``) that wait for someone
   else in such a role, so a federation's reviewer sees what the unions have
   pending and what is late. Exactly what ``mine`` leaves out: a plan the
   user voted on (n-of-m) or approved their part of, still waiting for the
   others, is here, to follow.

Reading a page costs one statement per list, and a count only when the page
is full or past the end (a page that is not full ends the list, so it tells
the total).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, bindparam, not_

from planflow.services.inbox import held_task_clause
from planflow.services.visibility import OWN_UNIT_ROLES, Viewer
from planflow.storage.plan_reads import ListStatements, p, queue_order, visible_clause

#: The deepest page asked for that is still looked up (anything above is the last page).
MAX_PAGE = 10_000


@dataclass(frozen=True)
class QueuePage:
    rows: list[Row[Any]]
    total: int
    number: int


@functools.lru_cache(maxsize=256)
def _lists(viewer: Viewer) -> tuple[ListStatements | None, ListStatements | None]:
    """The statements of the two lists (None: the list is empty whatever the data).

    They depend on nothing but the roles and units in ``viewer`` (passed with
    ``user_id`` 0, so people holding the same roles share them), so a change
    of the organisation that matters gives a different viewer and new
    statements; nothing needs invalidating.
    """
    held = viewer.oversight_roles
    order = queue_order()
    mine = ListStatements.where([held_task_clause(held, bindparam("me"))], order) if held else None
    others = None
    if viewer.oversight:
        # "Not mine" first: in an overseer's part of the tree most open tasks are
        # theirs, and SQLite tests the terms in the order written. Not mine is
        # what ``mine`` leaves out: a plan whose task the user has done their part
        # of (voted in its round, approved their part) waits for others, here.
        where: list[ColumnElement[bool]] = [
            not_(held_task_clause(held, bindparam("me"))),
            visible_clause(viewer),
            p.revision > 0,
            p.task_role.is_not(None),
            p.task_role.not_in(sorted(OWN_UNIT_ROLES)),
        ]
        if not viewer.oversees_all:
            where.append(p.unit_id.in_(sorted(viewer.oversight)))
        others = ListStatements.where(where, order)
    return mine, others


def statements(viewer: Viewer) -> tuple[ListStatements | None, ListStatements | None]:
    return _lists(dataclasses.replace(viewer, user_id=0, granted=frozenset(), grants=None))


def read_page(
    conn: Connection,
    queue: ListStatements | None,
    now: datetime,
    page: int,
    size: int,
    me: int = 0,
) -> QueuePage:
    """A page of one list, its total and the page number: ``page``, or the last one
    when that is past the end (the list got shorter)."""
    page = min(max(page, 1), MAX_PAGE)
    if queue is None:
        return QueuePage([], 0, page)
    offset = (page - 1) * size
    rows = queue.page(conn, offset, size, now, me=me)
    if 0 < len(rows) < size or (not rows and page == 1):
        return QueuePage(rows, offset + len(rows), page)
    total = queue.total(conn, me=me)
    if rows:
        return QueuePage(rows, total, page)
    if total:
        page = max(1, -(-total // size))
        rows = queue.page(conn, (page - 1) * size, size, now, me=me)
    return QueuePage(rows, total, page)


def escalated_to(viewer: Viewer, row: Any) -> bool:
    """Whether a task of ``mine`` is the user's because it was escalated to them:
    they hold its role where it was escalated, not where it waits."""
    return (row.task_unit_id, row.task_role) not in viewer.roles
