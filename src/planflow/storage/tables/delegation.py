"""The delegation table: a person's deputy for a range of dates (委托, issue 17).

``starts_on`` and ``ends_on`` are calendar days in the organisation's time
zone, stored as ISO text (``YYYY-MM-DD``): they compare as text on both
databases and no driver turns them into instants. ``start_told`` and
``end_told`` are the exactly-once marks of the two notices
(``planflow.scheduling.delegations``): set by a conditional UPDATE in the
transaction that writes the notices.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class Delegation(SQLModel, table=True):
    __tablename__ = "delegation"
    __table_args__ = (
        Index("ix_delegation_deputy", "deputy_id", "ends_on"),
        Index("ix_delegation_delegator", "delegator_id", "ends_on"),
        Index("ix_delegation_untold", "end_told", "starts_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    delegator_id: int = Field(foreign_key="app_user.id")
    deputy_id: int = Field(foreign_key="app_user.id")
    starts_on: str = Field(max_length=10)
    ends_on: str = Field(max_length=10)
    #: The scope: a workflow's name, a role, or neither (every task).
    workflow: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: Who set it: the delegator, or an administrator for someone who is away.
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime
    ended_at: datetime | None = None
    ended_by: int | None = Field(default=None, foreign_key="app_user.id")
    start_told: bool = False
    end_told: bool = False
