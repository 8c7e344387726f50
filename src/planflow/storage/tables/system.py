"""The system's own bookkeeping: inspection rounds fired, effects applied, settings.

``ScheduleFiring`` and ``AppliedEffect`` make time-driven work exactly-once
(an occurrence's key, an effect's key); ``Setting`` holds this database's
named settings.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class ScheduleFiring(SQLModel, table=True):
    """A recurring round fired (or recorded as missed) once per period."""

    __tablename__ = "schedule_firing"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    workflow_name: str = Field(max_length=100)
    schedule: str = Field(max_length=100)
    period: str = Field(max_length=40)
    status: str = Field(max_length=16)  # running | fired | missed
    #: When the round was (or would have been) due.
    due_at: datetime | None = None
    #: When it was recorded as fired or missed.
    at: datetime
    plans_affected: int = 0
    #: The scheduler process running the round, and until when (a lease).
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_until: datetime | None = None


class AppliedEffect(SQLModel, table=True):
    """The idempotency key of every timer effect and scheduled round applied.

    Timers fire at least once; inserting the effect's key in the same
    transaction as the effect makes a second firing a no-op.
    """

    __tablename__ = "applied_effect"

    key: str = Field(primary_key=True, max_length=200)
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    at: datetime


class Setting(SQLModel, table=True):
    """A setting of this database, by name (``storage.settings``).

    ``simulation``: the database is for trying things out (the demo, a
    benchmark, a rehearsal), so a scheduler pass may be run at a moment
    ahead of the real time (``services.simulation``).
    """

    __tablename__ = "setting"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    set_at: datetime
