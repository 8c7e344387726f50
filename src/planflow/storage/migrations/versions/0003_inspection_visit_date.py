"""inspection visit date

The inspector plans the day of the visit for each inspection round, so the
inspection calendar places it on that day instead of the task's due date.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-04 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visit_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_column("visit_date")
