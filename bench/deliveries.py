"""Webhook deliveries per second against a local receiver: one at a time against pooled.

WORKLOAD.md has no delivery workload, so this is a small bench of its own
(``python -m bench deliveries``). A fresh database with one unit and one
webhook to a receiver in another process (``bench.delivery_receiver``:
200 at once, counts event ids); ``n`` deliveries put in the outbox with the
statement a change enqueues them with; then one ``WebhookSender`` empties
the outbox, timed from its first claim to the empty pass. The receiver may
answer late (``latency_ms``), as one across a network does. Each
configuration gets a fresh outbox in the same run, so the ratio compares
like with like: ``pool`` 1 is the one-row-at-a-time path (renew, POST,
record: what every database did before pooling, and what SQLite still
does); a larger pool is PostgreSQL's pooled batch (SQLite ignores it).

Verified: the receiver got every event id exactly once, and every row
ended ``delivered``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from typing import Any

from bench.common import CHECKOUT, scratch_database
from planflow.app import Planflow
from planflow.integrations.webhooks import WebhookReport, WebhookSender
from planflow.storage import webhook_store as ws
from planflow.storage.tx import write_tx

#: (pool, batch size) measured in one run; the first is the baseline.
CONFIGS = ((1, 20), (8, 20), (8, 50))


def _receiver(latency_ms: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.delivery_receiver", str(latency_ms)],
        cwd=CHECKOUT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def _call(url: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=10) as answer:
        body = answer.read()
    return dict(json.loads(body)) if method == "GET" else {}


def _enqueue(pf: Planflow, hook_id: int, n: int) -> None:
    now = pf.clock.now()
    rows = [
        {
            "webhook_id": hook_id,
            "event_id": str(uuid.uuid4()),
            "event_type": "plan.comment",
            "plan_id": None,
            "body": json.dumps({"type": "plan.comment", "comment": "x" * 300, "n": i}),
            "created_at": now,
        }
        for i in range(n)
    ]
    with write_tx(pf.db) as tx:
        tx.run_many(ws.INSERT_DELIVERY, rows)


def measure(n: int, database_url: str | None, latency_ms: int = 0) -> dict[str, Any]:
    """Deliveries per second for each of ``CONFIGS``, and each as a ratio to the first,
    to a receiver that answers ``latency_ms`` after each request."""
    proc, base = _receiver(latency_ms)
    runs: list[dict[str, Any]] = []
    try:
        with scratch_database(database_url, "deliveries") as scratch:
            pf = Planflow(scratch.url)
            try:
                pf.init()
                with pf.session() as s:
                    pf.org_repo.add_unit(s, "fed", "Federation", None)
                hook = pf.webhooks.add("fed", f"{base}/hook", ["plan.comment"], allow_private=True)
                for pool, batch in CONFIGS:
                    _call(f"{base}/reset", "POST")
                    _enqueue(pf, hook.webhook.id, n)
                    sender = WebhookSender(
                        pf.db, pf.clock, "bench", pool=pool, batch_size=batch,
                        lease=timedelta(minutes=5),
                    )  # fmt: skip
                    total = WebhookReport()
                    started = time.perf_counter()
                    while (report := sender.run_once()).total:
                        total.add(report)
                    seconds = time.perf_counter() - started
                    got = _call(f"{base}/stats")
                    runs.append(
                        {
                            "pool": pool,
                            "batch": batch,
                            "delivered": total.delivered,
                            "seconds": round(seconds, 3),
                            "per_second": round(total.delivered / seconds, 1),
                            "verified": total.delivered == n == got["total"] == got["unique"],
                        }
                    )
                kind = scratch.kind
            finally:
                pf.close()
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    floor = runs[0]["per_second"]
    for run in runs:
        run["ratio"] = round(run["per_second"] / floor, 2)
    return {
        "workload": "deliveries",
        "database": kind,
        "n": n,
        "latency_ms": latency_ms,
        "runs": runs,
        "verified": all(r["verified"] for r in runs),
        "problems": [f"pool {r['pool']}: not every event once" for r in runs if not r["verified"]],
    }
