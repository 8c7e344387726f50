"""Return to a chosen earlier step (退回到指定节点): the rules, without storage.

A waiting state may declare ``allows: return_to: [states]``: whoever holds
its task may send the plan back to one of those earlier states, with a
reason. It is no transition of the state machine (the reviewer picks the
target), so the service moves the plan itself once ``decide_return`` has
allowed it; the audit record's action is ``return_to``.

With ``return_to_returner: true``, the plan's next submission from the state
it was returned to skips the steps it had already passed and lands back in
the returning state (``come_back``).
"""

from __future__ import annotations

from typing import NamedTuple

from planflow.core.definitions.spec import StateSpec, WorkflowSpec
from planflow.core.engine import Decision
from planflow.core.guards import COMMENT_REQUIRED
from planflow.errors import ActionNotAllowed, GuardFailed, PermissionDenied, Refusal

RETURN_TO = "return_to"


class LastMove(NamedTuple):
    """The plan's last change of state, from its audit trail."""

    action: str
    from_state: str
    to_state: str
    actor_id: int | None


def targets(spec: WorkflowSpec, state: str) -> tuple[StateSpec, ...]:
    """The states a plan in ``state`` may be returned to, in the definition's order."""
    try:
        allowed = spec.state(state).return_to
    except KeyError:
        return ()
    return tuple(spec.state(name) for name in allowed)


def decide_return(
    spec: WorkflowSpec,
    state: str,
    target: str,
    *,
    holds_task: bool,
    submitted_by: int | None,
    actor_id: int,
    comment: str | None,
) -> None:
    """Refuse a return, or let it pass (nothing to return: the move is the target).

    ``holds_task``: the actor holds the state's task (where it waits or was
    escalated to). Every failing check is reported at once, as for guards.
    """
    allowed = [s.name for s in targets(spec, state)]
    if not allowed:
        raise ActionNotAllowed(RETURN_TO, state, [])
    if not holds_task:
        task = spec.state(state).task
        assert task is not None, "validation: return_to needs a waiting state"
        raise PermissionDenied(RETURN_TO, task.assignee.role, task.assignee.at.describe())
    refusals: list[Refusal] = []
    if target not in allowed:
        refusals.append(
            Refusal(
                "return_target_not_allowed",
                {"state": state, "target": target, "allowed": allowed},
                "from {state} the plan may be returned only to: {allowed}",
            )
        )
    if not (comment and comment.strip()):
        refusals.append(COMMENT_REQUIRED)
    if submitted_by is not None and actor_id == submitted_by:
        refusals.append(
            Refusal(
                "not_self",
                {"submitted_by": submitted_by},
                "you submitted this plan, so someone else must act on it",
            )
        )
    if refusals:
        raise GuardFailed(RETURN_TO, refusals)


def comes_back(spec: WorkflowSpec) -> bool:
    """Whether any state sends its returned plans straight back on resubmission."""
    return any(s.return_to_returner for s in spec.states)


def come_back(spec: WorkflowSpec, decision: Decision, last: LastMove | None) -> Decision:
    """A submission after a return: straight back to the returning state when it
    says so and the plan is resubmitted from where it was returned to."""
    if last is None or last.action != RETURN_TO or last.to_state != decision.from_state:
        return decision
    if not decision.changes_state:
        return decision
    try:
        returner = spec.state(last.from_state)
    except KeyError:  # a state of an older version of the definition
        return decision
    if not returner.return_to_returner or last.from_state == decision.to_state:
        return decision
    return decision._replace(to_state=last.from_state)
