"""Fixtures shared by the whole suite.

``database_url`` is parametrised over SQLite and PostgreSQL, so every test
that uses it (directly or through ``pf``) runs on both. PostgreSQL is the one
named by ``PLANFLOW_TEST_POSTGRES_URL``; without it those tests are skipped
and the report header says so in one line.

Each test gets a clean, migrated database: on SQLite a copy of a template
file migrated once per session; on PostgreSQL a schema migrated once per
session and truncated before each test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import settings
from sqlalchemy import create_engine, event, text
from sqlmodel import SQLModel
from stored import CountStatements

from planflow.app import Planflow
from planflow.cli import main
from planflow.clock import FixedClock
from planflow.storage.db import Database, normalise_url, with_search_path
from planflow.storage.schema import alembic_config, upgrade

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")
T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # a Monday

os.environ.setdefault("PLANFLOW_WORKFLOWS_DIR", str(WORKFLOWS))

# Hypothesis's per-example deadline measures the machine, not the code: on a
# loaded 2-core box (tests in parallel, CI) a pure test's example can take
# 500 ms. The properties are what is checked; speed is the benchmarks' job.
settings.register_profile("planflow", deadline=None)
settings.load_profile("planflow")


#: Slow by where they live: the browser drives Chromium, the benchmarks run workloads.
SLOW_PLACES = ("webui/browser/", "test_bench")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser and benchmark tests ``slow`` (``-m "not slow"`` leaves them out)."""
    for item in items:
        where = item.path.as_posix()
        if any(place in where for place in SLOW_PLACES):
            item.add_marker(pytest.mark.slow)


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"postgresql: {POSTGRES_URL} (tests run on SQLite and PostgreSQL)"
    return "postgresql: PLANFLOW_TEST_POSTGRES_URL is not set, PostgreSQL tests are SKIPPED"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """A URL whose connections use a new, empty PostgreSQL schema, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("PLANFLOW_TEST_POSTGRES_URL is not set")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(POSTGRES_URL, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    with postgres_schema("test") as url:
        db = Database(url)
        upgrade(db)
        db.dispose()
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        (tmp_path / "new").mkdir()
        yield f"sqlite:///{tmp_path / 'new' / 'planflow.sqlite3'}"
        return
    with postgres_schema("test_empty") as url:
        yield url


def migrate_schema(db: Database, target: str, how: str = "upgrade") -> None:
    """Move ``db`` to schema revision ``target`` (``how``: upgrade or downgrade)."""
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, target)


CliRun = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRun:
    """Run ``planflow ARGV...`` in-process: returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO org_generation (id, generation) VALUES (1, 1)"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "planflow.sqlite3"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_schema_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def pf(database_url: str, clock: FixedClock) -> Iterator[Planflow]:
    instance = Planflow(database_url, clock=clock, workflows_dir=WORKFLOWS)
    yield instance
    instance.close()


@contextmanager
def counting_statements(pf: Planflow) -> Iterator[list[str]]:
    """Every statement SQLAlchemy sends on ``pf``'s engine while the block runs."""
    seen: list[str] = []

    def saw(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(pf.db.engine, "before_cursor_execute", saw)
    try:
        yield seen
    finally:
        event.remove(pf.db.engine, "before_cursor_execute", saw)


@pytest.fixture
def count_statements() -> CountStatements:
    """``with count_statements(pf) as seen:``: the statements ``pf`` sends in the block.

    Counted at SQLAlchemy's ``before_cursor_execute``, so the tests that a page or
    a read costs no more queries for more rows share one way of counting.
    """
    return counting_statements


@dataclass(frozen=True)
class Org:
    """A small federation: fed > union > branch_a, branch_b, with a person per role."""

    fed: int
    union: int
    branch_a: int
    branch_b: int


@pytest.fixture
def org(pf: Planflow) -> Org:
    with pf.session() as s:
        pf.org_repo.add_unit(s, "fed", "Federation 总工会", None)
        pf.org_repo.add_unit(s, "union", "Union 工会", "fed")
        pf.org_repo.add_unit(s, "branch_a", "Branch A 분회", "union")
        pf.org_repo.add_unit(s, "branch_b", "Branch B", "union")
        people = [
            ("drafter_a", "drafter", "branch_a"),
            ("chair_a", "submitter", "branch_a"),
            ("drafter_b", "drafter", "branch_b"),
            ("chair_b", "submitter", "branch_b"),
            ("reviewer", "reviewer", "union"),
            ("reviewer2", "reviewer", "union"),
            ("fed_reviewer", "reviewer", "fed"),
            ("officer", "officer", "union"),
            ("inspector", "inspector", "fed"),
            ("member1", "committee", "union"),
            ("member2", "committee", "union"),
            ("member3", "committee", "union"),
        ]
        roles = ("drafter", "submitter", "reviewer", "inspector", "officer", "admin", "committee")
        for username, role, unit in people:
            pf.org_repo.add_user(
                s, username, username.replace("_", " ").title(), email=f"{username}@example.org"
            )
            pf.org_repo.assign_role(s, username, role, unit, known_roles=roles)
    return Org(
        pf.unit_id("fed"), pf.unit_id("union"), pf.unit_id("branch_a"), pf.unit_id("branch_b")
    )
