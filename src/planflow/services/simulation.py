"""A database for trying things out, where the scheduler's clock may run ahead.

``planflow scheduler run-once --now`` runs one scheduler pass as if it were
another moment. Into the past that is a catch-up; into the future it writes
records dated after the real time (reminders, escalations, automatic
returns, inspection rounds) that no one can take back, and on a live
database nothing said so. A moment ahead of the real time is refused now
(``FutureMomentRefused``) unless the database is marked for simulation
(``mark``: ``planflow init --simulation``, ``planflow db mark-simulation``;
the demo and the benchmarks' databases are marked when they are made) or
the caller says explicitly that it means it (``allow_future``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from planflow.clock import Clock, SystemClock
from planflow.errors import ValidationError
from planflow.storage import settings
from planflow.storage.db import Database

#: A moment this close to the real time is not the future: clocks differ a little.
SLACK = timedelta(minutes=5)
ON = "on"


class FutureMomentRefused(ValidationError):
    """A moment ahead of the real time, on a database not marked for simulation."""

    code = "future_moment"

    def __init__(self, moment: datetime, now: datetime) -> None:
        super().__init__(
            f"{moment:%Y-%m-%d %H:%M} UTC is in the future (it is {now:%Y-%m-%d %H:%M} UTC) "
            "and this database is not marked for simulation: a scheduler pass then would "
            "write future-dated records into it",
            code=self.code,
            params={"moment": moment.isoformat(), "now": now.isoformat()},
        )
        self.moment = moment
        self.now = now


def is_simulation(db: Database) -> bool:
    """Whether the database is marked for simulation."""
    return settings.get(db, settings.SIMULATION) == ON


def mark(db: Database, on: bool, at: datetime) -> None:
    """Mark the database for simulation (``on``), or as live again."""
    settings.put(db, settings.SIMULATION, ON if on else None, at)


def check_moment(
    db: Database, moment: datetime, *, allow_future: bool = False, clock: Clock | None = None
) -> None:
    """Refuse ``moment`` if it lies ahead of the real time (``clock``, the system's by
    default) on a database not marked for simulation, unless ``allow_future``."""
    now = (clock or SystemClock()).now()
    if moment <= now + SLACK or allow_future:
        return
    if not is_simulation(db):
        raise FutureMomentRefused(moment, now)
