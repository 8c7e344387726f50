"""The stored rows behind the front door's views, for tests that check what was written.

``Planflow.plan`` returns a ``PlanView``; tests of the transition path also
look at columns no view shows (the audit head, the timer, the task's unit id).
Also the type of the ``count_statements`` fixture (tests/conftest.py), here so
that the web tests can name it too: tests/webui/conftest.py takes the module
name ``conftest`` from them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlmodel import col, select

from planflow.app import Planflow
from planflow.errors import NotFound
from planflow.storage.audit_keys import of_plan
from planflow.storage.tables import AuditRecord, Plan

#: What a statement count counts: transaction control (BEGIN, COMMIT, SET ...) is left out.
COUNTED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class Statements(list[str]):
    """The statements sent in a ``count_statements`` block, in order.

    ``runs`` (PostgreSQL only): each statement with its parameters and whether it
    ran inside a transaction block (the driver had sent a BEGIN before it).
    """

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[tuple[str, Any, bool]] = []

    def saw(self, statement: str) -> None:
        if statement.lstrip().upper().startswith(COUNTED):
            self.append(statement)

    def clear(self) -> None:
        super().clear()
        self.runs.clear()


#: ``with count_statements(pf) as seen:``: the statements ``pf`` sends in the block.
CountStatements = Callable[[Planflow], AbstractContextManager[Statements]]


def stored_plan(pf: Planflow, plan_id: int) -> Plan:
    """The plan's row as stored (``NotFound`` if there is none)."""
    with pf.db.read_session() as s:
        plan = s.get(Plan, plan_id)
        if plan is None:
            raise NotFound("plan", plan_id)
        s.expunge(plan)
        return plan


def stored_records(pf: Planflow, plan_id: int) -> list[AuditRecord]:
    """The plan's audit records as stored (ids, raw detail text), oldest first."""
    with pf.db.read_session() as s:
        records = list(
            s.exec(
                select(AuditRecord)
                .where(of_plan(col(AuditRecord.id), plan_id))
                .order_by(col(AuditRecord.id))
            )
        )
        for r in records:
            s.expunge(r)
        return records
