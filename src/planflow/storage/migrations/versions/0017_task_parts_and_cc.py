"""task_part and plan_cc: transfer, added approvers and CC (issue 17)

``task_part``: the people who hold a plan's open task personally (after a
transfer or an added approver), ordered by position. ``plan_cc``: who was
copied on a plan, by whom, and when they read it.

Down revision 0014: other migrations are being written at the same time; the
merge re-chains whichever lands second.

Revision ID: 0017
Revises: 0014
Create Date: 2027-03-01 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["added_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_part_plan", "task_part", ["plan_id", "position"])
    op.create_index("ix_task_part_user", "task_part", ["user_id"])
    op.create_table(
        "plan_cc",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["added_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "user_id", name="uq_plan_cc_user"),
    )
    op.create_index("ix_plan_cc_user", "plan_cc", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_plan_cc_user", table_name="plan_cc")
    op.drop_table("plan_cc")
    op.drop_index("ix_task_part_user", table_name="task_part")
    op.drop_index("ix_task_part_plan", table_name="task_part")
    op.drop_table("task_part")
