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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, TypeAlias

from planflow.core.content.target_words import TargetWording, meets, target_wording
from planflow.errors import ValidationError

MAX_TEXT = 2000
MAX_TITLE = 200
MAX_SHORT = 100  # metric, unit and owner unit code
OPS = (">=", "<=", "=", ">", "<")
ITEM_FIELDS = ("key", "text", "owner_unit", "due", "targets")
#: An item may name several targets ("100% qualified, more than 60% advanced, 20% model").
MAX_TARGETS = 10
#: A month 1..12 of the plan year, or a date inside the plan year.
Due: TypeAlias = int | date


@dataclass(frozen=True, slots=True)
class Location:
    """Where in submitted content a problem is: indexes count from 0.

    ``Location(1, 2, "target.value")`` is the value of the target of the third
    item of the second section; ``Location(1, None, "title")`` that section's
    title; ``Location(1, 2)`` the item itself. Without a section, ``field`` is
    a name at the top (``sections``, ``year``, ``content``, ``content.<name>``
    for an unknown one) or an edit helper's argument (``key``, ``index``).
    ``str()`` of it is the problem's ``path``.
    """

    section: int | None = None
    item: int | None = None
    field: str = ""

    def at(self, name: str) -> Location:
        """The field ``name`` below this place (``target`` -> ``target.op``)."""
        return Location(self.section, self.item, f"{self.field}.{name}" if self.field else name)

    def __str__(self) -> str:
        parts = []
        if self.section is not None:
            parts.append(f"sections[{self.section}]")
            if self.item is not None:
                parts.append(f"items[{self.item}]")
        if self.field:
            parts.append(self.field)
        return ".".join(parts)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with submitted content: where, a stable code and its parameters.

    ``message`` is the English text for logs and the command line; clients
    say it by ``code`` (listed in ``docs/codes.md``) and place it by
    ``location``, never by reading ``message`` or ``path``.
    """

    location: Location
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def path(self) -> str:
        """The location as text: ``sections[0].items[2].due``."""
        return str(self.location)

    def to_dict(self) -> dict[str, Any]:
        """The problem as a client receives it (``ContentValidationError.params["details"]``)."""
        where = self.location
        return {
            "code": self.code,
            "params": dict(self.params),
            "section": where.section,
            "item": where.item,
            "field": where.field,
        }

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
            params={
                "problems": [str(p) for p in self.problems],
                "details": [p.to_dict() for p in self.problems],
            },
        )


def content_problem(
    where: Location, code: str, message: str, **params: Any
) -> ContentValidationError:
    """The error for a single problem (an edit helper's bad argument)."""
    return ContentValidationError([Problem(where, code, message, params)])


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
    """A measurable target: ``dues collected >= 100%``, read "dues collected at least 100%"."""

    metric: str
    op: str
    value: float
    unit: str = ""

    def wording(self) -> TargetWording:
        """The target as a phrase code and parameters, for a client to say in its language."""
        return target_wording(self.metric, self.op, self.value, self.unit)

    def describe(self) -> str:
        """In English words: ``dues collected at least 100%``."""
        return self.wording().english()

    def met_by(self, actual: float) -> bool:
        return meets(self.op, actual, self.value)

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "value": _json_number(self.value)}


@dataclass(frozen=True, slots=True)
class Item:
    """A numbered item. It may name several targets, in the order the plan states them.

    Content saved before items had a list (``"target": {...}`` or ``null``) is
    still read (``ContentChecker.item``); it is written back as ``targets``.
    """

    key: str
    text: str
    owner_unit: str | None = None
    due: Due | None = None
    targets: tuple[ItemTarget, ...] = ()

    @property
    def target(self) -> ItemTarget | None:
        """The first target: the one a progress report's measured value is compared with."""
        return self.targets[0] if self.targets else None

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "text": self.text,
            "owner_unit": self.owner_unit,
            "due": self.due.isoformat() if isinstance(self.due, date) else self.due,
            "targets": [t.to_dict() for t in self.targets],
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
