"""The fixed SQL of transfer, added approvers and CC (``services.handover``).

A task's parts are few (a handful of people) and are rewritten whole when
they change: delete and insert in the plan's transaction, under its lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from planflow.core.handover import Part, TaskParts
from planflow.storage.tx import Sql, Tx

SELECT_PARTS = Sql(
    "select_task_parts",
    "SELECT user_id, position, kind, added_by, done FROM task_part"
    " WHERE plan_id = :plan_id ORDER BY position, id",
)
DELETE_PARTS = Sql("delete_task_parts", "DELETE FROM task_part WHERE plan_id = :plan_id")
INSERT_PART = Sql(
    "insert_task_part",
    "INSERT INTO task_part (plan_id, user_id, position, kind, added_by, done, created_at)"
    " VALUES (:plan_id, :user_id, :position, :kind, :added_by, :done, :at)",
)
#: A CC once per person and plan: copying someone again changes nothing.
INSERT_CC = Sql(
    "insert_plan_cc",
    "INSERT INTO plan_cc (plan_id, user_id, added_by, at, read_at, active)"
    " VALUES (:plan_id, :user_id, :added_by, :at, NULL, :active)"
    " ON CONFLICT (plan_id, user_id) DO NOTHING",
)
SELECT_CC = Sql(
    "select_plan_cc",
    "SELECT user_id, added_by, at, read_at, active FROM plan_cc"
    " WHERE plan_id = :plan_id ORDER BY at, id",
)
#: The receipt: the first read of a copied person (later reads keep the first time).
MARK_CC_READ = Sql(
    "mark_cc_read",
    "UPDATE plan_cc SET read_at = :at"
    " WHERE plan_id = :plan_id AND user_id = :user_id AND read_at IS NULL AND active = :active",
)
#: Whether a person has an unread CC of the plan (read first, so a page view writes nothing
#: for everyone else).
SELECT_UNREAD = Sql(
    "select_unread_cc",
    "SELECT id FROM plan_cc"
    " WHERE plan_id = :plan_id AND user_id = :user_id AND read_at IS NULL AND active = :active",
)
END_CC = Sql("end_plan_cc", "UPDATE plan_cc SET active = :inactive WHERE plan_id = :plan_id")
#: The plans one person may read because of CC or a part of a task.
SELECT_GRANTED = Sql(
    "select_granted_plans",
    "SELECT plan_id FROM plan_cc WHERE user_id = :user_id AND active = :active"
    # A part decided already still shows the plan: who co-signed reads what they
    # signed while the task is open (its parts end with it).
    " UNION SELECT plan_id FROM task_part WHERE user_id = :user_id",
)

#: Every statement above, for the test that runs each one on both databases.
ALL_STATEMENTS = [v for v in list(globals().values()) if isinstance(v, Sql)]


class CcRow(NamedTuple):
    user_id: int
    added_by: int | None
    at: datetime
    read_at: datetime | None
    active: bool


def load_parts(tx: Tx, plan_id: int) -> TaskParts:
    rows = tx.all(SELECT_PARTS, {"plan_id": plan_id})
    return TaskParts(
        tuple(
            Part(int(r[0]), int(r[1]), str(r[2]), None if r[3] is None else int(r[3]), bool(r[4]))
            for r in rows
        )
    )


def save_parts(tx: Tx, plan_id: int, parts: Sequence[Part], at: datetime) -> None:
    tx.run(DELETE_PARTS, {"plan_id": plan_id})
    stamp = tx.ts(at)
    tx.run_many(
        INSERT_PART,
        [
            {
                "plan_id": plan_id,
                "user_id": p.user_id,
                "position": p.position,
                "kind": p.kind,
                "added_by": p.added_by,
                "done": p.done,
                "at": stamp,
            }
            for p in parts
        ],
    )


def clear_parts(tx: Tx, plan_id: int) -> None:
    tx.run(DELETE_PARTS, {"plan_id": plan_id})


def add_cc(tx: Tx, plan_id: int, people: Sequence[int], added_by: int | None, at: Any) -> None:
    tx.run_many(
        INSERT_CC,
        [
            {"plan_id": plan_id, "user_id": u, "added_by": added_by, "at": at, "active": True}
            for u in people
        ],
    )


def load_cc(tx: Tx, plan_id: int) -> list[CcRow]:
    return [
        CcRow(int(r[0]), _id(r[1]), _at(tx, r[2]), tx.dt(r[3]), bool(r[4]))
        for r in tx.all(SELECT_CC, {"plan_id": plan_id})
    ]


def mark_read(tx: Tx, plan_id: int, user_id: int, at: datetime) -> bool:
    params = {"plan_id": plan_id, "user_id": user_id, "at": tx.ts(at), "active": True}
    return tx.run(MARK_CC_READ, params) > 0


def has_unread(tx: Tx, plan_id: int, user_id: int) -> bool:
    params = {"plan_id": plan_id, "user_id": user_id, "active": True}
    return tx.one(SELECT_UNREAD, params) is not None


def end_cc(tx: Tx, plan_id: int) -> None:
    tx.run(END_CC, {"plan_id": plan_id, "inactive": False})


def granted_plans(tx: Tx, user_id: int) -> frozenset[int]:
    rows = tx.scalars(SELECT_GRANTED, {"user_id": user_id, "active": True})
    return frozenset(int(r) for r in rows)


def _id(value: object) -> int | None:
    return None if value is None else int(str(value))


def _at(tx: Tx, value: object) -> datetime:
    at = tx.dt(value)
    assert at is not None
    return at
