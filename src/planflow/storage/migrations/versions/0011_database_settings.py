"""database settings: a named value per row, first the simulation mark

``setting`` holds settings of the database itself, by name. The first is
``simulation``: a database for trying things out, where a scheduler pass
may run at a moment ahead of the real time (``services.simulation``). An
existing database has no row: it is live.

Revision ID: 0011
Revises: 0010
Create Date: 2027-01-25 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "setting",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("set_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("setting")
