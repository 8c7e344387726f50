"""The parts of plan content: sections, items, their dues and targets, and their limits.

Plain immutable data, and how each part turns into the plain dict of the
canonical JSON (``to_dict``: numbers written so that 100 and 100.0 hash the
same). The errors content can raise (``ContentValidationError``, every
problem at once) live here too, so that the checks, the edits and the web
forms share them. Pure: no database, no web framework.
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import TypeAlias

from planflow.errors import ValidationError

MAX_TEXT = 2000
MAX_TITLE = 200
MAX_SHORT = 100  # metric, unit and owner unit code
OPS = (">=", "<=", "=", ">", "<")
ITEM_FIELDS = ("key", "text", "owner_unit", "due", "target")
#: A month 1..12 of the plan year, or a date inside the plan year.
Due: TypeAlias = int | date


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with submitted content; indexes in ``path`` count from 0."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ContentValidationError(ValidationError):
    """Invalid plan content; ``problems`` lists every problem found, not just the first."""

    code = "content_invalid"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(
            f"plan content has {len(self.problems)} problem(s):\n{lines}",
            params={"problems": [str(p) for p in self.problems]},
        )


def content_problem(path: str, message: str) -> ContentValidationError:
    """The error for a single problem (an edit helper's bad argument)."""
    return ContentValidationError([Problem(path, message)])


def new_key(used: Collection[str] = ()) -> str:
    """A fresh random key (8 hex characters) that is not in ``used``."""
    while (key := secrets.token_hex(4)) in used:
        pass
    return key


def _json_number(value: float) -> int | float:
    # 100 and 100.0 must serialise identically, or equal contents hash differently.
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


@dataclass(frozen=True, slots=True)
class ItemTarget:
    """A measurable target such as ``dues collected >= 100 %``."""

    metric: str
    op: str
    value: float
    unit: str = ""

    def describe(self) -> str:
        return f"{self.metric} {self.op} {self.value:g} {self.unit}".rstrip()

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "value": _json_number(self.value)}


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    text: str
    owner_unit: str | None = None
    due: Due | None = None
    target: ItemTarget | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "text": self.text,
            "owner_unit": self.owner_unit,
            "due": self.due.isoformat() if isinstance(self.due, date) else self.due,
            "target": self.target.to_dict() if self.target else None,
        }


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    items: tuple[Item, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "title": self.title, "items": [i.to_dict() for i in self.items]}


def due_date(item: Item, year: int) -> date | None:
    """The item's deadline; a bare month means the last day of that month."""
    if item.due is None or isinstance(item.due, date):
        return item.due
    return date(year, item.due, calendar.monthrange(year, item.due)[1])
