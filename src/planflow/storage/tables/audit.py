"""The plans' audit chains: the records, their checkpoints and anchors, the signed heads.

The records are append-only and hash-chained (``core.audit_chain``); the
organisation's own chain is ``org_audit``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    Text,
    text,
)
from sqlmodel import Field, SQLModel

from planflow.storage.audit_keys import KEY_SQL as AUDIT_KEY_SQL
from planflow.storage.audit_keys import SEQ_SPAN


class AuditRecord(SQLModel, table=True):
    """Append-only; each record is hash-chained to the previous one of its plan.

    Identified by (plan, seq), the chain's own order, packed into one integer
    key: ``id = plan_id * 2**32 + seq`` (``storage.audit_keys`` says why;
    SQLite clusters the table on it, so appending writes one B-tree page).
    """

    __tablename__ = "audit_record"
    __table_args__ = (
        CheckConstraint(
            f"id = {AUDIT_KEY_SQL} AND seq >= 1 AND seq < {SEQ_SPAN}", name="ck_audit_record_key"
        ),
    )

    # INTEGER on SQLite: only that type makes the key the rowid.
    id: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
        )
    )
    plan_id: int = Field(foreign_key="plan.id")
    seq: int
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    on_behalf_of_id: int | None = Field(default=None, foreign_key="app_user.id")
    at: datetime
    action: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str = Field(max_length=64)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    revision: int
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A digest over every plan's chain head, chained to the previous checkpoint."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    plan_count: int
    record_count: int
    digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditAnchor(SQLModel, table=True):
    """The chain head of a plan as of the latest checkpoint that saw it."""

    __tablename__ = "audit_anchor"

    plan_id: int = Field(primary_key=True, foreign_key="plan.id")
    seq: int
    hash: str = Field(max_length=64)
    checkpoint_id: int = Field(foreign_key="audit_checkpoint.id")


class AuditSignedCheckpoint(SQLModel, table=True):
    """A checkpoint signed with the key outside the database (``planflow.core.checkpoints``).

    ``statement`` is the canonical text that was signed, as published; the
    signature is base64. ``seq`` is given, not generated: two processes that
    make checkpoint ``n`` at once cannot both insert it.
    """

    __tablename__ = "audit_signed_checkpoint"
    __table_args__ = (
        # Only checkpoints still to be mailed: the scheduler looks every tick.
        Index(
            "ix_audit_signed_checkpoint_mail",
            "seq",
            sqlite_where=text("mail_status = 'pending'"),
            postgresql_where=text("mail_status = 'pending'"),
        ),
    )

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime
    statement: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(max_length=100)
    #: SHA-256 of ``statement``: the next checkpoint's ``prev``.
    hash: str = Field(max_length=64)
    #: The auditor's e-mail: pending | sent | failed; None when none was configured.
    mail_status: str | None = Field(default=None, max_length=16)


class AuditSignedHead(SQLModel, table=True):
    """A plan's chain head as a signed checkpoint saw it, where it changed since the one before.

    No foreign key to ``plan``: a head once signed outlives the plan row, so
    erasing a plan is reported, not forgotten.
    """

    __tablename__ = "audit_signed_head"
    __table_args__ = (Index("ix_audit_signed_head_plan", "plan_id", "checkpoint_seq"),)

    checkpoint_seq: int = Field(
        primary_key=True,
        foreign_key="audit_signed_checkpoint.seq",
        sa_column_kwargs={"autoincrement": False},
    )
    plan_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int
    hash: str = Field(max_length=64)


#: The rows of ``ix_notification_outbox``.
