"""The tables of handing a task on and copying people (issue 17).

``task_part``: who holds the open task of a plan personally, once its holder
transferred it or added an approver; one row per person, ordered by
``position`` (people at the same position decide alongside). Rows live only
as long as the task: the plan leaving the state removes them
(``services.handover``). ``plan_cc``: who was copied on a plan (抄送), by
whom, and when they read it (the receipt); ``active`` turns False when the
plan ends, and with it their right to read it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class TaskPart(SQLModel, table=True):
    __tablename__ = "task_part"
    __table_args__ = (
        Index("ix_task_part_plan", "plan_id", "position"),
        Index("ix_task_part_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    user_id: int = Field(foreign_key="app_user.id")
    position: int
    #: holder | transfer | before | after | alongside
    kind: str = Field(max_length=12)
    added_by: int | None = Field(default=None, foreign_key="app_user.id")
    done: bool = False
    created_at: datetime


class PlanCc(SQLModel, table=True):
    __tablename__ = "plan_cc"
    __table_args__ = (
        UniqueConstraint("plan_id", "user_id", name="uq_plan_cc_user"),
        Index("ix_plan_cc_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    user_id: int = Field(foreign_key="app_user.id")
    #: None: copied by the definition (a transition's ``cc:``).
    added_by: int | None = Field(default=None, foreign_key="app_user.id")
    at: datetime
    read_at: datetime | None = None
    active: bool = True
