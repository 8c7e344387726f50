"""Faults for the soak and the multi-host test, as an operator meets them.

- ``worker``: SIGKILL one gunicorn worker (the master starts another); the
  requests it was serving get no answer.
- ``scheduler``: SIGKILL a ``planflow scheduler`` in the middle of whatever it
  was doing; what it had claimed waits for its lease, then another scheduler
  takes it. ``respawn`` starts it again a moment later, as a service manager
  would (systemd's ``Restart=always``).
- ``backends``: ``pg_terminate_backend`` of every connection the processes under
  test hold (they carry an ``application_name`` of their own), PostgreSQL only.
- ``restart``: a real PostgreSQL restart (stopped with ``-m fast``, down a
  moment, started), only on a cluster of the run's own (``pg_cluster``).

Each fault is logged with when it began and ended (``time.time()``), so that
errors can be held to the moments faults explain: a request in flight when a
worker died, a 503 "nothing was saved" while the database was away.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench import pg_cluster

KINDS = ("worker", "scheduler", "backends", "restart")
#: The kinds that take the database away (a 503 is allowed only during these).
DATABASE_KINDS = ("backends", "restart")


class FaultNotPossible(ValueError):
    """A fault this run cannot inject (an unknown kind, or one its database cannot have)."""


@dataclass(frozen=True)
class Fault:
    kind: str
    began: float  # time.time()
    ended: float
    detail: str


@dataclass
class SchedulerSlot:
    """One scheduler process, and how to start it again."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    proc: subprocess.Popen[bytes]
    killed: list[subprocess.Popen[bytes]] = field(default_factory=list)


def gunicorn_workers(master: subprocess.Popen[bytes]) -> list[int]:
    """The pids of a gunicorn master's workers (its children)."""
    try:
        found = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in found]


@dataclass
class Injector:
    """Injects faults into running processes and the database; ``log`` keeps them."""

    webs: list[subprocess.Popen[bytes]]
    schedulers: list[SchedulerSlot]
    database_url: str
    application_name: str
    cluster: pg_cluster.Cluster | None = None
    #: Each web's base URL: after a worker kill the fault lasts until it answers
    #: /healthz again (a new worker boots in seconds, longer on a loaded machine).
    bases: list[str] = field(default_factory=list)
    respawn_after: float | None = 1.0  # seconds; None: a killed scheduler stays dead
    down_seconds: float = 2.0
    random: random.Random = field(default_factory=lambda: random.Random(19))
    log: list[Fault] = field(default_factory=list)

    def possible(self, kinds: Sequence[str]) -> list[str]:
        """``kinds`` less those this run cannot inject (with the reason), or raises."""
        postgres = self.database_url.startswith("postgresql")
        for kind in kinds:
            if kind not in KINDS:
                raise FaultNotPossible(f"unknown fault {kind!r}: choose from {', '.join(KINDS)}")
            if kind == "backends" and not postgres:
                raise FaultNotPossible("the 'backends' fault needs PostgreSQL")
            if kind == "restart" and self.cluster is None:
                raise FaultNotPossible(
                    "the 'restart' fault needs a PostgreSQL cluster of the run's own "
                    "(the shared server is never restarted)"
                )
        return list(kinds)

    def inject(self, kind: str, *, web: int | None = None, scheduler: int | None = None) -> Fault:
        began = time.time()
        if kind == "worker":
            detail = self.kill_worker(web)
        elif kind == "scheduler":
            detail = self.kill_scheduler(scheduler)
        elif kind == "backends":
            ended = pg_cluster.terminate_backends(self.database_url, self.application_name)
            detail = f"{ended} backends terminated"
        elif kind == "restart":
            assert self.cluster is not None
            self.cluster.restart(self.down_seconds)
            detail = f"restarted, down {self.down_seconds:.0f} s"
        else:
            raise ValueError(kind)
        fault = Fault(kind, began, time.time(), detail)
        self.log.append(fault)
        return fault

    def kill_worker(self, web: int | None = None) -> str:
        master = self.webs[web if web is not None else self.random.randrange(len(self.webs))]
        workers = gunicorn_workers(master)
        if not workers:
            return "no worker to kill (the master was starting one)"
        pid = self.random.choice(workers)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return f"worker {pid} had already exited"
        if not self.bases:
            return f"gunicorn worker {pid} killed"
        base = self.bases[self.webs.index(master)]
        killed = time.monotonic()
        deadline = killed + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        return (
            f"gunicorn worker {pid} killed, answering again after {time.monotonic() - killed:.1f} s"
        )

    def kill_scheduler(self, which: int | None = None) -> str:
        slot = self.schedulers[
            which if which is not None else self.random.randrange(len(self.schedulers))
        ]
        slot.proc.kill()
        slot.proc.wait()
        slot.killed.append(slot.proc)
        if self.respawn_after is None:
            return f"{slot.name} killed"
        time.sleep(self.respawn_after)
        slot.proc = slot.start()
        return f"{slot.name} killed, started again after {self.respawn_after:.0f} s"

    def explains(self, at: float, grace: float, kinds: Sequence[str] | None = None) -> bool:
        """Whether an error at ``at`` falls in a logged fault (of ``kinds``, if given),
        or within ``grace`` seconds after it."""
        return any(
            (kinds is None or f.kind in kinds) and f.began <= at <= f.ended + grace
            for f in self.log
        )

    def attribute(self, at: float, grace: float) -> str | None:
        """The kind of the latest fault whose window (plus ``grace``) holds ``at``."""
        found = [f for f in self.log if f.began <= at <= f.ended + grace]
        return found[-1].kind if found else None

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for fault in self.log:
            counts[fault.kind] = counts.get(fault.kind, 0) + 1
        return counts
