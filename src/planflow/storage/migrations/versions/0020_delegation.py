"""delegation: a person's deputy for a range of dates (issue 17, 委托)

One row per delegation: who, to whom, which days (ISO text in the
organisation's time zone), which tasks (a workflow, a role or all), who set
it and whether it was ended early; ``start_told``/``end_told`` mark the
start and end notices as sent, exactly once.

Down revision 0019: other migrations are being written at the same time;
the merge re-chains whichever lands second.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delegator_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("ends_on", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("workflow", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.Column("start_told", sa.Boolean(), nullable=False),
        sa.Column("end_told", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["delegator_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["deputy_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["ended_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delegation_deputy", "delegation", ["deputy_id", "ends_on"])
    op.create_index("ix_delegation_delegator", "delegation", ["delegator_id", "ends_on"])
    op.create_index("ix_delegation_untold", "delegation", ["end_told", "starts_on"])


def downgrade() -> None:
    op.drop_index("ix_delegation_untold", table_name="delegation")
    op.drop_index("ix_delegation_delegator", table_name="delegation")
    op.drop_index("ix_delegation_deputy", table_name="delegation")
    op.drop_table("delegation")
