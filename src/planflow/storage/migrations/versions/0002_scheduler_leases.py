"""scheduler leases, escalated tasks and sign-in attempts

Rounds and the e-mail outbox can be claimed with a lease; a plan's task
records the unit it was escalated to; sign-in attempts are counted in the
database for rate limiting across web workers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_address", ["address", "at"], unique=False)
        batch_op.create_index("ix_login_attempt_username", ["username", "at"], unique=False)
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_escalated_unit_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_plan_task_escalated_unit_id_unit", "unit", ["task_escalated_unit_id"], ["id"]
        )
        batch_op.create_index(
            "ix_plan_escalated",
            ["task_escalated_unit_id", "task_role"],
            unique=False,
            sqlite_where=sa.text("task_escalated_unit_id IS NOT NULL"),
            postgresql_where=sa.text("task_escalated_unit_id IS NOT NULL"),
        )
    with op.batch_alter_table("schedule_firing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_claim", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(
            "ix_notification_digest",
            ["user_id"],
            unique=False,
            sqlite_where=sa.text("email_status = 'digest'"),
            postgresql_where=sa.text("email_status = 'digest'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_escalated")
        batch_op.drop_constraint("fk_plan_task_escalated_unit_id_unit", type_="foreignkey")
        batch_op.drop_column("task_escalated_unit_id")
    op.drop_table("login_attempt")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_digest")
        batch_op.drop_column("email_claim")
    with op.batch_alter_table("schedule_firing", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("due_at")
