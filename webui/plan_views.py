"""Read-only presentation of plans: list rows, the timeline, votes, names.

Everything here only reads, for display; it never decides anything. The
labels of states and actions come from the plan's own definition version
in the user's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from sqlalchemy import ColumnElement, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from planflow.api import Planflow
from planflow.content import ContentDiff
from planflow.definitions.spec import WorkflowSpec
from planflow.errors import NotFound
from planflow.storage.tables import ApprovalVote, AuditRecord, Plan, Unit, User

from .i18n import (
    action_label,
    current_language,
    format_due,
    format_when,
    quick_gettext,
    role_label,
    state_label,
)


@dataclass(frozen=True)
class PlanRow:
    id: int
    title: str
    unit_code: str
    unit_name: str
    year: int
    state: str
    state_label: str
    workflow_title: str
    updated_at: datetime
    task_due_at: datetime | None
    task_level: int


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: datetime
    actor: str
    on_behalf_of: str | None
    action: str
    from_state: str
    to_state: str
    moved: bool
    comment: str | None


@dataclass(frozen=True)
class Approvals:
    names: list[str]
    required: int


def spec_of(pf: Planflow, plan: Plan) -> WorkflowSpec:
    return pf.service.definitions.spec_for(pf.db, plan.workflow_name, plan.workflow_version)


def latest_spec(pf: Planflow, name: str) -> WorkflowSpec | None:
    try:
        return pf.registry.get(name)
    except NotFound:
        return None


#: The columns every list of plans shows, first in each list query.
_LIST_COLUMNS = (
    col(Plan.id),
    col(Plan.title),
    col(Plan.unit_id),
    col(Plan.year),
    col(Plan.state),
    col(Plan.workflow_name),
    col(Plan.workflow_version),
)


def _list_fields(pf: Planflow, p: Any, units: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """The fields of a list row that come from ``_LIST_COLUMNS``."""
    spec = pf.service.definitions.spec_for(pf.db, p.workflow_name, p.workflow_version)
    code, name = units.get(p.unit_id, ("?", "?"))
    return {
        "id": p.id,
        "title": p.title,
        "unit_code": code,
        "unit_name": name,
        "year": p.year,
        "state": p.state,
        "state_label": state_label(spec, p.state),
        "workflow_title": spec.title.get(current_language()),
    }


def plan_rows(
    pf: Planflow,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    *,
    offset: int = 0,
    limit: int = 50,
) -> list[PlanRow]:
    """Plans for a list, without their content (which can be large)."""
    query = (
        sa_select(
            *_LIST_COLUMNS,
            col(Plan.updated_at),
            col(Plan.task_due_at),
            col(Plan.task_level),
        )
        .where(*where)
        .order_by(*order_by)
        .offset(offset)
        .limit(limit)
    )
    with pf.db.read_session() as s:
        found = list(s.connection().execute(query))
        units = unit_names(s, {p.unit_id for p in found})
    rows = []
    for p in found:
        rows.append(
            PlanRow(
                **_list_fields(pf, p, units),
                updated_at=p.updated_at,
                task_due_at=p.task_due_at,
                task_level=p.task_level,
            )
        )
    return rows


def unit_names(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        u.id or 0: (u.code, u.name)
        for u in session.exec(select(Unit).where(col(Unit.id).in_(wanted)))
    }


def display_names(pf: Planflow, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    with pf.db.read_session() as s:
        return {
            u.id or 0: u.display_name for u in s.exec(select(User).where(col(User.id).in_(wanted)))
        }


def timeline(pf: Planflow, plan: Plan, spec: WorkflowSpec) -> list[TimelineEntry]:
    assert plan.id is not None
    records: list[AuditRecord] = pf.audit_trail(plan.id)
    names = display_names(pf, [r.actor_id for r in records] + [r.on_behalf_of_id for r in records])
    system = str(gettext("planflow (automatic)"))
    return [
        TimelineEntry(
            seq=r.seq,
            at=r.at,
            actor=names.get(r.actor_id, "?") if r.actor_id is not None else system,
            on_behalf_of=names.get(r.on_behalf_of_id) if r.on_behalf_of_id else None,
            action=action_label(spec, r.action),
            from_state=state_label(spec, r.from_state),
            to_state=state_label(spec, r.to_state),
            moved=r.from_state is not None and r.from_state != r.to_state,
            comment=r.comment,
        )
        for r in records
    ]


def last_decision(entries: list[TimelineEntry]) -> TimelineEntry | None:
    """The latest change of state that came with a comment (e.g. why it was returned)."""
    for entry in reversed(entries):
        if entry.moved:
            return entry if entry.comment else None
    return None


def approvals(pf: Planflow, plan: Plan, spec: WorkflowSpec) -> Approvals | None:
    """Who approved so far in this round, for a state that needs n of m approvals."""
    quorum = next(
        (t.quorum for t in spec.transitions_from(plan.state) if t.quorum is not None), None
    )
    if quorum is None:
        return None
    with pf.db.read_session() as s:
        voters = list(
            s.exec(
                select(ApprovalVote.user_id)
                .where(ApprovalVote.plan_id == plan.id, ApprovalVote.round == plan.revision)
                .order_by(col(ApprovalVote.at), col(ApprovalVote.id))
            )
        )
    names = display_names(pf, voters)
    return Approvals([names.get(v, "?") for v in voters], quorum.required)


def latest_diff(pf: Planflow, plan: Plan) -> ContentDiff | None:
    """What changed between the two latest submissions (None before the second)."""
    if plan.id is None or plan.revision < 2:
        return None
    return pf.content.diff_revisions(plan.id, plan.revision - 1, plan.revision)


@dataclass(frozen=True)
class DiffRow:
    kind: str  # added | removed | changed | moved
    number: str
    text: str


def _value(field: str, value: object, year: int) -> str:
    if value is None or value == "":
        return "—"
    if field == "due":
        if isinstance(value, int):
            return format_due(value, year)
        if isinstance(value, str):
            try:
                return format_due(date.fromisoformat(value), year)
            except ValueError:
                return value
    if field == "target" and isinstance(value, dict):
        parts = [value.get("metric"), value.get("op"), value.get("value"), value.get("unit")]
        return " ".join(str(p) for p in parts if p not in (None, ""))
    return str(value)


def diff_rows(diff: ContentDiff, year: int) -> list[DiffRow]:
    """The item-by-item differences as lines a person reads."""
    labels = {
        "text": gettext("text"),
        "owner_unit": gettext("owning unit"),
        "due": gettext("due"),
        "target": gettext("target"),
    }
    rows = [DiffRow("added", a.number, a.text) for a in diff.added]
    rows += [DiffRow("removed", r.number, r.text) for r in diff.removed]
    for c in diff.changed:
        details = "; ".join(
            gettext(
                "%(field)s: %(old)s → %(new)s",
                field=labels.get(f.field, f.field),
                old=_value(f.field, f.old, year),
                new=_value(f.field, f.new, year),
            )
            for f in c.fields
        )
        rows.append(DiffRow("changed", c.number, details))
    rows += [
        DiffRow("moved", m.new_number, gettext("moved from %(old)s", old=m.old_number))
        for m in diff.moved
    ]
    return sorted(rows, key=lambda r: [int(p) if p.isdigit() else 0 for p in r.number.split(".")])


# -- the review queue -------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """A plan waiting for someone, as the review queue shows it."""

    id: int
    title: str
    unit_code: str
    unit_name: str
    year: int
    state: str
    state_label: str
    workflow_title: str
    role: str
    task_unit_id: int | None
    task_unit_name: str
    escalated_unit_name: str | None
    since: datetime | None
    due_at: datetime | None
    level: int

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at < now

    def sort_key(self, now: datetime) -> tuple[int, bool, bool, datetime | None, int]:
        """Escalated first (highest level first), then overdue, then the longest waiting."""
        return (-self.level, not self.overdue(now), self.since is None, self.since, self.id)


def queue_order(now: datetime) -> list[Any]:
    """``QueueRow.sort_key`` as ORDER BY terms over ``Plan``."""
    overdue = case((col(Plan.task_due_at) < now, 0), else_=1)
    return [
        col(Plan.task_level).desc(),
        overdue,
        col(Plan.task_since).is_(None),
        col(Plan.task_since),
        col(Plan.id),
    ]


def queue_count(pf: Planflow, where: Sequence[ColumnElement[bool]]) -> int:
    """How many plans ``queue_rows`` would list without its limit."""
    query = sa_select(func.count()).select_from(Plan).where(*where)
    with pf.db.read_session() as s:
        return int(s.connection().execute(query).scalar_one())


def queue_rows(
    pf: Planflow,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    *,
    offset: int = 0,
    limit: int,
) -> list[QueueRow]:
    query = (
        sa_select(
            *_LIST_COLUMNS,
            col(Plan.task_role),
            col(Plan.task_unit_id),
            col(Plan.task_escalated_unit_id),
            col(Plan.task_since),
            col(Plan.task_due_at),
            col(Plan.task_level),
        )
        .where(*where)
        .order_by(*order_by)
        .offset(offset)
        .limit(limit)
    )
    with pf.db.read_session() as s:
        found = list(s.connection().execute(query))
        ids = [p.unit_id for p in found]
        ids += [u for p in found for u in (p.task_unit_id, p.task_escalated_unit_id) if u]
        units = unit_names(s, ids)
    rows = []
    for p in found:
        escalated = units.get(p.task_escalated_unit_id) if p.task_escalated_unit_id else None
        rows.append(
            QueueRow(
                **_list_fields(pf, p, units),
                role=p.task_role or "",
                task_unit_id=p.task_unit_id,
                task_unit_name=units.get(p.task_unit_id, ("?", "?"))[1],
                escalated_unit_name=escalated[1] if escalated else None,
                since=p.task_since,
                due_at=p.task_due_at,
                level=p.task_level,
            )
        )
    return rows


@dataclass(frozen=True)
class QueueLine:
    """A queue row with its words and links worked out, ready to print.

    A queue page shows fifty rows; doing this in Python instead of in
    template calls (a macro, several gettext and format calls per row) halved
    the page's time in the W3 benchmark's profile.
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


def queue_lines(rows: Iterable[QueueRow], now: datetime, to_me: set[int]) -> list[QueueLine]:
    """``rows`` as the queue prints them; ``to_me`` are the ids escalated to the viewer."""
    base = url_for("plans.detail", plan_id=0)[: -len("0")]
    lines = []
    for r in rows:
        lines.append(
            QueueLine(
                url=f"{base}{r.id}",
                title=r.title,
                subtitle=f"{r.workflow_title} · {r.year}",
                unit_name=r.unit_name,
                state=r.state,
                state_label=r.state_label,
                waiting_for=quick_gettext(
                    "%(role)s at %(unit)s", role=role_label(r.role), unit=r.task_unit_name
                ),
                escalated_to=(
                    quick_gettext("escalated to %(unit)s", unit=r.escalated_unit_name)
                    if r.escalated_unit_name
                    else None
                ),
                escalated_to_you=r.id in to_me,
                since=format_when(r.since),
                due=quick_gettext("due %(when)s", when=format_when(r.due_at)) if r.due_at else "",
                overdue=r.overdue(now),
                escalation=(
                    quick_gettext("Escalated (level %(level)d)", level=r.level) if r.level else None
                ),
            )
        )
    return lines
