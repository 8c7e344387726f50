"""Plan content: the sections and numbered items of an annual plan, as plain data.

This module owns the content model (``PlanContent`` -> ``Section`` -> ``Item``),
the validation of untrusted content (web forms, JSON files) in
``PlanContent.from_dict``, the canonical JSON form (hashed and stored, so it must
be byte-stable), the immutable edit helpers and the item-by-item ``diff``.
It is pure Python: no database, no web framework. The plain-text importer lives
in ``planflow.content_import``.

Items and sections carry a stable ``key``; numbers such as "2.3" are derived
from order and never stored, so reordering does not change identity.
"""

from __future__ import annotations

import calendar
import json
import math
import re
import secrets
import unicodedata
from bisect import bisect_left
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from typing import Any, TypeAlias

from planflow.errors import ValidationError
from planflow.text import TextError, clean_text

MAX_TEXT = 2000
MAX_TITLE = 200
MAX_SHORT = 100  # metric, unit and owner unit code
OPS = (">=", "<=", "=", ">", "<")
ITEM_FIELDS = ("key", "text", "owner_unit", "due", "target")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{1,2}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

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

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"plan content has {len(self.problems)} problem(s):\n{lines}")


def _fail(path: str, message: str) -> ContentValidationError:
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


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


class _Checker:
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
            self.add(path, f"must be an object, not {_kind(data)}")
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
            self.add(path, f"must be a string, not {_kind(value)}")
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
            self.add(f"{path}.items", f"must be a list, not {_kind(raw)}")
            raw = []
        items = [self.item(d, f"{path}.items[{i}]") for i, d in enumerate(raw)]
        return None if title is None else Section(key, title, tuple(i for i in items if i))


@dataclass(frozen=True, slots=True)
class PlanContent:
    """The content of one plan for ``year``. Build it with ``from_dict`` or the edit helpers."""

    year: int
    sections: tuple[Section, ...] = ()

    @classmethod
    def from_dict(cls, data: object, *, year: int) -> PlanContent:
        """Validate untrusted content; raises ContentValidationError listing every problem."""
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise _fail("year", f"must be a year 1..9999, not {year!r}")
        check = _Checker(year)
        root = check.fields(data, "content", ("sections",))
        raw = root.get("sections", []) if root is not None else []
        if not isinstance(raw, list | tuple):
            check.add("sections", f"must be a list, not {_kind(raw)}")
            raw = []
        parsed = [check.section(s, f"sections[{i}]") for i, s in enumerate(raw)]
        check.raise_if_any()
        # Keys are generated only now, so that a generated key cannot collide with a later one.
        used = set(check.item_keys) | set(check.section_keys)

        def keyed(key: str) -> str:
            if not key:
                key = new_key(used)
                used.add(key)
            return key

        sections = tuple(
            Section(keyed(s.key), s.title, tuple(replace(i, key=keyed(i.key)) for i in s.items))
            for s in parsed
            if s is not None
        )
        return cls(year, sections)

    def to_dict(self) -> dict[str, object]:
        return {"sections": [s.to_dict() for s in self.sections]}

    def canonical_json(self) -> str:
        return json.dumps(
            self.to_dict(),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )

    @property
    def item_count(self) -> int:
        return sum(len(s.items) for s in self.sections)

    def numbered_items(self) -> Iterator[tuple[str, Section, Item]]:
        for si, section in enumerate(self.sections, 1):
            for ii, item in enumerate(section.items, 1):
                yield f"{si}.{ii}", section, item

    def items_without_due(self) -> tuple[tuple[str, Item], ...]:
        return tuple(
            (number, item) for number, _, item in self.numbered_items() if item.due is None
        )

    # -- immutable edits -------------------------------------------------------------

    def _checker(self, skip_item: str = "") -> _Checker:
        check = _Checker(self.year)
        for si, section in enumerate(self.sections):
            check.section_keys[section.key] = f"sections[{si}]"
            for ii, item in enumerate(section.items):
                if item.key != skip_item:
                    check.item_keys[item.key] = f"sections[{si}].items[{ii}]"
        return check

    def _section_index(self, key: str) -> int:
        for si, section in enumerate(self.sections):
            if section.key == key:
                return si
        raise _fail("section_key", f"no section with key {key!r}")

    def _item_index(self, key: str) -> tuple[int, int]:
        for si, section in enumerate(self.sections):
            for ii, item in enumerate(section.items):
                if item.key == key:
                    return si, ii
        raise _fail("key", f"no item with key {key!r}")

    def _with_items(self, si: int, items: Sequence[Item]) -> PlanContent:
        section = replace(self.sections[si], items=tuple(items))
        return replace(self, sections=(*self.sections[:si], section, *self.sections[si + 1 :]))

    def add_section(
        self, title: str, *, key: str | None = None, index: int | None = None
    ) -> PlanContent:
        at = _position(index, len(self.sections))
        check = self._checker()
        section = check.section(
            {"key": key or new_key(check.section_keys), "title": title}, f"sections[{at}]"
        )
        check.raise_if_any()
        assert section is not None
        return replace(self, sections=(*self.sections[:at], section, *self.sections[at:]))

    def rename_section(self, key: str, title: str) -> PlanContent:
        si = self._section_index(key)
        check = _Checker(self.year)
        clean = check.string(title, f"sections[{si}].title", MAX_TITLE, required=True)
        check.raise_if_any()
        assert clean is not None
        section = replace(self.sections[si], title=clean)
        return replace(self, sections=(*self.sections[:si], section, *self.sections[si + 1 :]))

    def remove_section(self, key: str) -> PlanContent:
        """Remove a section together with its items."""
        si = self._section_index(key)
        return replace(self, sections=self.sections[:si] + self.sections[si + 1 :])

    def add_item(
        self,
        section_key: str,
        text: str,
        *,
        owner_unit: str | None = None,
        due: int | str | date | None = None,
        target: ItemTarget | Mapping[str, object] | None = None,
        key: str | None = None,
        index: int | None = None,
    ) -> PlanContent:
        si = self._section_index(section_key)
        items = list(self.sections[si].items)
        at = _position(index, len(items))
        check = self._checker()
        data = {
            "key": key or new_key(check.item_keys),
            "text": text,
            "owner_unit": owner_unit,
            "due": due,
            "target": target,
        }
        item = check.item(data, f"sections[{si}].items[{at}]")
        check.raise_if_any()
        assert item is not None
        items.insert(at, item)
        return self._with_items(si, items)

    def update_item(self, key: str, /, **changes: object) -> PlanContent:
        """Change some of text, owner_unit, due and target; the key never changes."""
        si, ii = self._item_index(key)
        path = f"sections[{si}].items[{ii}]"
        if "key" in changes:
            raise _fail(f"{path}.key", "an item's key cannot be changed")
        check = self._checker(skip_item=key)
        item = check.item({**self.sections[si].items[ii].to_dict(), **changes}, path)
        check.raise_if_any()
        assert item is not None
        items = list(self.sections[si].items)
        items[ii] = item
        return self._with_items(si, items)

    def remove_item(self, key: str) -> PlanContent:
        si, ii = self._item_index(key)
        items = self.sections[si].items
        return self._with_items(si, items[:ii] + items[ii + 1 :])

    def move_item(self, key: str, section_key: str, index: int | None = None) -> PlanContent:
        """Move an item to ``index`` of the target section (counted after taking it out)."""
        si, ii = self._item_index(key)
        item = self.sections[si].items[ii]
        to = self._section_index(section_key)
        content = self.remove_item(key)
        items = list(content.sections[to].items)
        items.insert(_position(index, len(items)), item)
        return content._with_items(to, items)


def _position(index: int | None, length: int) -> int:
    if index is None:
        return length
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= length:
        raise _fail("index", f"must be between 0 and {length}, not {index!r}")
    return index


# -- diff ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: object  # values as in to_dict(), so they can be stored and shown as they are
    new: object


@dataclass(frozen=True, slots=True)
class ItemRef:
    key: str
    number: str  # in the new content for added items, in the old one for removed items
    text: str


@dataclass(frozen=True, slots=True)
class ItemChange:
    key: str
    number: str  # in the new content
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class ItemMove:
    key: str
    old_number: str
    new_number: str
    old_section: str  # section keys
    new_section: str


@dataclass(frozen=True, slots=True)
class SectionMove:
    key: str
    old_number: str
    new_number: str


@dataclass(frozen=True, slots=True)
class SectionRef:
    key: str
    number: str
    title: str


@dataclass(frozen=True, slots=True)
class SectionRename:
    key: str
    number: str  # in the new content
    old_title: str
    new_title: str


@dataclass(frozen=True, slots=True)
class ContentDiff:
    added: tuple[ItemRef, ...] = ()
    removed: tuple[ItemRef, ...] = ()
    changed: tuple[ItemChange, ...] = ()
    moved: tuple[ItemMove, ...] = ()
    unchanged: int = 0
    sections_added: tuple[SectionRef, ...] = ()
    sections_removed: tuple[SectionRef, ...] = ()
    sections_renamed: tuple[SectionRename, ...] = ()
    sections_moved: tuple[SectionMove, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in _DIFF_LISTS)

    def to_dict(self) -> dict[str, object]:
        def plain(entry: Any) -> dict[str, object]:
            return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(entry).items()}

        result: dict[str, object] = {
            name: [plain(e) for e in getattr(self, name)] for name in _DIFF_LISTS
        }
        result["unchanged"] = self.unchanged
        return result


_DIFF_LISTS = tuple(f.name for f in fields(ContentDiff) if f.name != "unchanged")


def _in_order(positions: Sequence[int]) -> set[int]:
    """Indexes of a longest increasing run of ``positions``: the entries that did not move.

    Everything outside it counts as moved, so inserting or removing one entry does
    not make all entries after it look moved.
    """
    tails: list[int] = []  # positions[i] ending the best run of each length
    tail_at: list[int] = []
    before = [-1] * len(positions)
    for i, pos in enumerate(positions):
        n = bisect_left(tails, pos)
        before[i] = tail_at[n - 1] if n else -1
        if n == len(tails):
            tails.append(pos)
            tail_at.append(i)
        else:
            tails[n], tail_at[n] = pos, i
    kept: set[int] = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        kept.add(i)
        i = before[i]
    return kept


def diff(old: PlanContent, new: PlanContent) -> ContentDiff:
    """Compare two contents item by item, matching items and sections by key."""
    before = {item.key: (number, section, item) for number, section, item in old.numbered_items()}
    after = {item.key: (number, section, item) for number, section, item in new.numbered_items()}
    changed: list[ItemChange] = []
    moved: list[ItemMove] = []
    for number, section, item in new.numbered_items():
        if item.key not in before:
            continue
        old_number, old_section, old_item = before[item.key]
        a, b = old_item.to_dict(), item.to_dict()
        fields = tuple(FieldChange(f, a[f], b[f]) for f in ITEM_FIELDS if a[f] != b[f])
        if fields:
            changed.append(ItemChange(item.key, number, fields))
        if old_section.key != section.key:
            moved.append(ItemMove(item.key, old_number, number, old_section.key, section.key))
    old_index = {item.key: ii for s in old.sections for ii, item in enumerate(s.items)}
    for section in new.sections:
        stayed = [
            i for i in section.items if i.key in before and before[i.key][1].key == section.key
        ]
        kept = _in_order([old_index[i.key] for i in stayed])
        for n, item in enumerate(stayed):
            if n not in kept:
                old_number = before[item.key][0]
                moved.append(
                    ItemMove(item.key, old_number, after[item.key][0], section.key, section.key)
                )
    touched = {c.key for c in changed} | {m.key for m in moved}
    old_sections = {s.key: (str(n), s) for n, s in enumerate(old.sections, 1)}
    new_sections = {s.key: (str(n), s) for n, s in enumerate(new.sections, 1)}
    common = [s.key for s in new.sections if s.key in old_sections]
    kept = _in_order([int(old_sections[k][0]) for k in common])
    return ContentDiff(
        added=tuple(ItemRef(k, n, i.text) for k, (n, _, i) in after.items() if k not in before),
        removed=tuple(ItemRef(k, n, i.text) for k, (n, _, i) in before.items() if k not in after),
        changed=tuple(changed),
        moved=tuple(sorted(moved, key=lambda m: [int(p) for p in m.new_number.split(".")])),
        unchanged=sum(1 for k in after if k in before and k not in touched),
        sections_added=tuple(
            SectionRef(k, n, s.title) for k, (n, s) in new_sections.items() if k not in old_sections
        ),
        sections_removed=tuple(
            SectionRef(k, n, s.title) for k, (n, s) in old_sections.items() if k not in new_sections
        ),
        sections_renamed=tuple(
            SectionRename(k, n, old_sections[k][1].title, s.title)
            for k, (n, s) in new_sections.items()
            if k in old_sections and old_sections[k][1].title != s.title
        ),
        sections_moved=tuple(
            SectionMove(k, old_sections[k][0], new_sections[k][0])
            for n, k in enumerate(common)
            if n not in kept
        ),
    )
