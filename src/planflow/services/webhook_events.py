"""The writer that enqueues webhook events in the same transaction as the change.

A change to a plan (``services.changes.Change``) tells of up to two events:

* ``plan.state_changed`` when a transition moved the plan (a person's, or an
  auto-action of the scheduler), and ``task.created`` when the new state
  waits for someone;
* ``plan.comment`` for a comment; ``task.escalated`` for the scheduler's
  escalation of an overdue task (``apply_system_change``, action
  ``escalate`` or ``escalation_at_top``).

For each event, every active webhook whose unit is the plan's unit or one
above it, and that subscribed to the event, gets one ``webhook_delivery``
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planflow.core.webhooks import ESCALATIONS, event_id, iso_z
from planflow.storage import webhook_store as ws
from planflow.storage.db import Database
from planflow.storage.org_repo import current_generation
from planflow.storage.tx import Tx

if TYPE_CHECKING:
    from planflow.services.changes import Change


@dataclass(frozen=True)
class _Hooks:
    generation: int
    #: (webhook id, its unit, its events) of every active webhook.
    hooks: tuple[tuple[int, int, frozenset[str]], ...]


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
            cached = _Hooks(current, tuple((h.id, h.unit_id, frozenset(h.events)) for h in rows))
            self._cached = cached
            return cached


def events_of(change: Change) -> list[str]:
    """The event types ``change`` tells of (often none)."""
    if change.action == "comment":
        return ["plan.comment"]
    if change.action in ESCALATIONS:
        return ["task.escalated"]
    if change.decision is not None and change.changes_state:
        task = change.task
        if task is not None and task.role and task.unit_id is not None:
            return ["plan.state_changed", "task.created"]
        return ["plan.state_changed"]
    return []


class WebhookEvents:
    """The writer (``services.changes.Writer``): one per ``PlanService`` and database."""

    def __init__(self, db: Database) -> None:
        self.cache = WebhookCache(db)

    def __call__(self, tx: Tx, change: Change) -> None:
        hooks = self.cache.get(change.org.generation).hooks
        if not hooks:
            return
        events = events_of(change)
        if not events:
            return
        covering = {change.unit_id, *change.org.ancestors(change.unit_id)}
        rows = []
        for event_type in events:
            wanted = [h for h, unit, types in hooks if unit in covering and event_type in types]
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
    elif event_type == "task.escalated":
        detail = change.detail
        body["escalation"] = {
            "level": detail.get("level"),
            "from_unit": detail.get("from_unit", detail.get("unit")),
            "to_unit": detail.get("to_unit"),
            "at_top": change.action == "escalation_at_top",
            "due_at": detail.get("due_at"),
        }
    return body
