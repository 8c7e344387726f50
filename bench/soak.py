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

The processes are started as commands, with a ``prefix`` (``ip netns exec NAME``: the
multi-host test starts the same processes on two "hosts").
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench import soak_load, soak_world
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


def child_env(url: str, folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        **PROCESS_ENV,
        "PLANFLOW_DATABASE_URL": url,
        "PLANFLOW_INSTANCE": str(folder),
        "PLANFLOW_SECRET_KEY": secrets.token_hex(32),
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
    url: str, folder: Path, name: str, prefix: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """``planflow scheduler`` (runs until SIGTERM); its output in ``folder/name.log``."""
    command = [*prefix, sys.executable, "-m", "planflow.cli", "scheduler"]
    with (folder / f"{name}.log").open("ab") as log:
        return subprocess.Popen(command, env=child_env(url, folder), stdout=log, stderr=log)


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


def run(
    base_url: str | None, minutes: float, workers: int, threads: int, clients: int, plans: int
) -> dict[str, Any]:
    with scratch_database(base_url, "soak") as scratch:
        folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"planflow-soak-{os.getpid()}"
        folder.mkdir(parents=True, exist_ok=True)
        seconds = minutes * 60
        world = soak_world.seed(scratch.url, plans, timedelta(seconds=seconds * 0.8))
        port = 18000 + os.getpid() % 1000
        web = start_web(scratch.url, f"127.0.0.1:{port}", workers, threads, folder)
        procs = [web, *(start_scheduler(scratch.url, folder, f"scheduler{n}") for n in (1, 2))]
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, web)
            memory_start = {p.pid: rss_mib(p.pid) for p in procs}
            tally = soak_load.Tally()
            started = time.monotonic()
            running = soak_load.start(world, [base], clients, tally)
            time.sleep(seconds)
            soak_load.stop(running)
            elapsed = time.monotonic() - started
            memory_end = {p.pid: rss_mib(p.pid) for p in procs}
            time.sleep(CATCH_UP)
            at = datetime.now(UTC) - timedelta(seconds=CATCH_UP)
        finally:
            stop_all(procs)
        checked = soak_world.check(scratch.url, world, tally.told, at)
    sent = sum(tally.requests.values())
    return {
        "database": scratch.kind,
        "minutes": minutes,
        "gunicorn": f"{workers}x{threads}",
        "schedulers": 2,
        "clients": clients,
        "seeded_reviews": plans,
        "requests": sent,
        "requests_by_kind": dict(tally.requests),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "errors": sum(tally.errors.values()),
        "error_ratio": round(sum(tally.errors.values()) / max(sent, 1), 6),
        "requests_per_second": round(sent / elapsed, 1),
        **tally.percentiles(),
        "memory_mib_start": _memory(memory_start, procs),
        "memory_mib_end": _memory(memory_end, procs),
        **checked,
    }


def _memory(taken: dict[int, dict[int, float]], procs: list[subprocess.Popen[bytes]]) -> Any:
    names = ["gunicorn", "scheduler1", "scheduler2"]
    return {names[n]: taken.get(p.pid, {}) for n, p in enumerate(procs)}
