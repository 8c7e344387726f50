"""The organisation's audit chain: its records and its head (``planflow.core.org_audit``).

One module of ``storage.tables`` (imported by its ``__init__``), as the
other tables are, with their migration in ``migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class OrgAuditRecord(SQLModel, table=True):
    """Append-only; each admin action hash-chained to the one before it."""

    __tablename__ = "org_audit_record"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    at: datetime
    action: str = Field(max_length=64)
    #: The action's parameters, canonical JSON (never a secret).
    detail: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class OrgAuditHead(SQLModel, table=True):
    """One row (id 1): where the organisation's chain ends, like a plan row's audit head.

    Every admin action takes this row's lock to append, so the chain has
    one order; admin actions are rare, the wait is nothing.
    """

    __tablename__ = "org_audit_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int
    hash: str = Field(max_length=64)
