"""How far an item's targets are met (``planflow.core.content.attainment``), without a database."""

from __future__ import annotations

import pytest

from planflow.core.content.attainment import TargetTally, item_progress, tally, target_progress
from planflow.core.content.items import Item, ItemTarget
from planflow.core.definitions.spec import Target


@pytest.mark.parametrize(
    ("op", "value", "measured", "met", "percent"),
    [
        (">=", 95, 90, False, 94),  # 94.7 % of the way: rounded down, never "95 %"
        (">=", 95, 95, True, 100),
        (">", 60, 60, False, 100),  # reached the figure but not beyond it
        (">", 60, 61, True, 101),
        ("=", 12, 6, False, 50),
        ("<=", 5, 7, False, None),  # a ceiling is met or exceeded: no share of the way
        ("<", 5, 4, True, None),
        (">=", 0, 3, True, None),  # no share of nothing
        (">=", 100, -5, False, 0),
    ],
)
def test_each_target_is_met_or_not_and_how_far(
    op: str, value: float, measured: float, met: bool, percent: int | None
) -> None:
    row = target_progress(ItemTarget("rate", op, value, "%"), measured)
    assert (row.met, row.percent, row.measured) == (met, percent, measured)


def test_item_and_criterion_targets_follow_one_rule() -> None:
    for op in (">=", "<=", "=", ">", "<"):
        for actual in (4.0, 5.0, 6.0):
            assert ItemTarget("m", op, 5).met_by(actual) == Target("m", op, 5).met_by(actual)


def test_each_target_has_the_value_recorded_for_it_or_none() -> None:
    item = Item(
        "k",
        "Build workers' homes",
        targets=(
            ItemTarget("qualified", ">=", 100, "%"),
            ItemTarget("advanced", ">", 60, "%"),
            ItemTarget("model", ">=", 20, "%"),
        ),
    )
    rows = item_progress(item, 100)
    assert [(r.measured, r.met) for r in rows] == [(100.0, True), (None, None), (None, None)]
    assert tally(rows) == TargetTally(met=1, missed=0, unmeasured=2)
    assert tally(item_progress(item, None)).unmeasured == 3
    assert item_progress(Item("k", "No target"), 5.0) == ()
    assert tally(item_progress(item, 99)) + tally(rows) == TargetTally(1, 1, 4)
    # The report's values for the later targets, as far as given.
    later = item_progress(item, 100, [55.0])
    assert [(r.measured, r.met) for r in later] == [(100.0, True), (55.0, False), (None, None)]
    # A value that is no number (never stored, but never a crash) counts as none.
    assert target_progress(item.targets[0], float("nan")).met is None
