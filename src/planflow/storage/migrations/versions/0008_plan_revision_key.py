"""plan revisions keyed by one integer, plan_id * 2**32 + number

Like the audit records (0006): on SQLite the table becomes a rowid table
clustered on that key, and the unique index on (plan_id, number) goes, since
the key makes the pair unique by itself; a submission then writes one
B-tree page instead of two. PostgreSQL gets the same key (BIGINT, no
sequence) to keep one schema. Revisions are copied as they are.

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-12 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KEY = "plan_id * 4294967296 + number"
CHECK = f"id = {KEY} AND number >= 1 AND number < 4294967296"
FIELDS = "plan_id, number, content, content_hash, created_by, created_at"


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    ]


def _foreign_keys() -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
    ]


def _rebuild_sqlite(keyed: bool) -> None:
    """SQLite cannot change a primary key by ALTER: build the table anew and copy."""
    extra: list[sa.SchemaItem] = (
        [sa.CheckConstraint(CHECK, name="ck_plan_revision_key")]
        if keyed
        else [sa.UniqueConstraint("plan_id", "number")]
    )
    op.create_table(
        "plan_revision_new",
        sa.Column("id", sa.Integer(), nullable=False),
        *_columns(),
        *_foreign_keys(),
        sa.PrimaryKeyConstraint("id"),
        *extra,
    )
    new_id = KEY if keyed else "NULL"
    op.execute(
        f"INSERT INTO plan_revision_new (id, {FIELDS})"
        f" SELECT {new_id}, {FIELDS} FROM plan_revision ORDER BY plan_id, number"
    )
    op.drop_table("plan_revision")
    op.rename_table("plan_revision_new", "plan_revision")


def _unique_pair(bind: sa.engine.Connection) -> str | None:
    for constraint in sa.inspect(bind).get_unique_constraints("plan_revision"):
        if constraint["column_names"] == ["plan_id", "number"]:
            return constraint["name"]
    return None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite(keyed=True)
        return
    name = _unique_pair(bind)
    if name is not None:
        op.drop_constraint(name, "plan_revision", type_="unique")
    op.execute("ALTER TABLE plan_revision ALTER COLUMN id DROP DEFAULT")
    op.execute("ALTER TABLE plan_revision ALTER COLUMN id TYPE BIGINT")
    op.execute(f"UPDATE plan_revision SET id = {KEY}")
    op.execute("DROP SEQUENCE IF EXISTS plan_revision_id_seq")
    op.create_check_constraint("ck_plan_revision_key", "plan_revision", CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(keyed=False)
        return
    op.drop_constraint("ck_plan_revision_key", "plan_revision", type_="check")
    op.execute("CREATE SEQUENCE plan_revision_id_seq OWNED BY plan_revision.id")
    # New ids in the old order: each revision's row number, as a serial would have given.
    op.execute(
        "UPDATE plan_revision SET id = -r.n FROM (SELECT id AS old,"
        " row_number() OVER (ORDER BY plan_id, number) AS n FROM plan_revision) r"
        " WHERE plan_revision.id = r.old"
    )
    op.execute("UPDATE plan_revision SET id = -id")
    op.execute(
        "SELECT setval('plan_revision_id_seq', COALESCE((SELECT max(id) FROM plan_revision), 0) + 1,"
        " false)"
    )
    op.execute("ALTER TABLE plan_revision ALTER COLUMN id TYPE INTEGER")
    op.execute(
        "ALTER TABLE plan_revision ALTER COLUMN id SET DEFAULT nextval('plan_revision_id_seq')"
    )
    op.create_unique_constraint(
        "plan_revision_plan_id_number_key", "plan_revision", ["plan_id", "number"]
    )
