"""Fixtures shared by the whole suite.

``database_url`` is parametrised over SQLite and PostgreSQL, so every test
that uses it (directly or through ``pf``) runs on both. PostgreSQL is the one
named by ``PLANFLOW_TEST_POSTGRES_URL``; without it those tests are skipped
and the report header says so in one line.

Each test gets a clean, migrated database: on SQLite a copy of a template
file migrated once per session; on PostgreSQL a schema migrated once per
session and emptied before each test (``reset_postgres``).

A test that uses ``org`` starts from a copy of that organisation, built once
per session by the same code (``build_org``) at the same clock, instead of
building it again: a copy of a second template file on SQLite, rows copied
from a second schema on PostgreSQL.
"""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from hypothesis import settings
from kept_connections import KEPT, reuse_or_open
from psycopg.pq import TransactionStatus
from seeds import SEEDED, SEEDS, Built, Seed, Seeded, best, chain, seed, seeded
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from statement_cache import share_compiled_statements
from stored import CountStatements, Statements

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
    """Mark the browser and benchmark tests ``slow`` (``-m "not slow"`` leaves them out),
    and run the slow tests first.

    pytest-xdist hands tests out in this order: a 30-second test sent last keeps
    one worker busy while the other has nothing left, while sent first it runs
    beside the many short ones. The slow tests keep their own order (and each
    module its order); so do the others. They are handed out a few at a time
    (``--maxschedchunk`` in pyproject.toml): by default xdist sends each worker a
    quarter of its share at once, so one worker got every slow test and ran
    them one after the other, 390 s, while the others were done after 222 s.
    """
    for item in items:
        where = item.path.as_posix()
        if any(place in where for place in SLOW_PLACES):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one test process more than there are CPUs.

    Much of the suite waits rather than computes: on Chromium, on servers and
    schedulers in subprocesses, on a TCP peer, on a lock held by another
    connection, on PostgreSQL (whose work is not ours). Measured in one test
    process per CPU (2 here): the processes were busy 1.4 of the 2 CPUs. With
    one more process, the waits of one are the others' turn: 348 s against
    394 s on this 2-core machine; two more was slower again (386 s: they only
    contended). ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when it is set.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cpus or 1) + 1


#: Python's collector thresholds for the test processes (the defaults are 700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 10)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Spare each test process most of Python's cyclic garbage collection.

    Measured on tests/webui/test_web_plans.py (CPU time of one process): the
    collector took 4.4 s of 17.8 s, mostly full collections that walk every
    object of the imported libraries (~180,000), again and again. Frozen after
    collection, those objects are never walked again; the higher first
    threshold collects the garbage of many tests at once instead of every 700
    allocations: 1.2 s of 13.9 s. The garbage is still collected, in fewer and
    larger batches; the product's processes keep Python's defaults.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


# Every engine of a test process shares one compiled-statement cache (see statement_cache).
event.listen(Engine, "engine_connect", share_compiled_statements)


@event.listens_for(Engine, "do_connect")
def _no_wait_for_the_disk(dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
    """Every PostgreSQL connection a test process opens commits without waiting for
    the disk (``synchronous_commit=off``).

    A commit then returns before its WAL record is flushed: on this machine
    ~0.25 ms instead of ~4 ms, and a test commits many times. What others see is
    unchanged (a committed row is visible at once either way); only a crash of
    the server could lose the last fraction of a second of commits, and the suite
    never crashes the shared server (the multi-host test crashes a cluster of its
    own). Set as a connection option, so no statement is sent (the tests that
    count statements count none more). The product's processes keep the server's
    setting.
    """
    if dialect.name == "postgresql":
        params["options"] = f"{params.get('options', '')} -csynchronous_commit=off".strip()


# Registered after ``_no_wait_for_the_disk``, so the parameters it sees are final
# (a listener that returns a connection ends the chain; see kept_connections).
event.listen(Engine, "do_connect", reuse_or_open)


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


def schema_of(url: str) -> str:
    """The schema a ``with_search_path`` URL names."""
    return str(make_url(url).query["options"]).split("search_path=", 1)[1]


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
        KEPT.aim_at(normalise_url(url))
        yield url
        KEPT.close_all()
        _dispose_reset_engine(url)


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


#: One engine per schema URL for ``reset_postgres`` (kept for the session).
_reset_engines: dict[str, Engine] = {}


def _reset_engine(url: str) -> Engine:
    engine = _reset_engines.get(url)
    if engine is None:
        # pre_ping: a test may have terminated every backend (connection-loss tests).
        engine = create_engine(normalise_url(url), pool_size=1, pool_pre_ping=True)
        _reset_engines[url] = engine
    return engine


def _dispose_reset_engine(url: str) -> None:
    engine = _reset_engines.pop(url, None)
    if engine is not None:
        engine.dispose()


#: The rows a migrated schema starts with (``sqlite_template`` holds them too).
MIGRATED_ROWS = (
    "INSERT INTO org_generation (id, generation) VALUES (1, 1)",
    "INSERT INTO outbox_watermark (id, last_id) VALUES (1, 0)",
)


def reset_postgres(url: str, copy_from: str | None = None) -> None:
    """Empty every table of the schema ``url`` names, restart its sequences at 1 and
    put back the rows the migrations write (``MIGRATED_ROWS``), as on SQLite's template.

    A DELETE of each table (children first), sent as one batch: the tables of a
    test hold a few rows, and TRUNCATE, which replaces every table's files, cost
    ~0.4 s a test against ~3 ms for this. With ``copy_from`` (a schema name), the
    rows of that schema's tables are copied in instead and the sequences set to
    where they stand there.
    """
    tables = SQLModel.metadata.sorted_tables
    statements = [f'DELETE FROM "{t.name}"' for t in reversed(tables)]
    statements.append(
        "SELECT setval(c.oid, 1, false) FROM pg_class c "
        "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
    )
    if copy_from is None:
        statements += MIGRATED_ROWS
    else:
        statements += [
            f'INSERT INTO "{t.name}" SELECT * FROM "{copy_from}"."{t.name}"' for t in tables
        ]
        statements.append(
            "SELECT setval(format('%I', s.sequencename)::regclass, s.last_value) "
            f"FROM pg_sequences s WHERE s.schemaname = '{copy_from}' AND s.last_value IS NOT NULL"
        )
    with _reset_engine(url).connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cursor:
            # No parameters: psycopg sends the statements as one simple query.
            cursor.execute("; ".join(statements))
            # A table of a test's own making would be left behind, and break
            # the next test's reset if it references one of ours: say which.
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version' AND NOT tablename = ANY(%s)",
                ([t.name for t in tables],),
            )
            strays = [row[0] for row in cursor.fetchall()]
        raw.commit()
    assert not strays, f"tables left in the test schema by an earlier test: {strays}"


@dataclass(frozen=True)
class Org:
    """A small federation: fed > union > branch_a, branch_b, with a person per role."""

    fed: int
    union: int
    branch_a: int
    branch_b: int


def build_org(pf: Planflow) -> Org:
    """The ``org`` fixture's organisation, built through the library."""
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
    return org_ids(pf)


def org_ids(pf: Planflow) -> Org:
    return Org(
        pf.unit_id("fed"), pf.unit_id("union"), pf.unit_id("branch_a"), pf.unit_id("branch_b")
    )


@seed("org", base=None)
def _org_seed(pf: Planflow, clock: FixedClock) -> Org:
    return build_org(pf)


def _checkpoint(path: Path) -> None:
    """Everything of the SQLite file at ``path`` in the file itself (none in its WAL)."""
    db = Database(f"sqlite:///{path}")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()


class SeedTemplates:
    """The templates of the seeds (tests/seeds.py) of this test process, each made the
    first time a test needs it: a SQLite file, a PostgreSQL schema."""

    def __init__(self, request: pytest.FixtureRequest, stack: ExitStack) -> None:
        self._request = request
        self._stack = stack
        self._files: dict[str, Path] = {}
        self._schemas: dict[str, str] = {}
        self._built: dict[tuple[str, str], Built] = {}

    def sqlite(self, name: str) -> Path:
        if name not in self._files:
            seed_ = SEEDS[name]
            base = self.sqlite(seed_.base) if seed_.base else self._empty_sqlite()
            factory = self._request.getfixturevalue("tmp_path_factory")
            path = factory.mktemp(f"seed_{name}") / "template.sqlite3"
            shutil.copyfile(base, path)
            self._built[name, "sqlite"] = self._build(seed_, f"sqlite:///{path}", "sqlite")
            _checkpoint(path)
            self._files[name] = path
        return self._files[name]

    def postgres(self, name: str) -> str:
        """The schema holding the seed ``name``'s rows."""
        if name not in self._schemas:
            seed_ = SEEDS[name]
            base = self.postgres(seed_.base) if seed_.base else None
            url = self._stack.enter_context(postgres_schema(f"test_seed_{name}"[:40]))
            db = Database(url)
            upgrade(db)
            db.dispose()
            if base is not None:
                reset_postgres(url, base)
                _dispose_reset_engine(url)
            self._built[name, "postgresql"] = self._build(seed_, url, "postgresql")
            self._schemas[name] = schema_of(url)
        return self._schemas[name]

    def built(self, name: str, kind: str) -> dict[str, Built]:
        return {n: self._built[n, kind] for n in chain(name)}

    def _empty_sqlite(self) -> Path:
        path: Path = self._request.getfixturevalue("sqlite_template")
        return path

    def _build(self, seed_: Seed, url: str, kind: str) -> Built:
        before = self._built[seed_.base, kind].after if seed_.base else T0
        clock = FixedClock(before)
        pf = Planflow(url, clock=clock, workflows_dir=WORKFLOWS)
        try:
            value = seed_.build(pf, clock)
        finally:
            pf.close()
        return Built(value, before, clock.now())


#: Set on a test whose call phase ran (not skipped or failed in its set-up).
CALLED = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    item.stash[CALLED] = True


@pytest.fixture(scope="session")
def seed_templates(request: pytest.FixtureRequest) -> Iterator[SeedTemplates]:
    with ExitStack() as stack:
        yield SeedTemplates(request, stack)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, seed_templates: SeedTemplates
) -> Iterator[str]:
    # A test that will ask for a seeded fixture (``org``, tests/seeds.py) starts from a
    # copy of its rows (see the module's docstring).
    name = best(list(request.fixturenames))
    if request.param == "sqlite":
        template = (
            seed_templates.sqlite(name) if name else request.getfixturevalue("sqlite_template")
        )
        path = tmp_path / "planflow.sqlite3"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
        reset_postgres(url, seed_templates.postgres(name) if name else None)
    if not name:
        yield url
        return
    seeded_ = request.node.stash[SEEDED] = Seeded(
        url, seed_templates.built(name, request.param), set()
    )
    yield url
    if request.node.stash.get(CALLED, False) and seeded_.unclaimed():
        pytest.fail(
            f"seeds copied in but taken by no fixture: {seeded_.unclaimed()} "
            "(a fixture of a seed's name that is not the seed's? rename it)"
        )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def pf(database_url: str, clock: FixedClock) -> Iterator[Planflow]:
    instance = Planflow(database_url, clock=clock, workflows_dir=WORKFLOWS)
    yield instance
    instance.close()


def _counting_cursor(seen: Statements) -> type[psycopg.Cursor[Any]]:
    class CountingCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            seen.saw(str(query))
            done = super().execute(query, params, **kwargs)
            in_block = self.connection.info.transaction_status != TransactionStatus.IDLE
            seen.runs.append((str(query), params, in_block))
            return done

        def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> Any:
            seen.saw(str(query))
            return super().executemany(query, params_seq, **kwargs)

    return CountingCursor


@contextmanager
def counting_statements(pf: Planflow) -> Iterator[Statements]:
    """Every statement ``pf`` sends while the block runs, counted at the driver.

    Below SQLAlchemy, so the fixed statements of the transition path and of the
    one-read pages (``Tx`` on a raw cursor) count as well as the ORM's: SQLite's
    trace callback, and a counting cursor class on psycopg connections. The
    connections open before the block are closed first, so every connection the
    block uses is a counted one, and again after it.
    """
    seen = Statements()

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.set_trace_callback(seen.saw)
        else:
            dbapi_conn.cursor_factory = _counting_cursor(seen)

    pf.db.dispose()
    event.listen(pf.db.engine, "connect", on_connect)
    try:
        yield seen
    finally:
        event.remove(pf.db.engine, "connect", on_connect)
        pf.db.dispose()


@pytest.fixture
def count_statements() -> CountStatements:
    """``with count_statements(pf) as seen:``: the statements ``pf`` sends in the block.

    The one way the tests count statements (that a page or a read costs no more
    queries for more rows, that a one-read page stays one read).
    """
    return counting_statements


@pytest.fixture
def org(request: pytest.FixtureRequest, pf: Planflow, clock: FixedClock) -> Org:
    """The organisation of ``build_org`` in ``pf``'s database.

    ``database_url`` copied it in, built at T0, when ``pf`` uses that database;
    it is built here when ``pf`` uses another one.
    """
    value: Org = seeded(request, "org", pf, clock)
    return value
