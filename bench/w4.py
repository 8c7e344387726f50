"""W4, the JSON API under load: W3's server and data, a reviewer's bearer token.

Same production set-up and population as W3 (gunicorn, several workers, W2's
plans; ``bench.w3``). With a personal access token of the reviewer of one
union, wrk's 32 connections fetch for ``duration`` seconds each, in one run:

1. ``/healthz``, unauthenticated: the server's ceiling;
2. ``/about/``, the trivial HTML page (signed in with a session cookie);
3. ``/api/v1/plans``, a page of 50 of the plans the reviewer may see;
4. ``/api/v1/plans/<id>``, a random one of them, with its actions.

Every response that is not a 200 counts as an error. The target: each API
endpoint at 0.5 or more of the trivial page's requests per second, and no
errors. The per-token request limit (``PLANFLOW_API_REQUESTS_PER_MINUTE``)
is raised for the run, as an operator would for a trusted integration: the
benchmark measures serving the API, not refusing a client that asks too
fast (that the limit holds is tested in tests/webui/test_api_limits.py).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import w3
from bench.common import Scratch, run_child, scratch_database
from planflow.app import Planflow

#: The per-token limit while the benchmark runs (see the module docstring).
REQUESTS_PER_MINUTE = 100_000_000
TARGET = 0.5


def _populate(scratch: Scratch, plans: int) -> dict[str, Any]:
    """In a child process: W3's population, and a read token for its reviewer."""
    found = w3._populate(scratch, plans)
    pf = Planflow(scratch.url)
    try:
        found["token"] = pf.tokens.create(w3.REVIEWER, scope="read", name="W4").secret
    finally:
        pf.close()
    return found


def _check(base: str, token: str, plan_id: int) -> None:
    """Both endpoints answer the reviewer with JSON before anything is measured."""
    for path in ("/api/v1/plans", f"/api/v1/plans/{plan_id}"):
        request = urllib.request.Request(
            f"{base}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            body = json.loads(r.read())
        if path.endswith("/plans") and len(body["items"]) != 50:
            raise RuntimeError(f"{path}: expected a page of 50, got {len(body['items'])}")


def measure(
    plans: int,
    database_url: str | None,
    *,
    seconds: int = 30,
    workers: int = 0,
    threads: int = 4,
    warm_up: int = w3.WARM_UP_SECONDS,
) -> dict[str, Any]:
    """One W4 run: populate, serve with gunicorn, load the four endpoints in turn
    (each after ``warm_up`` seconds of the same load, not counted)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("W4 needs wrk as its load generator: apt-get install wrk")
    workers = workers or 2 * (os.cpu_count() or 1) + 1
    with scratch_database(database_url, "w4") as scratch, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        populated = run_child("bench.w4", {"populate": asdict(scratch), "plans": plans})
        population_seconds = time.perf_counter() - started
        ids = [int(i) for i in populated["reviewer_plan_ids"]]  # type: ignore[attr-defined]
        token = str(populated["token"])
        folder = Path(tmp)
        env = {"PLANFLOW_API_REQUESTS_PER_MINUTE": str(REQUESTS_PER_MINUTE)}
        server, base = w3.start_server(scratch.url, workers, threads, folder, env)
        try:
            cookie = w3.sign_in(base)
            _check(base, token, ids[0])
            bearer = {"Authorization": f"Bearer {token}"}
            pages: dict[str, w3.PageFigures] = {}
            for name, path, page_ids, headers in [
                ("bare", "/healthz", None, None),
                ("trivial", "/about/", None, None),
                ("api_list", "/api/v1/plans", None, bearer),
                ("api_plan", "/api/v1/plans/<random>", ids, bearer),
            ]:
                for length in (warm_up, seconds) if warm_up else (seconds,):
                    pages[name] = w3.run_wrk(
                        base, path, cookie, length, folder, page_ids,
                        headers=headers, prefix="/api/v1/plans/",
                    )  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
    w3.require_answers(pages, seconds)
    trivial = pages["trivial"].requests_per_second
    ratios = {
        name: round(pages[name].requests_per_second / trivial, 3)
        for name in ("api_list", "api_plan")
    }
    latency = {
        name: {
            q: round(getattr(pages[name], f"{q}_ms") / getattr(pages["trivial"], f"{q}_ms"), 2)
            for q in ("p50", "p95", "p99")
        }
        for name in ("api_list", "api_plan")
    }
    errors = sum(p.errors for p in pages.values())
    return {
        "workload": "w4",
        "database": scratch.kind,
        "plans": plans,
        "visible": len(ids),
        "workers": workers,
        "threads": threads,
        "connections": w3.CONNECTIONS,
        "seconds_per_page": seconds,
        "warm_up_seconds": warm_up,
        "pages": {name: asdict(p) for name, p in pages.items()},
        "ratio_to_trivial": ratios,
        "latency_ratio_to_trivial": latency,
        "errors": errors,
        "targets_met": errors == 0 and all(r >= TARGET for r in ratios.values()),
        "population_seconds": round(population_seconds, 1),
        "verified": errors == 0,
        "problems": [f"{errors} errors"] if errors else [],
    }


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    print(json.dumps(_populate(Scratch(**args["populate"]), int(args["plans"]))))
