"""The writer that enqueues webhook events in the same transaction as the change.

A change to a plan (``services.changes.Change``) tells of up to two events:

* ``plan.state_changed`` when a transition moved the plan (a person's, or an
  auto-action of the scheduler), and ``task.created`` when the new state
  waits for someone;
* ``plan.comment`` for a comment; ``task.escalated`` for the scheduler's
  escalation of an overdue task (``apply_system_change``, action
  ``escalate`` or ``escalation_at_top``), and ``task.overdue`` with the
  first of them (``core.webhooks.is_first_overdue``);
* ``inspection.finished`` with the transition that gives an inspection
  round's verdict (``accept`` or ``require_rectification``).

``audit.verification_failed`` tells of no change: ``enqueue_audit_failure``
writes it when a verification of the trail finds problems, keyed by the
problems found, so the same failure found again is not told twice.

For each event, every active webhook whose unit is the plan's unit or one
above it (or, for a person's own channel, whose owner the change notifies),
and that subscribed to the event, gets one ``webhook_delivery``
row, written by the change's own transaction: if the change rolls back, no
event exists; if it commits, the event is in the outbox. Each event's id is
derived from the change's audit record (``core.webhooks.event_id``) and
(webhook, event id) is unique, so no event is enqueued twice for a webhook.

The active webhooks are cached per process, by the organisation generation
every change reads with its plan row: adding or removing a webhook bumps that
generation, so a change that starts after it sees the new list, and a change
costs no query at all while the webhooks stay as they are.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from planflow.core.audit_chain import ChainProblem
from planflow.core.webhooks import (
    ESCALATIONS,
    VERDICTS,
    audit_event_id,
    event_id,
    is_first_overdue,
    iso_z,
)
from planflow.storage import webhook_store as ws
from planflow.storage.db import Database
from planflow.storage.org_cache import current_generation
from planflow.storage.tx import Tx, write_tx

if TYPE_CHECKING:
    from planflow.services.changes import Change


@dataclass(frozen=True)
class _Hooks:
    generation: int
    #: (webhook id, its unit, its events) of every active webhook of a subtree.
    hooks: tuple[tuple[int, int, frozenset[str]], ...]
    #: (webhook id, its owner, its events) of every person's own active channel.
    own: tuple[tuple[int, int, frozenset[str]], ...] = ()


class WebhookCache:
    """The active webhooks as of an organisation generation, loaded on a read connection.

    Loaded apart from the change's transaction (like ``OrgCache``): what is
    cached has been committed, never a list that may yet roll back. The
    generation is read before the webhooks, so a webhook added in between
    is at worst loaded early, never missed.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cached: _Hooks | None = None
        self._lock = threading.Lock()

    def get(self, generation: int) -> _Hooks:
        cached = self._cached
        if cached is not None and cached.generation >= generation:
            return cached
        with self._lock, self.db.read() as conn:
            current = current_generation(conn)
            rows = ws.active_hooks(conn)
            cached = _Hooks(
                current,
                tuple((h.id, h.unit_id, frozenset(h.events)) for h in rows if h.user_id is None),
                tuple(
                    (h.id, h.user_id, frozenset(h.events)) for h in rows if h.user_id is not None
                ),
            )
            self._cached = cached
            return cached


def events_of(change: Change) -> list[str]:
    """The event types ``change`` tells of (often none)."""
    if change.action == "comment":
        return ["plan.comment"]
    if change.action in ESCALATIONS:
        if is_first_overdue(change.action, change.detail.get("level")):
            return ["task.overdue", "task.escalated"]
        return ["task.escalated"]
    if change.decision is not None and change.changes_state:
        found = ["plan.state_changed"]
        task = change.task
        if task is not None and task.role and task.unit_id is not None:
            found.append("task.created")
        if change.action in VERDICTS:
            found.append("inspection.finished")
        return found
    return []


class WebhookEvents:
    """The writer (``services.changes.Writer``): one per ``PlanService`` and database."""

    def __init__(self, db: Database) -> None:
        self.cache = WebhookCache(db)

    def __call__(self, tx: Tx, change: Change) -> None:
        cached = self.cache.get(change.org.generation)
        hooks, own = cached.hooks, cached.own
        if not hooks and not own:
            return
        events = events_of(change)
        if not events:
            return
        covering = {change.unit_id, *change.org.ancestors(change.unit_id)}
        # A person's own channel hears what notifies them (written before this writer).
        told = set(change.notified)
        if change.notice is not None:
            told.update(change.notice.recipients)
        rows = []
        for event_type in events:
            wanted = [h for h, unit, types in hooks if unit in covering and event_type in types]
            wanted += [h for h, user, types in own if user in told and event_type in types]
            if not wanted:
                continue
            ident = event_id(change.audit_hash, event_type)
            body = json.dumps(
                event_body(change, event_type, ident), ensure_ascii=False, separators=(",", ":")
            )
            rows += [
                {
                    "webhook_id": h,
                    "event_id": ident,
                    "event_type": event_type,
                    "plan_id": change.plan_id,
                    "body": body,
                    "created_at": change.at_db,
                }
                for h in wanted
            ]
        tx.run_many(ws.INSERT_DELIVERY, rows, bound=True)


def event_body(change: Change, event_type: str, ident: str) -> dict[str, Any]:
    """The JSON an event sends: what happened, to which plan, by whom (documented in README)."""
    org = change.org
    unit = org.units[change.unit_id]
    body: dict[str, Any] = {
        "id": ident,
        "type": event_type,
        "occurred_at": iso_z(change.at),
        "plan": {
            "id": change.plan_id,
            "title": change.title,
            "unit": {"code": unit.code, "name": unit.name},
            "workflow": change.spec.name,
            "state": change.to_state,
            "version": change.new_version,
        },
        "action": change.action,
        "actor": org.usernames.get(change.actor_id) if change.actor_id is not None else None,
        "audit_seq": change.audit.seq if change.audit is not None else None,
    }
    if event_type == "plan.state_changed":
        body["from_state"] = change.from_state
        body["to_state"] = change.to_state
        body["comment"] = change.comment
    elif event_type == "plan.comment":
        body["comment"] = change.comment
        body["item"] = change.detail.get("item")
    elif event_type == "task.created" and change.task is not None:
        task = change.task
        task_unit = org.units[task.unit_id] if task.unit_id is not None else None
        body["task"] = {
            "role": task.role,
            "unit": task_unit.code if task_unit else None,
            "due_at": iso_z(task.due_at) if task.due_at else None,
        }
    elif event_type == "inspection.finished":
        detail = change.detail
        body["inspection"] = {
            "verdict": "accepted" if change.action == "accept" else "rectification_required",
            "round": detail.get("round"),
            "grade": detail.get("grade"),
            "total": detail.get("total"),
            "rectification_due": detail.get("rectification_due"),
        }
    elif event_type in ("task.escalated", "task.overdue"):
        detail = change.detail
        body["escalation"] = {
            "level": detail.get("level"),
            "from_unit": detail.get("from_unit", detail.get("unit")),
            "to_unit": detail.get("to_unit"),
            "at_top": change.action == "escalation_at_top",
            "due_at": detail.get("due_at"),
        }
    return body


#: Problems an ``audit.verification_failed`` event lists at most.
MAX_PROBLEMS = 20


def enqueue_audit_failure(db: Database, at: datetime, problems: Sequence[ChainProblem]) -> int:
    """Tell the subscribed webhooks that the trail failed verification; returns how many.

    One transaction: the event rows for every active webhook subscribed to
    ``audit.verification_failed`` whose unit covers a plan with a problem
    (a problem with no plan, such as an altered checkpoint, concerns them
    all). The event id is derived from the problems, so verifying again and
    finding the same ones enqueues nothing new; a new problem is a new event.
    """
    if not problems:
        return 0
    fingerprint = "|".join(sorted(f"{p.code}:{p.plan_id}:{p.seq}" for p in problems))
    ident = audit_event_id(fingerprint)
    plan_ids = sorted({p.plan_id for p in problems if p.plan_id is not None})
    everyone = any(p.plan_id is None for p in problems)
    with write_tx(db) as tx:
        hooks = [
            (int(h), int(u))
            for h, u, events in tx.all(ws.ACTIVE_HOOK_EVENTS, {})
            if "audit.verification_failed" in json.loads(events)
        ]
        if not hooks:
            return 0
        units: dict[int, int] = {}
        if plan_ids:
            params = {f"p{i}": v for i, v in enumerate(plan_ids)}
            units = {int(p): int(u) for p, u in tx.all(ws.plan_units_query(len(plan_ids)), params)}
        parents = {int(u): p for u, p in tx.all(ws.UNIT_PARENTS, {})}
        covered: set[int] = set()
        for unit in units.values():
            current: int | None = unit
            while current is not None and current not in covered:
                covered.add(current)
                current = parents.get(current)
        body = json.dumps(
            {
                "id": ident,
                "type": "audit.verification_failed",
                "occurred_at": iso_z(at),
                "count": len(problems),
                "problems": [
                    {"code": p.code, "plan_id": p.plan_id, "seq": p.seq, "message": p.message}
                    for p in problems[:MAX_PROBLEMS]
                ],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        # The first plan that still exists (a problem may be about a deleted one).
        first_plan = next((p for p in plan_ids if p in units), None)
        rows = [
            {
                "webhook_id": h,
                "event_id": ident,
                "event_type": "audit.verification_failed",
                "plan_id": first_plan,
                "body": body,
                "created_at": tx.ts(at),
            }
            for h, unit in hooks
            if everyone or unit in covered
        ]
        return sum(tx.run(ws.INSERT_DELIVERY, row) for row in rows)
