"""Plan content: the sections and numbered items of an annual plan, as plain data.

This module owns ``PlanContent``: reading untrusted content into it
(``from_dict``, checked by ``planflow.core.content.checks``), its canonical JSON
form (hashed and stored, so it must be byte-stable), its numbering and the
immutable edit helpers. The parts (``Section``, ``Item``, their limits and
errors) are ``planflow.core.content.items``, the item-by-item diff
``planflow.core.content.diff``, the plain-text importer ``planflow.core.content.text_import``.
It is pure Python: no database, no web framework.

Items and sections carry a stable ``key``; numbers such as "2.3" are derived
from order and never stored, so reordering does not change identity.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from planflow.core.content.checks import ContentChecker, kind_of
from planflow.core.content.items import (
    MAX_TITLE,
    Item,
    ItemTarget,
    Location,
    Section,
    content_problem,
    new_key,
)


@dataclass(frozen=True, slots=True)
class PlanContent:
    """The content of one plan for ``year``. Build it with ``from_dict`` or the edit helpers."""

    year: int
    sections: tuple[Section, ...] = ()

    @classmethod
    def from_dict(cls, data: object, *, year: int) -> PlanContent:
        """Validate untrusted content; raises ContentValidationError listing every problem."""
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise content_problem(
                Location(field="year"),
                "year_range",
                f"must be a year 1..9999, not {year!r}",
                value=repr(year),
            )
        check = ContentChecker(year)
        root = check.fields(data, Location(field="content"), ("sections",))
        raw = root.get("sections", []) if root is not None else []
        if not isinstance(raw, list | tuple):
            kind = kind_of(raw)
            check.add(
                Location(field="sections"), "not_list", f"must be a list, not {kind}", kind=kind
            )
            raw = []
        parsed = [check.section(s, Location(i)) for i, s in enumerate(raw)]
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

    def _checker(self, skip_item: str = "") -> ContentChecker:
        check = ContentChecker(self.year)
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
        raise content_problem(
            Location(field="section_key"),
            "unknown_key",
            f"no section with key {key!r}",
            kind="section",
            key=key,
        )

    def _item_index(self, key: str) -> tuple[int, int]:
        for si, section in enumerate(self.sections):
            for ii, item in enumerate(section.items):
                if item.key == key:
                    return si, ii
        raise content_problem(
            Location(field="key"), "unknown_key", f"no item with key {key!r}", kind="item", key=key
        )

    def _with_items(self, si: int, items: Sequence[Item]) -> PlanContent:
        section = replace(self.sections[si], items=tuple(items))
        return replace(self, sections=(*self.sections[:si], section, *self.sections[si + 1 :]))

    def add_section(
        self, title: str, *, key: str | None = None, index: int | None = None
    ) -> PlanContent:
        at = _position(index, len(self.sections))
        check = self._checker()
        section = check.section(
            {"key": key or new_key(check.section_keys), "title": title}, Location(at)
        )
        check.raise_if_any()
        assert section is not None
        return replace(self, sections=(*self.sections[:at], section, *self.sections[at:]))

    def rename_section(self, key: str, title: str) -> PlanContent:
        si = self._section_index(key)
        check = ContentChecker(self.year)
        clean = check.string(title, Location(si, None, "title"), MAX_TITLE, required=True)
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
        targets: Sequence[ItemTarget | Mapping[str, object]] | None = None,
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
            "targets": list(targets) if targets is not None else None,
        }
        item = check.item(data, Location(si, at))
        check.raise_if_any()
        assert item is not None
        items.insert(at, item)
        return self._with_items(si, items)

    def update_item(self, key: str, /, **changes: object) -> PlanContent:
        """Change some of text, owner_unit, due and targets; the key never changes.

        ``target=`` (one target, or None) replaces all of the item's targets.
        """
        si, ii = self._item_index(key)
        where = Location(si, ii)
        if "key" in changes:
            raise content_problem(where.at("key"), "key_fixed", "an item's key cannot be changed")
        check = self._checker(skip_item=key)
        current = self.sections[si].items[ii].to_dict()
        if "target" in changes and "targets" not in changes:
            del current["targets"]
        item = check.item({**current, **changes}, where)
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
        raise content_problem(
            Location(field="index"),
            "index_range",
            f"must be between 0 and {length}, not {index!r}",
            max=length,
            value=repr(index),
        )
    return index
