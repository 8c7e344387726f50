"""A workflow definition drawn as a state diagram: the layout, as plain geometry.

Pure: no web framework, no storage, no external drawing service. The layout
is a small Sugiyama-style pipeline:

1. Ranks. Edges that close a cycle (found by a depth-first walk from the
   initial state) are turned round; every state's rank is then its longest
   path from the initial state, so the flow reads top to bottom.
2. Rows. States sit on even rows; between two state rows lies a row of edge
   labels. An edge spanning several rows gets a waypoint on every row it
   crosses, one of which carries its label, so labels are laid out like
   boxes and never sit on each other or on a state.
3. Order. A few barycentre sweeps (down, then up) reorder each row to reduce
   crossings; the order with the fewest crossings wins.
4. Positions. Each box is pulled towards the mean position of its neighbours
   with the row's order and minimum gaps kept (an isotonic fit), a few times.

``workflow_diagram`` lays out a ``WorkflowSpec`` in one language; ``layout``
takes plain nodes and edges. Text widths are estimated (East Asian wide
characters count double), so boxes fit Chinese and Korean labels too.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from .definitions.spec import WorkflowSpec

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
BOX_GAP = 18.0
DUMMY_HALF = 4.0
MARGIN = 12.0
#: Room above the first row for the initial-state marker.
START_ROOM = 34.0
LOOP_WIDTH = 22.0
SWEEPS = 8
PLACEMENT_ROUNDS = 12


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


# -- the pipeline --------------------------------------------------------------------


@dataclass
class _Vertex:
    """A box on a row: a state, an edge label, or a plain waypoint of a long edge."""

    row: int
    left: float  # extent left of the anchor (where lines attach)
    right: float  # extent right of the anchor
    height: float
    node: str | None = None
    label_of: int | None = None  # edge index whose label this is
    up: list[int] = field(default_factory=list)
    down: list[int] = field(default_factory=list)
    x: float = 0.0


def _ranks(
    names: Sequence[str], edges: Sequence[EdgeSpec], initial: str
) -> tuple[dict[str, int], set[int]]:
    """Each state's rank, and the edges turned round to break cycles."""
    out: dict[str, list[tuple[int, str]]] = {n: [] for n in names}
    for i, e in enumerate(edges):
        if e.source != e.dest:
            out[e.source].append((i, e.dest))
    reversed_edges: set[int] = set()
    state: dict[str, int] = {}  # 1 on the walk's path, 2 done
    order = [initial, *(n for n in names if n != initial)]
    for root in order:
        if root in state:
            continue
        # An explicit stack: a definition may have many states in a row.
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            step = next(it, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            index, target = step
            if state.get(target) == 1:
                reversed_edges.add(index)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(out[target])))
    rank = dict.fromkeys(names, 0)
    incoming: dict[str, list[str]] = {n: [] for n in names}
    for i, e in enumerate(edges):
        if e.source == e.dest:
            continue
        a, b = (e.dest, e.source) if i in reversed_edges else (e.source, e.dest)
        incoming[b].append(a)
    # Longest path over the acyclic graph (Kahn's order).
    pending = {n: len(incoming[n]) for n in names}
    successors: dict[str, list[str]] = {n: [] for n in names}
    for b, sources in incoming.items():
        for a in sources:
            successors[a].append(b)
    ready = [n for n in order if pending[n] == 0]
    while ready:
        a = ready.pop(0)
        for b in successors[a]:
            rank[b] = max(rank[b], rank[a] + 1)
            pending[b] -= 1
            if pending[b] == 0:
                ready.append(b)
    return rank, reversed_edges


def _crossings(rows: list[list[int]], vs: list[_Vertex]) -> int:
    total = 0
    for r in range(len(rows) - 1):
        pos_here = {v: i for i, v in enumerate(rows[r])}
        pos_next = {v: i for i, v in enumerate(rows[r + 1])}
        segments = [(pos_here[v], pos_next[w]) for v in rows[r] for w in vs[v].down]
        for i, (a1, b1) in enumerate(segments):
            for a2, b2 in segments[i + 1 :]:
                if (a1 - a2) * (b1 - b2) < 0:
                    total += 1
    return total


def _order(rows: list[list[int]], vs: list[_Vertex]) -> list[list[int]]:
    """Reorder rows by barycentres; keep the order with the fewest crossings."""
    best = [list(r) for r in rows]
    best_count = _crossings(best, vs)
    current = [list(r) for r in rows]
    for sweep in range(SWEEPS):
        downwards = sweep % 2 == 0
        indices = range(1, len(current)) if downwards else range(len(current) - 2, -1, -1)
        for r in indices:
            ref = current[r - 1] if downwards else current[r + 1]
            pos = {v: i for i, v in enumerate(ref)}

            def key(
                item: tuple[int, int], pos: dict[int, int] = pos, down: bool = downwards
            ) -> float:
                index, v = item
                neighbours = vs[v].up if down else vs[v].down
                if not neighbours:
                    return float(index)
                return sum(pos[n] for n in neighbours) / len(neighbours)

            current[r] = [v for _i, v in sorted(enumerate(current[r]), key=key)]
        count = _crossings(current, vs)
        if count < best_count:
            best, best_count = [list(r) for r in current], count
    return best


def _fit(desired: list[float], min_gap: list[float]) -> list[float]:
    """Positions closest to ``desired`` (least squares) with ``x[i+1] - x[i] >= min_gap[i]``.

    Shifting by the cumulative gaps turns this into an isotonic regression,
    solved by pooling adjacent violators.
    """
    offsets = [0.0]
    for gap in min_gap:
        offsets.append(offsets[-1] + gap)
    values = [d - o for d, o in zip(desired, offsets, strict=True)]
    blocks: list[list[float]] = []  # [mean, weight]
    for v in values:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    fitted: list[float] = []
    for mean, weight in blocks:
        fitted.extend([mean] * int(weight))
    return [f + o for f, o in zip(fitted, offsets, strict=True)]


def _place(rows: list[list[int]], vs: list[_Vertex]) -> None:
    def gaps(row: list[int]) -> list[float]:
        return [vs[a].right + vs[b].left + BOX_GAP for a, b in itertools.pairwise(row)]

    for row in rows:
        x = 0.0
        for i, v in enumerate(row):
            if i:
                x += vs[row[i - 1]].right + vs[v].left + BOX_GAP
            vs[v].x = x
    for round_ in range(PLACEMENT_ROUNDS):
        order = rows if round_ % 2 == 0 else rows[::-1]
        for row in order:
            desired = []
            for v in row:
                neighbours = vs[v].up + vs[v].down
                if neighbours:
                    desired.append(sum(vs[n].x for n in neighbours) / len(neighbours))
                else:
                    desired.append(vs[v].x)
            for v, x in zip(row, _fit(desired, gaps(row)), strict=True):
                vs[v].x = x


def layout(nodes: Sequence[NodeSpec], edges: Sequence[EdgeSpec], initial: str) -> Diagram:
    """Lay out states and transitions; every node and every edge gets its geometry."""
    names = [n.name for n in nodes]
    if initial not in names:
        raise ValueError(f"the initial state {initial!r} is not among the states")
    known = set(names)
    for e in edges:
        if e.source not in known or e.dest not in known:
            raise ValueError(f"edge {e.key!r} joins unknown states {e.source!r} -> {e.dest!r}")
    rank, reversed_edges = _ranks(names, edges, initial)
    loops: dict[str, list[int]] = {}
    for i, e in enumerate(edges):
        if e.source == e.dest:
            loops.setdefault(e.source, []).append(i)
    graph = _Graph(edges, rank, reversed_edges, loops)
    for n in nodes:
        graph.add_node(n)
    for i, e in enumerate(edges):
        if e.source != e.dest:
            graph.add_edge(i, e)
    rows: list[list[int]] = [[] for _ in range(2 * max(rank.values()) + 1)]
    for index, vertex in enumerate(graph.vs):
        rows[vertex.row].append(index)
    rows = _order(rows, graph.vs)
    _place(rows, graph.vs)
    return graph.geometry(nodes, rows, initial)


class _Graph:
    """The vertices of the layout: states, and the waypoints and labels of edges."""

    def __init__(
        self,
        edges: Sequence[EdgeSpec],
        rank: dict[str, int],
        reversed_edges: set[int],
        loops: dict[str, list[int]],
    ) -> None:
        self.edges, self.rank, self.reversed, self.loops = edges, rank, reversed_edges, loops
        self.vs: list[_Vertex] = []
        self.node_vertex: dict[str, int] = {}
        #: Each edge as a chain of vertices from its upper end to its lower end.
        self.chains: dict[int, list[int]] = {}

    def add_node(self, n: NodeSpec) -> None:
        half = max(NODE_MIN_WIDTH, text_width(n.label, NODE_FONT) + 2 * NODE_PAD) / 2
        own_loops = self.loops.get(n.name, [])
        extra = 0.0
        if own_loops:
            widest = max(text_width(self.edges[i].label, LABEL_FONT) for i in own_loops)
            extra = LOOP_WIDTH * len(own_loops) + LABEL_TEXT + widest
        height = max(NODE_HEIGHT, (LABEL_HEIGHT + 2) * len(own_loops) + 4)
        self.node_vertex[n.name] = len(self.vs)
        row = 2 * self.rank[n.name]
        self.vs.append(_Vertex(row, half, half + extra, height, node=n.name))

    def add_edge(self, i: int, e: EdgeSpec) -> None:
        back = i in self.reversed
        upper, lower = (e.dest, e.source) if back else (e.source, e.dest)
        top_row, bottom_row = 2 * self.rank[upper], 2 * self.rank[lower]
        # The label goes next to the state the edge leaves.
        label_row = bottom_row - 1 if back else top_row + 1
        chain = [self.node_vertex[upper]]
        for row in range(top_row + 1, bottom_row):
            if row == label_row:
                width = text_width(e.label, LABEL_FONT) + LABEL_TEXT + 2
                vertex = _Vertex(row, LABEL_LINE, width - LABEL_LINE, LABEL_HEIGHT, label_of=i)
            else:
                vertex = _Vertex(row, DUMMY_HALF, DUMMY_HALF, 0.0)
            self.vs.append(vertex)
            chain.append(len(self.vs) - 1)
        chain.append(self.node_vertex[lower])
        for a, b in itertools.pairwise(chain):
            self.vs[a].down.append(b)
            self.vs[b].up.append(a)
        self.chains[i] = chain

    def geometry(self, nodes: Sequence[NodeSpec], rows: list[list[int]], initial: str) -> Diagram:
        vs = self.vs
        shift = MARGIN - min(vs[v].x - vs[v].left for row in rows for v in row)
        for vertex in vs:
            vertex.x += shift
        # Rows top to bottom: state rows as tall as their tallest state, label rows one line.
        row_top: list[float] = []
        row_height: list[float] = []
        y = MARGIN + START_ROOM
        for r, row in enumerate(rows):
            height = max([vs[v].height for v in row] + [NODE_HEIGHT if r % 2 == 0 else 0.0])
            row_top.append(y)
            row_height.append(max(height, LABEL_HEIGHT))
            y += row_height[-1] + ROW_GAP
        boxes: dict[str, Box] = {}
        for n in nodes:
            vertex = vs[self.node_vertex[n.name]]
            top = row_top[vertex.row] + (row_height[vertex.row] - vertex.height) / 2
            boxes[n.name] = Box(vertex.x - vertex.left, top, 2 * vertex.left, vertex.height)
        ports = _ports(self.chains, vs, boxes, initial)
        edge_geoms: list[EdgeGeom] = []
        for i, e in enumerate(self.edges):
            if e.source == e.dest:
                own = self.loops[e.source]
                edge_geoms.append(_loop(e, own.index(i), len(own), boxes[e.source]))
                continue
            chain = self.chains[i]
            points: list[Point] = [(ports[(i, "bottom")], boxes[_name(vs, chain[0])].bottom)]
            label_box = Box(0, 0, 0, 0)
            for v in chain[1:-1]:
                vertex = vs[v]
                top, h = row_top[vertex.row], row_height[vertex.row]
                # Straight down through the row: the label beside the line stays clear of it.
                points += [(vertex.x, top), (vertex.x, top + h)]
                if vertex.label_of == i:
                    x = vertex.x - LABEL_LINE + LABEL_TEXT
                    width = vertex.left + vertex.right - LABEL_TEXT
                    label_box = Box(x, top + (h - LABEL_HEIGHT) / 2, width, LABEL_HEIGHT)
            points.append((ports[(i, "top")], boxes[_name(vs, chain[-1])].y))
            back = i in self.reversed
            if back:
                points.reverse()
            edge_geoms.append(
                EdgeGeom(e.key, e.source, e.dest, e.label, tuple(points), label_box, back, e.system)
            )
        first = boxes[initial]
        return Diagram(
            width=max(vs[v].x + vs[v].right for row in rows for v in row) + MARGIN,
            height=y - ROW_GAP + MARGIN,
            nodes=tuple(
                NodeGeom(
                    n.name, n.label, boxes[n.name], self.rank[n.name], n.name == initial, n.final
                )
                for n in nodes
            ),
            edges=tuple(edge_geoms),
            start=(first.cx, first.y - START_ROOM + 7),
            start_to=(first.cx, first.y),
        )


def _name(vs: list[_Vertex], v: int) -> str:
    name = vs[v].node
    assert name is not None
    return name


def _ports(
    chains: dict[int, list[int]], vs: list[_Vertex], boxes: dict[str, Box], initial: str
) -> dict[tuple[int, str], float]:
    """Where each edge meets its states: spread along the side, in the order they leave."""
    sides: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for i, chain in chains.items():
        upper, lower = _name(vs, chain[0]), _name(vs, chain[-1])
        sides.setdefault((upper, "bottom"), []).append((vs[chain[1]].x, i))
        sides.setdefault((lower, "top"), []).append((vs[chain[-2]].x, i))
    if (initial, "top") in sides:
        # The initial-state marker arrives at the middle of the top side.
        sides[(initial, "top")].append((boxes[initial].cx, -1))
    ports: dict[tuple[int, str], float] = {}
    for (name, side), entries in sides.items():
        box = boxes[name]
        entries.sort()
        for k, (_x, i) in enumerate(entries):
            ports[(i, side)] = box.x + box.width * (k + 1) / (len(entries) + 1)
    return ports


def _loop(e: EdgeSpec, k: int, count: int, box: Box) -> EdgeGeom:
    """An edge from a state to itself: a small loop on its right side, the labels of a
    state's loops stacked beyond the outermost one."""
    step = LABEL_HEIGHT + 2
    y = box.cy - step * count / 2 + step * k + step / 2 - 4
    out = box.right + LOOP_WIDTH * (k + 1)
    points: tuple[Point, ...] = ((box.right, y), (out, y), (out, y + 8.0), (box.right, y + 8.0))
    x = box.right + LOOP_WIDTH * count + LABEL_TEXT / 2
    label_box = Box(x, y + 4 - LABEL_HEIGHT / 2, text_width(e.label, LABEL_FONT), LABEL_HEIGHT)
    return EdgeGeom(e.key, e.source, e.dest, e.label, points, label_box, False, e.system)


def workflow_diagram(spec: WorkflowSpec, lang: str = "en") -> Diagram:
    """The state diagram of ``spec`` with its labels in ``lang``."""
    nodes = [NodeSpec(s.name, s.label.get(lang), s.final) for s in spec.states]
    edges = [
        EdgeSpec(t.trigger, source, t.dest, t.label.get(lang), system=t.actor is None)
        for t in spec.transitions
        for source in t.sources
    ]
    return layout(nodes, edges, spec.initial)
