"""notification.event_seq: one notification per event and person (issue 17)

A change's notifications name the audit record they tell of; the partial
unique index ``ux_notification_event`` on (plan_id, event_seq, user_id) lets
the database drop a second notice of the same event to the same person. Old
rows keep NULL and stay outside the index.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_WHERE = sa.text("event_seq IS NOT NULL")


def upgrade() -> None:
    # A nullable column: ALTER TABLE ADD COLUMN on both databases, no table rebuild.
    op.add_column("notification", sa.Column("event_seq", sa.Integer(), nullable=True))
    op.create_index(
        "ux_notification_event",
        "notification",
        ["plan_id", "event_seq", "user_id"],
        unique=True,
        sqlite_where=_WHERE,
        postgresql_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("ux_notification_event", table_name="notification")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("event_seq")
