"""The fixed SQL of delegations (``services.delegations``, ``scheduling.delegations``).

Days are ISO text (``tables.delegation``), so "in force on a day" is two
text comparisons on either database. The two notices are marked sent by a
conditional UPDATE (``... AND start_told = :no``): of two schedulers only
the one whose UPDATE changed the row writes the notices, in the same
transaction, so each is written exactly once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from planflow.core.delegation import Delegation
from planflow.storage.tx import Sql, Tx

_COLUMNS = (
    "id, delegator_id, deputy_id, starts_on, ends_on, workflow, role, ended_at,"
    " reason, created_by, created_at, ended_by"
)

INSERT = Sql(
    "insert_delegation",
    "INSERT INTO delegation (delegator_id, deputy_id, starts_on, ends_on, workflow, role,"
    " reason, created_by, created_at, ended_at, ended_by, start_told, end_told)"
    " VALUES (:delegator_id, :deputy_id, :starts_on, :ends_on, :workflow, :role, :reason,"
    " :created_by, :created_at, NULL, NULL, :no, :no)",
    returns_id=True,
)
SELECT_ONE = Sql("select_delegation", f"SELECT {_COLUMNS} FROM delegation WHERE id = :id")
#: A person's delegations, as delegator or deputy, that are not over before ``since``.
SELECT_OF_PERSON = Sql(
    "select_delegations_of_person",
    f"SELECT {_COLUMNS} FROM delegation"
    " WHERE (delegator_id = :user_id OR deputy_id = :user_id) AND ends_on >= :since"
    " AND ended_at IS NULL ORDER BY starts_on, id",
)
SELECT_ALL_OF_PERSON = Sql(
    "select_all_delegations_of_person",
    f"SELECT {_COLUMNS} FROM delegation"
    " WHERE delegator_id = :user_id OR deputy_id = :user_id ORDER BY starts_on DESC, id DESC",
)
#: Delegations to ``deputy_id`` in force on ``day`` (not ended early).
SELECT_FOR_DEPUTY = Sql(
    "select_delegations_for_deputy",
    f"SELECT {_COLUMNS} FROM delegation WHERE deputy_id = :deputy_id"
    " AND starts_on <= :day AND ends_on >= :day AND ended_at IS NULL ORDER BY id",
)
#: Every delegation not over by ``day`` (the deputies' cache, ``services.delegations``).
SELECT_NOT_OVER = Sql(
    "select_delegations_not_over",
    f"SELECT {_COLUMNS} FROM delegation WHERE ends_on >= :day AND ended_at IS NULL ORDER BY id",
)
#: A delegation set or ended is a change of the organisation: its generation moves on,
#: so every worker's cache of delegations (keyed by it) is read anew.
BUMP_ORG_GENERATION = Sql(
    "bump_org_generation_for_delegation",
    "UPDATE org_generation SET generation = generation + 1 WHERE id = 1",
)
INSERT_ORG_GENERATION = Sql(
    "insert_org_generation_for_delegation",
    "INSERT INTO org_generation (id, generation) VALUES (1, 2)",
)
END_EARLY = Sql(
    "end_delegation",
    "UPDATE delegation SET ended_at = :at, ended_by = :by WHERE id = :id AND ended_at IS NULL",
)
#: The notices due: a start not yet told, or an end not yet told of one that is over.
SELECT_UNTOLD = Sql(
    "select_untold_delegations",
    f"SELECT {_COLUMNS}, start_told FROM delegation WHERE end_told = :no AND"
    " ((start_told = :no AND starts_on <= :day) OR ends_on < :day OR ended_at IS NOT NULL)"
    " ORDER BY id LIMIT 200",
)
MARK_START_TOLD = Sql(
    "mark_delegation_start_told",
    "UPDATE delegation SET start_told = :yes WHERE id = :id AND start_told = :no",
)
#: The end is told once; a delegation ended before it started is marked started too
#: (nobody is told it starts after being told it ended).
MARK_END_TOLD = Sql(
    "mark_delegation_end_told",
    "UPDATE delegation SET end_told = :yes, start_told = :yes WHERE id = :id AND end_told = :no",
)


def _from_row(tx: Tx, r: tuple[Any, ...]) -> Delegation:
    return Delegation(
        id=int(r[0]),
        delegator_id=int(r[1]),
        deputy_id=int(r[2]),
        starts_on=date.fromisoformat(r[3]),
        ends_on=date.fromisoformat(r[4]),
        workflow=r[5],
        role=r[6],
        ended_at=tx.dt(r[7]),
    )


def insert(tx: Tx, d: Delegation, *, reason: str | None, created_by: int, at: datetime) -> int:
    return tx.insert(
        INSERT,
        {
            "delegator_id": d.delegator_id,
            "deputy_id": d.deputy_id,
            "starts_on": d.starts_on.isoformat(),
            "ends_on": d.ends_on.isoformat(),
            "workflow": d.workflow,
            "role": d.role,
            "reason": reason,
            "created_by": created_by,
            "created_at": tx.ts(at),
            "no": False,
        },
    )


def load(tx: Tx, delegation_id: int) -> tuple[Delegation, tuple[Any, ...]] | None:
    """One delegation and its raw row (reason, created_by, created_at, ended_by)."""
    r = tx.one(SELECT_ONE, {"id": delegation_id})
    return None if r is None else (_from_row(tx, r), r[8:])


def not_over(tx: Tx, user_id: int, since: date) -> list[Delegation]:
    """The person's delegations (either side) that still run on or after ``since``."""
    rows = tx.all(SELECT_OF_PERSON, {"user_id": user_id, "since": since.isoformat()})
    return [_from_row(tx, r) for r in rows]


def of_person(tx: Tx, user_id: int) -> list[tuple[Delegation, tuple[Any, ...]]]:
    """Every delegation the person gave or received, the latest first."""
    return [(_from_row(tx, r), r[8:]) for r in tx.all(SELECT_ALL_OF_PERSON, {"user_id": user_id})]


def for_deputy(tx: Tx, deputy_id: int, day: date) -> list[Delegation]:
    rows = tx.all(SELECT_FOR_DEPUTY, {"deputy_id": deputy_id, "day": day.isoformat()})
    return [_from_row(tx, r) for r in rows]


def not_over_anyone(tx: Tx, day: date) -> list[Delegation]:
    return [_from_row(tx, r) for r in tx.all(SELECT_NOT_OVER, {"day": day.isoformat()})]


def bump_org_generation(tx: Tx) -> None:
    if tx.run(BUMP_ORG_GENERATION, {}) == 0:
        tx.run(INSERT_ORG_GENERATION, {})


def end_early(tx: Tx, delegation_id: int, by: int | None, at: datetime) -> bool:
    return tx.run(END_EARLY, {"id": delegation_id, "by": by, "at": tx.ts(at)}) == 1


def untold(tx: Tx, day: date) -> list[tuple[Delegation, bool]]:
    """Delegations with a notice due on ``day``, and whether their start was told."""
    rows = tx.all(SELECT_UNTOLD, {"no": False, "day": day.isoformat()})
    return [(_from_row(tx, r), bool(r[12])) for r in rows]


def mark_start_told(tx: Tx, delegation_id: int) -> bool:
    """True for the one transaction that marks it (it then writes the notices)."""
    return tx.run(MARK_START_TOLD, {"id": delegation_id, "yes": True, "no": False}) == 1


def mark_end_told(tx: Tx, delegation_id: int) -> bool:
    return tx.run(MARK_END_TOLD, {"id": delegation_id, "yes": True, "no": False}) == 1
