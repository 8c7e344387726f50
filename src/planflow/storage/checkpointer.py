"""Checkpoints of a SQLite WAL file, run beside the writers instead of inside them.

In WAL mode every commit appends its pages to the ``-wal`` file; a
checkpoint copies them back into the database file and ``fsync``s both.
SQLite's default runs that checkpoint inside whichever commit pushes the WAL
past 1,000 pages, so one transition in every hundred or so waits for two
``fsync``s and a few hundred page copies (measured: the slowest 1% of W1's
commits took 45% of its commit time). PostgreSQL has a checkpointer process
for this; ``WalCheckpointer`` is the same idea for the embedded database: a
thread of the process, woken every ``COMMITS_PER_WAKE`` commits, runs a
``PASSIVE`` checkpoint on its own connection. PASSIVE never blocks a writer
or a reader, and the ``fsync``s release the GIL, so the writers go on.

Nothing depends on it for correctness: a checkpoint only moves committed
pages, and a commit is as durable before as after. If the thread falls
behind, the writers' own automatic checkpoint still runs, at
``BACKSTOP_PAGES`` instead of 1,000, so the WAL cannot grow without bound.
The thread ends by itself after ``IDLE_SECONDS`` without commits (after a
last checkpoint) and starts again with the next burst, so idle processes and
short-lived commands keep no thread; in a forked child it starts anew.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

#: Commits between two wake-ups of the checkpointer (about 1,400 WAL pages in W1).
COMMITS_PER_WAKE = 200
#: The writers' own automatic checkpoint, for when the thread cannot keep up.
BACKSTOP_PAGES = 10_000
#: A checkpointer that saw no commit for this long checkpoints once more and ends.
IDLE_SECONDS = 5.0

log = logging.getLogger("planflow.storage")


class WalCheckpointer:
    """The background checkpointer of one SQLite database file."""

    def __init__(
        self,
        path: str,
        *,
        commits_per_wake: int = COMMITS_PER_WAKE,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.path = path
        self.commits_per_wake = commits_per_wake
        self.idle_seconds = idle_seconds
        self.checkpoints = 0
        self._commits = 0
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False

    def committed(self) -> None:
        """Count one commit; every ``commits_per_wake`` of them wake the thread.

        Called after every write transaction, so it does no more than add
        one (a lost update of the counter under threads only delays a wake-up).
        """
        self._commits += 1
        if self._commits >= self.commits_per_wake:
            self._commits = 0
            self.wake()

    def wake(self) -> None:
        """Checkpoint soon, starting the thread if there is none in this process."""
        if self._closed:
            return
        with self._lock:
            if self._pid != os.getpid():  # a forked child inherits no threads
                self._pid, self._thread = os.getpid(), None
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="planflow-wal-checkpointer", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Stop the thread after one last checkpoint (waits for it, briefly)."""
        with self._lock:
            self._closed = True
            thread = self._thread if self._pid == os.getpid() else None
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)

    def _run(self) -> None:
        try:
            # timeout=0: a busy checkpoint lock is another checkpointer at work.
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        except sqlite3.Error as exc:
            log.warning("WAL checkpointer could not open %s: %s", self.path, exc)
            with self._lock:
                self._thread = None
            return
        try:
            while True:
                woken = self._wake.wait(self.idle_seconds)
                self._wake.clear()
                self._checkpoint(conn)
                with self._lock:
                    if self._closed or (not woken and not self._wake.is_set()):
                        self._thread = None
                        return
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as exc:
            # Busy or interrupted: the next wake-up tries again, and the
            # writers' automatic checkpoint is the backstop meanwhile.
            log.debug("WAL checkpoint of %s skipped: %s", self.path, exc)


def checkpointer_for(path: str | None) -> WalCheckpointer | None:
    """The checkpointer for a SQLite file, unless switched off or in memory.

    ``PLANFLOW_SQLITE_CHECKPOINT=inline`` leaves checkpoints to SQLite's
    default, inside the commits (for comparison, or a platform without threads).
    """
    if os.environ.get("PLANFLOW_SQLITE_CHECKPOINT", "background") == "inline":
        return None
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return WalCheckpointer(path)
