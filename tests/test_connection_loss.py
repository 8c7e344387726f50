"""Writes survive a connection that died, and concurrent comments do not lose each other.

Each web thread (and the command line, and the scheduler) keeps its own
connection for the transition path. When PostgreSQL restarts or a backend is
killed, that connection is dead; the next write on it used to fail with a
500 and lose the user's action. A transaction that failed on a dead
connection before its COMMIT wrote nothing, so it runs once more on a new
one. And changes that do not pin a version (comments) no longer fail each
other on one plan: on PostgreSQL the plan row is locked for the change, and
a lost race is decided again. PostgreSQL only: SQLite has no server to lose
and serialises writers already.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from test_service import new_plan

from planflow.app import Planflow
from planflow.errors import DatabaseUnavailable
from planflow.services.accounts import SignIn
from planflow.services.api_limits import ApiLimits
from planflow.services.content import PlanContentService
from planflow.storage import audit_repo
from planflow.storage.db import normalise_url
from planflow.storage.db_errors import once_more_if_lost
from planflow.storage.lost_connections import is_disconnect, is_read_statement
from planflow.storage.tx import Sql, read_tx

pytestmark = pytest.mark.postgres

SIGN_IN_PASSWORD = "correct horse 1"


@pytest.fixture
def pg(pf: Planflow) -> Planflow:
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only")
    return pf


def kill_pinned_backend(pf: Planflow, conn: Any = None) -> None:
    """Terminate the server process behind this thread's transition connection."""
    pid = (conn or pf.db.pinned_connection()).info.backend_pid
    admin = create_engine(normalise_url(pf.db.url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    admin.dispose()


def audit_count(pf: Planflow, plan_id: int) -> int:
    return len(pf.audit_trail(plan_id))


def test_a_transition_on_a_killed_connection_runs_again_on_a_new_one(
    pg: Planflow, org: Any
) -> None:
    plan_id = new_plan(pg)
    before = audit_count(pg, plan_id)
    kill_pinned_backend(pg)
    assert pg.fire(plan_id, "submit", "chair_a").to_state == "submitted"
    assert audit_count(pg, plan_id) == before + 1  # once, not twice
    kill_pinned_backend(pg)
    PlanContentService(pg.service).add_comment(plan_id, pg.user_id("reviewer"), "still here")
    assert audit_count(pg, plan_id) == before + 2
    assert audit_repo.verify(pg.db).ok


def test_a_connection_lost_twice_is_unavailable_and_writes_nothing(
    pg: Planflow, org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id = new_plan(pg)
    before = audit_count(pg, plan_id)
    pinned = type(pg.db).pinned_connection
    handed_out: list[int] = []

    def dying(db: Any) -> Any:
        # Every connection the transition path takes is killed before it is used.
        conn = pinned(db)
        handed_out.append(conn.info.backend_pid)
        kill_pinned_backend(pg, conn)
        return conn

    monkeypatch.setattr(type(pg.db), "pinned_connection", dying)
    with pytest.raises(DatabaseUnavailable, match="nothing was saved"):
        pg.fire(plan_id, "submit", "chair_a")
    monkeypatch.undo()
    assert len(set(handed_out)) == 2  # tried once more, on a new connection
    assert audit_count(pg, plan_id) == before
    assert pg.fire(plan_id, "submit", "chair_a").to_state == "submitted"  # and it is back


def test_concurrent_comments_on_one_plan_all_land(pg: Planflow, org: Any) -> None:
    plan_id = new_plan(pg)
    pg.fire(plan_id, "submit", "chair_a")
    people = ["reviewer", "reviewer2", "fed_reviewer", "officer", "chair_a", "drafter_a"]
    ids = {name: pg.user_id(name) for name in people}
    start = threading.Barrier(len(people) * 4)
    errors: list[BaseException] = []

    def write(name: str, n: int) -> None:
        start.wait()
        try:
            PlanContentService(pg.service).add_comment(plan_id, ids[name], f"{name} #{n}")
        except BaseException as exc:  # recorded, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(name, n)) for name in people for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    trail = pg.audit_trail(plan_id)
    comments = sorted(r.comment or "" for r in trail if r.action == "comment")
    assert comments == sorted(f"{name} #{n}" for name in people for n in range(4))
    assert audit_repo.verify(pg.db).ok


def test_a_read_on_a_pooled_connection_whose_backend_was_ended_gets_a_new_one(
    pg: Planflow, org: Any
) -> None:
    """Found by the soak with faults: after ``pg_terminate_backend`` (or a restart),
    a request's first read on a connection that had been used moments before
    (so not pinged: it was not idle long) failed with a 503 in every web
    process. The server's goodbye is already waiting on such a connection's
    socket when it is checked out; the pool sees it and opens a new one."""
    engine = pg.db.engine
    held = [engine.raw_connection() for _ in range(max(1, engine.pool.checkedin()))]
    pids = []
    for conn in held:  # every connection of the pool, each just used
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        pids.append(cur.fetchone()[0])
        cur.close()
        conn.rollback()
        conn.close()  # back to the pool
    admin = create_engine(normalise_url(pg.db.url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for pid in pids:
            assert conn.execute(text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid}).scalar()
    admin.dispose()
    for _ in pids:  # whichever pooled connection each read is given
        with pg.db.read() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1


# -- a read in flight when its connection dies ---------------------------------------------------


def _read_plans_with_db_read(pf: Planflow) -> list[int]:
    with pf.db.read() as conn:
        return [int(i) for i in conn.execute(text("SELECT id FROM plan ORDER BY id")).scalars()]


def _read_plans_with_a_session(pf: Planflow) -> list[int]:
    with pf.db.read_session() as s:
        return [int(i) for i in s.execute(text("SELECT id FROM plan ORDER BY id")).scalars()]


def _read_plans_with_read_tx(pf: Planflow) -> list[int]:
    with read_tx(pf.db) as tx:
        return [int(i) for i in tx.scalars(Sql("t_plans", "SELECT id FROM plan ORDER BY id"), {})]


def _read_plans_through_the_facade(pf: Planflow) -> list[int]:
    return sorted(p.id for p in pf.plans(as_user="chair_a").items)


def _while_its_backend_is_ended(
    pf: Planflow, read: Callable[[Planflow], Any], lock: str = "plan IN ACCESS EXCLUSIVE MODE"
) -> Any:
    """Runs ``read`` in a thread while a table is locked (``lock``), terminates the
    backend of the statement waiting on the lock (so it is in flight, not idle, when
    its connection dies), then lets go of the lock; returns what ``read`` returned or
    raised."""
    admin = create_engine(normalise_url(pf.db.url))
    outcome: list[Any] = []
    with admin.connect() as locker:
        locker.execute(text(f"LOCK TABLE {lock}"))
        me = locker.execute(text("SELECT pg_backend_pid()")).scalar()

        def run() -> None:
            try:
                outcome.append(read(pf))
            except Exception as exc:
                outcome.append(exc)

        reader = threading.Thread(target=run)
        reader.start()
        waiting: list[int] = []
        with admin.connect() as watcher:
            for _ in range(200):
                waiting = list(watcher.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE :me = ANY(pg_blocking_pids(pid))"),
                    {"me": me},
                ).scalars())  # fmt: skip
                if waiting:
                    break
                time.sleep(0.05)
            assert len(waiting) == 1, "the read never waited on the lock"
            assert watcher.execute(text("SELECT pg_terminate_backend(:p, 5000)"),
                                   {"p": waiting[0]}).scalar()  # fmt: skip
            watcher.commit()
        time.sleep(0.2)  # the reader's retry (if any) now waits on the lock too
        locker.rollback()  # the lock goes
    reader.join(30)
    admin.dispose()
    assert not reader.is_alive()
    return outcome[0]


@pytest.mark.parametrize(
    "read",
    [
        _read_plans_with_db_read,
        _read_plans_with_a_session,
        _read_plans_with_read_tx,
        _read_plans_through_the_facade,
    ],
    ids=["read", "read_session", "read_tx", "facade"],
)
def test_a_read_whose_connection_dies_while_it_runs_runs_again_on_a_new_one(
    pg: Planflow, org: Any, read: Callable[[Planflow], Any]
) -> None:
    """Found by the multi-host test: about two requests per ``pg_terminate_backend``
    answered 503 because a read was running on the connection that was ended. A
    read in autocommit mode was a transaction of its own: it runs once more on a new
    connection, and the pool keeps working afterwards."""
    plan_id = new_plan(pg)
    answered = _while_its_backend_is_ended(pg, read)
    assert not isinstance(answered, Exception), repr(answered)
    assert plan_id in answered
    assert read(pg) == answered  # the pool's connections are sound afterwards
    # A writer after it gets a transaction, not a connection left in autocommit mode.
    kill_pinned_backend(pg)
    assert pg.fire(plan_id, "submit", "chair_a").to_state == "submitted"
    with pg.db.write() as conn:
        assert conn.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "lock",
    ["plan IN ACCESS EXCLUSIVE MODE", "plan_cc IN ACCESS EXCLUSIVE MODE"],
    ids=["its-query", "its-fixed-statement"],
)
def test_the_plan_page_read_survives_its_connection_dying_under_either_kind_of_statement(
    pg: Planflow, org: Any, lock: str
) -> None:
    """``plan_page`` reads through SQLAlchemy and through fixed statements on the same
    connection (``conn_tx``). Its first query (on ``plan``) running again on a new
    connection must take the fixed statements along; a fixed statement (the CC list,
    on ``plan_cc``) that lost the connection runs again itself. Before, either gave
    a 503 for a plain page view."""
    plan_id = new_plan(pg)
    pg.fire(plan_id, "submit", "chair_a")
    answered = _while_its_backend_is_ended(pg, lambda pf: pf.plan_page(plan_id, "chair_a"), lock)
    assert not isinstance(answered, Exception), repr(answered)
    again = pg.plan_page(plan_id, "chair_a")
    assert answered.plan.id == plan_id and answered.plan.state == "submitted"
    assert [e.action for e in answered.trail] == [e.action for e in again.trail]


def test_a_read_inside_a_write_transaction_is_not_run_again(pg: Planflow, org: Any) -> None:
    """Inside a transaction the statements before it died with the connection:
    running the last one again would answer from a different transaction."""

    def read_in_a_write(pf: Planflow) -> list[int]:
        with pf.db.write() as conn:
            return [int(i) for i in conn.execute(text("SELECT id FROM plan")).scalars()]

    new_plan(pg)
    answered = _while_its_backend_is_ended(pg, read_in_a_write)
    assert isinstance(answered, DBAPIError) and answered.connection_invalidated
    assert _read_plans_with_db_read(pg)  # and the next read is served


def test_only_statements_that_read_are_run_again() -> None:
    assert is_read_statement("SELECT id FROM plan")
    assert is_read_statement("  with t AS (SELECT 1) SELECT * FROM t")
    for changing in (
        "UPDATE plan SET version = 2",
        "INSERT INTO plan DEFAULT VALUES",
        "WITH gone AS (DELETE FROM plan RETURNING id) SELECT id FROM gone",
        "SELECT id FROM plan FOR UPDATE",
        "SELECT nextval('plan_id_seq')",
        "SELECT pg_advisory_lock(1)",
    ):
        assert not is_read_statement(changing), changing


def test_a_token_whose_last_use_cannot_be_recorded_still_signs_the_request_in(
    pg: Planflow, org: Any
) -> None:
    """The bookkeeping write of a token's last use lost its connection: the token was
    found valid, so the request goes on (it used to answer 503)."""
    secret = pg.tokens.create("reviewer", scope="read", name="t").secret
    answered = _while_its_backend_is_ended(
        pg, lambda pf: pf.tokens.authenticate(secret), lock="api_token IN EXCLUSIVE MODE"
    )
    assert not isinstance(answered, Exception), repr(answered)
    assert answered.id == pg.tokens.of_user("reviewer")[0].id


def test_an_api_rate_claim_that_lost_its_connection_is_made_again(pg: Planflow, org: Any) -> None:
    token = pg.tokens.create("reviewer", scope="read", name="t").token
    limits = ApiLimits(pg.db, pg.clock, per_minute=100)
    answered = _while_its_backend_is_ended(
        pg, lambda _pf: limits.take(token.id), lock="api_rate_window IN EXCLUSIVE MODE"
    )
    assert answered is None, repr(answered)
    with pg.db.read() as conn:
        granted = conn.execute(text("SELECT granted FROM api_rate_window")).scalar_one()
    assert granted == limits.batch  # claimed once: the first claim wrote nothing


def test_a_sign_in_whose_connection_dies_while_it_counts_is_counted_on_a_new_one(
    pg: Planflow, org: Any
) -> None:
    """The sign-in form is the first thing people meet after a database restart: the
    attempt's count and record lost their connection before the COMMIT (nothing was
    saved), so they run again on a new one instead of answering 503."""
    pg.org.set_password("reviewer", SIGN_IN_PASSWORD)
    answered = _while_its_backend_is_ended(
        pg,
        lambda pf: pf.accounts.sign_in("reviewer", SIGN_IN_PASSWORD, "198.51.100.7"),
        lock="login_attempt IN ACCESS EXCLUSIVE MODE",
    )
    assert not isinstance(answered, Exception), repr(answered)
    assert answered.outcome is SignIn.OK
    with pg.db.read() as conn:
        attempts = conn.execute(text("SELECT success FROM login_attempt")).scalars().all()
    assert attempts == [True]  # one attempt: the first try wrote nothing


class _OpenLooking:
    """A connection whose socket close the driver has not seen yet."""

    closed = False
    broken = False


def test_the_servers_word_that_it_ends_the_connection_is_a_loss_before_the_socket_closes() -> None:
    """On a loaded machine the driver may read "terminating connection due to
    administrator command" before it sees the socket close: the connection is gone
    all the same, so the read or the transaction runs again on a new one (found by
    the two-host test under the full suite's load, where such requests got a 503)."""
    raw = _OpenLooking()
    for ended in (
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CrashShutdown("terminating connection because of crash"),
        psycopg.errors.CannotConnectNow("the database system is shutting down"),
    ):
        assert is_disconnect(raw, ended), ended
    assert not is_disconnect(raw, psycopg.OperationalError("server busy, connection fine"))
    assert not is_disconnect(raw, psycopg.errors.UniqueViolation("duplicate key"))


#: The server's goodbye, as the driver reads it while the socket is still open.
_GOODBYE = "DO $$BEGIN RAISE EXCEPTION 'terminating connection' USING ERRCODE = '57P01'; END$$"


def test_sqlalchemy_counts_the_servers_goodbye_as_a_lost_connection(pg: Planflow) -> None:
    """Through SQLAlchemy (``Database.write``, sessions) the goodbye read before the
    socket's close invalidates the connection too, so that ``once_more_if_lost``
    knows the write may run again (SQLAlchemy's own test looks only at the socket).
    Found by the two-host test under the full suite's load: such writes got a 503."""
    with pytest.raises(DBAPIError) as raised, pg.db.write() as conn:
        conn.execute(text(_GOODBYE))
    assert raised.value.connection_invalidated
    ran: list[int] = []

    def write() -> int:
        with pg.db.write() as conn:
            ran.append(1)
            if len(ran) == 1:
                conn.execute(text(_GOODBYE))
            return int(conn.execute(text("SELECT count(*) FROM plan")).scalar_one())

    assert once_more_if_lost(write) == 0 and len(ran) == 2
    assert _read_plans_with_db_read(pg) == []
