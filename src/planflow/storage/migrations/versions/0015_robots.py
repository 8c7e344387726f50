"""robots: a webhook may be a group robot (DingTalk, WeCom, Feishu) in a language

``webhook.kind`` says how a delivery is sent: ``webhook`` (planflow's signed
JSON, as before) or a vendor's group robot, whose message is rendered from
the same event body at sending time (``core.robots``). ``webhook.language``
is the language of the unit's group the robot posts to (en, zh or ko).
Existing rows are plain webhooks in English. ``webhook.user_id``: a
person's own channel (a webhook or robot of theirs, if the admin enabled
them), told of the changes that notify that person; no foreign key, like
the other "who" columns read only for display (users are deactivated,
never deleted).

Down revision 0014; the merge re-chains it if another 0015 lands first.

Revision ID: 0015
Revises: 0014
Create Date: 2027-02-15 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "webhook",
        sa.Column(
            "kind",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=False,
            server_default="webhook",
        ),
    )
    op.add_column(
        "webhook",
        sa.Column(
            "language",
            sqlmodel.sql.sqltypes.AutoString(length=8),
            nullable=False,
            server_default="en",
        ),
    )

    op.add_column("webhook", sa.Column("user_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook") as batch_op:
        batch_op.drop_column("user_id")
        batch_op.drop_column("language")
        batch_op.drop_column("kind")
