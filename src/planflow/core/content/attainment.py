"""How far an item's targets are met: what the progress board and the inspector see.

An item may name several targets ("100% qualified, more than 60% advanced").
A progress report records a measured value for each target (``measured``
for the first, ``more`` for the others); a target with none recorded is
shown as such, never guessed. For each target this says whether the value
meets it and, for a target to reach ("at least 90 %", "more than 6",
"exactly 12"), how much of it is reached (``reached``: 0.85 is 85 % of the
way); a ceiling ("at most 5 %") is met or exceeded, no share. ``tally``
counts an item's or a plan's targets met, missed and without a value.
Pure: no database, no web framework.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from planflow.core.content.items import Item, ItemTarget

#: Targets to reach: a share of the way makes sense for them (not for a ceiling).
_TO_REACH = (">=", ">", "=")


@dataclass(frozen=True, slots=True)
class TargetProgress:
    """One target of an item and the value recorded for it."""

    target: ItemTarget
    #: The value recorded for this target; None: none yet.
    measured: float | None
    #: Whether the value meets the target; None without a value.
    met: bool | None
    #: For a target to reach with a value above 0: measured / value (1.0 or more: reached).
    reached: float | None

    @property
    def percent(self) -> int | None:
        """``reached`` as a whole percentage, rounded down (so 99.6 % is not "100 %")."""
        return None if self.reached is None else math.floor(self.reached * 100 + 1e-9)


@dataclass(frozen=True, slots=True)
class TargetTally:
    met: int = 0
    missed: int = 0
    unmeasured: int = 0

    @property
    def total(self) -> int:
        return self.met + self.missed + self.unmeasured

    def __add__(self, other: TargetTally) -> TargetTally:
        return TargetTally(
            self.met + other.met,
            self.missed + other.missed,
            self.unmeasured + other.unmeasured,
        )


def target_progress(target: ItemTarget, measured: float | None) -> TargetProgress:
    """The target against ``measured`` (None: nothing recorded for it)."""
    if measured is None or not math.isfinite(measured):
        return TargetProgress(target, None, None, None)
    reached = None
    if target.op in _TO_REACH and target.value > 0:
        reached = max(measured, 0.0) / target.value
    return TargetProgress(target, float(measured), target.met_by(measured), reached)


def item_progress(
    item: Item, measured: float | None, more: Sequence[float | None] = ()
) -> tuple[TargetProgress, ...]:
    """Each target of ``item``, in the plan's order: ``measured`` is the first target's
    value, ``more`` the second's and later ones' (a target past them has none)."""
    values = [measured, *more]
    return tuple(
        target_progress(target, values[n] if n < len(values) else None)
        for n, target in enumerate(item.targets)
    )


def tally(rows: Iterable[TargetProgress]) -> TargetTally:
    """How many targets are met, missed, and have no value yet."""
    met = missed = unmeasured = 0
    for row in rows:
        if row.met is None:
            unmeasured += 1
        elif row.met:
            met += 1
        else:
            missed += 1
    return TargetTally(met, missed, unmeasured)
