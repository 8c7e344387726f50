"""partial task and timer indexes

Only plans with an open task are found by their task, and only plans with a
pending timer by their timer, so the two indexes leave out the other rows
(drafts, approved and accepted plans, the archive). Smaller indexes for the
review queue and the deadline processor, and a transition into or out of a
state without a task or timer writes one index entry instead of also moving
a NULL one: a B-tree page less in that commit.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-04 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PARTIAL = {
    "ix_plan_task": (["task_unit_id", "task_role"], "task_role IS NOT NULL"),
    "ix_plan_timer": (["timer_at"], "timer_at IS NOT NULL"),
}


def upgrade() -> None:
    for name, (columns, where) in PARTIAL.items():
        op.drop_index(name, table_name="plan")
        op.create_index(
            name,
            "plan",
            columns,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name, (columns, _where) in PARTIAL.items():
        op.drop_index(name, table_name="plan")
        op.create_index(name, "plan", columns)
