"""W3, the review queue under load: the web UI as deployed, with wrk as the clients.

The database gets W2's population (``w2_population.populate``: the federation, ten
unions of ten branches, N plans under review), so one union's reviewer has
N/10 plans waiting. The web UI is started the way the README documents for
production: gunicorn, several worker processes, ``webui:create_app()``, on
the given database. Then, with 32 concurrent connections for ``duration``
seconds each, wrk (Debian's package: a C load generator, so the clients
cost the 2-core machine little) fetches, in one run:

1. ``/healthz``, the bare endpoint (no session, no template): the server's ceiling;
2. ``/about/``, the trivial page of the same app: signed in, the base layout
   (user, unread count, language form), nothing of its own;
3. ``/reviews/``, the reviewer's queue (a page of 50 rows, of N/10 waiting);
4. ``/plans/<id>``, the plan page, a random plan of that reviewer's each time.

It reports requests per second, latency p50/p95/p99, errors (connection
errors, timeouts and every response that is not 200: a page that fell back
to the sign-in form is an error too) and each page's requests per second
over the trivial page's (the target is 0.3 or more; zero errors), and also
over the bare endpoint's, for those who read "trivial" that way.

This module starts gunicorn as a command; it never imports the web UI.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import w2_population, w2_timeline
from bench.common import Scratch, run_child, scratch_database
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.storage.org_repo import OrgRepository

REVIEWER = "u0.reviewer"
PASSWORD = "w3-bench-password-0123"
CONNECTIONS = 32
WARM_UP_SECONDS = 3
#: flask-login's strong session protection ties the session to the browser's
#: User-Agent: the clients send the one that signed in.
AGENT = "planflow-w3"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

#: wrk's Lua: pick the path, count every response that is not a 200, report percentiles.
LUA = """
local ids = {%(ids)s}
bad = 0  -- global: done() reads it from each thread
local threads = {}
%(headers)s
setup = function(thread) table.insert(threads, thread) end
request = function()
  if #ids > 0 then return wrk.format("GET", "%(prefix)s" .. ids[math.random(#ids)]) end
  return wrk.format("GET", "%(path)s")
end
response = function(status, headers, body) if status ~= 200 then bad = bad + 1 end end
done = function(summary, latency, requests)
  local not_ok = 0
  for _, t in ipairs(threads) do not_ok = not_ok + t:get("bad") end
  local e = summary.errors
  io.write(string.format("W3RESULT %%d %%d %%d %%d %%.3f %%.3f %%.3f\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, not_ok,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


@dataclass(frozen=True)
class PageFigures:
    path: str
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


def _populate(scratch: Scratch, plans: int) -> dict[str, Any]:
    """In a child process: W2's plans, and a password for the reviewer."""
    pf = Planflow(scratch.url, clock=FixedClock(w2_timeline.ORG_AT))
    try:
        pf.init()
        pf.mark_simulation()  # its clock runs in 2027: future-dated records
        org = w2_population.populate(pf, plans)
        with pf.session() as s:
            OrgRepository(pf.clock).set_password(s, REVIEWER, PASSWORD)
        union = org.unions[0]
        ids = [i for i in range(1, plans + 1) if org.union_of[org.branch_of(i)] == union]
    finally:
        pf.close()
    return {"reviewer_plan_ids": ids}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    url: str, workers: int, threads: int, folder: Path, env_extra: dict[str, str] | None = None
) -> tuple[Any, str]:
    """gunicorn serving ``webui:create_app()`` on ``url``, as the README's deployment does."""
    port = _free_port()
    env = {
        **os.environ,
        **(env_extra or {}),
        "PLANFLOW_DATABASE_URL": url,
        "PLANFLOW_INSTANCE": str(folder),
        "PLANFLOW_SECRET_KEY": secrets.token_hex(32),
    }
    command = [
        sys.executable, "-m", "gunicorn", "planflow_web:create_app()",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning",
    ]  # fmt: skip
    with (folder / "gunicorn.log").open("w") as log:  # the server keeps its own copy
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{(folder / 'gunicorn.log').read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server, base
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def sign_in(base: str) -> str:
    """Sign the reviewer in like a browser; returns the Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", AGENT)]
    with opener.open(f"{base}/auth/login", timeout=10) as r:
        match = _CSRF.search(r.read().decode())
    if match is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    form = {"csrf_token": match.group(1), "username": REVIEWER, "password": PASSWORD}
    with opener.open(f"{base}/auth/login", urllib.parse.urlencode(form).encode(), timeout=30) as r:
        page = r.read().decode()
    if "Sign out" not in page:
        raise RuntimeError("the reviewer could not sign in")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    # Every page must be the real page before it is measured (not the sign-in form).
    for path, expect in [("/reviews/", "/plans/"), ("/about/", "Sign out"), ("/healthz", "ok")]:
        headers = {"Cookie": cookie, "User-Agent": AGENT}
        request = urllib.request.Request(f"{base}{path}", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as r:
            if r.status != 200 or expect not in r.read().decode():
                raise RuntimeError(f"{path} did not answer as expected")
    return cookie


def run_wrk(
    base: str,
    path: str,
    cookie: str,
    seconds: int,
    folder: Path,
    ids: list[int] | None = None,
    *,
    headers: dict[str, str] | None = None,
    prefix: str = "/plans/",
) -> PageFigures:
    """wrk on ``path`` (or ``prefix`` + a random one of ``ids``) with the browser's
    cookie, or with ``headers`` instead (W4's bearer token)."""
    script = folder / "w3.lua"
    id_list = ",".join(str(i) for i in ids or [])
    sent = headers if headers is not None else {"Cookie": cookie, "User-Agent": AGENT}
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in sent.items())
    script.write_text(LUA % {"ids": id_list, "headers": lines, "path": path, "prefix": prefix})
    command = [
        "wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), base,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed on {path}: {done.stderr.strip() or done.stdout.strip()}")
    out = done.stdout
    line = next(x for x in out.splitlines() if x.startswith("W3RESULT"))
    requests, micros, socket_errors, not_ok, p50, p95, p99 = line.split()[1:]
    elapsed = int(micros) / 1e6
    return PageFigures(
        path=path,
        requests=int(requests),
        seconds=round(elapsed, 2),
        requests_per_second=round(int(requests) / elapsed, 1),
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
        errors=int(socket_errors) + int(not_ok),
    )


def require_answers(pages: dict[str, PageFigures], seconds: int) -> None:
    """Every page answered at least once: a page with none gives no ratio, and on a
    machine this loaded a run of so few seconds measures nothing."""
    silent = [p.path for p in pages.values() if p.requests == 0]
    if silent:
        raise RuntimeError(
            f"no request to {', '.join(silent)} completed within {seconds} s: the machine"
            " is too busy for so short a run; give more --seconds"
        )


def measure(
    plans: int,
    database_url: str | None,
    *,
    seconds: int = 30,
    workers: int = 0,
    threads: int = 4,
    warm_up: int = WARM_UP_SECONDS,
) -> dict[str, Any]:
    """One W3 run: populate, serve with gunicorn, load the three pages in turn, each
    after ``warm_up`` seconds of the same load that are not counted (0: none)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("W3 needs wrk as its load generator: apt-get install wrk")
    workers = workers or 2 * (os.cpu_count() or 1) + 1
    with scratch_database(database_url, "w3") as scratch, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        populated = run_child("bench.w3", {"populate": asdict(scratch), "plans": plans})
        population_seconds = time.perf_counter() - started
        ids = [int(i) for i in populated["reviewer_plan_ids"]]  # type: ignore[attr-defined]
        folder = Path(tmp)
        server, base = start_server(scratch.url, workers, threads, folder)
        try:
            cookie = sign_in(base)
            pages: dict[str, PageFigures] = {}
            for name, path, page_ids in [
                ("bare", "/healthz", None),
                ("trivial", "/about/", None),
                ("review_queue", "/reviews/", None),
                ("plan_page", "/plans/<random>", ids),
            ]:
                if warm_up:
                    run_wrk(base, path, cookie, warm_up, folder, page_ids)
                pages[name] = run_wrk(base, path, cookie, seconds, folder, page_ids)
        finally:
            server.terminate()
            server.wait(timeout=30)
    require_answers(pages, seconds)
    trivial = pages["trivial"].requests_per_second
    bare = pages["bare"].requests_per_second
    ratios = {
        name: round(pages[name].requests_per_second / trivial, 3)
        for name in ("review_queue", "plan_page")
    }
    bare_ratios = {
        name: round(pages[name].requests_per_second / bare, 3)
        for name in ("trivial", "review_queue", "plan_page")
    }
    errors = sum(p.errors for p in pages.values())
    return {
        "workload": "w3",
        "database": scratch.kind,
        "plans": plans,
        "queue_size": len(ids),
        "workers": workers,
        "threads": threads,
        "connections": CONNECTIONS,
        "seconds_per_page": seconds,
        "warm_up_seconds": warm_up,
        "pages": {name: asdict(p) for name, p in pages.items()},
        "ratio_to_trivial": ratios,
        "ratio_to_bare": bare_ratios,
        "errors": errors,
        "targets_met": errors == 0 and all(r >= 0.3 for r in ratios.values()),
        "population_seconds": round(population_seconds, 1),
        "verified": errors == 0,
        "problems": [f"{errors} errors"] if errors else [],
    }


if __name__ == "__main__":
    import json

    args = json.loads(sys.argv[1])
    scratch_args = args["populate"]
    print(json.dumps(_populate(Scratch(**scratch_args), int(args["plans"]))))
