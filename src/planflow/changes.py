"""What one change to a plan is, and the writers that persist its effects.

``Change`` describes a committed-to-be change: who did what to which plan,
the state it goes to, and the audit entry that records it. The service
builds it; the writers below subscribe to it and run inside the same
database transaction, in order:

1. ``write_audit``          the hash-chained audit record
2. ``write_revision``       the frozen content, on a submission
3. ``write_vote``           an n-of-m approval vote
4. ``write_tasks``          close the old task, open the new one and its timers
5. ``write_notifications``  in-app notifications (and e-mail outbox rows)

A writer may add rows, never change the plan row itself: the service does
that once, with the version check, before any writer runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from .audit_chain import AuditEntry, canonical_json, sha256_hex
from .calendar import BusinessCalendar
from .definitions.spec import WorkflowSpec
from .engine import Decision
from .org import OrgSnapshot
from .storage import plan_store as ps


@dataclass
class Change:
    plan_id: int
    unit_id: int
    title: str
    action: str
    actor_id: int | None
    on_behalf_of_id: int | None
    at: datetime
    from_state: str | None
    to_state: str
    comment: str | None
    revision: int
    new_version: int
    spec: WorkflowSpec
    org: OrgSnapshot
    calendar: BusinessCalendar
    decision: Decision | None = None
    previous_submitter: int | None = None
    #: Content to freeze as a revision (submissions only).
    frozen_content: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    audit: AuditEntry | None = None
    #: Filled by the writers, read by event subscribers after commit.
    notified: list[int] = field(default_factory=list)
    task_id: int | None = None

    @property
    def changes_state(self) -> bool:
        return self.from_state != self.to_state


Writer = Callable[[Connection, Change], None]


def write_audit(conn: Connection, change: Change) -> None:
    e = change.audit
    assert e is not None, "the service seals the audit entry before writers run"
    conn.execute(
        ps.INSERT_AUDIT,
        {
            "plan_id": e.plan_id,
            "seq": e.seq,
            "actor_id": e.actor_id,
            "on_behalf_of_id": e.on_behalf_of_id,
            "at": e.at,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "comment": e.comment,
            "revision": e.revision,
            "detail": e.detail,
            "prev_hash": e.prev_hash,
            "hash": e.compute_hash(),
        },
    )


def write_revision(conn: Connection, change: Change) -> None:
    if change.frozen_content is None:
        return
    conn.execute(
        ps.INSERT_REVISION,
        {
            "plan_id": change.plan_id,
            "number": change.revision,
            "content": change.frozen_content,
            "content_hash": sha256_hex(change.frozen_content),
            "created_by": change.actor_id,
            "created_at": change.at,
        },
    )


def write_vote(conn: Connection, change: Change) -> None:
    d = change.decision
    if d is None or d.quorum is None or change.actor_id is None:
        return
    conn.execute(
        ps.INSERT_VOTE,
        {
            "plan_id": change.plan_id,
            "round": change.revision,
            "user_id": change.actor_id,
            "at": change.at,
        },
    )


def write_tasks(conn: Connection, change: Change) -> None:
    if not change.changes_state:
        return
    spec = change.spec
    if change.from_state is not None and spec.state(change.from_state).task is not None:
        conn.execute(
            ps.CLOSE_TASKS,
            {"p_plan_id": change.plan_id, "p_closed_at": change.at, "p_closed_by": change.actor_id},
        )
    task = spec.state(change.to_state).task
    if task is None:
        return
    org = change.org
    unit_id = org.resolve(task.assignee, change.unit_id)
    if unit_id is None:
        # Nobody holds the role anywhere upwards: the task still exists, at
        # the plan's own unit, so it shows as unassigned instead of vanishing.
        unit_id = change.unit_id
    due_at = change.calendar.add(change.at, task.due) if task.due else None
    result = conn.execute(
        ps.INSERT_TASK,
        {
            "plan_id": change.plan_id,
            "state": change.to_state,
            "role": task.assignee.role,
            "unit_id": unit_id,
            "origin_unit_id": unit_id,
            "status": "open",
            "escalation_level": 0,
            "created_at": change.at,
            "due_at": due_at,
        },
    )
    task_id = int(result.inserted_primary_key[0])
    change.task_id = task_id
    timer = spec.timer_for(change.to_state)
    if timer is None or due_at is None:
        return
    rows = []
    cal = change.calendar
    if timer.remind_before is not None:
        remind_at = cal.subtract(due_at, timer.remind_before)
        if remind_at > change.at:
            rows.append(("remind", 0, remind_at))
    if timer.escalate_after is not None:
        rows.append(("escalate", 1, cal.add(due_at, timer.escalate_after)))
    if timer.auto_trigger is not None and timer.auto_after is not None:
        rows.append(("auto", 0, cal.add(due_at, timer.auto_after)))
    if rows:
        conn.execute(
            ps.INSERT_TIMER,
            [
                {
                    "key": f"task:{task_id}:{kind}:{level}",
                    "plan_id": change.plan_id,
                    "task_id": task_id,
                    "kind": kind,
                    "level": level,
                    "due_at": when,
                    "status": "pending",
                    "attempts": 0,
                }
                for kind, level, when in rows
            ],
        )


def recipients(change: Change) -> list[int]:
    """Only the people who must act, and those the definition names."""
    org = change.org
    people: set[int] = set()
    task = change.spec.state(change.to_state).task if change.changes_state else None
    if task is not None:
        people |= org.assignees(task.assignee, change.unit_id)
    t = change.decision.transition if change.decision else None
    if t is not None:
        for ref in t.notify:
            people |= org.assignees(ref, change.unit_id)
        if t.notify_submitter and change.previous_submitter is not None:
            people.add(change.previous_submitter)
    people.discard(change.actor_id)  # type: ignore[arg-type]
    return sorted(p for p in people if p in org.active_users)


def write_notifications(conn: Connection, change: Change) -> None:
    if change.decision is None:
        return
    people = recipients(change)
    if not people:
        return
    payload = canonical_json(
        {
            "title": change.title,
            "action": change.action,
            "from": change.from_state,
            "to": change.to_state,
            "actor": change.actor_id,
            "comment": (change.comment or "")[:500],
            "workflow": change.spec.name,
        }
    )
    conn.execute(
        ps.INSERT_NOTIFICATION,
        [
            {
                "key": None,
                "user_id": user_id,
                "plan_id": change.plan_id,
                "kind": "transition",
                "payload": payload,
                "created_at": change.at,
                "email_status": "pending",
                "email_attempts": 0,
                "email_next_at": change.at,
            }
            for user_id in people
        ],
    )
    change.notified = people


DEFAULT_WRITERS: tuple[Writer, ...] = (
    write_audit,
    write_revision,
    write_vote,
    write_tasks,
    write_notifications,
)
