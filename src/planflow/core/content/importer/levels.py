"""Levels: which numbered line is under which, and where one plan of a file ends.

An outline's levels are not given by its numbering styles but by how they
follow each other, as a reader takes them:

1. a number that continues an open level (its style there, number + 1) is
   the next point of that level;
2. a style seen before whose number continues its own earlier sequence is
   at its old depth again: item numbers that run on across sections ("一、"
   1、2、3、 "二、" 4、5、) stay items of the new section;
3. a number that continues an open level written in *another* style is
   that level's next point: "First, Second, 3. Fourth, 5." is one level;
4. an open style with a number out of sequence goes back to its level, and
   "1" of the top level again after "2" or more starts another plan, unless
   the point before it is a bare heading, with at most lead-in sentences
   ("Thirdly, Safety" then "Firstly, …"): a restart under a heading is the
   first point of a list below it (not after the plan's closing);
5. anything else opens a level below the current one.

Where the numbering offers several levels (an inline "Firstly … Thirdly"
under the heading "Thirdly, Rights"; items 1.–4. running on while the
headings reach 4), a line that names a topic (no sentence, clause or
figure: ``shapes.is_title``) goes to a level whose last point does too:
"IV. Culture" and "5. Finance" stay headings. Items running on (rule 2)
keep their level unless the section's list is already in another style.

A "【篇二】" tag, or an introduction announcing a list ("…计划如下：") after
a plan already had points, also starts another plan. An unnumbered plan
heading ("□ 올해 사업 계획", "Part 2. Our plan") after a review's
heading ends the review within the same plan: what came before, numbered or
not, is the review. Unnumbered paragraphs continue the deepest open point;
before any, they are the plan's preamble.
Pure: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from planflow.core.content.importer import debris
from planflow.core.content.importer.markers import (
    INLINE_FAMILIES,
    Marker,
    line_markers,
    run_in_points,
)
from planflow.core.content.importer.shapes import is_heading, is_title, unlabelled

#: Families only written as a sub-enumeration: never the next point of another level.
_NO_ALIAS = ("cn_shi", "tag")


@dataclass
class Node:
    """A numbered point with what continues it, or the root of a plan (no marker)."""

    marker: Marker | None
    head: str
    raw: str
    paras: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    #: The line's ``Line.written`` and ``Line.shown``, for a file planflow wrote.
    written: Mapping[str, Any] | None = None
    shown: str | None = None


@dataclass
class Part:
    """One plan of a file: its tag ("【篇二】"), preamble and numbered points.

    ``review`` holds the lines of a review before the plan when an unnumbered
    heading set them apart ("□ 작년 사업 평가" … "□ 올해 사업 계획"), and
    ``heading`` that plan heading's words.
    """

    tag: str = ""
    heading: str = ""
    root: Node = field(default_factory=lambda: Node(None, "", ""))
    closing: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


@dataclass
class _Level:
    styles: set[str]
    number: int
    node: Node


class _Resolver:
    def __init__(self, part: Part) -> None:
        self.part = part
        self.stack: list[_Level] = []
        self.seen: dict[str, tuple[int, int, Node]] = {}
        self.closing = False

    def choose(self, readings: Sequence[Marker], head: str = "") -> tuple[Marker, int, int]:
        """(reading, depth, rule): the rule (1-5 above) that placed it; 0 for a new plan.

        When the numbering offers several places (open levels of the line's style, or
        else places by rules 2-3), a heading goes where the last point is a heading too:
        "IV. Safety" after "Thirdly, Rights" and an inline "… Thirdly, visit members."
        continues the headings, not the inline points.
        """
        every = self._sequels(readings)
        if is_title(head) and not _names_part(head):
            # A topic is no part of the file beside "I. Review of 2026" / "II. Plan for
            # 2027": "III. Serve members" after "First, …" / "Second, …" under the plan's
            # heading is its third section, when the numbering allows it.
            below = [f for f in every if is_title(f[3].head) and not _names_part(f[3].head)]
            if below and any(_names_part(f[3].head) for f in every):
                every = below
        # An open level of the line's own style outranks other styles (rule 1 first) …
        found = [f for f in every if f[2] == 1] or every
        titled = [f for f in found if is_title(f[3].head)]
        if not titled and is_title(head):
            # … but a heading may continue headings written in its own style too, after a
            # list in that style under one of them ("둘째, Pay" / "3. Safety" / "첫째, … 셋째,
            # …" / "넷째, Education"): there the numbering cannot tell, the heading's shape can.
            titled = [
                f
                for f in every
                if f[2] == 3 and f[0].style in self.stack[f[1]].styles and is_title(f[3].head)
            ]
        if found and titled and found[0] not in titled and is_title(head):
            reading, depth, rule, _ = found[0]
            # Items running on (rule 2) stay items unless this section's list is in
            # another style already: "IV. Culture (1) (2) 5. Finance" after items 1.-4.
            open_other = depth < len(self.stack) and reading.style not in self.stack[depth].styles
            if rule != 2 or open_other:
                found = titled
        if found:
            return found[0][:3]
        open_levels = list(reversed(list(enumerate(self.stack))))
        for r in readings:  # 4. an open style out of sequence; "1" at the top: a new plan
            for d, level in open_levels:
                if r.style not in level.styles:
                    continue
                restart = r.number == 1 and level.number >= 2
                if restart and d > 0 and not self.closing and _bare_heading(level.node):
                    continue  # a list under the heading just opened, not a restart beside it
                if not (d == 0 and restart):
                    return r, d, 4
                if self.closing or not _bare_heading(level.node):
                    return r, d, 0
        return readings[0], len(self.stack), 5  # 5. a new level

    def _sequels(self, readings: Sequence[Marker]) -> list[tuple[Marker, int, int, Node]]:
        """Every place where a reading is the next point (rules 1-3), in the rules' order."""
        open_levels = list(reversed(list(enumerate(self.stack))))
        found = []
        for r in readings:  # 1. the next point of an open level
            for d, level in open_levels:
                if r.style in level.styles and r.number == level.number + 1:
                    found.append((r, d, 1, level.node))
        for r in readings:  # 2. a sequence running on across sections
            depth, last, node = self.seen.get(r.style, (0, 0, self.part.root))
            if r.number > 1 and last == r.number - 1:
                found.append((r, min(depth, len(self.stack)), 2, node))
        for r in readings:  # 3. the same level written in another style
            if r.number > 1 and r.style not in _NO_ALIAS:
                for d, level in open_levels:
                    if level.number == r.number - 1 and not level.styles & set(_NO_ALIAS):
                        found.append((r, d, 3, level.node))
        return found

    def continues(self, marker: Marker) -> bool:
        """Whether a point run into a paragraph is the next of a sequence (rules 1-3).

        A numeral ("… in April. 3. Train …") is a line break lost on the way and may
        continue a level in another style (rule 3); an ordinal word ("… Secondly, …",
        "… 二是…") is the writer's own list inside the paragraph, and continues only a
        sequence in its own words (rules 1-2): "I. Review" / "We grew. Secondly, …"
        has no second point of the Roman level.
        """
        rules = (1, 2) if marker.style in INLINE_FAMILIES else (1, 2, 3)
        return bool(self.stack) and self.choose([marker])[2] in rules

    def excess_paras(self) -> list[str]:
        """The last point's paragraphs beyond what its siblings have: the next plan's preamble."""
        last = self.stack[-1].node
        parent = self.stack[-2].node if len(self.stack) > 1 else self.part.root
        others = [len(s.paras) for s in parent.children if s is not last]
        keep = max(1, max(others, default=1))
        excess = last.paras[keep:]
        del last.paras[keep:]
        return excess

    def between_plans(self) -> bool:
        """After two points or more and text that continues the last: not a section's lead-in."""
        return len(self.part.root.children) >= 2 and bool(self.stack[-1].node.paras)

    def place(self, marker: Marker, depth: int, head: str, raw: str) -> None:
        node = Node(marker, head, raw)
        parent = self.stack[depth - 1].node if depth else self.part.root
        parent.children.append(node)
        if depth < len(self.stack):
            styles = self.stack[depth].styles | {marker.style}
            del self.stack[depth:]
        else:
            styles = {marker.style}
        self.stack.append(_Level(styles, marker.number, node))
        self.seen[marker.style] = (depth, marker.number, node)
        self.closing = False

    def add_para(self, text: str) -> None:
        if self.closing or (self.stack and debris.is_closing(text)):
            self.closing = True
            self.part.closing.append(text)
        elif self.stack and debris.is_signature(text):
            self.part.closing.append(text)
        else:
            (self.stack[-1].node if self.stack else self.part.root).paras.append(text)


def _names_part(text: str) -> bool:
    """A heading of a part of the file: the review ("I. Review of 2026") or the plan."""
    return debris.heads_plan(text) or debris.heads_review(text)


def _bare_heading(node: Node) -> bool:
    """A point that is only a heading so far, or a heading and its lead-in sentences.

    What follows it is under it; a heading-like line after it ("2024年工会工作计划")
    would be the title of another plan.
    """
    bare = not node.children and is_title(node.head)
    return bare and not any(is_heading(p) for p in node.paras)


def _plan_after_review(part: Part) -> Node | None:
    """The top point that heads the plan, when the points so far are a review and it.

    "I. Review of 2026" (with whatever is numbered under or after it) then "II. Work
    plan for 2027" with at most a lead-in: a restart of the numbering here is the
    plan's first section, not another plan, and the plan's heading only wraps it.
    """
    top = part.root.children
    if len(top) < 2 or top[-1].children or not debris.heads_plan(top[-1].head):
        return None
    titles = [p for p in top[-1].paras if is_heading(p) and not p.endswith((":", "："))]
    return top[-1] if debris.heads_review(top[0].head) and not titles else None


@dataclass
class Line:
    """A paragraph of the file; ``marker`` when the file's own format numbered it (Word).

    ``written``: what planflow recorded of the section or item it wrote here, and
    ``shown`` the details line under that item as the file shows it now
    (``importer.written``).
    """

    text: str
    marker: Marker | None = None
    written: Mapping[str, Any] | None = None
    shown: str | None = None


def split_parts(lines: Sequence[Line]) -> list[Part]:
    """The plans in ``lines`` (already cleaned of page debris), each as a tree of points."""
    parts = [Part()]
    resolver = _Resolver(parts[0])
    read: list[str] = []  # the lines of the current part so far, as written
    in_review = False  # the current part has had a review's heading (at read[review_from])
    review_from = 0

    def new_part(tag: str = "") -> None:
        nonlocal resolver, read, in_review
        parts.append(Part(tag))
        resolver, read, in_review = _Resolver(parts[-1]), [], False

    todo: list[tuple[str, Marker | None, Line | None]] = [(ln.text, ln.marker, ln) for ln in lines]
    todo.reverse()
    while todo:
        text, hint, line = todo.pop()
        whole = line is not None
        written = line.written if line is not None else None
        found = None if written is not None and hint else line_markers(text)
        readings = found.readings if found else ((hint,) if hint else ())
        rest = found.rest if found else text
        plan_heading = debris.heads_plan(rest)
        if in_review and not readings and plan_heading and not resolver.closing:
            # "□ 올해 사업 계획" after "□ 작년 사업 평가": all from the review's heading
            # on, numbered or not, is the review; the plan starts afresh here.
            parts[-1].review += read[review_from:]
            parts[-1].root = Node(None, "", "", read[:review_from])
            parts[-1].heading = unlabelled(text)
            resolver, read = _Resolver(parts[-1]), read[:review_from]
        if not in_review and debris.heads_review(rest):
            review_from = len(read)
        # A numbered plan heading ("二、明年安排") ends a review too (``projection``).
        in_review = (in_review or debris.heads_review(rest)) and not plan_heading
        if whole:
            read.append(text)
        if readings and readings[0].style == "tag":
            if parts[-1].root.children or parts[-1].root.paras:
                new_part()
            parts[-1].tag = text[: len(text) - len(rest)].strip()
            if rest:
                todo.append((rest, None, None))
            continue
        if readings:
            marker, depth, rule = resolver.choose(readings, rest)
            plan = _plan_after_review(parts[-1]) if rule == 0 and not resolver.closing else None
            if plan is not None:
                # "I. Review of 2026" … "II. Plan for 2027" / "First, …": the numbering
                # starts again under the plan's heading, as after an unnumbered one.
                start = read.index(next(n.raw for n in parts[-1].root.children))
                at = len(read) - 1 - read[::-1].index(plan.raw)
                parts[-1].review += read[start:at]
                parts[-1].root = Node(None, "", "", [*read[:start], plan.raw, *plan.paras])
                parts[-1].heading = unlabelled(plan.head)
                resolver, read = _Resolver(parts[-1]), [*read[:start], *read[at:]]
                marker, depth, rule = resolver.choose(readings, rest)
            elif rule == 0:
                carried = resolver.excess_paras()
                new_part()
                parts[-1].root.paras += carried
                read = [*carried, text]
                marker, depth, rule = resolver.choose(readings, rest)
            resolver.place(marker, depth, rest, text)
            if written is not None:
                # planflow's own file: the paragraph is one point, as it was written.
                node = resolver.stack[-1].node
                node.written, node.shown = written, line.shown if line is not None else None
                continue
        # A point run into this paragraph ("... in April. 3. Strengthened ...") is split off,
        # unless the point before it is in the paragraph too: an inline list stays whole here
        # ("重点：第一，…；第二，…") and is split into items with its lead-in (``projection``).
        runs = run_in_points(rest)
        for start, _end, point in runs:
            before = Marker(point.style, point.number - 1)
            if any(m == before and s < start for s, _, m in runs):
                break
            if resolver.continues(point):
                todo.append((rest[start:], None, None))
                rest = rest[:start].rstrip(" ;；,，")  # "开展协商；第二，…": no separator left
                if readings:
                    resolver.stack[-1].node.head = rest
                break
        if readings:
            continue
        if debris.announces(text) and resolver.between_plans():
            new_part()
            read = [text]
            resolver.add_para(text)
        elif rest:
            resolver.add_para(rest)
    # A part with no points and a line or two is the file's heading, not a plan.
    return [p for p in parts if p.root.children or len(p.root.paras) > 2]
