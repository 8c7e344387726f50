"""The fixed SQL of a return to a chosen step: the plan's last change of state.

Read on a resubmission only (and only under a definition that sends returned
plans straight back): whether the plan was sent to the state it leaves now by
a reviewer's ``return_to``, and from where. One plan's audit records are one
range of the primary key (``storage.audit_keys``), read newest first.
"""

from __future__ import annotations

from planflow.core.returns import LastMove
from planflow.storage.audit_keys import RANGE_SQL
from planflow.storage.tx import Sql, Tx

SELECT_LAST_MOVE = Sql(
    "select_last_move",
    "SELECT action, from_state, to_state, actor_id FROM audit_record"
    f" WHERE {RANGE_SQL} AND from_state <> to_state ORDER BY id DESC LIMIT 1",
)

#: Every statement above, for the test that runs each one on both databases.
ALL_STATEMENTS = [SELECT_LAST_MOVE]


def last_move(tx: Tx, plan_id: int) -> LastMove | None:
    row = tx.one(SELECT_LAST_MOVE, {"plan_id": plan_id})
    if row is None:
        return None
    actor = None if row[3] is None else int(row[3])
    return LastMove(str(row[0]), str(row[1]), str(row[2]), actor)
