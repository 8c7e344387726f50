"""outbox watermark: new notifications stay out of the outbox index on SQLite

A new notification on SQLite is written without a due time and found by
the e-mail sender as a row after the watermark (see
``storage.tables.OutboxWatermark``), so its insert writes one B-tree fewer;
the outbox index keeps only rows that have a due time (claimed, or waiting
for another try). Existing rows all have one, so the watermark starts at
the last notification.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-11 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WAITING = "email_status = 'pending' AND email_next_at IS NOT NULL"
PENDING = "email_status = 'pending'"


def _outbox_index(where: str) -> None:
    op.drop_index("ix_notification_outbox", table_name="notification")
    op.create_index(
        "ix_notification_outbox",
        "notification",
        ["email_next_at"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.create_table(
        "outbox_watermark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(
        "INSERT INTO outbox_watermark (id, last_id)"
        " SELECT 1, COALESCE(MAX(id), 0) FROM notification"
    )
    _outbox_index(WAITING)


def downgrade() -> None:
    # Rows without a due time would fall out of the old index's queries: due now.
    op.execute(
        "UPDATE notification SET email_next_at = created_at"
        " WHERE email_status = 'pending' AND email_next_at IS NULL"
    )
    _outbox_index(PENDING)
    op.drop_table("outbox_watermark")
