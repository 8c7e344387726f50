"""The background WAL checkpointer of SQLite databases (``storage.checkpointer``)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from planflow.storage.checkpointer import BACKSTOP_PAGES, WalCheckpointer
from planflow.storage.db import Database
from planflow.storage.tx import Sql, write_tx

CREATE = Sql("create", "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, pad TEXT)")
INSERT = Sql("insert", "INSERT INTO t (pad) VALUES (:pad)")


def wal_pages(path: Path) -> tuple[int, int]:
    """(pages in the WAL, pages of it already copied back), from another connection."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # The counters come only with a checkpoint call; PASSIVE never waits.
        _busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(log), int(done)
    finally:
        conn.close()


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    with write_tx(db) as tx:
        tx.run(CREATE, {})
    return db


def test_a_file_database_checkpoints_in_the_background(sqlite_db: Database) -> None:
    cp = sqlite_db.checkpointer
    assert cp is not None
    try:
        for _ in range(cp.commits_per_wake):
            with write_tx(sqlite_db) as tx:
                tx.run(INSERT, {"pad": "x" * 200})
        assert wait_for(lambda: cp.checkpoints >= 1), "the checkpointer never ran"
        # The writers' own automatic checkpoint is only the backstop.
        with sqlite_db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == BACKSTOP_PAGES
    finally:
        sqlite_db.dispose()


def test_the_thread_ends_when_idle_and_starts_again(tmp_path: Path) -> None:
    path = tmp_path / "idle.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer copies pages back
    conn.execute("CREATE TABLE t (pad TEXT)")
    cp = WalCheckpointer(str(path), commits_per_wake=5, idle_seconds=0.2)
    try:
        for round_ in range(2):
            for _ in range(5):
                conn.execute("INSERT INTO t VALUES (?)", ("y" * 500,))
                cp.committed()
            # Everything written so far ends up copied back into the database file.
            assert wait_for(lambda: (lambda p: p[0] == p[1])(wal_pages(path)))
            assert wait_for(lambda: cp._thread is None), f"round {round_}: thread still running"
        assert cp.checkpoints >= 2
    finally:
        cp.close()
        conn.close()


def test_close_stops_the_thread_and_later_commits_start_nothing(sqlite_db: Database) -> None:
    cp = sqlite_db.checkpointer
    assert cp is not None
    cp.wake()
    thread = cp._thread
    assert thread is not None
    sqlite_db.dispose()
    assert not thread.is_alive()
    cp.wake()
    assert cp._thread is None or not cp._thread.is_alive()


def test_inline_checkpoints_on_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANFLOW_SQLITE_CHECKPOINT", "inline")
    db = Database(f"sqlite:///{tmp_path / 'i.sqlite3'}")
    try:
        assert db.checkpointer is None
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    finally:
        db.dispose()


def test_in_memory_and_postgresql_have_none() -> None:
    assert Database("sqlite://").checkpointer is None
