"""org audit: the organisation's chain of admin actions

``org_audit_record`` holds one row per admin action (role grants and
revocations, people, units, definition migrations, API tokens, webhooks),
hash-chained like a plan's audit records; ``org_audit_head`` its one head
row (``planflow.core.org_audit``, ``planflow.storage.org_audit``). The head
row is written by the first admin action, not here.

Down revision 0014: other migrations are being written at the same time;
the merge re-chains whichever lands second.

Revision ID: 0019
Revises: 0014
Create Date: 2027-02-20 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org_audit_record",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "org_audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("org_audit_head")
    op.drop_table("org_audit_record")
