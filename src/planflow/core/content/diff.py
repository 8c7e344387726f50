"""The item-by-item difference between two versions of a plan's content.

Items and sections are matched by key, so a reordering is a move and not a
removal and an addition; of the entries that kept their section, only those
outside a longest run in the old order count as moved. ``ContentDiff.to_dict``
is what the audit trail and the plan page show. Pure.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from planflow.core.content.items import ITEM_FIELDS

if TYPE_CHECKING:
    from planflow.core.content.model import PlanContent


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
