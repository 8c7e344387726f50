"""The webhook sender's settings: batch sizes, the POST timeout, the lease it needs, links.

``PLANFLOW_WEBHOOK_TIMEOUT`` bounds each connect, send and answer of a POST;
the scheduler's lease (``PLANFLOW_SCHEDULER_LEASE``) must outlast three of
them and the commit of the outcome (``shortest_lease``), so a batch never
outlives its claim (``integrations.webhooks.sender``).
"""

from __future__ import annotations

import os
from datetime import timedelta

from planflow.errors import ValidationError

#: Threads that POST one PostgreSQL batch at once.
POOL = 8
#: Rows one claim takes: one after another (SQLite), or pooled (PostgreSQL). Measured
#: (``python -m bench deliveries``): pooled batches of 50 send 1.4-1.8x as many per
#: second as batches of 20; 50 rows in 7 rounds of 8 POSTs fit a 5-minute lease
#: even if every POST ran into the 10 s timeout three times over.
BATCH = 20
POOLED_BATCH = 50
#: Seconds of the lease kept for writing a batch's outcomes after its last POST.
RECORD_MARGIN = 5.0
DEFAULT_TIMEOUT = 10.0


def timeout_from_env(lease: timedelta) -> float:
    """``PLANFLOW_WEBHOOK_TIMEOUT``: seconds one connect, send or answer of a POST may take.

    Unset, 10 s, or less when ``lease`` is too short for that: the most that fits
    (``shortest_lease``), to a tenth of a second. Set, it is taken as given (the
    scheduler refuses a lease too short for it).
    """
    raw = os.environ.get("PLANFLOW_WEBHOOK_TIMEOUT", "").strip()
    if not raw:
        fits = ((lease.total_seconds() - RECORD_MARGIN) / 3 - 0.05) * 10 // 1 / 10
        return min(DEFAULT_TIMEOUT, fits)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1
    if not 1 <= seconds <= 120:
        raise ValidationError(f"PLANFLOW_WEBHOOK_TIMEOUT={raw!r}: give seconds between 1 and 120")
    return seconds


def shortest_lease(timeout: float) -> timedelta:
    """The lease must outlast one POST (connect, send, answer: three timeouts) and the
    commit of its outcome."""
    return timedelta(seconds=3 * timeout + RECORD_MARGIN)


def base_url_from_env() -> str | None:
    """Where robot messages link to: ``PLANFLOW_BASE_URL`` (else the mail's base URL)."""
    found = os.environ.get("PLANFLOW_BASE_URL") or os.environ.get("PLANFLOW_MAIL_BASE_URL")
    if found and found.startswith(("http://", "https://")):
        return found.rstrip("/")
    return None
