"""A PostgreSQL restart costs the requests a wait, not an error (issue 19).

While a server restarts (or fails over) it refuses connections for a few
seconds. Every connection it ended is replaced on its next use, and opening
the replacement used to fail at once: each request of those seconds was told
"the database is unavailable". Now a process whose server answered before
waits for it (``PLANFLOW_DATABASE_WAIT``, ``storage.lost_connections``), so
reads, transitions and plain writes made during a real restart all succeed,
late. A server that never answered is reported at once, as before.

A cluster of the module's own (``bench.pg_cluster``): the server the rest of
the suite shares is never restarted. PostgreSQL only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from conftest import POSTGRES_URL, WORKFLOWS, build_org
from sqlalchemy import text

from bench import pg_cluster
from bench.common import scratch_database
from planflow import Planflow
from planflow.clock import FixedClock
from planflow.errors import ConfigurationError, DatabaseUnavailable
from planflow.storage import lost_connections
from planflow.storage.db import Database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

#: How long the server stays down: about a real restart's time.
DOWN_SECONDS = 1.5


@pytest.fixture(scope="module")
def cluster() -> Iterator[pg_cluster.Cluster]:
    if POSTGRES_URL is None:
        pytest.skip("needs PostgreSQL (PLANFLOW_TEST_POSTGRES_URL)")
    reason = pg_cluster.why_not()
    if reason is not None:
        pytest.skip(f"needs a PostgreSQL cluster of the test's own: {reason}")
    with pg_cluster.own_cluster() as made:
        yield made


def _restarting(cluster: pg_cluster.Cluster) -> threading.Thread:
    """The restart, begun in the background; the server is down when this returns."""
    restart = threading.Thread(target=cluster.restart, args=(DOWN_SECONDS,))
    restart.start()
    deadline = time.monotonic() + 30
    while _accepts(cluster) and time.monotonic() < deadline:
        time.sleep(0.02)
    return restart


def _accepts(cluster: pg_cluster.Cluster) -> bool:
    probe = Database(cluster.url, wait=0, pool_size=1)
    try:
        with probe.read() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        probe.dispose()


def _during_a_restart(cluster: pg_cluster.Cluster, db: Database) -> list[str]:
    """Reads and writes from four threads while the server restarts: what failed."""
    with db.write() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS restart_log (n int)"))
        conn.execute(text("DELETE FROM restart_log"))
    failed: list[str] = []
    restart = _restarting(cluster)

    def work(n: int) -> None:
        try:
            with db.read() as conn:
                conn.execute(text("SELECT count(*) FROM restart_log")).scalar()
            with db.write() as conn:
                conn.execute(text("INSERT INTO restart_log VALUES (:n)"), {"n": n})
        except Exception as exc:
            failed.append(type(exc).__name__)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    restart.join(60)
    return failed


def test_reads_and_writes_during_a_restart_wait_for_the_server(
    cluster: pg_cluster.Cluster,
) -> None:
    db = Database(cluster.url, wait=30)
    try:
        assert _during_a_restart(cluster, db) == []
        with db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM restart_log")).scalar() == 4
    finally:
        db.dispose()


def test_without_the_wait_the_same_requests_fail(cluster: pg_cluster.Cluster) -> None:
    """What the wait is for: with none, every request of the restart fails."""
    db = Database(cluster.url, wait=0)
    try:
        assert len(_during_a_restart(cluster, db)) == 4
    finally:
        db.dispose()


def test_a_change_made_while_the_server_is_down_is_saved_once(
    cluster: pg_cluster.Cluster, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change path's own connection (``pinned_connection``) was ended by the
    restart: the change (a comment, through the transition path) runs again on a
    new one, which waits, and is on the audit trail once."""
    monkeypatch.setenv("PLANFLOW_DATABASE_WAIT", "30")
    with scratch_database(cluster.url, "restart") as scratch:
        pf = Planflow(scratch.url, clock=clock, workflows_dir=WORKFLOWS)
        try:
            pf.init()
            build_org(pf)
            plan_id = pf.create_plan(
                unit_code="branch_a", year=2027, title="Branch A plan", actor="drafter_a"
            )
            before = len(pf.audit_trail(plan_id))  # this thread's connections are open
            restart = _restarting(cluster)
            pf.content.add_comment(plan_id, "written while it was down", actor="drafter_a")
            restart.join(60)
            trail = pf.audit_trail(plan_id)
            assert len(trail) == before + 1
            assert pf.verify_audit().ok
        finally:
            pf.close()


def test_a_server_that_never_answered_is_reported_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong port is not a restart: no pause before the error."""
    paused: list[float] = []
    monkeypatch.setattr(lost_connections.time, "sleep", paused.append)
    db = Database("postgresql://postgres@127.0.0.1:1/test", wait=30)
    try:
        with pytest.raises(Exception) as raised, db.read() as conn:
            conn.execute(text("SELECT 1"))
        assert "refused" in str(raised.value) or isinstance(raised.value, DatabaseUnavailable)
        assert paused == []
    finally:
        db.dispose()


@pytest.mark.parametrize("value", ["soon", "-1", "301", "nan"])
def test_a_wait_that_is_not_seconds_is_refused_in_one_line(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_DATABASE_WAIT", value)
    with pytest.raises(ConfigurationError, match=r"PLANFLOW_DATABASE_WAIT.*between 0 and 300"):
        lost_connections.database_wait_from_env()


def test_the_wait_defaults_to_ten_seconds_and_reads_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PLANFLOW_DATABASE_WAIT", raising=False)
    assert lost_connections.database_wait_from_env() == 10.0
    monkeypatch.setenv("PLANFLOW_DATABASE_WAIT", "2.5")
    assert lost_connections.database_wait_from_env() == 2.5
