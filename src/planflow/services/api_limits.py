"""How many API requests a token may make: a per-minute limit held in the database.

Each token may make ``per_minute`` requests in a calendar minute (UTC). The
count lives in ``api_rate_window``, so the limit holds across worker
processes and hosts, like the sign-in limits. A process does not write a
row per request: it claims slots in batches (``batch``, a twentieth of the
limit) with one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` and
spends them locally. Slots a process claimed and did not use are lost for
that minute, so with many processes a token may be refused somewhat before
it made ``per_minute`` requests, never after: the error is on the safe side,
at most ``batch`` per process.

A refused request learns when the next minute starts (``RateLimited``,
``retry_at``); the HTTP API answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from planflow.clock import Clock
from planflow.errors import PlanflowError
from planflow.storage.db import Database
from planflow.storage.tx import sqlite_datetime

#: The default limit, per token and minute.
PER_MINUTE = 600

_CLAIM = text(
    "INSERT INTO api_rate_window (token_id, window_start, granted)"
    " VALUES (:token_id, :window_start, :count)"
    " ON CONFLICT (token_id, window_start)"
    " DO UPDATE SET granted = api_rate_window.granted + :count"
    " RETURNING granted"
)
_PRUNE = text("DELETE FROM api_rate_window WHERE window_start < :before")


class RateLimited(PlanflowError):
    code = "rate_limited"
    http_status = 429

    def __init__(self, limit: int, retry_at: datetime) -> None:
        super().__init__(
            f"more than {limit} requests a minute with this token; "
            f"try again at {retry_at:%H:%M:%S} UTC",
            params={"limit": limit, "retry_at": retry_at.isoformat()},
        )
        self.retry_at = retry_at


@dataclass
class _Slots:
    window: datetime
    left: int = 0
    #: True once the database said the window is used up (no need to ask again).
    spent: bool = False


class ApiLimits:
    def __init__(self, db: Database, clock: Clock, per_minute: int = PER_MINUTE) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.db = db
        self.clock = clock
        self.per_minute = per_minute
        self.batch = max(1, per_minute // 20)
        self._slots: dict[int, _Slots] = {}
        self._lock = threading.Lock()
        self._pruned: datetime | None = None

    def take(self, token_id: int) -> None:
        """Spend one request of ``token_id``'s minute, or raise ``RateLimited``."""
        now = self.clock.now()
        window = now.replace(second=0, microsecond=0)
        with self._lock:
            slots = self._slots.get(token_id)
            if slots is None or slots.window != window:
                slots = self._slots[token_id] = _Slots(window)
                self._forget_before(window)
            if slots.left == 0 and not slots.spent:
                slots.left = self._claim(token_id, window)
                slots.spent = slots.left == 0
            if slots.left == 0:
                raise RateLimited(self.per_minute, window + timedelta(minutes=1))
            slots.left -= 1

    def _claim(self, token_id: int, window: datetime) -> int:
        """Claim up to ``batch`` slots of the window; how many were granted.

        Once more on a new connection when the first one was lost (a restart, a
        killed backend): had the first claim committed after all, its slots are
        only counted twice, a stricter limit for one minute, never a looser one.
        """
        try:
            return self._claim_once(token_id, window)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        return self._claim_once(token_id, window)

    def _claim_once(self, token_id: int, window: datetime) -> int:
        with self.db.write() as conn:
            total: int = conn.execute(
                _CLAIM,
                {"token_id": token_id, "window_start": self._bind(window), "count": self.batch},
            ).scalar_one()
            if self._pruned is None or self._pruned < window:
                # Old windows mean nothing: drop them now and then (once a minute a process).
                conn.execute(_PRUNE, {"before": self._bind(window - timedelta(minutes=5))})
                self._pruned = window
        before = total - self.batch
        return max(0, min(self.batch, self.per_minute - before))

    def _bind(self, moment: datetime) -> object:
        # Raw SQL: bind the datetime as the table's own type stores it.
        return sqlite_datetime(moment) if self.db.is_sqlite else moment

    def _forget_before(self, window: datetime) -> None:
        for token_id in [t for t, s in self._slots.items() if s.window < window]:
            del self._slots[token_id]
