"""The fixed SQL of the gestures around a task: recall and urge.

Both read a plan's own audit records, found by the range of their packed
key (``storage.audit_keys``: one plan's records are one range of the
primary key, so no index is needed and a read touches the plan's pages only).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from planflow.storage.audit_keys import RANGE_SQL
from planflow.storage.tx import Sql, Tx

#: The people's records of one review round (the audit ``revision`` is the
#: number of the last submission), oldest first.
SELECT_ROUND_RECORDS = Sql(
    "select_round_records",
    "SELECT seq, actor_id, action, at FROM audit_record"
    f" WHERE {RANGE_SQL} AND revision = :revision AND actor_id IS NOT NULL ORDER BY id",
)
#: The latest record that started the plan's current task (a state change, the
#: plan's creation or a move to another definition version) or urged it.
SELECT_TASK_MARK = Sql(
    "select_task_mark",
    "SELECT seq, action, at FROM audit_record"
    f" WHERE {RANGE_SQL} AND (action IN ('urge', 'migrate_workflow') OR from_state IS NULL"
    " OR from_state <> to_state) ORDER BY id DESC LIMIT 1",
)

#: Every statement above, for the test that runs each one on both databases.
ALL_STATEMENTS = [v for v in list(globals().values()) if isinstance(v, Sql)]


class RoundRecord(NamedTuple):
    seq: int
    actor_id: int
    action: str
    at: datetime


class TaskMark(NamedTuple):
    """Where the current task's history starts: its last urge, else its beginning."""

    seq: int
    action: str
    at: datetime

    @property
    def urged(self) -> bool:
        return self.action == "urge"


def round_records(tx: Tx, plan_id: int, revision: int) -> list[RoundRecord]:
    rows = tx.all(SELECT_ROUND_RECORDS, {"plan_id": plan_id, "revision": revision})
    return [RoundRecord(int(r[0]), int(r[1]), str(r[2]), _at(tx, r[3])) for r in rows]


def task_mark(tx: Tx, plan_id: int) -> TaskMark | None:
    row = tx.one(SELECT_TASK_MARK, {"plan_id": plan_id})
    return None if row is None else TaskMark(int(row[0]), str(row[1]), _at(tx, row[2]))


def _at(tx: Tx, value: object) -> datetime:
    at = tx.dt(value)
    assert at is not None, "audit records always have a time"
    return at
