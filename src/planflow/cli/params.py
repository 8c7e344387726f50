"""The command line's parameter types: ids, versions and moments within what planflow stores.

An id or a version is a whole number; ``abc`` is refused in words a person
reads ("a plan id is a whole number, not 'abc'"), not in click's jargon
("is not a valid integer range"). A number beyond what the database can
hold (an id over 2**31 - 1, say) names nothing; it is refused as a bad
argument (exit 2) instead of the driver failing on it with an overflow.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from planflow.clock import to_utc
from planflow.core.ids import MAX_ID


class WholeNumber(click.ParamType[int, object]):
    """A whole number from ``minimum`` to ``MAX_ID``, refused in words that say what it names.

    Without a ``noun`` the words come from the parameter's name, so one type
    serves every id argument: ``plan_id`` reads "a plan id", ``webhook_id``
    "a webhook id".
    """

    name = "integer"

    def __init__(self, minimum: int, noun: str | None = None) -> None:
        self.minimum = minimum
        self.noun = noun

    def what(self, param: click.Parameter | None) -> str:
        """``a plan id``: the phrase a refusal starts with."""
        noun = self.noun
        if noun is None:
            name = (param.name if param is not None else None) or ""
            noun = (name.removesuffix("_id").replace("_", " ") + " id").strip()
        return ("an " if noun[0] in "aeiou" else "a ") + noun

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            # isdecimal() alone would take "٣" (an Arabic-Indic three) and int() would read it.
            if not (text.isascii() and text.removeprefix("-").isdecimal()):
                self.fail(f"{self.what(param)} is a whole number, not {value!r}", param, ctx)
            number = int(text)
        if not self.minimum <= number <= MAX_ID:
            self.fail(
                f"{self.what(param)} is a whole number from {self.minimum} to {MAX_ID},"
                f" not {number}",
                param,
                ctx,
            )
        return number


#: A plan's (or any row's) id; the refusal names it after the parameter ("a token id").
ID = WholeNumber(1)
#: A workflow definition's version.
VERSION = WholeNumber(1, "version")
#: A plan version or revision number, as a client may name one.
NUMBER = WholeNumber(0, "version number")


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


#: The optimistic check every command that changes a plan offers.
expected_version_option = click.option(
    "--expected-version",
    type=NUMBER,
    default=None,
    help="Refuse if the plan changed since you saw this version.",
)
