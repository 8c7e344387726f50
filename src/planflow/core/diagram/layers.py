"""The graph steps of the diagram layout: ranks, the order within rows, positions.

These work on an abstract layered graph (``Vertex`` boxes on rows, joined to
the rows above and below) and know nothing of labels or drawing; turning a
workflow into such a graph and back into geometry is ``planflow.core.diagram.layout``'s job.

1. Ranks. Edges that close a cycle (found by a depth-first walk from the
   initial state) are turned round; every state's rank is then its longest
   path from the initial state, so the flow reads top to bottom.
2. Order. A few barycentre sweeps (down, then up) reorder each row to reduce
   crossings; the order with the fewest crossings wins.
3. Positions. Each box is pulled towards the mean position of its neighbours
   with the row's order and minimum gaps kept (an isotonic fit), a few times.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from planflow.core.diagram.shapes import EdgeSpec

#: The least room between two neighbouring boxes on a row.
BOX_GAP = 18.0
#: Ordering sweeps and placement rounds: fixed counts, so a layout is deterministic.
SWEEPS = 8
PLACEMENT_ROUNDS = 12


@dataclass
class Vertex:
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


def ranks(
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


def crossings(rows: list[list[int]], vs: list[Vertex]) -> int:
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


def order_rows(rows: list[list[int]], vs: list[Vertex]) -> list[list[int]]:
    """Reorder rows by barycentres; keep the order with the fewest crossings."""
    best = [list(r) for r in rows]
    best_count = crossings(best, vs)
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
        count = crossings(current, vs)
        if count < best_count:
            best, best_count = [list(r) for r in current], count
    return best


def fit_with_gaps(desired: list[float], min_gap: list[float]) -> list[float]:
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


def place(rows: list[list[int]], vs: list[Vertex]) -> None:
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
            for v, x in zip(row, fit_with_gaps(desired, gaps(row)), strict=True):
                vs[v].x = x
