"""The read side of plans: one plan for its view, pages of plans for lists, the rule in SQL.

Nothing here reads a plan's content (it can be megabytes): one plan is
read with the columns of its view (and the organisation generation, in the
same round trip, so the caller knows which snapshot names its units and
people); a list reads ``SUMMARY_COLUMNS``.

``visible_clause`` is ``services.visibility.Viewer.can_view`` as a WHERE
clause. ``ListStatements`` holds a list's two statements (a page in its
order, and its count) with what changes from call to call (the moment,
the page) as bound parameters, so the same statement objects serve every
call of users with the same roles: building the terms (a task term per
role held, the overseen units in IN lists) and SQLAlchemy's cache key cost
more than running the queries, and a statement object keeps its cache key
once computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    any_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from planflow.core.ids import is_id
from planflow.storage.audit_keys import audit_range
from planflow.storage.plan_store import PlanRow
from planflow.storage.tables import ApprovalVote, AuditRecord, OrgGeneration, Plan

if TYPE_CHECKING:
    from planflow.services.visibility import Viewer

plan_t = Plan.__table__  # type: ignore[attr-defined]
generation_t = OrgGeneration.__table__  # type: ignore[attr-defined]
vote_t = ApprovalVote.__table__  # type: ignore[attr-defined]
audit_t = AuditRecord.__table__  # type: ignore[attr-defined]
p = plan_t.c

#: The columns of a plan in a list (``views.PlanSummary``), never the content.
SUMMARY_COLUMNS = (
    p.id,
    p.title,
    p.unit_id,
    p.year,
    p.state,
    p.workflow_name,
    p.workflow_version,
    p.version,
    p.revision,
    p.updated_at,
    p.task_role,
    p.task_unit_id,
    p.task_escalated_unit_id,
    p.task_since,
    p.task_due_at,
    p.task_level,
)

#: The columns of one plan's view (``views.PlanView``), and the organisation generation.
_VIEW = select(
    *SUMMARY_COLUMNS,
    p.item_count,
    p.created_by,
    p.submitted_by,
    p.grade,
    p.created_at,
    p.timer_kind,
    p.timer_at,
    select(generation_t.c.generation)
    .where(generation_t.c.id == 1)
    .scalar_subquery()
    .label("org_generation"),
).where(p.id == bindparam("plan_id"))

_GENERATION = select(generation_t.c.generation).where(generation_t.c.id == 1)

#: The page's moment, bound when a statement runs (so a statement outlives a call).
NOW = bindparam("now", type_=p.task_due_at.type)


def plan_view_row(conn: Connection, plan_id: int) -> Any:
    """One plan's view columns and ``org_generation`` (a row), or None if there is no such plan."""
    return conn.execute(_VIEW, {"plan_id": plan_id}).first()


#: The view's columns and the rest of what the transition path reads (``PlanRow``):
#: the plan page loads the plan once, for its view and for deciding what may be done.
_PAGE = _VIEW.add_columns(p.items_without_due, p.audit_seq, p.audit_hash, p.timer_hint)


def plan_page_row(conn: Connection, plan_id: int) -> tuple[Any, PlanRow] | None:
    """One plan's view row (as ``plan_view_row``) and its ``PlanRow``, in one round
    trip; None if there is no such plan."""
    if not is_id(plan_id):  # names no plan; the driver would overflow on it
        return None
    row = conn.execute(_PAGE, {"plan_id": plan_id}).first()
    if row is None:
        return None
    plan = PlanRow(
        row.id,
        row.unit_id,
        row.year,
        row.title,
        row.workflow_name,
        row.workflow_version,
        row.state,
        row.version,
        row.submitted_by,
        row.item_count,
        row.items_without_due,
        row.revision,
        row.audit_seq,
        row.audit_hash,
        row.task_role,
        row.task_unit_id,
        row.task_level,
        row.task_escalated_unit_id,
        row.timer_at is not None,
        row.org_generation,
        row.timer_hint,
    )
    return row, plan


def voters(conn: Connection, plan_id: int, round_: int | None) -> list[int] | None:
    """Who approved the plan in review round ``round_`` (None: its current one), in the
    order they did; None if there is no such plan."""
    if round_ is None:
        round_ = conn.execute(select(p.revision).where(p.id == plan_id)).scalar()
        if round_ is None:
            return None
    return list(
        conn.execute(
            select(vote_t.c.user_id)
            .where(vote_t.c.plan_id == plan_id, vote_t.c.round == round_)
            .order_by(vote_t.c.at, vote_t.c.id)
        ).scalars()
    )


#: One statement object for every call (the plan page reads the trail on every view).
_TRAIL = (
    select(audit_t)
    .where(audit_t.c.id >= bindparam("first"), audit_t.c.id <= bindparam("last"))
    .order_by(audit_t.c.id)
)


def trail_rows(conn: Connection, plan_id: int) -> list[Any]:
    """The plan's audit records, oldest first (every column)."""
    first, last = audit_range(plan_id)
    return list(conn.execute(_TRAIL, {"first": first, "last": last}))


def plan_exists(conn: Connection, plan_id: int) -> bool:
    return conn.execute(select(p.id).where(p.id == plan_id)).first() is not None


def org_generation(conn: Connection) -> int:
    return int(conn.execute(_GENERATION).scalar() or 0)


def visible_clause(viewer: Viewer) -> ColumnElement[bool]:
    """``Viewer.can_view`` as a WHERE clause over ``plan``."""
    clauses: list[ColumnElement[bool]] = []
    granted = viewer.all_granted()
    if granted:
        clauses.append(p.id.in_(sorted(granted)))
    if viewer.own_units:
        clauses.append(p.unit_id.in_(sorted(viewer.own_units)))
    if viewer.oversees_all:
        clauses.append(p.revision > 0)
    elif viewer.oversight:
        clauses.append(and_(p.revision > 0, p.unit_id.in_(sorted(viewer.oversight))))
    for unit, role in sorted(viewer.roles):
        clauses.append(
            and_(
                p.task_role == role,
                or_(p.task_unit_id == unit, p.task_escalated_unit_id == unit),
            )
        )
    return or_(*clauses) if clauses else false()


class InSelect(ColumnElement[bool]):
    """``column IN (query)``, written ``column = ANY(ARRAY(query))`` on PostgreSQL.

    Both mean the same for a query of non-NULL values. PostgreSQL's planner
    cannot use an index for an ``IN (subquery)`` that is one branch of an OR,
    so the whole OR became a sequential scan of every plan (the review queue:
    "tasks of my role, or the ones handed to me personally", ~10 ms of the
    server's time per page over 10,000 plans); an array computed once is an
    index condition like any other, and the OR a union of index scans.
    SQLite already looks the subquery's rows up by rowid.
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [  # noqa: RUF012  (SQLAlchemy's own declaration: a list)
        ("portable", InternalTraversal.dp_clauseelement),
        ("postgresql", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], query: Select[Any]) -> None:
        self.portable = column.in_(query)
        self.postgresql = column == any_(func.array(query.scalar_subquery()))


@compiles(InSelect)
def _in_select(element: InSelect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.portable, **kw)


@compiles(InSelect, "postgresql")
def _in_select_postgresql(element: InSelect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.postgresql, **kw)


def queue_order() -> list[Any]:
    """Escalated first (highest level first), then overdue (due before ``NOW``), then
    the longest waiting."""
    overdue = case((p.task_due_at < NOW, 0), else_=1)
    return [p.task_level.desc(), overdue, p.task_since.is_(None), p.task_since, p.id]


#: Newest first: the order of "the plans I worked on lately".
RECENT_ORDER = (p.updated_at.desc(), p.id.desc())
#: The plans page: the latest year first, then the newest plan.
YEAR_ORDER = (p.year.desc(), p.id.desc())


@dataclass(frozen=True)
class ListStatements:
    """One list of plans as two statements: a page of its rows, and its count."""

    rows: Select[Any]
    count: Select[Any]

    @classmethod
    def where(cls, terms: Sequence[ColumnElement[bool]], order_by: Sequence[Any]) -> ListStatements:
        rows = (
            select(*SUMMARY_COLUMNS)
            .where(*terms)
            .order_by(*order_by)
            .offset(bindparam("offset"))
            .limit(bindparam("limit"))
        )
        return cls(rows, select(func.count()).select_from(plan_t).where(*terms))

    def page(
        self,
        conn: Connection,
        offset: int,
        limit: int,
        now: datetime | None = None,
        *,
        me: int = 0,
    ) -> list[Row[Any]]:
        """``me``: the reader, for a list that names them (``bindparam("me")``)."""
        params: dict[str, Any] = {"offset": offset, "limit": limit, "me": me}
        if now is not None:
            params["now"] = now
        return list(conn.execute(self.rows, params))

    def total(self, conn: Connection, *, me: int = 0) -> int:
        return int(conn.execute(self.count, {"me": me}).scalar_one())
