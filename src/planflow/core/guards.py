"""Built-in guards: the rules a transition must pass, as plain functions.

A guard returns ``None`` when the transition may go ahead and a ``Refusal``
(a stable code, its parameters and an English sentence) when it may not;
clients translate the code. Guards only look at ``PlanFacts`` (denormalised
numbers read in the same query as the plan), the actor and the comment, so a
transition needs no extra query to check them; a guard that needs more names
the facts it needs, and their providers are asked only in the states whose
transitions have such a guard (``planflow.core.guard_registry``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from planflow.core.definitions.spec import GuardRef, ScoringSheet, TransitionSpec
from planflow.errors import Refusal


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
    #: Who holds the open task personally (a transfer, added approvers:
    #: ``core.handover``); None: the holders of its role.
    task_people: frozenset[int] | None = None
    #: The current inspection round, when a guard needs it: "unrecorded" (the
    #: inspector has scored nothing yet), "unscored" (some criteria are not
    #: scored), "passed" (nothing to rectify) or "failed". None: not looked up.
    inspection: str | None = None
    #: Other facts the guards of this state need, by name (``GuardRegistry.provide``).
    extra: Mapping[str, object] = MappingProxyType({})
    #: When ``inspection`` is "failed": why, as the ``inspection_failed`` refusal's
    #: params (``InspectionFact.why``); empty when not known.
    inspection_why: Mapping[str, Any] = MappingProxyType({})

    def fact(self, name: str) -> object:
        """A fact by name: ``inspection`` or one a registered provider computed."""
        if name == "inspection":
            return self.inspection
        return self.extra.get(name)


class InspectionFact(NamedTuple):
    """The fact ``inspection`` as its provider gives it: the round's state and, when the
    scoring sheet did not pass, why (``why_not_passed``: the refusal's params)."""

    status: str
    why: Mapping[str, Any] = MappingProxyType({})


def why_not_passed(sheet: ScoringSheet, rectify: Iterable[str], total: float) -> dict[str, Any]:
    """The params of ``inspection_failed``: the criteria to rectify (``rectify``, codes),
    each ``{"code", "text"}`` with its text by language as the sheet has it, in the
    sheet's order; and ``total`` and ``pass_mark`` when the inspector's total is below
    the lowest grade's threshold. Codes and values only: each client words them."""
    wanted = set(rectify)
    criteria = [
        {"code": cr.code, "text": dict(cr.text.texts)}
        for cr in sheet.criteria()
        if cr.code in wanted
    ]
    why: dict[str, Any] = {"criteria": criteria}
    pass_mark = min((g.min_score for g in sheet.grades), default=None)
    if pass_mark is not None and total < pass_mark:
        why |= {"total": total, "pass_mark": pass_mark}
    return why


@dataclass(slots=True)
class Gate:
    """One decision in progress: inputs, and the reasons collected on refusal."""

    facts: PlanFacts
    actor: int | None
    comment: str | None
    reasons: list[Refusal] = field(default_factory=list)
    #: Set by the last condition of the transition the Machine takes: that
    #: transition, and whether it completed (False for a counted n-of-m vote).
    chosen: tuple[TransitionSpec, bool] | None = None

    def refuse(self, reason: Refusal) -> bool:
        if reason not in self.reasons:
            self.reasons.append(reason)
        return False


GuardFunction = Callable[[Gate, GuardRef], "Refusal | None"]


@dataclass(frozen=True)
class Guard:
    """A guard by name: its function and the facts it needs beyond the plan row."""

    name: str
    function: GuardFunction
    needs: frozenset[str] = frozenset()


#: The built-in refusals, one per code (``docs/codes.md``).
NO_ITEMS = Refusal("no_items", {}, "the plan has no items yet")
COMMENT_REQUIRED = Refusal("comment_required", {}, "a comment giving the reason is required")
INSPECTION_UNRECORDED = Refusal(
    "inspection_unrecorded",
    {},
    "the inspector has not recorded any score of this inspection yet",
)
INSPECTION_UNSCORED = Refusal(
    "inspection_unscored", {}, "the inspector has not scored every criterion of this inspection yet"
)
INSPECTION_FAILED = Refusal(
    "inspection_failed",
    {},
    "the inspection did not pass (a mandatory criterion failed, the total is too low "
    "or there are points to rectify)",
)
ALREADY_VOTED = Refusal("already_voted", {}, "you have already approved in this review round")
CONDITIONS_NOT_MET = Refusal("conditions_not_met", {}, "the transition's conditions are not met")


def has_items(gate: Gate, _ref: GuardRef) -> Refusal | None:
    return NO_ITEMS if gate.facts.item_count < 1 else None


def all_items_have_due_dates(gate: Gate, _ref: GuardRef) -> Refusal | None:
    missing = gate.facts.items_without_due
    if missing:
        return Refusal(
            "items_without_due", {"count": missing}, "{count} item(s) have no due date or month"
        )
    return None


def comment_required(gate: Gate, _ref: GuardRef) -> Refusal | None:
    if not (gate.comment and gate.comment.strip()):
        return COMMENT_REQUIRED
    return None


def not_self(gate: Gate, _ref: GuardRef) -> Refusal | None:
    # Separation of duties: whoever submitted the plan may not review,
    # approve or inspect it. The system (actor None) is nobody's submitter.
    submitter = gate.facts.submitted_by
    if gate.actor is not None and submitter is not None and gate.actor == submitter:
        return Refusal(
            "not_self",
            {"submitted_by": submitter},
            "you submitted this plan, so someone else must act on it",
        )
    return None


#: The fact ``not_acted_on`` reads: the first decision someone other than the
#: submitter took on the plan since its last submission, as
#: ``{"acted_by": user id, "action": trigger, "at": ISO time}``; ``{}`` when
#: nobody did; None when it was not looked up (then the guard refuses).
ACTED_ON = "acted_on"


def not_acted_on(gate: Gate, _ref: GuardRef) -> Refusal | None:
    # A recall takes back what nobody has looked at yet: once a reviewer has
    # decided anything (started the review, voted), taking it back would
    # pull the ground from under them.
    acted = gate.facts.fact(ACTED_ON)
    if not isinstance(acted, Mapping):
        return CONDITIONS_NOT_MET
    if acted:
        return Refusal(
            "recall_too_late",
            {
                "acted_by": acted.get("acted_by"),
                "action": acted.get("action"),
                "at": acted.get("at"),
            },
            "too late to recall: someone else decided on it ({action}) at {at}",
        )
    return None


def inspection_recorded(gate: Gate, _ref: GuardRef) -> Refusal | None:
    if gate.facts.inspection not in ("unscored", "passed", "failed"):
        return INSPECTION_UNRECORDED
    return None


def inspection_scored(gate: Gate, _ref: GuardRef) -> Refusal | None:
    if gate.facts.inspection not in ("passed", "failed"):
        return INSPECTION_UNSCORED
    return None


def inspection_passed(gate: Gate, _ref: GuardRef) -> Refusal | None:
    status = gate.facts.inspection
    if status == "passed":
        return None
    return (
        inspection_failed(gate.facts.inspection_why) if status == "failed" else INSPECTION_UNSCORED
    )


def inspection_failed(why: Mapping[str, Any]) -> Refusal:
    """``inspection_failed`` with its params (``why_not_passed``); the English sentence,
    for logs and the command line, names the criteria in English."""
    if not why:
        return INSPECTION_FAILED
    parts = []
    criteria = [c for c in why.get("criteria", ()) if isinstance(c, Mapping)]
    if criteria:
        named = ", ".join(_criterion_words(c) for c in criteria)
        parts.append(f"criteria to rectify: {named}")
    if "total" in why and "pass_mark" in why:
        parts.append(f"the total {why['total']:g} is below the pass mark {why['pass_mark']:g}")
    sentence = "the inspection did not pass" + (f" ({'; '.join(parts)})" if parts else "")
    # Braces from a criterion's text must not read as fields of the template.
    return Refusal("inspection_failed", why, sentence.replace("{", "{{").replace("}", "}}"))


def _criterion_words(criterion: Mapping[str, Any]) -> str:
    code = str(criterion.get("code", ""))
    texts = criterion.get("text")
    text = texts.get("en") if isinstance(texts, Mapping) else None
    return f"{code} {text}" if text else code


#: The guards every registry starts with (``planflow.core.guard_registry``).
BUILTIN_GUARDS: tuple[Guard, ...] = (
    Guard("has_items", has_items),
    Guard("all_items_have_due_dates", all_items_have_due_dates),
    Guard("comment_required", comment_required),
    Guard("not_self", not_self),
    Guard("inspection_recorded", inspection_recorded, frozenset({"inspection"})),
    Guard("inspection_scored", inspection_scored, frozenset({"inspection"})),
    Guard("inspection_passed", inspection_passed, frozenset({"inspection"})),
    Guard("not_acted_on", not_acted_on, frozenset({ACTED_ON})),
)
