"""signed audit checkpoints: the statements and the chain heads they sign

``audit_signed_checkpoint`` keeps each signed statement as it was published
(``planflow.core.checkpoints``); ``audit_signed_head`` the plan heads that
changed since the checkpoint before, which is all a verifier needs to
rebuild every checkpoint's heads. Both start empty: the first signed
checkpoint covers every record there is.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-25 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PENDING = "mail_status = 'pending'"


def upgrade() -> None:
    op.create_table(
        "audit_signed_checkpoint",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("mail_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(
        "ix_audit_signed_checkpoint_mail",
        "audit_signed_checkpoint",
        ["seq"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    op.create_table(
        "audit_signed_head",
        sa.Column("checkpoint_seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plan_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["checkpoint_seq"], ["audit_signed_checkpoint.seq"]),
        sa.PrimaryKeyConstraint("checkpoint_seq", "plan_id"),
    )
    op.create_index("ix_audit_signed_head_plan", "audit_signed_head", ["plan_id", "checkpoint_seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_signed_head_plan", table_name="audit_signed_head")
    op.drop_table("audit_signed_head")
    op.drop_index("ix_audit_signed_checkpoint_mail", table_name="audit_signed_checkpoint")
    op.drop_table("audit_signed_checkpoint")
