"""Which statement carries out a change's intent: the plan UPDATE of every change.

The service says what a change does (``planflow.core.intents``); this module
picks the UPDATE for it and fills in its parameters, bound for the database
(``Tx.ts``). Every one of them sets the new version and audit head and checks
the version the change was decided on (``plan_store.update_plan_checked``);
the deadline processor's also checks its claim on the timer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from planflow.core.intents import (
    ContentEdit,
    DefinitionMigration,
    Move,
    Note,
    PlanUpdate,
    TaskReroute,
    TimerStep,
)
from planflow.core.task_planning import Effect, TaskState
from planflow.storage import plan_store as ps
from planflow.storage import timer_store as ts
from planflow.storage.tx import Sql, Tx


def plan_update(
    tx: Tx,
    row: ps.PlanRow,
    update: PlanUpdate,
    params: dict[str, Any],
    at: datetime,
    task: TaskState | None,
) -> Sql:
    """The UPDATE for ``update``; adds its parameters to ``params``.

    ``params`` holds what every plan UPDATE binds (plan_id, version, state,
    new_version, at, audit_seq, audit_hash, revision), already bound; ``at``
    is the change's time before binding. ``task`` is the plan's new task, for
    the intents that give it one (``Move``, ``DefinitionMigration``).
    """
    kind = type(update)
    if kind is Move or kind is DefinitionMigration:
        assert task is not None, "a move or migration gives the plan its new state's task"
        timer_at = tx.ts(task.timer_at)
        params["task_role"] = task.role
        params["task_unit_id"] = task.unit_id
        # The task usually starts with the change: reuse its bound time.
        params["task_since"] = params["at"] if task.since == at else tx.ts(task.since)
        params["task_due_at"] = tx.ts(task.due_at)
        params["timer_at"] = timer_at
        params["timer_kind"] = task.timer_kind
        if isinstance(update, Move):
            params["submitted_by"] = update.submitted_by
            return ps.move_update(row, task.role, task.unit_id, timer_at, update.submitted_by)
        assert isinstance(update, DefinitionMigration)
        params["workflow_version"] = update.target.version
        return ps.UPDATE_PLAN_MIGRATE
    if kind is Note:
        return ps.UPDATE_PLAN
    if isinstance(update, ContentEdit):
        params["content"] = update.content_json
        params["item_count"] = update.item_count
        params["items_without_due"] = update.items_without_due
        return ps.UPDATE_PLAN_CONTENT
    if isinstance(update, TaskReroute):
        params["task_unit_id"] = update.task_unit_id
        _next_timer(tx, update.next_timer, params)
        return ps.UPDATE_PLAN_REROUTE
    if isinstance(update, TimerStep):
        params["task_level"] = update.level
        params["task_escalated_unit_id"] = update.escalated_unit_id
        params["worker"] = update.claimed_by
        _next_timer(tx, update.next_timer, params)
        return ts.UPDATE_PLAN_TIMER
    raise TypeError(f"not a plan update: {update!r}")


def _next_timer(tx: Tx, following: Effect | None, params: dict[str, Any]) -> None:
    params["timer_at"] = tx.ts(following.at) if following is not None else None
    params["timer_kind"] = following.kind if following is not None else None
