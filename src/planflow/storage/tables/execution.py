"""A plan's execution and inspection: progress on items, evidence files, inspections."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Column,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class ItemProgress(SQLModel, table=True):
    """The unit's report on one plan item, after approval."""

    __tablename__ = "item_progress"
    __table_args__ = (UniqueConstraint("plan_id", "item_key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    item_key: str = Field(max_length=40)
    status: str = Field(max_length=16)  # not_started | in_progress | done | blocked
    report: str = Field(default="", sa_column=Column(Text, nullable=False))
    measured: float | None = None
    #: Values for the item's second and later targets: a JSON list (null: none given).
    measured_more: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_by: int = Field(foreign_key="app_user.id")
    updated_at: datetime


class Evidence(SQLModel, table=True):
    """A file attached to a progress report; the bytes live outside the database."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    item_key: str = Field(max_length=40)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: int = Field(foreign_key="app_user.id")
    uploaded_at: datetime


class Inspection(SQLModel, table=True):
    """One inspection of a plan: the scoring sheet filled in, and its outcome."""

    __tablename__ = "inspection"
    __table_args__ = (UniqueConstraint("plan_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    round: int
    scores: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    outcome: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    grade: str | None = Field(default=None, max_length=32)
    inspector_id: int | None = Field(default=None, foreign_key="app_user.id")
    rectification_due: date | None = None
    #: The day the inspector plans to visit the unit for this round (None: not planned).
    visit_date: date | None = None
    updated_at: datetime
