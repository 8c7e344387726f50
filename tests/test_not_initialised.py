"""A database nobody ran ``init`` on says so, with a code, on SQLite and PostgreSQL.

A new user's first script forgot ``pf.init()``: every operation met
SQLAlchemy's "no such table" (PostgreSQL: SQLSTATE 42P01, ``relation ... does
not exist``). Now the error is ``DatabaseNotInitialised`` (code
``database_not_initialised``), translated where the database answers: on the
engine for everything through SQLAlchemy, in the transactions on the driver's
cursor (the transition path). The command line says it in one line and the
scheduler logs it in one line; the web's and the API's answers are in
tests/webui/test_web_database_down.py.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import CliRun
from sqlalchemy import make_url

import planflow
from planflow import DatabaseNotInitialised, Planflow
from planflow.clock import FixedClock
from planflow.scheduling.scheduler import Scheduler
from planflow.storage.db_errors import not_initialised, unavailable
from planflow.storage.tx import Sql, read_tx, write_tx

_PLAN = Sql("plan_by_id", "SELECT id FROM plan WHERE id = :id")


@pytest.fixture
def bare(empty_database_url: str, clock: FixedClock) -> Iterator[Planflow]:
    """A Planflow on a database that exists but has no planflow tables."""
    pf = Planflow(empty_database_url, clock=clock)
    yield pf
    pf.close()


def _driver_error(error: BaseException) -> BaseException:
    cause = error.__cause__
    assert cause is not None
    return getattr(cause, "orig", None) or cause


OPERATIONS: dict[str, Callable[[Planflow], Any]] = {
    "add_unit": lambda pf: pf.org.add_unit("union", "Union"),
    "plans": lambda pf: pf.plans(),
    "plan": lambda pf: pf.plan(1),
    "create_plan": lambda pf: pf.create_plan(
        unit_code="branch", year=2027, title="Plan", actor="ana"
    ),
    "fire": lambda pf: pf.fire(1, "submit", "ben"),
    "audit_records": lambda pf: list(pf.audit_records()),
    "verify_audit": lambda pf: pf.verify_audit(),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_an_operation_on_a_database_without_tables_says_to_init(
    bare: Planflow, operation: str
) -> None:
    with pytest.raises(DatabaseNotInitialised) as info:
        OPERATIONS[operation](bare)
    error = info.value
    assert error.code == "database_not_initialised" and error.params == {}
    assert "Planflow.init()" in str(error) and "planflow init" in str(error)
    # What the database said is kept, chained: a table is missing.
    said = _driver_error(error)
    assert isinstance(said, sqlite3.OperationalError | psycopg.errors.UndefinedTable)


def test_the_transactions_on_the_drivers_cursor_say_it_too(bare: Planflow) -> None:
    with pytest.raises(DatabaseNotInitialised), write_tx(bare.db) as tx:
        tx.one(_PLAN, {"id": 1})
    with pytest.raises(DatabaseNotInitialised), read_tx(bare.db) as tx:
        tx.one(_PLAN, {"id": 1})
    # The connection is fine afterwards: once the schema is made, the same works.
    bare.init()
    with write_tx(bare.db) as tx:
        assert tx.one(_PLAN, {"id": 1}) is None
    assert bare.plans().items == ()


def test_it_is_not_the_database_being_away() -> None:
    missing = sqlite3.OperationalError("no such table: plan")
    assert not_initialised(missing) is not None and unavailable(missing) is None
    assert not_initialised(sqlite3.OperationalError("database is locked")) is None
    assert not_initialised(sqlite3.OperationalError("no such column: x")) is None
    assert not_initialised(ValueError("no such table: plan")) is None


def test_planflow_names_the_error() -> None:
    assert "DatabaseNotInitialised" in planflow.__all__
    assert issubclass(DatabaseNotInitialised, planflow.PlanflowError)


def test_the_command_line_says_to_run_init(cli: CliRun, empty_database_url: str) -> None:
    if empty_database_url.startswith("sqlite"):
        path = make_url(empty_database_url).database
        assert path is not None
        Path(path).touch()  # a file with nothing in it (the command line makes none)
    code, _out, err = cli("--database-url", empty_database_url, "plans", "list")
    assert code == 1
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("planflow: error: the database has no planflow tables yet")
    assert "run 'planflow init'" in lines[0]


def test_the_scheduler_says_it_in_one_line(
    bare: Planflow, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="planflow"):
        report = Scheduler(bare, worker_id="w-bare").tick()
    assert report.errors and "planflow init" in report.errors[0]
    said = [r for r in caplog.records if "planflow init" in r.getMessage()]
    assert any(r.levelno == logging.ERROR for r in said)
    assert all(r.exc_info is None for r in said)  # said, not a traceback
