"""The state-diagram layout: every state placed, nothing overlapping, every transition drawn."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.diagram.layout import layout, workflow_diagram
from planflow.core.diagram.shapes import Box, Diagram, EdgeSpec, NodeSpec, text_width

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
SHIPPED = ["annual_plan", "committee_plan"]
LANGS = ["en", "zh", "ko"]


def shipped(name: str) -> WorkflowSpec:
    return DefinitionRegistry(WORKFLOWS).latest(name)


def inside(box: Box, x: float, y: float) -> bool:
    """Strictly inside (a line may touch a border, where it starts or ends)."""
    return box.x + 0.5 < x < box.right - 0.5 and box.y + 0.5 < y < box.bottom - 0.5


def on_border(box: Box, x: float, y: float) -> bool:
    within_x = box.x - 0.5 <= x <= box.right + 0.5
    within_y = box.y - 0.5 <= y <= box.bottom + 0.5
    near_edge = min(abs(x - box.x), abs(x - box.right), abs(y - box.y), abs(y - box.bottom))
    return within_x and within_y and near_edge < 0.5


def check(d: Diagram) -> None:
    boxes = [n.box for n in d.nodes] + [e.label_box for e in d.edges]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    for box in boxes:
        assert box.x >= 0 and box.y >= 0
        assert box.right <= d.width and box.bottom <= d.height
    by_name = {n.name: n.box for n in d.nodes}
    for e in d.edges:
        first, last = e.points[0], e.points[-1]
        assert on_border(by_name[e.source], *first), e
        assert on_border(by_name[e.dest], *last), e
        # No line runs through a state: sample every segment (the drawn curves keep
        # to the band between a segment's end points).
        for (x1, y1), (x2, y2) in itertools.pairwise(e.points):
            for k in range(21):
                x, y = x1 + (x2 - x1) * k / 20, y1 + (y2 - y1) * k / 20
                for n in d.nodes:
                    assert not inside(n.box, x, y), (e.key, n.name, (x, y))
        # The label sits beside its own line.
        assert e.label_box.width >= text_width(e.label, 12) - 0.5


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("lang", LANGS)
def test_the_shipped_definitions_lay_out_cleanly(name: str, lang: str) -> None:
    spec = shipped(name)
    d = workflow_diagram(spec, lang)
    assert [n.name for n in d.nodes] == list(spec.state_names)
    assert [n.label for n in d.nodes] == [s.label.get(lang) for s in spec.states]
    expected = [(t.trigger, src, t.dest) for t in spec.transitions for src in t.sources]
    assert [(e.key, e.source, e.dest) for e in d.edges] == expected
    check(d)
    # Readable on a phone scrolled sideways, and not a ribbon either.
    assert 300 < d.width < 900 and d.height < 1100


@pytest.mark.parametrize("name", SHIPPED)
def test_the_flow_reads_top_to_bottom(name: str) -> None:
    spec = shipped(name)
    d = workflow_diagram(spec)
    rank = {n.name: n.rank for n in d.nodes}
    assert rank[spec.initial] == 0 and d.node(spec.initial).initial
    assert {n.name for n in d.nodes if n.final} == set(spec.final_states)
    for e in d.edges:
        # Forward edges go down; only edges back to an earlier state go up.
        assert (rank[e.dest] > rank[e.source]) != e.back, e
    backs = sorted((e.key, e.source) for e in d.edges if e.back)
    # Back to the draft: a recall while nobody has acted yet (from each waiting state).
    recalls = [
        ("recall", source)
        for t in spec.transitions
        if t.trigger == "recall"
        for source in t.sources
    ]
    assert recalls
    assert backs == sorted(
        [("rectified", "rectification_required"), ("resubmit", "returned"), *recalls]
    )
    # The start marker points at the initial state from above.
    assert d.start[1] < d.start_to[1] == d.node(spec.initial).box.y


def test_the_same_definition_gives_the_same_picture() -> None:
    spec = shipped("annual_plan")
    assert workflow_diagram(spec, "ko") == workflow_diagram(spec, "ko")


def test_loops_unreachable_states_and_parallel_edges() -> None:
    nodes = [NodeSpec("a", "Start"), NodeSpec("b", "Middle"), NodeSpec("c", "End", final=True),
             NodeSpec("lost", "Unreachable"), NodeSpec("z", "Zed")]  # fmt: skip
    edges = [
        EdgeSpec("go", "a", "b", "Go"),
        EdgeSpec("also_go", "a", "b", "Go another way"),
        EdgeSpec("again", "b", "b", "Try again"),
        EdgeSpec("again2", "b", "b", "And again"),
        EdgeSpec("finish", "b", "c", "Finish", system=True),
        EdgeSpec("skip", "a", "c", "Skip all the way"),
        EdgeSpec("back", "c", "a", "Back to start"),
        EdgeSpec("from_lost", "lost", "z", "Lost"),
    ]
    d = layout(nodes, edges, "a")
    check(d)
    assert len(d.edges) == len(edges)
    loops = [e for e in d.edges if e.source == e.dest]
    assert len(loops) == 2 and all(len(e.points) == 4 for e in loops)
    assert d.edges[4].system and not d.edges[0].system
    assert d.edges[6].back
    ranks = {n.name: n.rank for n in d.nodes}
    assert ranks == {"a": 0, "b": 1, "c": 2, "lost": 0, "z": 1}


def test_a_long_chain_and_a_wide_fan() -> None:
    chain = [NodeSpec(f"s{i}", f"State number {i}") for i in range(30)]
    edges = [EdgeSpec(f"t{i}", f"s{i}", f"s{i + 1}", f"step {i}") for i in range(29)]
    edges += [EdgeSpec(f"r{i}", f"s{i}", "s0", "restart") for i in range(5, 30, 5)]
    d = layout(chain, edges, "s0")
    check(d)
    assert [n.rank for n in d.nodes] == list(range(30))
    fan = [NodeSpec("root", "Root")] + [NodeSpec(f"leaf{i}", "葉" * (i % 7 + 1)) for i in range(12)]
    spokes = [EdgeSpec(f"e{i}", "root", f"leaf{i}", f"to {i}") for i in range(12)]
    check(layout(fan, spokes, "root"))


def test_wide_characters_count_double() -> None:
    assert text_width("审核中", 14) == pytest.approx(3 * 14)
    assert text_width("abc", 14) < text_width("审核中", 14)
    assert text_width("검토 중", 10) > text_width("abcd", 10)


@pytest.mark.parametrize(
    ("initial", "edges"),
    [("nowhere", []), ("a", [EdgeSpec("x", "a", "ghost", "X")])],
)
def test_unknown_states_are_refused(initial: str, edges: list[EdgeSpec]) -> None:
    with pytest.raises(ValueError):
        layout([NodeSpec("a", "A")], edges, initial)
