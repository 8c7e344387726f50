"""Return to a chosen earlier step (退回到指定节点), through the one change path.

The rules are ``planflow.core.returns``; this service loads what they need
inside ``PlanService.redirect``'s transaction (whoever holds the task now,
the submitter) and tells the people concerned: the plan's submitter ("the
reviewer returned your plan: <reason>") and whoever gets the task of the
state it goes back to. The audit record is ``return_to``, from → to, with
the reason as its comment.
"""

from __future__ import annotations

from planflow.core import returns
from planflow.core.definitions.spec import StateSpec, WorkflowSpec
from planflow.core.intents import Addendum, Notice
from planflow.core.org import OrgSnapshot
from planflow.errors import NotFound
from planflow.services.changes import Change, StepContext
from planflow.services.handover_writer import task_holders
from planflow.services.plans import PlanService
from planflow.storage import plan_store as ps
from planflow.storage.tx import Tx, read_tx

#: The notification kind of a return (``payload``: actor, comment, from, to).
RETURNED = "returned"


class Returns:
    def __init__(self, plans: PlanService) -> None:
        self.plans = plans

    def return_to(
        self,
        plan_id: int,
        target: str,
        actor_id: int,
        comment: str | None,
        expected_version: int | None = None,
    ) -> Change:
        """Send the plan back to ``target``, one of the states its current state's
        ``allows: return_to`` lists; refused with ``return_target_not_allowed``
        for another, ``comment_required`` without a reason."""

        def step(tx: Tx, row: ps.PlanRow, ctx: StepContext) -> Addendum:
            # A task held personally (transferred, approvers added) is its people's
            # to return, as it is theirs to decide (``PlanFacts.task_people``).
            personal = self.plans.task_parts(tx, row, ctx.spec).current()
            holders = task_holders(row, ctx.org) if personal is None else personal
            returns.decide_return(
                ctx.spec,
                row.state,
                target,
                holds_task=actor_id in holders,
                submitted_by=row.submitted_by,
                actor_id=actor_id,
                comment=comment,
            )
            told: set[int] = set()
            if row.submitted_by is not None:
                told.add(row.submitted_by)
            task = ctx.spec.state(target).task
            if task is not None:
                told |= ctx.org.assignees(task.assignee, row.unit_id)
            told.discard(actor_id)
            people = tuple(sorted(p for p in told if p in ctx.org.active_users))
            payload = {"actor": actor_id, "comment": (comment or "")[:500], "from": row.state}
            return Addendum(
                detail={"returned_from": row.state},
                notice=Notice(RETURNED, people, {**payload, "to": target}),
            )

        return self.plans.redirect(
            plan_id,
            returns.RETURN_TO,
            actor_id,
            target,
            check=step,
            comment=comment,
            expected_version=expected_version,
        )

    def options(self, plan_id: int, actor_id: int) -> tuple[StateSpec, ...]:
        """The states ``actor`` may return the plan to now (empty: no return for them).
        A plan they may not see is NotFound."""
        service = self.plans
        with read_tx(service.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None:
                raise NotFound("plan", plan_id)
            spec = service.definitions.spec_for(service.db, row.workflow_name, row.workflow_version)
            org = service.org_cache.get(service.db, row.org_generation)
            if not service.viewers.get(org, actor_id).can_view(row):
                raise NotFound("plan", plan_id)
        return return_targets(spec, org, row, actor_id)


def return_targets(
    spec: WorkflowSpec, org: OrgSnapshot, row: ps.PlanRow, actor_id: int
) -> tuple[StateSpec, ...]:
    """``Returns.options`` from what was loaded."""
    if actor_id not in task_holders(row, org) or actor_id == row.submitted_by:
        return ()
    return returns.targets(spec, row.state)
