"""trusted devices: sign-in attempts with a device token are counted apart

``login_attempt.trusted`` marks attempts made with a trusted device's token;
``trusted_device`` keeps those tokens, hashed (``services.sign_in``). Old
attempts count as untrusted, which they were.

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-18 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "login_attempt",
        sa.Column("trusted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "trusted_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_trusted_device_user", "trusted_device", ["user_id", "last_used_at"])


def downgrade() -> None:
    op.drop_index("ix_trusted_device_user", table_name="trusted_device")
    op.drop_table("trusted_device")
    op.drop_column("login_attempt", "trusted")
