"""From a tree of numbered points to what a plan holds: sections of items.

A plan's content has two levels; an outline may have one or four. Points
that head something (a short title with text or points under it) are
sections; points that are work to do are items, with everything below them
in their text. A group of sibling points becomes sections only when most of
them head points of their own, so one point with sub-points among plain ones
stays an item. When every top point is a long paragraph, they are items of
one section named after the plan.

Left out, each with its reason (``skipped``): a review of past work before
the plan part ("总结 … 存在的问题 … 20xx年工作思路"), a heading that wraps
the whole plan and the sentence under it ("二、明年安排" over （一）（二）,
a Heading 1 "Our plan" above Heading 2 sections), a closing after the last point and a sign-off
("滨江社区工会委员会", "단결!"), an introduction that only announces the list
("…如下：", any sentence ending in a colon before the points), a label
before an inline enumeration ("工作重点：一是…二是…").
Pure: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from planflow.core.content.importer import debris
from planflow.core.content.importer.levels import Node, Part
from planflow.core.content.importer.markers import inline_runs
from planflow.core.content.importer.shapes import HEADING_WIDTH, width
from planflow.core.content.importer.shapes import SENTENCE_END as _SENTENCE_END
from planflow.core.content.importer.written import Written, item_facts, section_title

_CLAUSE_END = re.compile(r"[，,、]")
_SENTENCE_DONE = tuple("。.！!？?")
_LEADS_IN = (":", "：")
_TRIM = " \t.。:：,，、;；"


@dataclass
class Outline:
    """One plan's sections (title, item texts) and what was left out, with why."""

    title: str
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    review: bool = False


def split_heading(text: str) -> tuple[str, str]:
    """A heading line as (title, body text run into it)."""
    end = _SENTENCE_END.search(text)
    title, rest = (text[: end.start()], text[end.end() :]) if end else (text, "")
    if width(title) > 2 * HEADING_WIDTH:
        # A long first sentence: title it by its first clause and keep all of it as text.
        clause = _CLAUSE_END.search(title)
        short = clause is not None and 2 <= clause.start() <= 60
        title = title[: clause.start()] if clause and short else title[:59] + "…"
        rest = text
    return title.strip(_TRIM), rest.strip()


def _heads(node: Node) -> bool:
    """Whether a point reads as a heading: a short title with something under it."""
    end = _SENTENCE_END.search(node.head)
    first = node.head[: end.start()] if end else node.head
    rest = node.head[end.end() :].strip() if end else ""
    short = 0 < width(first.strip(_TRIM)) <= HEADING_WIDTH
    return bool(node.children) or (short and bool(rest or node.paras))


def _item_text(node: Node) -> str:
    if node.written is not None and not node.children:
        # An item planflow wrote: its recorded facts, and any paragraph added under it.
        facts = item_facts(node.written, node.head, node.shown)
        facts["text"] = "\n".join([facts["text"], *node.paras])
        return Written(facts["text"], facts)
    lines = [node.head, *node.paras]
    for child in node.children:
        lines.append(child.raw)
        lines += [_item_text(c) for c in child.children] + child.paras
    return "\n".join(line for line in lines if line)


def paragraph_items(text: str, skipped: list[tuple[str, str]]) -> list[str]:
    """A paragraph as items: an inline enumeration ("一是…二是…", "첫째, … 둘째, …") splits it.

    A run counts from 1, or from 2 when the text before it is the unnumbered first
    point ("…维护好职工的利益。二是要…"); a short label before a run from 1
    ("工作重点：") is left out.
    """
    runs = inline_runs(text)
    for style in dict.fromkeys(marker.style for _, _, marker in runs):
        seq: list[tuple[int, int]] = []
        first = 0
        for start, end, marker in runs:
            if marker.style != style:
                continue
            if not seq and marker.number in (1, 2):
                seq, first = [(start, end)], marker.number
            elif seq and marker.number == first + len(seq):
                seq.append((start, end))
        if len(seq) < (1 if first == 2 else 2):
            continue
        lead = text[: seq[0][0]].strip()
        stops = [start for start, _ in seq[1:]] + [len(text)]
        items = [text[end:stop].strip(" ；;，,") for (_, end), stop in zip(seq, stops, strict=True)]
        labelled = lead.endswith((":", "：")) or width(lead) <= 60
        if lead and (first == 2 or not labelled):
            items.insert(0, lead)
        elif lead:
            skipped.append(("label", lead))
        return [item for item in items if item]
    return [text]


class _Projector:
    def __init__(self, title: str) -> None:
        self.out = Outline(title)

    def section(self, node: Node) -> None:
        exact = section_title(node.written, node.head)
        title, body = (exact, "") if exact is not None else split_heading(node.head)
        items: list[str] = []
        paras = ([body] if body else []) + node.paras
        for i, para in enumerate(paras):
            # "…如下：", "We will do three things:" before the points: it only leads in.
            if i == 0 and node.children and (debris.announces(para) or para.endswith(_LEADS_IN)):
                self.out.skipped.append(("introduction", para))
                continue
            items += paragraph_items(para, self.out.skipped)
        sections_below = _group_is_sections(node.children)
        if not sections_below:
            items += [_item_text(child) for child in node.children]
        loose = [c for c in node.children if not _heads(c)] if sections_below else []
        if sections_below and not items and not loose and debris.heads_plan(title):
            # "二、2027年工作思路" over （一）（二） beside "三、保障措施": the plan's heading
            # over sections only is none itself, like a heading that wraps the whole plan
            # (a topic over sections, "一、组织建设" over "（一）会员发展", stays one).
            self.out.skipped.append(("heading", node.raw))
            for child in node.children:
                self.section(child)
            return
        self.out.sections.append((title or node.raw[:60], items))
        if sections_below:
            for child in node.children:
                self.section(child) if _heads(child) else self.out.sections[-1][1].append(
                    _item_text(child)
                )


def _group_is_sections(children: list[Node]) -> bool:
    heads = sum(1 for c in children if c.children and _heads(c))
    return bool(children) and heads * 2 > len(children)


def _lines(node: Node) -> list[str]:
    """A point's lines as written, with everything under it."""
    return [node.raw, *node.paras, *(line for child in node.children for line in _lines(child))]


def _cut_review(part: Part, out: Outline) -> list[Node]:
    """The points of the plan part; a review before it goes to ``skipped``."""
    top = part.root.children
    if top and all(n.written is not None for n in top):
        return top  # sections planflow wrote: the plan itself, no review before it
    titles = [split_heading(n.head)[0] for n in top]
    preamble = " ".join(part.root.paras)
    for k, title in enumerate(titles):
        if k and debris.looks_plan(title) and not debris.looks_review(title):
            before = any(debris.looks_review(t) for t in titles[:k])
            if before or debris.looks_review(preamble):
                out.skipped += [("review", line) for n in top[:k] for line in _lines(n)]
                return top[k:]
    out.review = sum(debris.looks_review(t) for t in titles) * 2 > len(titles) > 0
    return top


def _cap_closing(part: Part, out: Outline) -> None:
    """The last point keeps as many paragraphs as its siblings have; the rest is a closing.

    What it keeps loses a sign-off at its end too: short lines after a finished
    sentence that say nothing to do ("滨江社区工会委员会", "Yours in solidarity," /
    "Jane Doe, Secretary", "단결!").
    """
    siblings = part.root.children
    while siblings and siblings[-1].children:
        siblings = siblings[-1].children
    if not siblings:
        return
    last = siblings[-1]
    keep = max(1, max((len(s.paras) for s in siblings[:-1]), default=len(last.paras)))
    closing = last.paras[keep:]
    del last.paras[keep:]
    lines = [last.head, *last.paras]
    cut = len(lines)
    while cut > 1 and debris.signs_off(lines[cut - 1]):
        cut -= 1
    # The lines signing off ("Yours in solidarity," / "Jane Doe, Secretary") follow a
    # finished sentence; after an unfinished one they carry it on.
    if cut < len(lines) and lines[cut - 1].rstrip().endswith(_SENTENCE_DONE):
        closing[:0] = last.paras[cut - 1 :]
        del last.paras[cut - 1 :]
    out.skipped += [("closing", p) for p in closing]


def _unwrap(top: list[Node], out: Outline) -> list[Node]:
    """The sections under a heading that wraps the whole plan ("二、明年安排").

    A plan part with one point whose points are sections has that point as
    its title, not as a section of its own: it would stay empty, and the
    sentence under it only introduces the sections.
    """
    if len(top) != 1 or not _group_is_sections(top[0].children):
        return top
    wrapper = top[0]
    title, body = split_heading(wrapper.head)
    out.skipped.append(("heading", wrapper.raw if not body else title))
    if debris.heads_plan(title):
        out.title = title  # "Ⅱ. 2027년 사업 계획" names the plan
    out.skipped += [("introduction", p) for p in ([body] if body else []) + wrapper.paras]
    return wrapper.children


def project(part: Part, title: str) -> Outline:
    """The sections and items of one plan (``title`` names a section of loose items)."""
    projector = _Projector(title)
    out = projector.out
    _cap_closing(part, out)
    out.skipped += [("review", line) for line in part.review]
    top = _cut_review(part, out)
    if not top:
        paras = part.root.paras
        first = split_heading(paras[0])[0] if paras else title
        items = [i for p in paras[1:] for i in paragraph_items(p, out.skipped)]
        out.sections.append((first, items))
    else:
        out.skipped += [("preamble", p) for p in part.root.paras]
    top = _unwrap(top, out)
    if top and sum(1 for n in top if _heads(n)) * 2 >= len(top):
        for node in top:
            projector.section(node)
    elif top:
        out.sections.append((title, [_item_text(n) for n in top]))
    out.skipped += [("closing", p) for p in part.closing]
    return out
