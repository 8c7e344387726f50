"""The vocabulary of a state diagram: what goes in (states and transitions) and
what comes out (boxes and lines), with the sizes everything is drawn at.

Pure geometry, shared by the layout steps (``planflow.core.diagram.layers``), the
layout itself (``planflow.core.diagram.layout``) and whoever draws the result (the web
UI's SVG). Text widths are estimated here, since no font is at hand: East
Asian wide characters count double, so boxes fit Chinese and Korean labels.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

Point = tuple[float, float]

NODE_FONT = 14.0
LABEL_FONT = 12.0
NODE_HEIGHT = 38.0
NODE_MIN_WIDTH = 96.0
NODE_PAD = 16.0
LABEL_HEIGHT = 18.0
#: The edge line runs this far inside a label's box; the text starts after it.
LABEL_LINE = 4.0
LABEL_TEXT = 10.0
ROW_GAP = 20.0
DUMMY_HALF = 4.0
MARGIN = 12.0
#: Room above the first row for the initial-state marker.
START_ROOM = 34.0
LOOP_WIDTH = 22.0


def text_width(text: str, font_size: float) -> float:
    """An estimate of how wide ``text`` is drawn: wide (CJK) characters count as one em."""
    ems = 0.0
    for c in text:
        if unicodedata.east_asian_width(c) in ("W", "F"):
            ems += 1.0
        elif c.isupper() or c in "mwMW@%":
            ems += 0.72
        elif c in "iljt.,:;'|!() ":
            ems += 0.36
        else:
            ems += 0.58
    return ems * font_size


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    label: str
    final: bool = False


@dataclass(frozen=True, slots=True)
class EdgeSpec:
    key: str
    source: str
    dest: str
    label: str
    #: Fired by the system (a timer), not by a person.
    system: bool = False


@dataclass(frozen=True, slots=True)
class NodeGeom:
    name: str
    label: str
    box: Box
    rank: int
    initial: bool
    final: bool


@dataclass(frozen=True, slots=True)
class EdgeGeom:
    key: str
    source: str
    dest: str
    label: str
    #: The line from the source state to the destination, in drawing order.
    points: tuple[Point, ...]
    #: Where the label's text goes (its left end is ``label_box.x``).
    label_box: Box
    #: Drawn against the flow: the edge leads back up to an earlier state.
    back: bool
    system: bool


@dataclass(frozen=True)
class Diagram:
    width: float
    height: float
    nodes: tuple[NodeGeom, ...]
    edges: tuple[EdgeGeom, ...]
    #: Centre of the initial-state marker, and where its arrow ends.
    start: Point
    start_to: Point

    def node(self, name: str) -> NodeGeom:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)
