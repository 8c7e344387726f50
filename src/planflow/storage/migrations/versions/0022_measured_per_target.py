"""item_progress.measured_more: values for an item's second and later targets (issue 16)

An item may name several targets; a progress report recorded one measured
value (``measured``, the first target's). ``measured_more`` keeps the values
for the others as a JSON list (null where none is given yet). Old rows keep
NULL: no values beyond the first.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: ALTER TABLE ADD COLUMN on both databases, no table rebuild.
    op.add_column("item_progress", sa.Column("measured_more", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_progress") as batch:
        batch.drop_column("measured_more")
