"""feed tokens: secret calendar-feed addresses, kept hashed

``feed_token`` holds one row per calendar-feed address a user made: whose
it is, the unit whose plans it shows (NULL: the user's own feed), the
SHA-256 of its secret (shown in the address once, never stored), when it
was made and when it was revoked (``services.feed_tokens``).

Down revision 0014: other migrations are being written at the same time;
the merge re-chains whichever lands second.

Revision ID: 0016
Revises: 0014
Create Date: 2027-02-15 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_feed_token_user", "feed_token", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_feed_token_user", table_name="feed_token")
    op.drop_table("feed_token")
