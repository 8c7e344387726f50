"""The corrections a person makes to an imported outline before it is saved.

An importer's outline is a first draft: two paragraphs of one item read as
two items, two items written in one paragraph, a heading the numbering did
not reveal, a month it could not read. Each correction here is one pure
function over ``PlanContent`` that addresses an item by its key and returns
new content (or raises ``ContentValidationError`` like the content's own
edit helpers): ``merge_into_previous``, ``split_item``,
``promote_to_section``, ``set_due`` and ``set_owner``. Every client of the importer (the
web preview today) offers the same corrections by calling these.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import replace

from planflow.core.content.importer.dues import due_month
from planflow.core.content.items import (
    MAX_TARGETS,
    MAX_TEXT,
    MAX_TITLE,
    Item,
    Location,
    Section,
    content_problem,
    new_key,
)
from planflow.core.content.model import PlanContent

__all__ = ["merge_into_previous", "promote_to_section", "set_due", "set_owner", "split_item"]

# Where a sentence ends in any of the three languages: a split is made after one.
_SENTENCE_END = re.compile(r"[。！？；!?;]|\.(?=\s)")


def _find(content: PlanContent, key: str) -> tuple[int, int]:
    for si, section in enumerate(content.sections):
        for ii, item in enumerate(section.items):
            if item.key == key:
                return si, ii
    raise content_problem(
        Location(field="key"), "unknown_key", f"no item with key {key!r}", kind="item", key=key
    )


def _used_keys(content: PlanContent) -> set[str]:
    return {s.key for s in content.sections} | {i.key for _n, _s, i in content.numbered_items()}


def merge_into_previous(content: PlanContent, key: str) -> PlanContent:
    """Append the item's text to the item before it (the last of the previous section
    for a section's first item); the earlier item keeps its own due month and owner
    and takes the merged one's where it has none; the targets of both are kept."""
    si, ii = _find(content, key)
    item = content.sections[si].items[ii]
    sections = content.sections
    earlier = [(s, len(sections[s].items) - 1) for s in range(si) if sections[s].items]
    if ii > 0:
        earlier.append((si, ii - 1))
    if not earlier:
        raise content_problem(
            Location(si, ii), "no_previous_item", "the first item has no item before it"
        )
    ps, pi = earlier[-1]
    previous = content.sections[ps].items[pi]
    merged = content.update_item(
        previous.key,
        text=f"{previous.text}\n{item.text}",
        due=previous.to_dict()["due"] if previous.due is not None else item.to_dict()["due"],
        targets=(previous.targets + item.targets)[:MAX_TARGETS],
        owner_unit=previous.owner_unit or item.owner_unit,
    )
    return merged.remove_item(key)


def _split_point(text: str) -> int | None:
    """Where to cut: the first line break, else the sentence end nearest the middle."""
    if "\n" in text.strip():
        return text.strip().index("\n") + (len(text) - len(text.lstrip()))
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if text[m.end() :].strip()]
    if not ends:
        return None
    middle = len(text) / 2
    return min(ends, key=lambda end: abs(end - middle))


def split_item(content: PlanContent, key: str) -> PlanContent:
    """Cut the item in two: at its first line break, or else at the sentence end nearest
    its middle. The first part keeps the item's key, owner and targets; each part's due
    month is read from its own words, falling back to the item's."""
    si, ii = _find(content, key)
    item = content.sections[si].items[ii]
    cut = _split_point(item.text)
    if cut is None:
        raise content_problem(
            Location(si, ii, "text"), "nothing_to_split", "the item is one sentence"
        )
    head, tail = item.text[:cut].strip(), item.text[cut:].strip()
    first = replace(item, text=head, due=due_month(head) or item.due)
    second = Item(new_key(_used_keys(content)), tail[:MAX_TEXT], item.owner_unit)
    second = replace(second, due=due_month(tail) or item.due)
    items = list(content.sections[si].items)
    items[ii : ii + 1] = [first, second]
    section = replace(content.sections[si], items=tuple(items))
    return _checked(replace(content, sections=_put(content.sections, si, section)))


def promote_to_section(content: PlanContent, key: str) -> PlanContent:
    """The item becomes a section heading right after its section; the items that
    followed it in that section move under the new heading."""
    si, ii = _find(content, key)
    old = content.sections[si]
    item = old.items[ii]
    title = " ".join(item.text.split())[:MAX_TITLE]
    new = Section(new_key(_used_keys(content)), title, old.items[ii + 1 :])
    kept = replace(old, items=old.items[:ii])
    sections = (*content.sections[:si], kept, new, *content.sections[si + 1 :])
    if not kept.items and not kept.title.strip():
        sections = (*content.sections[:si], new, *content.sections[si + 1 :])
    return _checked(replace(content, sections=sections))


def set_due(content: PlanContent, key: str, month: int | None) -> PlanContent:
    """Give the item a due month (1..12), or none."""
    return content.update_item(key, due=month)


def set_owner(
    content: PlanContent, key: str, owner_unit: str | None, units: Collection[str]
) -> PlanContent:
    """Give the item an owning unit, one of ``units`` (the codes the plan may name), or none.

    The importer never finds an owner in a document's words; a person names
    it. A code outside ``units`` is refused (``unknown_owner``), unless the
    item already had it.
    """
    si, ii = _find(content, key)
    current = content.sections[si].items[ii].owner_unit
    if owner_unit and owner_unit != current and owner_unit not in units:
        raise content_problem(
            Location(si, ii, "owner_unit"),
            "unknown_owner",
            f"{owner_unit!r} is not a unit this plan may name",
            owner=owner_unit,
        )
    return content.update_item(key, owner_unit=owner_unit or None)


def _put(sections: tuple[Section, ...], at: int, section: Section) -> tuple[Section, ...]:
    return (*sections[:at], section, *sections[at + 1 :])


def _checked(content: PlanContent) -> PlanContent:
    # Built by hand above: read it back through the content's own checks.
    return PlanContent.from_dict(content.to_dict(), year=content.year)
