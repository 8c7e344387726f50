"""Built-in guards: the rules a transition must pass, as plain functions.

A guard returns ``None`` when the transition may go ahead and a sentence for a
person when it may not. Guards only look at ``PlanFacts`` (denormalised
numbers read in the same query as the plan), the actor and the comment, so a
transition needs no extra query to check them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from planflow.core.definitions.spec import GuardRef, TransitionSpec


class PlanFacts(NamedTuple):
    """What the engine may know about a plan when it decides."""

    plan_id: int
    unit_id: int
    state: str
    version: int
    submitted_by: int | None = None
    item_count: int = 0
    items_without_due: int = 0
    revision: int = 0
    #: Users who approved in the current review round (n-of-m approval).
    approvals: frozenset[int] = frozenset()
    #: The open task's role and the units it was escalated to (their holders may act).
    task_role: str | None = None
    task_units: tuple[int, ...] = ()
    #: The current inspection round, when a guard needs it: "unscored",
    #: "passed" (nothing to rectify) or "failed". None: not looked up.
    inspection: str | None = None


@dataclass(slots=True)
class Gate:
    """One decision in progress: inputs, and the reasons collected on refusal."""

    facts: PlanFacts
    actor: int | None
    comment: str | None
    reasons: list[str] = field(default_factory=list)
    #: Set by the last condition of the transition the Machine takes: that
    #: transition, and whether it completed (False for a counted n-of-m vote).
    chosen: tuple[TransitionSpec, bool] | None = None

    def refuse(self, reason: str) -> bool:
        if reason not in self.reasons:
            self.reasons.append(reason)
        return False


GuardFunction = Callable[[Gate, GuardRef], "str | None"]


def has_items(gate: Gate, _ref: GuardRef) -> str | None:
    if gate.facts.item_count < 1:
        return "the plan has no items yet"
    return None


def all_items_have_due_dates(gate: Gate, _ref: GuardRef) -> str | None:
    missing = gate.facts.items_without_due
    if missing:
        return f"{missing} item(s) have no due date or month"
    return None


def comment_required(gate: Gate, _ref: GuardRef) -> str | None:
    if not (gate.comment and gate.comment.strip()):
        return "a comment giving the reason is required"
    return None


def not_self(gate: Gate, _ref: GuardRef) -> str | None:
    # Separation of duties: whoever submitted the plan may not review,
    # approve or inspect it. The system (actor None) is nobody's submitter.
    submitter = gate.facts.submitted_by
    if gate.actor is not None and submitter is not None and gate.actor == submitter:
        return "you submitted this plan, so someone else must act on it"
    return None


def inspection_scored(gate: Gate, _ref: GuardRef) -> str | None:
    if gate.facts.inspection not in ("passed", "failed"):
        return "the inspector has not scored every criterion of this inspection yet"
    return None


def inspection_passed(gate: Gate, _ref: GuardRef) -> str | None:
    status = gate.facts.inspection
    if status == "passed":
        return None
    if status == "failed":
        return (
            "the inspection did not pass (a mandatory criterion failed, the total is too low "
            "or there are points to rectify)"
        )
    return "the inspector has not scored every criterion of this inspection yet"


BUILTIN_GUARDS: dict[str, GuardFunction] = {
    "has_items": has_items,
    "all_items_have_due_dates": all_items_have_due_dates,
    "comment_required": comment_required,
    "not_self": not_self,
    "inspection_scored": inspection_scored,
    "inspection_passed": inspection_passed,
}

#: Guards that need a fact the plan row does not carry, and which fact.
FACT_GUARDS: dict[str, str] = {
    "inspection_scored": "inspection",
    "inspection_passed": "inspection",
}


def check_all(gate: Gate, refs: tuple[GuardRef, ...]) -> bool:
    """Run every guard (not just up to the first failure) so all reasons show."""
    ok = True
    for ref in refs:
        reason = BUILTIN_GUARDS[ref.name](gate, ref)
        if reason is not None:
            ok = gate.refuse(reason)
    return ok
