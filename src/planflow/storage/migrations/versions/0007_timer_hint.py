"""lazy timer hint: the deadline index moves only when a timer comes sooner

``plan.timer_at`` stays the next timer of the plan's task; the index the
deadline processor scans is now on ``plan.timer_hint``, a lower bound of it:
whenever ``timer_at`` is set, ``timer_hint`` is set and not later. A
transition whose new timer is later than the hint leaves the hint (and the
index) alone; the deadline processor moves hints that came due without a
timer behind them (``timers.DeadlineProcessor``). Most transitions set a
later timer than the one before, so most no longer write the index.

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-11 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _timer_index(column: str) -> None:
    """The deadline processor's index, on ``column``, of the rows that have one."""
    where = sa.text(f"{column} IS NOT NULL")
    op.create_index("ix_plan_timer", "plan", [column], sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    op.add_column(
        "plan", sa.Column("timer_hint", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
    )
    op.execute("UPDATE plan SET timer_hint = timer_at")
    op.drop_index("ix_plan_timer", table_name="plan")
    _timer_index("timer_hint")


def downgrade() -> None:
    op.drop_index("ix_plan_timer", table_name="plan")
    # Not a batch (table copy) on SQLite: every other table refers to plan, so
    # dropping the old copy fails its foreign keys; SQLite >= 3.35 drops a
    # column in place.
    op.drop_column("plan", "timer_hint")
    _timer_index("timer_at")
