"""Ids and versions as planflow takes them from people and other systems.

Every table's id is an INTEGER on PostgreSQL: 1 to 2**31 - 1. A number outside
that range names nothing; the clients (web routes, command line, HTTP API) and
the library's look-ups refuse it as "not found" or "out of range" before it
reaches a database driver, which would fail with an overflow instead.
"""

from __future__ import annotations

from planflow.errors import NotFound

#: The largest id (PostgreSQL INTEGER); also the largest version a client may send.
MAX_ID = 2**31 - 1


def is_id(value: object) -> bool:
    """Whether ``value`` can be the id of a row (an int in 1 .. MAX_ID, not a bool)."""
    return type(value) is int and 1 <= value <= MAX_ID


def require_plan_id(plan_id: object) -> None:
    """``NotFound`` for a plan id no plan can have, before a driver overflows on it."""
    if not is_id(plan_id):
        raise NotFound("plan", plan_id)
