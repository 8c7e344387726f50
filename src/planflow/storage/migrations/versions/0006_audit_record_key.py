"""audit records keyed by one integer, plan_id * 2**32 + seq

On SQLite the table becomes a rowid table clustered on that key instead of
WITHOUT ROWID on (plan_id, seq): appending a record no longer rebalances
index pages (``storage.audit_keys`` has the figures). The same key on
PostgreSQL keeps one schema for both. Records are copied as they are: the
hash chain covers their fields, not the key, so it verifies unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-11 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEY = "plan_id * 4294967296 + seq"
CHECK = f"id = {KEY} AND seq >= 1 AND seq < 4294967296"
FIELDS = (
    "plan_id, seq, actor_id, on_behalf_of_id, at, action, from_state, to_state, comment,"
    " revision, detail, prev_hash, hash"
)


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("on_behalf_of_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("from_state", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("to_state", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    ]


def _foreign_keys() -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["on_behalf_of_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # A rowid table cannot be made by ALTER: build it and copy the records.
        op.create_table(
            "audit_record_new",
            sa.Column("id", sa.Integer(), nullable=False),
            *_columns(),
            *_foreign_keys(),
            sa.PrimaryKeyConstraint("id"),
            sa.CheckConstraint(CHECK, name="ck_audit_record_key"),
        )
        op.execute(
            f"INSERT INTO audit_record_new (id, {FIELDS})"
            f" SELECT {KEY}, {FIELDS} FROM audit_record ORDER BY plan_id, seq"
        )
        op.drop_table("audit_record")
        op.rename_table("audit_record_new", "audit_record")
        return
    op.add_column("audit_record", sa.Column("id", sa.BigInteger(), nullable=True))
    op.execute(f"UPDATE audit_record SET id = {KEY}")
    op.alter_column("audit_record", "id", nullable=False)
    op.drop_constraint("audit_record_pkey", "audit_record", type_="primary")
    op.create_primary_key("audit_record_pkey", "audit_record", ["id"])
    op.create_check_constraint("ck_audit_record_key", "audit_record", CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_table(
            "audit_record_old",
            *_columns(),
            *_foreign_keys(),
            sa.PrimaryKeyConstraint("plan_id", "seq"),
            sqlite_with_rowid=False,
        )
        op.execute(f"INSERT INTO audit_record_old ({FIELDS}) SELECT {FIELDS} FROM audit_record")
        op.drop_table("audit_record")
        op.rename_table("audit_record_old", "audit_record")
        return
    op.drop_constraint("ck_audit_record_key", "audit_record", type_="check")
    op.drop_constraint("audit_record_pkey", "audit_record", type_="primary")
    op.create_primary_key("audit_record_pkey", "audit_record", ["plan_id", "seq"])
    op.drop_column("audit_record", "id")
