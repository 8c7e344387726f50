"""Bulk approve / return from the review queue: each plan its own transition.

Bulk approval that bypasses the workflow had to be removed elsewhere (frappe
#8323): here every selected plan goes through ``PlanService`` on its own, in
its own transaction, with its own permission, guard and version check (the
version the reviewer saw in the queue). A plan is either fully done or not
touched at all; one refused plan does not stop the others. The result lists
every plan: done (its new state and version) or refused (code and params).
"""

from __future__ import annotations

from collections.abc import Sequence

from planflow.core.ids import MAX_ID
from planflow.errors import PlanflowError, ValidationError
from planflow.services.changes import Change
from planflow.services.plans import PlanService
from planflow.services.returns import Returns
from planflow.views import BulkOutcome

#: What a bulk action may be: approve, or return for revision.
BULK_ACTIONS = ("approve", "return")
#: The trigger a bulk action fires (``return`` to a chosen state uses ``return_to``).
TRIGGERS = {"approve": "approve", "return": "return_for_revision"}
#: The most plans one bulk action takes (a queue page).
MAX_BULK = 100


def check_selection(items: Sequence[tuple[int, int]], action: str) -> None:
    """Refuse a selection that cannot be meant (nothing is done then)."""
    if action not in BULK_ACTIONS:
        raise ValidationError(
            f"unknown bulk action {action!r}; use approve or return",
            code="bulk_action_unknown",
            params={"action": action, "allowed": list(BULK_ACTIONS)},
        )
    if not items:
        raise ValidationError("select at least one plan", code="bulk_empty", params={})
    if len(items) > MAX_BULK:
        raise ValidationError(
            f"at most {MAX_BULK} plans at once, not {len(items)}",
            code="bulk_too_many",
            params={"max": MAX_BULK, "count": len(items)},
        )
    seen: set[int] = set()
    for plan_id, version in items:
        if not (1 <= plan_id <= MAX_ID and 0 <= version <= MAX_ID):
            raise ValidationError(
                f"not a plan and version: {plan_id}@{version}",
                code="bulk_bad_item",
                params={"plan_id": plan_id, "version": version},
            )
        if plan_id in seen:
            raise ValidationError(
                f"plan {plan_id} is selected twice",
                code="bulk_duplicate",
                params={"plan_id": plan_id},
            )
        seen.add(plan_id)


class Bulk:
    def __init__(self, plans: PlanService, returns: Returns) -> None:
        self.plans = plans
        self.returns = returns

    def run(
        self,
        items: Sequence[tuple[int, int]],
        action: str,
        actor_id: int,
        comment: str | None,
        *,
        return_to: str | None = None,
    ) -> list[BulkOutcome]:
        """``action`` on each ``(plan_id, expected_version)``, in the order given.

        ``return`` fires the definition's ``return_for_revision``, or with
        ``return_to`` sends each plan back to that state (``Returns``).
        """
        check_selection(items, action)
        outcomes = []
        for plan_id, version in items:
            try:
                change = self._one(plan_id, version, action, actor_id, comment, return_to)
            except PlanflowError as refused:
                outcomes.append(
                    BulkOutcome(
                        plan_id,
                        False,
                        code=refused.code,
                        params=dict(refused.params),
                        message=str(refused),
                    )
                )
                continue
            outcomes.append(BulkOutcome(plan_id, True, change.to_state, change.new_version))
        return outcomes

    def _one(
        self,
        plan_id: int,
        version: int,
        action: str,
        actor_id: int,
        comment: str | None,
        return_to: str | None,
    ) -> Change:
        if action == "return" and return_to is not None:
            return self.returns.return_to(plan_id, return_to, actor_id, comment, version)
        return self.plans.fire(plan_id, TRIGGERS[action], actor_id, comment, version)
