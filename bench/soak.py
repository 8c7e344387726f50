"""The soak (issue 19): the production set-up under a mixed load for N minutes.

On a new PostgreSQL schema (or SQLite file): gunicorn (``--workers`` processes of
``--threads`` threads, ``planflow_web:create_app()``, as the README deploys it) and two
``planflow scheduler`` processes; ``soak_world`` seeds plans whose reviews fall due
over the run, ``soak_load`` drives ``--clients`` API clients at the server, and at the
end, once the schedulers had time to catch up, ``soak_world.check`` holds the
database to what the clients were told: no acknowledged change lost, none stored
twice, every reminder and escalation applied exactly once, the audit chain verified.
Reported: requests, answers by status, errors (5xx and no answer), throughput,
latency percentiles, effects applied, and each process's memory at the start and end.

With ``faults_every``, faults are injected in turn at that interval while the load
runs (``soak_faults``): a gunicorn worker killed, a scheduler killed (and started
again a second later, as a service manager would), every connection of the run's
processes terminated, PostgreSQL restarted (only on a cluster of the run's own,
``own_postgres``: the shared server is never restarted). Errors are then counted
by kind, and every error must fall in a fault's window: a request in flight when
a worker died gets no answer; a 503 "nothing was saved" only while the database
was away; never a 500.

The processes are started as commands, with a ``prefix`` (``ip netns exec NAME``: the
multi-host test starts the same processes on two "hosts").
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench import pg_cluster, soak_faults, soak_load, soak_world
from bench.common import scratch_database

#: Settings every soak process runs with: a scheduler wakes every second (timers due
#: during the run fire within it), a killed scheduler's claims are taken over after
#: 10 s (the least the setting allows: the final check comes CATCH_UP after the
#: load), and the API's per-token limit is out of the way.
PROCESS_ENV = {
    "PLANFLOW_SCHEDULER_INTERVAL": "1",
    "PLANFLOW_SCHEDULER_LEASE": "10",
    "PLANFLOW_API_REQUESTS_PER_MINUTE": "1000000",
    "PLANFLOW_CHECKPOINT_MINUTES": "0",
}
#: Seconds the schedulers get after the load stops to apply what fell due.
CATCH_UP = 15


def child_env(url: str, folder: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        **PROCESS_ENV,
        "PLANFLOW_DATABASE_URL": url,
        "PLANFLOW_INSTANCE": str(folder),
        "PLANFLOW_SECRET_KEY": secrets.token_hex(32),
        **(extra or {}),
    }


def start_web(
    url: str, bind: str, workers: int, threads: int, folder: Path, prefix: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """gunicorn on ``bind`` (host:port); its log in ``folder``."""
    command = [
        *prefix, sys.executable, "-m", "gunicorn", "planflow_web:create_app()",
        "--bind", bind, "--workers", str(workers), "--worker-class", "gthread",
        "--threads", str(threads), "--log-level", "warning", "--graceful-timeout", "5",
    ]  # fmt: skip
    with (folder / "gunicorn.log").open("ab") as log:
        return subprocess.Popen(command, env=child_env(url, folder), stdout=log, stderr=log)


def start_scheduler(
    url: str,
    folder: Path,
    name: str,
    prefix: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``planflow scheduler`` (runs until SIGTERM); its output in ``folder/name.log``;
    ``env``: settings of its own (the SMTP server, say)."""
    command = [*prefix, sys.executable, "-m", "planflow.cli", "scheduler"]
    with (folder / f"{name}.log").open("ab") as log:
        return subprocess.Popen(command, env=child_env(url, folder, env), stdout=log, stderr=log)


def wait_healthy(base: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server at {base} exited ({proc.returncode})")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {base} did not answer within {seconds:.0f} s")


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mib(pid: int) -> dict[int, float]:
    """Resident memory of ``pid`` and its children (gunicorn's workers), MiB."""
    found: dict[int, float] = {}
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for each in [pid, *map(int, children)]:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[each] = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            continue
    return found


#: The faults a run injects by default, in turn (``soak_faults``): the database ones
#: only on PostgreSQL, the restart only on a cluster of the run's own.
ALL_FAULTS = soak_faults.KINDS
#: No fault in the load's last seconds: what the last one left (a dead scheduler's
#: claims, its lease) is over before the final check.
QUIET_END = 30
#: Seconds after a fault in which an error is still its doing: a request in flight
#: may wait for its answer up to the clients' timeout.
GRACE = soak_load.TIMEOUT + 2
APPLICATION = "planflow-soak"


def run(
    base_url: str | None,
    minutes: float,
    workers: int,
    threads: int,
    clients: int,
    plans: int,
    *,
    faults_every: float = 0,
    faults: Sequence[str] = (),
    own_postgres: bool = False,
) -> dict[str, Any]:
    """The soak; with ``faults_every`` seconds, ``faults`` injected in turn."""
    with contextlib.ExitStack() as stack:
        cluster = None
        if own_postgres:
            cluster = stack.enter_context(pg_cluster.own_cluster())
            base_url = cluster.url
        return _run(base_url, minutes, workers, threads, clients, plans, faults_every,
                    faults, cluster)  # fmt: skip
    raise AssertionError("unreachable")  # pragma: no cover


def _run(
    base_url: str | None,
    minutes: float,
    workers: int,
    threads: int,
    clients: int,
    plans: int,
    faults_every: float,
    faults: Sequence[str],
    cluster: pg_cluster.Cluster | None,
) -> dict[str, Any]:
    with scratch_database(base_url, "soak") as scratch:
        folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"planflow-soak-{os.getpid()}"
        folder.mkdir(parents=True, exist_ok=True)
        seconds = minutes * 60
        world = soak_world.seed(scratch.url, plans, timedelta(seconds=seconds * 0.8))
        port = 18000 + os.getpid() % 1000
        url = pg_cluster.with_application_name(scratch.url, APPLICATION)
        web = start_web(url, f"127.0.0.1:{port}", workers, threads, folder)
        slots = []
        for n in (1, 2):
            again = functools.partial(start_scheduler, url, folder, f"scheduler{n}")
            slots.append(soak_faults.SchedulerSlot(f"scheduler{n}", again, again()))
        base = f"http://127.0.0.1:{port}"
        injector = soak_faults.Injector([web], slots, scratch.url, APPLICATION, cluster, [base])
        kinds = injector.possible(faults) if faults_every else []
        try:
            wait_healthy(base, web)
            memory_start = {p.pid: rss_mib(p.pid) for p in [web, *(s.proc for s in slots)]}
            tally = soak_load.Tally()
            started, t0 = time.monotonic(), time.time()
            running = soak_load.start(world, [base], clients, tally)
            _load_with_faults(injector, kinds, faults_every, seconds, started)
            soak_load.stop(running)
            elapsed = time.monotonic() - started
            procs = [web, *(s.proc for s in slots)]
            memory_end = {p.pid: rss_mib(p.pid) for p in procs}
            time.sleep(CATCH_UP)
            at = datetime.now(UTC) - timedelta(seconds=CATCH_UP)
            alive = [p.poll() is None for p in procs]
        finally:
            stop_all([web, *(s.proc for s in slots)])
        checked = soak_world.check(scratch.url, world, tally.told, at)
    applied_at: list[float] = checked.pop("effects_applied_at")  # type: ignore[assignment]
    sent = sum(tally.requests.values())
    unexplained = [
        (round(t - t0, 1), what)
        for t, _, what in tally.error_log
        if not injector.explains(
            t, GRACE, soak_faults.DATABASE_KINDS if what.startswith("503") else None
        )
    ]
    by_kind = tally.errors_by_kind()
    by_fault = Counter(
        f"{injector.attribute(t, GRACE) or 'none'}: {what}" for t, _, what in tally.error_log
    )
    return {
        "database": scratch.kind + (" (a cluster of its own)" if cluster else ""),
        "minutes": minutes,
        "gunicorn": f"{workers}x{threads}",
        "schedulers": 2,
        "clients": clients,
        "seeded_reviews": plans,
        "requests": sent,
        "requests_by_kind": dict(tally.requests),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "errors": sum(tally.errors.values()),
        "errors_by_kind": by_kind,
        "errors_by_fault": dict(sorted(by_fault.items())),
        "error_ratio": round(sum(tally.errors.values()) / max(sent, 1), 6),
        "server_errors_not_503": sum(
            n for k, n in by_kind.items() if k[0] == "5" and k[:3] != "503"
        ),
        "errors_no_fault_explains": len(unexplained),
        "errors_no_fault_explains_first": unexplained[:10],
        "faults_every_s": faults_every,
        "faults": injector.summary(),
        "fault_log": [
            (f.kind, round(f.began - t0, 1), round(f.ended - f.began, 1), f.detail)
            for f in injector.log
        ],
        "processes_alive_at_end": all(alive),
        "requests_per_second": round(sent / elapsed, 1),
        **tally.percentiles(),
        "memory_mib_start": _memory(
            memory_start, [web, *(s.killed[0] if s.killed else s.proc for s in slots)]
        ),
        "memory_mib_end": _memory(memory_end, procs),
        **checked,
        "effects_applied_during_load": sum(1 for t in applied_at if t0 <= t <= t0 + elapsed),
    }


def _load_with_faults(
    injector: soak_faults.Injector,
    kinds: Sequence[str],
    every: float,
    seconds: float,
    started: float,
) -> None:
    """Wait out the load, injecting ``kinds`` in turn every ``every`` seconds (none in
    the last QUIET_END seconds)."""
    if not kinds:
        time.sleep(seconds)
        return
    n = 0
    while True:
        moment = (n + 1) * every
        if moment > seconds - QUIET_END:
            break
        time.sleep(max(0.0, moment - (time.monotonic() - started)))
        injector.inject(kinds[n % len(kinds)])
        n += 1
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))


def _memory(taken: dict[int, dict[int, float]], procs: list[subprocess.Popen[bytes]]) -> Any:
    names = ["gunicorn", "scheduler1", "scheduler2"]
    return {names[n]: taken.get(p.pid, {}) for n, p in enumerate(procs)}
