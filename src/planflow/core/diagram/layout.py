"""A workflow definition drawn as a state diagram: the layout, as plain geometry.

Pure: no web framework, no storage, no external drawing service. The layout
is a small Sugiyama-style pipeline; the graph steps (ranks, order, positions)
are in ``planflow.core.diagram.layers``, the shapes in ``planflow.core.diagram.shapes``.
This module turns states and transitions into that layered graph and the
placed graph back into boxes and lines:

States sit on even rows; between two state rows lies a row of edge labels.
An edge spanning several rows gets a waypoint on every row it crosses, one of
which carries its label, so labels are laid out like boxes and never sit on
each other or on a state. Self-loops are drawn beside their state instead.

``workflow_diagram`` lays out a ``WorkflowSpec`` in one language; ``layout``
takes plain nodes and edges.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.diagram.layers import Vertex, order_rows, place, ranks
from planflow.core.diagram.shapes import (
    DUMMY_HALF,
    LABEL_FONT,
    LABEL_HEIGHT,
    LABEL_LINE,
    LABEL_TEXT,
    LOOP_WIDTH,
    MARGIN,
    NODE_FONT,
    NODE_HEIGHT,
    NODE_MIN_WIDTH,
    NODE_PAD,
    ROW_GAP,
    START_ROOM,
    Box,
    Diagram,
    EdgeGeom,
    EdgeSpec,
    NodeGeom,
    NodeSpec,
    Point,
    text_width,
)


def layout(nodes: Sequence[NodeSpec], edges: Sequence[EdgeSpec], initial: str) -> Diagram:
    """Lay out states and transitions; every node and every edge gets its geometry."""
    names = [n.name for n in nodes]
    if initial not in names:
        raise ValueError(f"the initial state {initial!r} is not among the states")
    known = set(names)
    for e in edges:
        if e.source not in known or e.dest not in known:
            raise ValueError(f"edge {e.key!r} joins unknown states {e.source!r} -> {e.dest!r}")
    rank, reversed_edges = ranks(names, edges, initial)
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
    rows = order_rows(rows, graph.vs)
    place(rows, graph.vs)
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
        self.vs: list[Vertex] = []
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
        self.vs.append(Vertex(row, half, half + extra, height, node=n.name))

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
                vertex = Vertex(row, LABEL_LINE, width - LABEL_LINE, LABEL_HEIGHT, label_of=i)
            else:
                vertex = Vertex(row, DUMMY_HALF, DUMMY_HALF, 0.0)
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


def _name(vs: list[Vertex], v: int) -> str:
    name = vs[v].node
    assert name is not None
    return name


def _ports(
    chains: dict[int, list[int]], vs: list[Vertex], boxes: dict[str, Box], initial: str
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
