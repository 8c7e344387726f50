"""The checks of untrusted plan content (web forms, JSON files), every problem at once.

``ContentChecker`` walks a plain dict as ``PlanContent.from_dict`` and the
edit helpers receive it and builds the parts (``planflow.core.content.items``),
collecting a ``Problem`` for everything wrong instead of stopping at the
first, so a form can mark them all: where it is (a ``Location``: section,
item, field; ``sections[0].items[2].due`` as text), a stable code with its
parameters (``docs/codes.md``) and the English sentence. Text goes through
``clean_text``; keys must be unique in the plan.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from planflow.core.content.items import (
    ITEM_FIELDS,
    MAX_SHORT,
    MAX_TARGETS,
    MAX_TEXT,
    MAX_TITLE,
    OPS,
    ContentValidationError,
    Due,
    Item,
    ItemTarget,
    Location,
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


def shown(value: object) -> str:
    """A refused value as a problem's parameter: text as it is, anything else as Python shows it."""
    return value if isinstance(value, str) else repr(value)


#: ``clean_text``'s codes (``TextError``) as content problem codes.
_TEXT_CODES = {
    "text_not_text": "not_text",
    "text_too_long": "too_long",
    "text_control_character": "control_character",
    "text_bidi_control": "bidi_control",
}


class ContentChecker:
    """Collects every problem instead of stopping at the first, so a form can show them all."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.problems: list[Problem] = []
        self.item_keys: dict[str, str] = {}  # key -> path where first seen
        self.section_keys: dict[str, str] = {}

    def add(self, where: Location, code: str, message: str, **params: Any) -> None:
        self.problems.append(Problem(where, code, message, params))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ContentValidationError(self.problems)

    def fields(
        self, data: object, where: Location, allowed: Sequence[str]
    ) -> Mapping[str, object] | None:
        if not isinstance(data, Mapping):
            kind = kind_of(data)
            self.add(where, "not_object", f"must be an object, not {kind}", kind=kind)
            return None
        for name in data:
            if name not in allowed:
                self.add(
                    where.at(str(name)),
                    "unknown_field",
                    "unknown field; allowed: " + ", ".join(allowed),
                    allowed=list(allowed),
                )
        return data

    def string(
        self, value: object, where: Location, limit: int, *, required: bool, multiline: bool = False
    ) -> str | None:
        if value is None or value == "":
            if required:
                self.add(where, "required", "is required")
            return None
        if not isinstance(value, str):
            kind = kind_of(value)
            self.add(where, "not_text", f"must be a string, not {kind}", kind=kind)
            return None
        # NFC so that the same visible text (e.g. decomposed Hangul from macOS) hashes the same.
        # Control characters and lone surrogates cannot be stored (PostgreSQL rejects NUL)
        # nor encoded as UTF-8 for hashing: ``clean_text`` refuses them.
        value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
        try:
            text = clean_text(value, field=str(where), max_length=limit, multiline=multiline)
        except TextError as error:
            params = {k: v for k, v in error.params.items() if k != "field"}
            self.add(where, _TEXT_CODES.get(error.code, "invalid_text"), error.problem, **params)
            return None
        if not text:
            if required:
                self.add(where, "required", "must not be blank")
            return None
        return text

    def key(self, value: object, where: Location, seen: dict[str, str], kind: str) -> str:
        """The key, or "" when it is missing and must be generated once all keys are known."""
        if value is None or value == "":
            return ""
        if not isinstance(value, str) or not _KEY.fullmatch(value):
            self.add(where, "bad_key", "must be 1 to 32 letters, digits, '-' or '_'")
            return ""
        if value in seen:
            self.add(
                where,
                "duplicate_key",
                f"duplicate {kind} key {value!r} (also used at {seen[value]})",
                kind=kind,
                key=value,
                also_at=seen[value],
            )
        else:
            seen[value] = str(Location(where.section, where.item))
        return value

    def due(self, value: object, where: Location) -> Due | None:
        if value is None or value == "":
            return None
        if isinstance(value, str) and _MONTH.fullmatch(value.strip()):
            value = int(value)  # web forms send every field as a string
        if isinstance(value, int) and not isinstance(value, bool):
            if 1 <= value <= 12:
                return value
            self.add(where, "month_range", f"month must be 1 to 12, not {value}", value=value)
            return None
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                self.add(where, "bad_date", f"{value!r} is not a valid date", value=value)
                return None
        if type(value) is not date:
            self.add(
                where,
                "bad_date",
                f"must be a month 1..12 or a date YYYY-MM-DD, not {value!r}",
                value=shown(value),
            )
            return None
        if value.year != self.year:
            day = value.isoformat()
            message = f"{day} is outside the plan year {self.year}"
            self.add(where, "outside_year", message, value=day, year=self.year)
            return None
        return value

    def number(self, value: object, where: Location) -> float | None:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if math.isfinite(number):
                return number + 0.0  # turns -0.0 into 0.0
        message = f"must be a finite number, not {value!r}"
        self.add(where, "not_finite", message, value=shown(value))
        return None

    def target(self, value: object, where: Location) -> ItemTarget | None:
        if value is None:
            return None
        data = self.fields(
            value.to_dict() if isinstance(value, ItemTarget) else value,
            where,
            ("metric", "op", "value", "unit"),
        )
        if data is None:
            return None
        metric = self.string(data.get("metric"), where.at("metric"), MAX_SHORT, required=True)
        op = data.get("op")
        if op not in OPS:
            message = f"must be one of {', '.join(OPS)}, not {op!r}"
            self.add(where.at("op"), "not_one_of", message, choices=list(OPS), value=shown(op))
        number = self.number(data.get("value"), where.at("value"))
        unit = self.string(data.get("unit"), where.at("unit"), MAX_SHORT, required=False)
        if metric is None or not isinstance(op, str) or op not in OPS or number is None:
            return None
        return ItemTarget(metric, op, number, unit or "")

    def targets(self, fields: Mapping[str, object], where: Location) -> tuple[ItemTarget, ...]:
        """An item's targets: a list under ``targets``, or the one ``target`` of older content.

        Content saved before an item could hold several (``"target": {...}`` or
        ``null``) must load as it was saved, so both names are read; giving both
        is refused rather than one silently dropped.
        """
        single = fields.get("target")
        if "targets" not in fields or fields["targets"] is None:
            found = self.target(single, where.at("target"))
            return (found,) if found is not None else ()
        if single is not None:
            message = "give either target or targets, not both"
            self.add(where.at("target"), "target_and_targets", message)
        raw = fields["targets"]
        if not isinstance(raw, list | tuple):
            kind = kind_of(raw)
            message = f"must be a list, not {kind}"
            self.add(where.at("targets"), "not_list", message, kind=kind)
            return ()
        if len(raw) > MAX_TARGETS:
            message = f"can have at most {MAX_TARGETS} targets (it has {len(raw)})"
            self.add(where.at("targets"), "too_many", message, max=MAX_TARGETS, length=len(raw))
            return ()
        checked = [self.target(t, where.at(f"targets[{n}]")) for n, t in enumerate(raw)]
        return tuple(t for t in checked if t is not None)

    def item(self, data: object, where: Location) -> Item | None:
        fields = self.fields(data, where, (*ITEM_FIELDS, "target"))
        if fields is None:
            return None
        key = self.key(fields.get("key"), where.at("key"), self.item_keys, "item")
        text = self.string(
            fields.get("text"), where.at("text"), MAX_TEXT, required=True, multiline=True
        )
        owner = self.string(
            fields.get("owner_unit"), where.at("owner_unit"), MAX_SHORT, required=False
        )
        due = self.due(fields.get("due"), where.at("due"))
        targets = self.targets(fields, where)
        return None if text is None else Item(key, text, owner, due, targets)

    def section(self, data: object, where: Location) -> Section | None:
        fields = self.fields(data, where, ("key", "title", "items"))
        if fields is None:
            return None
        key = self.key(fields.get("key"), where.at("key"), self.section_keys, "section")
        title = self.string(fields.get("title"), where.at("title"), MAX_TITLE, required=True)
        raw = fields.get("items", [])
        if not isinstance(raw, list | tuple):
            kind = kind_of(raw)
            self.add(where.at("items"), "not_list", f"must be a list, not {kind}", kind=kind)
            raw = []
        si = where.section
        items = [self.item(d, Location(si, i)) for i, d in enumerate(raw)]
        return None if title is None else Section(key, title, tuple(i for i in items if i))
