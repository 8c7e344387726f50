"""The key of an audit record: its plan and sequence number in one integer.

``audit_record.id = plan_id * 2**32 + seq``, so one plan's chain is the
consecutive id range ``audit_range(plan_id)``, in chain order. On SQLite
that makes ``audit_record`` a rowid table clustered on the chain: appending
a record adds a cell at the end of a table leaf, which SQLite does without
rebalancing its neighbours. The earlier layout, WITHOUT ROWID on
(plan_id, seq), is an index B-tree that SQLite rebalances across three
pages whenever the last one fills: measured on W1, 1.8 WAL pages per record
against 1.1 (every page of a commit is written whole). A CHECK constraint
keeps ``id``, ``plan_id`` and ``seq`` in step; ``INSERT_AUDIT`` computes the
id in SQL, so no caller passes it.

A plan's frozen revisions are keyed the same way, ``plan_revision.id =
plan_id * 2**32 + number`` (``REVISION_KEY_SQL``): one B-tree page per
submission instead of the table's page plus a unique index's.

Queries for one plan's records must select by this range (``plan_id =``
alone scans the table on SQLite); ``tests/test_audit_keys.py`` checks the
query plans of the ones planflow runs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, cast

SEQ_SPAN = 2**32
#: The id of a plan's record ``seq``, as SQL (``INSERT_AUDIT``, the CHECK).
KEY_SQL = f"plan_id * {SEQ_SPAN} + seq"
#: The id of a plan's revision ``number``, as SQL (``INSERT_REVISION``, the CHECK).
REVISION_KEY_SQL = f"plan_id * {SEQ_SPAN} + number"
#: A plan's records in SQL, for ``:plan_id`` (``audit_range``).
RANGE_SQL = f"id BETWEEN :plan_id * {SEQ_SPAN} AND :plan_id * {SEQ_SPAN} + {SEQ_SPAN - 1}"


def audit_key(plan_id: int, seq: int) -> int:
    return plan_id * SEQ_SPAN + seq


def audit_range(plan_id: int) -> tuple[int, int]:
    """The first and last possible id of the plan's records (inclusive)."""
    first = plan_id * SEQ_SPAN
    return first, first + SEQ_SPAN - 1


def of_plan(id_column: Any, plan_id: Any) -> ColumnElement[bool]:
    """``id_column`` within a plan's range; ``plan_id`` may be a column (a correlation)."""
    if isinstance(plan_id, int):
        first, last = audit_range(plan_id)
        return and_(id_column >= first, id_column <= last)
    start = key_of(plan_id, 0)
    return and_(id_column >= start, id_column <= start + (SEQ_SPAN - 1))


def key_of(plan_id: Any, seq: Any) -> ColumnElement[int]:
    """The key as a SQL expression of columns (64-bit arithmetic on PostgreSQL too)."""
    return cast(plan_id, BigInteger) * SEQ_SPAN + seq  # type: ignore[no-any-return]
