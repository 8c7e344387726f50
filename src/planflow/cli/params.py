"""The command line's parameter types: ids, versions and moments within what planflow stores.

A number beyond what the database can hold (an id over 2**31 - 1, say)
names nothing; click refuses it as a bad argument (exit 2) instead of the
driver failing on it with an overflow.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from planflow.clock import to_utc
from planflow.core.ids import MAX_ID

#: A plan's (or any row's) id.
ID = click.IntRange(1, MAX_ID)
#: A plan version or revision number, as a client may name one.
NUMBER = click.IntRange(0, MAX_ID)

#: The moments a scheduler pass may be run at: the plan years planflow takes (2000-2100).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, tzinfo=UTC)


def parse_moment(value: str) -> datetime:
    """``2027-04-01T08:00`` (UTC unless it has an offset), within ``EARLIEST``..``LATEST``."""
    try:
        moment = to_utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError) as exc:
        raise click.BadParameter(
            f"{value!r} is not a date and time like 2027-04-01T08:00 (UTC unless it has an offset)"
        ) from exc
    if not EARLIEST <= moment <= LATEST:
        raise click.BadParameter(f"{value!r} is outside the years 2000-2100")
    return moment
