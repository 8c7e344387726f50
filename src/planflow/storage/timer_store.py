"""The SQL of the scheduler: claiming due timers and rounds, and effect keys.

Timers live on the plan row (``timer_at``, ``timer_kind``, found through
the index on their lower bound ``timer_hint``: see ``tables.Plan``). A run
first moves the hints that came due with no timer due behind them
(``FIX_TIMER_HINTS``), then a scheduler process claims a batch of due ones with a lease
(``timer_claimed_by``, ``timer_claimed_until``) in one statement that also
returns everything needed to apply them, so the processor pays one round
trip per batch, not per plan. On PostgreSQL the claim skips rows another
process has locked (``FOR UPDATE SKIP LOCKED``); on SQLite the write lock
taken by ``BEGIN IMMEDIATE`` makes the same UPDATE atomic. A claim whose
process died is taken over once its lease has expired.

Rounds are claimed the same way through their ``schedule_firing`` row, and
every applied effect inserts its key into ``applied_effect``, so a second
application of the same effect finds the key and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planflow.storage.plan_store import PlanRow
from planflow.storage.tx import Sql, Tx

_PLAN_COLUMNS = (
    "id, unit_id, year, title, workflow_name, workflow_version, state, version, submitted_by,"
    " item_count, items_without_due, revision, audit_seq, audit_hash, task_role, task_unit_id,"
    " task_level, task_escalated_unit_id, task_since, task_due_at, timer_at, timer_kind,"
    " timer_hint"
)
#: Hints that came due with no timer due behind them move to the timer (or
#: away, with no timer). One statement under the row's lock, so it is right
#: whatever else changes the plan meanwhile, and it never changes a version.
#: On PostgreSQL it skips the rows another transaction holds: waiting for them
#: while holding others deadlocked with a unit move re-routing the same plans
#: (found by tests/test_unit_move_race.py); a skipped hint is only early, and the
#: next run moves it.
_STALE_HINTS = "timer_hint <= :now AND (timer_at IS NULL OR timer_at > :now)"
FIX_TIMER_HINTS = Sql(
    "fix_timer_hints",
    "UPDATE plan SET timer_hint = timer_at WHERE " + _STALE_HINTS,
    postgresql="UPDATE plan SET timer_hint = timer_at WHERE id IN (SELECT id FROM plan WHERE "
    + _STALE_HINTS
    + " ORDER BY id FOR UPDATE SKIP LOCKED)",
)
_DUE = (
    "SELECT id FROM plan WHERE timer_hint <= :now AND timer_at <= :now"
    " AND (timer_claimed_until IS NULL OR timer_claimed_until < :now)"
    " ORDER BY timer_hint, id LIMIT :limit"
)
_CLAIM = (
    "UPDATE plan SET timer_claimed_by = :worker, timer_claimed_until = :until"
    " WHERE id IN ({due}) RETURNING " + _PLAN_COLUMNS
)
CLAIM_TIMERS = Sql(
    "claim_timers",
    _CLAIM.format(due=_DUE),
    postgresql=_CLAIM.format(due=_DUE + " FOR UPDATE SKIP LOCKED"),
)
#: The effect's own plan update: task level and escalation target, the next
#: timer, the audit head; checked against the version *and* our claim.
UPDATE_PLAN_TIMER = Sql(
    "update_plan_timer",
    "UPDATE plan SET version = :new_version, updated_at = :at, audit_seq = :audit_seq,"
    " audit_hash = :audit_hash, task_level = :task_level,"
    " task_escalated_unit_id = :task_escalated_unit_id, timer_at = :timer_at,"
    " timer_hint = :timer_at, timer_kind = :timer_kind, timer_claimed_by = NULL,"
    " timer_claimed_until = NULL"
    " WHERE id = :plan_id AND version = :version AND timer_claimed_by = :worker",
)
RELEASE_TIMER = Sql(
    "release_timer",
    "UPDATE plan SET timer_claimed_by = NULL, timer_claimed_until = NULL"
    " WHERE id = :plan_id AND timer_claimed_by = :worker",
)
INSERT_EFFECT = Sql(
    "insert_effect",
    "INSERT INTO applied_effect (key, plan_id, at) VALUES (:key, :plan_id, :at)"
    " ON CONFLICT (key) DO NOTHING",
)

INSERT_FIRING = Sql(
    "insert_firing",
    "INSERT INTO schedule_firing (key, workflow_name, schedule, period, status, due_at, at,"
    " plans_affected, claimed_by, claimed_until) VALUES (:key, :workflow_name, :schedule,"
    " :period, :status, :due_at, :at, 0, :worker, :until) ON CONFLICT (key) DO NOTHING",
)
TAKE_OVER_FIRING = Sql(
    "take_over_firing",
    "UPDATE schedule_firing SET claimed_by = :worker, claimed_until = :until"
    " WHERE key = :key AND status = 'running' AND claimed_until < :now",
)
RENEW_FIRING = Sql(
    "renew_firing",
    "UPDATE schedule_firing SET claimed_until = :until WHERE key = :key AND claimed_by = :worker",
)
#: A round whose scheduler stops mid-way: its lease ends now, so another takes it over.
RELEASE_FIRINGS = Sql(
    "release_firings",
    "UPDATE schedule_firing SET claimed_until = :now"
    " WHERE claimed_by = :worker AND status = 'running'",
)
FINISH_FIRING = Sql(
    "finish_firing",
    "UPDATE schedule_firing SET status = 'fired', at = :at, plans_affected = :plans_affected,"
    " claimed_by = NULL, claimed_until = NULL WHERE key = :key AND claimed_by = :worker",
)
SELECT_FIRINGS = Sql(
    "select_firings",
    "SELECT period, status FROM schedule_firing WHERE workflow_name = :workflow_name"
    " AND schedule = :schedule",
)
SELECT_ROUND_PLANS = Sql(
    "select_round_plans",
    "SELECT id FROM plan WHERE workflow_name = :workflow_name AND state = :state"
    " AND year = :year ORDER BY id",
)
SELECT_FIRST_REGISTERED = Sql(
    "select_first_registered",
    "SELECT MIN(registered_at) FROM workflow_definition WHERE name = :name",
)

ALL_STATEMENTS = [v for v in list(globals().values()) if isinstance(v, Sql)]


@dataclass(frozen=True, slots=True)
class ClaimedTimer:
    """A due timer this process holds, with the plan as it was when claimed."""

    row: PlanRow
    task_since: datetime | None
    task_due_at: datetime | None
    at: datetime
    kind: str


def claim_timers(
    tx: Tx, worker: str, now: datetime, until: datetime, limit: int, generation: int
) -> list[ClaimedTimer]:
    rows = tx.all(
        CLAIM_TIMERS,
        {"worker": worker, "now": tx.ts(now), "until": tx.ts(until), "limit": limit},
    )
    out = []
    for r in rows:
        at = tx.dt(r[20])
        assert at is not None
        out.append(
            ClaimedTimer(
                row=PlanRow(*(*r[:18], r[20] is not None, generation, r[22])),
                task_since=tx.dt(r[18]),
                task_due_at=tx.dt(r[19]),
                at=at,
                kind=str(r[21]),
            )
        )
    # RETURNING gives no order; the oldest timer goes first.
    out.sort(key=lambda c: (c.at, c.row.id))
    return out


def fix_timer_hints(tx: Tx, now: datetime) -> int:
    """Move the hints due by ``now`` that have no timer due behind them; how many."""
    return tx.run(FIX_TIMER_HINTS, {"now": tx.ts(now)})


def insert_effect(tx: Tx, key: str, plan_id: int | None, at: Any) -> bool:
    """Record an effect's key; False when it had already been applied."""
    return tx.run(INSERT_EFFECT, {"key": key, "plan_id": plan_id, "at": at}) == 1
