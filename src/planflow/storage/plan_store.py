"""The fixed SQL of the transition path.

A transition costs one SELECT (the plan, its open task and the organisation
generation, in one round trip), one UPDATE (state, version and audit head,
with the optimistic version check) and the INSERTs of its effects. The
statements are plain text run through ``storage.tx`` (see there for why);
the column lists must match ``tables.py``, which the tests check by running
every statement on both databases.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from planflow.core.guards import PlanFacts
from planflow.core.ids import is_id
from planflow.storage.audit_keys import SEQ_SPAN
from planflow.storage.tx import Sql, Tx

_NO_FACTS: Mapping[str, object] = MappingProxyType({})

_SELECT_PLAN = (
    "SELECT p.id, p.unit_id, p.year, p.title, p.workflow_name, p.workflow_version, p.state,"
    " p.version, p.submitted_by, p.item_count, p.items_without_due, p.revision, p.audit_seq,"
    " p.audit_hash, p.task_role, p.task_unit_id, p.task_level, p.task_escalated_unit_id,"
    " p.timer_at IS NOT NULL, (SELECT generation FROM org_generation WHERE id = 1),"
    " p.timer_hint FROM plan p WHERE p.id = :plan_id"
)
SELECT_PLAN = Sql("select_plan", _SELECT_PLAN)
#: The same, for a change: on PostgreSQL the row is locked until the commit, so
#: changes to one plan queue instead of failing each other's version check (on
#: SQLite ``BEGIN IMMEDIATE`` has serialised the writers already).
SELECT_PLAN_FOR_CHANGE = Sql(
    "select_plan_for_change", _SELECT_PLAN, postgresql=_SELECT_PLAN + " FOR UPDATE OF p"
)
SELECT_GENERATION = Sql("select_generation", "SELECT generation FROM org_generation WHERE id = 1")
SELECT_VERSION = Sql("select_version", "SELECT version FROM plan WHERE id = :plan_id")
SELECT_CONTENT = Sql("select_content", "SELECT content FROM plan WHERE id = :plan_id")
SELECT_VOTES = Sql(
    "select_votes",
    "SELECT user_id FROM approval_vote WHERE plan_id = :plan_id AND round = :round",
)
INSERT_PLAN = Sql(
    "insert_plan",
    "INSERT INTO plan (unit_id, year, title, workflow_name, workflow_version, state, version,"
    " created_by, submitted_by, created_at, updated_at, content, item_count, items_without_due,"
    " revision, audit_seq, audit_hash, task_level) VALUES (:unit_id, :year, :title,"
    " :workflow_name, :workflow_version, :state, 0, :created_by, NULL, :at, :at, :content,"
    " :item_count, :items_without_due, 0, 0, '', 0)",
    returns_id=True,
)
UPDATE_PLAN = Sql(
    "update_plan",
    "UPDATE plan SET state = :state, version = :new_version, updated_at = :at,"
    " audit_seq = :audit_seq, audit_hash = :audit_hash"
    " WHERE id = :plan_id AND version = :version",
)
UPDATE_PLAN_MOVE = Sql(
    "update_plan_move",
    "UPDATE plan SET state = :state, version = :new_version, updated_at = :at,"
    " audit_seq = :audit_seq, audit_hash = :audit_hash,"
    " submitted_by = COALESCE(:submitted_by, submitted_by), revision = :revision,"
    " task_role = :task_role, task_unit_id = :task_unit_id, task_since = :task_since,"
    " task_due_at = :task_due_at, task_level = 0, task_escalated_unit_id = NULL,"
    " timer_at = :timer_at, timer_hint = :timer_at, timer_kind = :timer_kind,"
    " timer_claimed_by = NULL, timer_claimed_until = NULL"
    " WHERE id = :plan_id AND version = :version",
)


def _move_variant(
    task_key: bool, escalated: bool, timer: bool, submission: bool, sooner: bool
) -> Sql:
    sets = [
        "state = :state, version = :new_version, updated_at = :at, audit_seq = :audit_seq,"
        " audit_hash = :audit_hash, revision = :revision, task_since = :task_since,"
        " task_due_at = :task_due_at, task_level = 0, timer_kind = :timer_kind,"
        " timer_claimed_by = NULL, timer_claimed_until = NULL"
    ]
    if submission:
        sets.append("submitted_by = :submitted_by")
    if task_key:
        sets.append("task_role = :task_role, task_unit_id = :task_unit_id")
    if escalated:
        sets.append("task_escalated_unit_id = NULL")
    pg_sets = list(sets)
    if timer:
        sets.append("timer_at = :timer_at")
        # PostgreSQL computes the bound under the row lock, so it stays one
        # even if the deadline processor moved the hint since we read it; an
        # unchanged value keeps the update HOT.
        pg_sets.append("timer_at = :timer_at, timer_hint = LEAST(timer_hint, :timer_at)")
    if sooner:
        # SQLite: only when the hint must move (the write lock taken at BEGIN
        # keeps the hint we read current), since setting it moves its index entry.
        sets.append("timer_hint = :timer_at")
    named = (
        ("sub", submission),
        ("task", task_key),
        ("esc", escalated),
        ("timer", timer),
        ("sooner", sooner),
    )
    flags = [flag for flag, on in named if on]
    name = "update_plan_move:" + ("+".join(flags) or "none")
    where = " WHERE id = :plan_id AND version = :version"
    return Sql(
        name,
        "UPDATE plan SET " + ", ".join(sets) + where,
        postgresql="UPDATE plan SET " + ", ".join(pg_sets) + where,
    )


#: ``UPDATE_PLAN_MOVE`` without the columns that keep their value. SQLite
#: rewrites an index entry whenever its column is in the SET list, even to
#: the same value (one more dirty page per index in every commit's WAL
#: frames), and checks a foreign key whenever its column is set (a lookup
#: in the parent table); PostgreSQL's HOT updates skip unchanged indexes by
#: themselves.
_MOVE_VARIANTS = {
    (k, e, t, s, h): _move_variant(k, e, t, s, h)
    for k in (False, True)
    for e in (False, True)
    for t in (False, True)
    for s in (False, True)
    for h in (False, True)
    if t or not h  # a hint only moves with a timer
}


def move_update(
    row: PlanRow,
    task_role: str | None,
    task_unit_id: int | None,
    timer_at: Any,
    submitted_by: int | None = None,
) -> Sql:
    """The narrowest ``UPDATE_PLAN_MOVE`` that gives ``row`` this task, timer and submitter.

    ``timer_at`` is the new timer as the database binds it (``Tx.ts``), or
    None. ``submitted_by`` None keeps the plan's submitter (like the
    COALESCE of ``UPDATE_PLAN_MOVE``).
    """
    sooner = timer_at is not None and (row.timer_hint is None or timer_at < row.timer_hint)
    return _MOVE_VARIANTS[
        (
            task_role != row.task_role or task_unit_id != row.task_unit_id,
            row.task_escalated_unit_id is not None,
            timer_at is not None or row.has_timer,
            submitted_by is not None and submitted_by != row.submitted_by,
            sooner,
        )
    ]


UPDATE_PLAN_MIGRATE = Sql(
    "update_plan_migrate",
    "UPDATE plan SET state = :state, version = :new_version, updated_at = :at,"
    " audit_seq = :audit_seq, audit_hash = :audit_hash, workflow_version = :workflow_version,"
    " revision = :revision, task_role = :task_role, task_unit_id = :task_unit_id,"
    " task_since = :task_since, task_due_at = :task_due_at, task_level = 0,"
    " task_escalated_unit_id = NULL, timer_at = :timer_at, timer_hint = :timer_at,"
    " timer_kind = :timer_kind, timer_claimed_by = NULL, timer_claimed_until = NULL"
    " WHERE id = :plan_id AND version = :version",
)
#: A task re-routed after an organisation change (``planflow.services.reroute``): the
#: same task (role, since, due) at another unit, escalation reset, next timer
#: recomputed; checked against the version like every plan UPDATE.
UPDATE_PLAN_REROUTE = Sql(
    "update_plan_reroute",
    "UPDATE plan SET version = :new_version, updated_at = :at, audit_seq = :audit_seq,"
    " audit_hash = :audit_hash, task_unit_id = :task_unit_id, task_level = 0,"
    " task_escalated_unit_id = NULL, timer_at = :timer_at, timer_hint = :timer_at,"
    " timer_kind = :timer_kind, timer_claimed_by = NULL, timer_claimed_until = NULL"
    " WHERE id = :plan_id AND version = :version",
)
#: The open task's due time, only at the version the caller loaded.
SELECT_TASK_DUE = Sql(
    "select_task_due",
    "SELECT task_due_at FROM plan WHERE id = :plan_id AND version = :version",
)
#: The plan UPDATEs that (re)set the plan's task and first timer.
TASK_UPDATES = frozenset({"update_plan_move", "update_plan_migrate"})
UPDATE_PLAN_CONTENT = Sql(
    "update_plan_content",
    "UPDATE plan SET state = :state, version = :new_version, updated_at = :at,"
    " audit_seq = :audit_seq, audit_hash = :audit_hash, content = :content,"
    " item_count = :item_count, items_without_due = :items_without_due"
    " WHERE id = :plan_id AND version = :version",
)
_INSERT_AUDIT = (
    "INSERT INTO audit_record (id, plan_id, seq, actor_id, on_behalf_of_id, at, action,"
    " from_state, to_state, comment, revision, detail, prev_hash, hash) VALUES"
    f" (:plan_id * {SEQ_SPAN} + :seq, :plan_id, :seq, :actor_id,"
    " {on_behalf_of_id}, :at, :action, :from_state, :to_state, {comment}, :revision, :detail,"
    " :prev_hash, :hash)"
)
INSERT_AUDIT = Sql(
    "insert_audit", _INSERT_AUDIT.format(on_behalf_of_id=":on_behalf_of_id", comment=":comment")
)
#: ``INSERT_AUDIT`` for a record with no comment and nobody acted for (most
#: records): the SQLite driver binds None through an adapter lookup (~0.4 µs
#: each), and an adapter for None would be process-wide (see ``storage.tx``).
INSERT_AUDIT_PLAIN = Sql(
    "insert_audit_plain", _INSERT_AUDIT.format(on_behalf_of_id="NULL", comment="NULL")
)
INSERT_REVISION = Sql(
    "insert_revision",
    "INSERT INTO plan_revision (id, plan_id, number, content, content_hash, created_by,"
    f" created_at) VALUES (:plan_id * {SEQ_SPAN} + :number, :plan_id, :number, :content,"
    " :content_hash, :created_by, :created_at)",
)
INSERT_VOTE = Sql(
    "insert_vote",
    "INSERT INTO approval_vote (plan_id, round, user_id, at) VALUES (:plan_id, :round, :user_id,"
    " :at)",
)
_INSERT_NOTIFICATION = (
    "INSERT INTO notification (user_id, plan_id, kind, payload, created_at, read_at,"
    " email_status, email_attempts, email_next_at) VALUES (:user_id, :plan_id, :kind,"
    " :payload, :created_at, NULL, 'pending', 0, {next_at})"
)
#: A new notification is due for e-mail at once. On SQLite it has no due time
#: and stays out of the outbox index (see ``tables.OutboxWatermark``).
INSERT_NOTIFICATION = Sql(
    "insert_notification",
    _INSERT_NOTIFICATION.format(next_at="NULL"),
    postgresql=_INSERT_NOTIFICATION.format(next_at=":created_at"),
)
#: A change's notification: one per (plan, audit record, person) — the unique index
#: ``ux_notification_event`` — so a second notice of the same event to the same
#: person, from whichever writer, is dropped by the database, not written twice.
_INSERT_EVENT_NOTIFICATION = (
    "INSERT INTO notification (user_id, plan_id, event_seq, kind, payload, created_at,"
    " read_at, email_status, email_attempts, email_next_at) VALUES (:user_id, :plan_id,"
    " :event_seq, :kind, :payload, :created_at, NULL, 'pending', 0, {next_at})"
    " ON CONFLICT DO NOTHING"
)
INSERT_EVENT_NOTIFICATION = Sql(
    "insert_event_notification",
    _INSERT_EVENT_NOTIFICATION.format(next_at="NULL"),
    postgresql=_INSERT_EVENT_NOTIFICATION.format(next_at=":created_at"),
)
INSERT_COMMENT = Sql(
    "insert_comment",
    "INSERT INTO comment (plan_id, item_key, author_id, body, revision, created_at)"
    " VALUES (:plan_id, :item_key, :author_id, :body, :revision, :created_at)",
)

SELECT_PLANS_OF_VERSION = Sql(
    "select_plans_of_version",
    "SELECT id, state FROM plan WHERE workflow_name = :name AND workflow_version = :version"
    " ORDER BY id",
)

#: Every statement above, for the test that runs each one on both databases.
ALL_STATEMENTS = [v for v in list(globals().values()) if isinstance(v, Sql)]
#: The narrower forms of ``UPDATE_PLAN_MOVE`` that ``move_update`` picks from.
MOVE_VARIANTS = tuple(_MOVE_VARIANTS.values())


class PlanRow(NamedTuple):
    """A plan as the transition path reads it."""

    id: int
    unit_id: int
    year: int
    title: str
    workflow_name: str
    workflow_version: int
    state: str
    version: int
    submitted_by: int | None
    item_count: int
    items_without_due: int
    revision: int
    audit_seq: int
    audit_hash: str
    task_role: str | None
    task_unit_id: int | None
    task_level: int
    task_escalated_unit_id: int | None
    #: Whether the plan has a pending timer (``timer_at`` is set).
    has_timer: bool
    org_generation: int
    #: The indexed lower bound of the timer, as the database returns it
    #: (see ``tables.Plan.timer_hint``).
    timer_hint: Any = None

    def facts(
        self,
        approvals: frozenset[int] = frozenset(),
        inspection: str | None = None,
        extra: Mapping[str, object] | None = None,
        inspection_why: Mapping[str, Any] | None = None,
    ) -> PlanFacts:
        return PlanFacts(
            plan_id=self.id,
            unit_id=self.unit_id,
            state=self.state,
            version=self.version,
            submitted_by=self.submitted_by,
            item_count=self.item_count,
            items_without_due=self.items_without_due,
            revision=self.revision,
            approvals=approvals,
            inspection=inspection,
            task_role=self.task_role,
            # Only an escalation widens who may act, to the unit it reached.
            task_units=(
                (self.task_escalated_unit_id,) if self.task_escalated_unit_id is not None else ()
            ),
            extra=MappingProxyType(dict(extra)) if extra else _NO_FACTS,
            inspection_why=MappingProxyType(dict(inspection_why)) if inspection_why else _NO_FACTS,
        )


def load_plan(tx: Tx, plan_id: int, *, for_change: bool = False) -> PlanRow | None:
    """The plan as the transition path reads it; ``for_change`` locks it (PostgreSQL)."""
    if not is_id(plan_id):  # names no plan; the driver would overflow on it
        return None
    row = tx.one(SELECT_PLAN_FOR_CHANGE if for_change else SELECT_PLAN, {"plan_id": plan_id})
    if row is None:
        return None
    # SQLite answers ``IS NOT NULL`` with 0 or 1.
    return PlanRow(*(*row[:18], bool(row[18]), row[19], row[20]))


def org_generation(tx: Tx) -> int:
    row = tx.one(SELECT_GENERATION, {})
    return int(row[0]) if row else 0


def current_version(tx: Tx, plan_id: int) -> int | None:
    row = tx.one(SELECT_VERSION, {"plan_id": plan_id})
    return None if row is None else int(row[0])


def load_votes(tx: Tx, plan_id: int, round_: int) -> frozenset[int]:
    return frozenset(tx.scalars(SELECT_VOTES, {"plan_id": plan_id, "round": round_}))


def load_content(tx: Tx, plan_id: int) -> str:
    row = tx.one(SELECT_CONTENT, {"plan_id": plan_id})
    assert row is not None
    return str(row[0])


def load_task_due(tx: Tx, plan_id: int, version: int) -> tuple[bool, datetime | None]:
    """(found, due time) of the plan's task; not found when the version moved on."""
    row = tx.one(SELECT_TASK_DUE, {"plan_id": plan_id, "version": version})
    return (False, None) if row is None else (True, tx.dt(row[0]))


def update_plan_checked(tx: Tx, sql: Sql, params: dict[str, Any], *, bound: bool = False) -> bool:
    """The optimistic lock: write only if nobody changed the plan since we read it.

    ``bound``: every datetime in ``params`` is bound already (``Tx.ts``).
    """
    return (tx.run_bound(sql, params) if bound else tx.run(sql, params)) == 1
