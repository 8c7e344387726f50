"""The checks of untrusted plan content (web forms, JSON files), every problem at once.

``ContentChecker`` walks a plain dict as ``PlanContent.from_dict`` and the
edit helpers receive it and builds the parts (``planflow.core.content.items``),
collecting a ``Problem`` with its path (``sections[0].items[2].due``) for
everything wrong instead of stopping at the first, so a form can mark them
all. Text goes through ``clean_text``; keys must be unique in the plan.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date

from planflow.core.content.items import (
    ITEM_FIELDS,
    MAX_SHORT,
    MAX_TEXT,
    MAX_TITLE,
    OPS,
    ContentValidationError,
    Due,
    Item,
    ItemTarget,
    Problem,
    Section,
)
from planflow.core.text import TextError, clean_text

_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{1,2}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def kind_of(value: object) -> str:
    """The JSON-ish name of a value's type, for messages ("must be a list, not str")."""
    return "null" if value is None else type(value).__name__


class ContentChecker:
    """Collects every problem instead of stopping at the first, so a form can show them all."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.problems: list[Problem] = []
        self.item_keys: dict[str, str] = {}  # key -> path where first seen
        self.section_keys: dict[str, str] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ContentValidationError(self.problems)

    def fields(
        self, data: object, path: str, allowed: Sequence[str]
    ) -> Mapping[str, object] | None:
        if not isinstance(data, Mapping):
            self.add(path, f"must be an object, not {kind_of(data)}")
            return None
        for name in data:
            if name not in allowed:
                self.add(f"{path}.{name}", "unknown field; allowed: " + ", ".join(allowed))
        return data

    def string(
        self, value: object, path: str, limit: int, *, required: bool, multiline: bool = False
    ) -> str | None:
        if value is None or value == "":
            if required:
                self.add(path, "is required")
            return None
        if not isinstance(value, str):
            self.add(path, f"must be a string, not {kind_of(value)}")
            return None
        # NFC so that the same visible text (e.g. decomposed Hangul from macOS) hashes the same.
        # Control characters and lone surrogates cannot be stored (PostgreSQL rejects NUL)
        # nor encoded as UTF-8 for hashing: ``clean_text`` refuses them.
        value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
        try:
            text = clean_text(value, field=path, max_length=limit, multiline=multiline)
        except TextError as error:
            self.add(path, error.problem)
            return None
        if not text:
            if required:
                self.add(path, "must not be blank")
            return None
        return text

    def key(self, value: object, path: str, seen: dict[str, str], kind: str) -> str:
        """The key, or "" when it is missing and must be generated once all keys are known."""
        if value is None or value == "":
            return ""
        if not isinstance(value, str) or not _KEY.fullmatch(value):
            self.add(path, "must be 1 to 32 letters, digits, '-' or '_'")
            return ""
        if value in seen:
            self.add(path, f"duplicate {kind} key {value!r} (also used at {seen[value]})")
        else:
            seen[value] = path.removesuffix(".key")
        return value

    def due(self, value: object, path: str) -> Due | None:
        if value is None or value == "":
            return None
        if isinstance(value, str) and _MONTH.fullmatch(value.strip()):
            value = int(value)  # web forms send every field as a string
        if isinstance(value, int) and not isinstance(value, bool):
            if 1 <= value <= 12:
                return value
            self.add(path, f"month must be 1 to 12, not {value}")
            return None
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                self.add(path, f"{value!r} is not a valid date")
                return None
        if type(value) is not date:
            self.add(path, f"must be a month 1..12 or a date YYYY-MM-DD, not {value!r}")
            return None
        if value.year != self.year:
            self.add(path, f"{value.isoformat()} is outside the plan year {self.year}")
            return None
        return value

    def number(self, value: object, path: str) -> float | None:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if math.isfinite(number):
                return number + 0.0  # turns -0.0 into 0.0
        self.add(path, f"must be a finite number, not {value!r}")
        return None

    def target(self, value: object, path: str) -> ItemTarget | None:
        if value is None:
            return None
        data = self.fields(
            value.to_dict() if isinstance(value, ItemTarget) else value,
            path,
            ("metric", "op", "value", "unit"),
        )
        if data is None:
            return None
        metric = self.string(data.get("metric"), f"{path}.metric", MAX_SHORT, required=True)
        op = data.get("op")
        if op not in OPS:
            self.add(f"{path}.op", f"must be one of {', '.join(OPS)}, not {op!r}")
        number = self.number(data.get("value"), f"{path}.value")
        unit = self.string(data.get("unit"), f"{path}.unit", MAX_SHORT, required=False)
        if metric is None or not isinstance(op, str) or op not in OPS or number is None:
            return None
        return ItemTarget(metric, op, number, unit or "")

    def item(self, data: object, path: str) -> Item | None:
        fields = self.fields(data, path, ITEM_FIELDS)
        if fields is None:
            return None
        key = self.key(fields.get("key"), f"{path}.key", self.item_keys, "item")
        text = self.string(
            fields.get("text"), f"{path}.text", MAX_TEXT, required=True, multiline=True
        )
        owner = self.string(
            fields.get("owner_unit"), f"{path}.owner_unit", MAX_SHORT, required=False
        )
        due = self.due(fields.get("due"), f"{path}.due")
        target = self.target(fields.get("target"), f"{path}.target")
        return None if text is None else Item(key, text, owner, due, target)

    def section(self, data: object, path: str) -> Section | None:
        fields = self.fields(data, path, ("key", "title", "items"))
        if fields is None:
            return None
        key = self.key(fields.get("key"), f"{path}.key", self.section_keys, "section")
        title = self.string(fields.get("title"), f"{path}.title", MAX_TITLE, required=True)
        raw = fields.get("items", [])
        if not isinstance(raw, list | tuple):
            self.add(f"{path}.items", f"must be a list, not {kind_of(raw)}")
            raw = []
        items = [self.item(d, f"{path}.items[{i}]") for i, d in enumerate(raw)]
        return None if title is None else Section(key, title, tuple(i for i in items if i))
