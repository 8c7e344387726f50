"""What a shared task and its copies write when a plan changes.

A task may be held in parts (a transfer, an added approver: ``core.handover``):
a decision by one holder whose part is not the last only countersigns
(``countersigns``, ``countersign``), and the parts end with the task. A
transition may copy people in by role (a definition's ``cc:``), and a plan
that ends ends its copies (``write_handover``, one of the change writers).
``task_holders`` is who holds a plan's open task now, for the notices of
those it leaves.
"""

from __future__ import annotations

from typing import Any

from planflow.core import handover
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.engine import Decision
from planflow.core.handover import TaskParts
from planflow.core.intents import Addendum, Notice
from planflow.core.notes import COPIED_BY_DEFINITION, COUNTERSIGNED, note
from planflow.core.org import OrgSnapshot
from planflow.services.changes import Change, write_notice
from planflow.storage import handover_sql as hs
from planflow.storage import plan_store as ps
from planflow.storage.tx import Tx


def countersigns(spec: WorkflowSpec, parts: TaskParts, decision: Decision, actor_id: int) -> bool:
    """Whether a decision only completes the actor's part of a shared task (a
    reviewer above, acting on an escalated task, decides for all of it)."""
    return (
        parts.personal
        and any(p.user_id == actor_id for p in parts.parts)
        and decision.changes_state
        and not handover.is_return(spec, decision.transition)
        and not parts.last_to_decide(actor_id)
    )


def countersign(
    tx: Tx,
    row: ps.PlanRow,
    org: OrgSnapshot,
    parts: TaskParts,
    actor_id: int,
    decision: Decision,
    at: Any,
) -> Addendum:
    after = TaskParts(handover.decided(parts, actor_id))
    hs.save_parts(tx, row.id, after.parts, at)
    waiting = tuple(sorted(after.current() or ()))
    said = note(COUNTERSIGNED, by=org.usernames.get(actor_id, "?"))
    return Addendum(
        detail={"trigger": decision.transition.trigger, "waiting_for": list(waiting)},
        notice=Notice(
            handover.COUNTERSIGN, waiting, {"trigger": decision.transition.trigger, "note": said}
        ),
    )


def write_handover(tx: Tx, change: Change) -> None:
    """The parts of a task end with it; a plan that ends ends its CCs; a
    transition's ``cc:`` copies its roles (read only where a definition has them)."""
    if not change.changes_state:
        return
    spec = change.spec
    if change.from_state in spec.state_names:
        allows = spec.state(change.from_state).allows
        held = allows.transfer is not None or bool(allows.add_approver)
        if held and change.had_task_parts is not False:
            hs.clear_parts(tx, change.plan_id)
    decision = change.decision
    if decision is not None and decision.transition.cc:
        org = change.org
        people: set[int] = set()
        for ref in decision.transition.cc:
            people |= org.assignees(ref, change.unit_id)
        people.discard(change.actor_id or 0)
        copied = tuple(sorted(p for p in people if p in org.active_users))
        if copied:
            hs.add_cc(tx, change.plan_id, copied, None, change.at_db)
            said = note(COPIED_BY_DEFINITION)
            write_notice(tx, change, Notice(handover.CC, copied, {"fixed": True, "note": said}))
    if change.to_state in spec.final_states and _copies(spec):
        hs.end_cc(tx, change.plan_id)


def _copies(spec: WorkflowSpec) -> bool:
    return any(s.allows.cc for s in spec.states) or any(t.cc for t in spec.transitions)


def task_holders(row: ps.PlanRow, org: OrgSnapshot) -> frozenset[int]:
    """Who holds the plan's open task now: its role where it waits and where it was
    escalated to (active people only)."""
    if row.task_role is None:
        return frozenset()
    people: set[int] = set()
    for unit_id in (row.task_unit_id, row.task_escalated_unit_id):
        if unit_id is not None:
            people |= org.holders(row.task_role, unit_id)
    return frozenset(p for p in people if p in org.active_users)
