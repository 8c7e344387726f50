"""Which phase of a plan's life each state of a definition belongs to.

"Being drafted", "in review", "approved and being carried out", "in
inspection", "accepted" or "ended without approval": derived from the
definition's graph (the point of no return of ``execution.committed_states``,
the ``inspect`` transition, the final states), never from state names, so
committee_plan and future definitions are classed correctly. Pure; the
officers' overview (``planflow.services.overview``) counts plans by these phases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.work_states import INSPECT, committed_states, editable_states, reachable


class Phase(StrEnum):
    """Where a plan stands, in the order a plan moves through them."""

    NONE = "none"  # the unit has no plan for the year
    DROPPED = "dropped"  # ended without approval (withdrawn)
    DRAFTING = "drafting"  # its unit drafts or revises it
    REVIEW = "review"  # submitted, the review is not decided yet
    WORK = "work"  # approved, being carried out (rectification included)
    INSPECTION = "inspection"  # the inspection is scheduled or being judged
    ACCEPTED = "accepted"  # accepted, or archived after that


@dataclass(frozen=True)
class StateClasses:
    phases: Mapping[str, Phase]

    def phase(self, state: str) -> Phase:
        # A state the definition does not name cannot occur; between submission
        # and approval is the least misleading guess if it ever does.
        return self.phases.get(state, Phase.REVIEW)

    def states(self, *phases: Phase) -> frozenset[str]:
        return frozenset(s for s, p in self.phases.items() if p in phases)


_CLASSES: dict[tuple[str, int, str], StateClasses] = {}


def state_classes(spec: WorkflowSpec) -> StateClasses:
    """Every state of ``spec`` with its phase.

    *Approved* is the point of no return and everything reachable from it.
    *Accepted* is what is approved, past the inspection and not awaiting its
    judgement: no ``inspect`` can follow any more (a definition without an
    inspection has nothing to accept after approval: approved counts as
    accepted). *Inspection* is where ``inspect`` starts or leads.
    """
    key = (spec.name, spec.version, spec.digest)
    cached = _CLASSES.get(key)
    if cached is not None:
        return cached
    approved = reachable(spec, committed_states(spec))
    inspect = [t for t in spec.transitions if t.trigger == INSPECT]
    sources = {s for t in inspect for s in t.sources}
    judged = {t.dest for t in inspect}
    accepted = {s for s in approved if s not in judged and not (reachable(spec, {s}) & sources)}
    finals = set(spec.final_states)
    phases: dict[str, Phase] = {}
    for state in spec.state_names:
        if state in accepted:
            phases[state] = Phase.ACCEPTED
        elif state in approved:
            phases[state] = Phase.INSPECTION if state in sources | judged else Phase.WORK
        elif state in finals:
            phases[state] = Phase.DROPPED
        elif state in editable_states(spec):
            phases[state] = Phase.DRAFTING
        else:
            phases[state] = Phase.REVIEW
    classes = StateClasses(phases)
    _CLASSES[key] = classes
    return classes
