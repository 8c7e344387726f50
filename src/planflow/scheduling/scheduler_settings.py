"""The scheduler's settings from the environment, and who it is among several.

``PLANFLOW_SCHEDULER_INTERVAL`` (seconds between ticks),
``PLANFLOW_SCHEDULER_LEASE`` (how long a claimed timer, round, e-mail or
webhook is this process's) and the batch counts; each refused with a
``ValidationError`` that names the variable when out of range. The worker
id names this process in every claim it makes.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from planflow.errors import ValidationError
from planflow.scheduling.deadline_processor import DEFAULT_LEASE

#: Time between ticks when ``PLANFLOW_SCHEDULER_INTERVAL`` is not set.
DEFAULT_INTERVAL = timedelta(seconds=30)


def new_worker_id() -> str:
    """Unique per process start: host, pid and a random suffix (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def interval_from_env() -> timedelta:
    raw = os.environ.get("PLANFLOW_SCHEDULER_INTERVAL", "").strip()
    if not raw:
        return DEFAULT_INTERVAL
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1
    if not 0.1 <= seconds <= 3600:
        raise ValidationError(
            f"PLANFLOW_SCHEDULER_INTERVAL={raw!r}: give seconds between 0.1 and 3600"
        )
    return timedelta(seconds=seconds)


def lease_from_env() -> timedelta:
    """``PLANFLOW_SCHEDULER_LEASE``: how long a claimed timer or round is this process's."""
    raw = os.environ.get("PLANFLOW_SCHEDULER_LEASE", "").strip()
    if not raw:
        return DEFAULT_LEASE
    if not raw.isdigit() or not 10 <= int(raw) <= 86_400:
        raise ValidationError(
            f"PLANFLOW_SCHEDULER_LEASE={raw!r}: give seconds between 10 and 86400"
        )
    return timedelta(seconds=int(raw))


def count_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise ValidationError(f"{name}={raw!r}: give a number from 1 to 100000")
    return int(raw)
