"""The comments people gave with their decisions: return reasons, approval notes.

A reviewer's reason for returning a plan is written with the transition and
kept in the audit trail, not in the comments table; a branch looking for the
reviewer's reasons looks among the comments. This reads them from the trail:
every record of a workflow action (a transition of the plan's definition, or
a return to an earlier state) that a person took with a comment. Records the
system wrote (timers, rounds) and records whose text is a coded note are not
a person's words and are left out; plain comments are the comments table's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.ids import is_id
from planflow.core.notes import of_detail
from planflow.core.returns import RETURN_TO
from planflow.services.plans import PlanService
from planflow.storage.audit_keys import of_plan
from planflow.storage.audit_repo import audit_t
from planflow.storage.tables import Plan

plan_t = Plan.__table__  # type: ignore[attr-defined]
#: The trail's record of a plain comment (one per row of the comments table).
COMMENTED = "comment"

#: The two statements, built once (the plan page reads them on every view).
_DEFINITION = select(plan_t.c.workflow_name, plan_t.c.workflow_version).where(
    plan_t.c.id == bindparam("plan_id")
)
_COMMENTED = (
    select(audit_t)
    .where(
        of_plan(audit_t.c.id, bindparam("plan_id")),
        audit_t.c.actor_id.is_not(None),
        audit_t.c.comment.is_not(None),
    )
    .order_by(audit_t.c.id)
)


@dataclass(frozen=True, slots=True)
class DecisionComment:
    """A person's comment on a decision, as the audit trail keeps it."""

    seq: int
    actor_id: int
    action: str
    #: The state the decision left the plan in.
    state: str
    comment: str
    revision: int
    at: datetime
    #: How many of the plan's own comments the trail holds before this decision:
    #: where it goes among them (their times can be equal; the trail's order is exact).
    after_comments: int = 0


def decision_comments(service: PlanService, plan_id: int) -> list[DecisionComment]:
    """The plan's decisions that came with a person's comment, oldest first."""
    if not is_id(plan_id):  # names no plan; the driver would overflow on it
        return []
    # One connection for both reads.
    with service.db.read() as conn:
        plan = conn.execute(_DEFINITION, {"plan_id": plan_id}).first()
        if plan is None:  # as the comments table answers for it: nothing written
            return []
        records = conn.execute(_COMMENTED, {"plan_id": plan_id}).all()
    spec = service.definitions.spec_for(service.db, plan.workflow_name, plan.workflow_version)
    return decisions_in(records, spec)


def decisions_in(records: Iterable[Any], spec: WorkflowSpec) -> list[DecisionComment]:
    """The decisions with a person's comment among ``records`` (audit rows of one plan,
    oldest first: the whole trail, or only the people's records with a comment)."""
    decisions = {t.trigger for t in spec.transitions} | {RETURN_TO}
    found = []
    comments = 0
    for r in records:
        if r.actor_id is None or r.comment is None:
            continue  # the system's records; a person's without words
        if r.action == COMMENTED:  # a row of the comments table, in the trail's order
            comments += 1
        elif r.action in decisions and r.comment.strip() and of_detail(r.detail) is None:
            found.append(
                DecisionComment(
                    r.seq, r.actor_id, r.action, r.to_state, r.comment, r.revision, r.at, comments
                )
            )
    return found
