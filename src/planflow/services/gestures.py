"""Gestures of the submitter's side around a waiting task: recall and urge.

*Recall* (撤回) is a transition the definition declares (``recall`` with the
guard ``not_acted_on``); this module provides the fact that guard reads:
the first decision someone other than the submitter took on the plan since
its last submission (``acted_on_fact``, wired by the facade).

*Urge* (催办) is no transition: the plan stays where it is, and the people who
hold its open task are reminded now, through the same notifications (and
e-mail outbox) as the scheduler's reminders. It runs through
``PlanService.mutate`` like every change to a plan: the version check, an
audit record (``urge``) and the notices in one transaction. At most one urge
per task per ``urge: {every_hours: n}`` of the definition (24 by default);
the effect key (``urge:<plan>:<seq of the task's start or its last urge>``)
makes two urges decided on the same history one, whatever the timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from planflow.core.definitions.spec import RoleRef, WorkflowSpec
from planflow.core.intents import NOTE, Addendum, Notice
from planflow.core.org import OrgSnapshot
from planflow.errors import GuardFailed, NotFound, PermissionDenied, PlanflowError, Refusal
from planflow.services.changes import Change, EffectAlreadyApplied, StepContext
from planflow.services.handover import holders_now
from planflow.services.handover_writer import task_holders
from planflow.services.plans import PlanService
from planflow.storage import gesture_sql as gs
from planflow.storage import plan_store as ps
from planflow.storage.tx import Tx, read_tx
from planflow.views import UrgeOption

URGE = "urge"


@dataclass(frozen=True, slots=True)
class UrgePlan:
    """An urge decided: who is told, and the key that makes it happen once."""

    recipients: tuple[int, ...]
    key: str


def acted_on_fact(tx: Tx, row: ps.PlanRow, spec: WorkflowSpec) -> dict[str, Any]:
    """The first decision on the plan since its last submission by someone other
    than its submitter, or ``{}``. Decisions are the definition's transitions (a
    counted vote too); comments, urges, reminders and escalations are not."""
    if row.revision < 1:
        return {}
    return acted_on_in(gs.round_records(tx, row.id, row.revision), row, spec)


def acted_on_from_trail(
    records: Iterable[Any], row: ps.PlanRow, spec: WorkflowSpec
) -> dict[str, Any]:
    """``acted_on_fact`` from the plan's whole trail (audit rows, oldest first), read
    already: its people's records of the current round are the ones it reads."""
    if row.revision < 1:
        return {}
    this_round = (r for r in records if r.revision == row.revision and r.actor_id is not None)
    return acted_on_in(this_round, row, spec)


def acted_on_in(records: Iterable[Any], row: ps.PlanRow, spec: WorkflowSpec) -> dict[str, Any]:
    """The first decision among ``records`` (a round's, oldest first) by someone other
    than the plan's submitter, or ``{}``."""
    for record in records:
        if record.actor_id != row.submitted_by and (
            spec.transition_named(record.action) or record.action == "countersign"
        ):
            return {
                "acted_by": record.actor_id,
                "action": record.action,
                "at": record.at.isoformat(),
            }
    return {}


def urgers(spec: WorkflowSpec) -> tuple[RoleRef, ...]:
    """Who may urge a plan's task besides its submitter: whoever may create it
    (its drafters) and whoever may submit it (its chair)."""
    submitting = tuple(t.actor for t in spec.transitions if t.submission and t.actor)
    return tuple(dict.fromkeys((spec.creator, *submitting)))


def may_urge(spec: WorkflowSpec, org: OrgSnapshot, row: ps.PlanRow, actor_id: int) -> bool:
    if actor_id not in org.active_users:
        return False
    if actor_id == row.submitted_by:
        return True
    for ref in urgers(spec):
        unit = org.resolve(ref, row.unit_id)
        if unit is not None and actor_id in org.holders(ref.role, unit):
            return True
    return False


def plan_urge(
    spec: WorkflowSpec,
    org: OrgSnapshot,
    row: ps.PlanRow,
    actor_id: int,
    mark: gs.TaskMark | None,
    now: datetime,
    holders: frozenset[int] | None = None,
) -> UrgePlan:
    """Decide an urge from what was loaded, or raise why not (nothing is written).
    ``holders``: who holds the task now (a task handed on: its people; default:
    the holders of its role)."""
    if not may_urge(spec, org, row, actor_id):
        ref = spec.creator
        raise PermissionDenied(URGE, "submitter", f"or {ref.role} {ref.at.describe()}")
    if holders is None:
        holders = task_holders(row, org)
    recipients = tuple(sorted(holders - {actor_id}))
    if not recipients:
        raise GuardFailed(
            URGE,
            [Refusal("nothing_to_urge", {"state": row.state}, "nobody else holds a task on it")],
        )
    if mark is not None and mark.urged:
        next_at = mark.at + timedelta(hours=spec.urge_every_hours)
        if now < next_at:
            raise GuardFailed(
                URGE,
                [
                    Refusal(
                        "urge_too_soon",
                        {"next_at": next_at.isoformat(), "hours": spec.urge_every_hours},
                        "already urged; the next urge is possible at {next_at}",
                    )
                ],
            )
    return UrgePlan(recipients, f"{URGE}:{row.id}:{mark.seq if mark else 0}")


class Gestures:
    def __init__(self, plans: PlanService) -> None:
        self.plans = plans

    def urge(self, plan_id: int, actor_id: int, comment: str | None = None) -> Change:
        """Remind the holders of the plan's open task now; refused with
        ``urge_too_soon{next_at}`` within the definition's interval of the last."""

        def step(tx: Tx, row: ps.PlanRow, ctx: StepContext) -> Addendum:
            due = _task_due(tx, row)
            holders = holders_now(row, ctx.org, self.plans.task_parts(tx, row, ctx.spec))
            mark = gs.task_mark(tx, row.id)
            decided = plan_urge(ctx.spec, ctx.org, row, actor_id, mark, ctx.at, holders)
            payload = {"due_at": due, "actor": actor_id, "comment": (comment or "")[:500]}
            return Addendum(
                detail={"urged": list(decided.recipients)},
                notice=Notice(URGE, decided.recipients, payload),
                effect_key=decided.key,
            )

        try:
            return self.plans.mutate(plan_id, URGE, actor_id, NOTE, check=step, comment=comment)
        except EffectAlreadyApplied:
            # Another urge was decided on the same history and committed first:
            # decided again now, this one is refused with the time of the next.
            return self.plans.mutate(plan_id, URGE, actor_id, NOTE, check=step, comment=comment)

    def urge_option(self, plan_id: int, actor_id: int) -> UrgeOption | None:
        """None when the user may never urge this plan (not theirs to urge, no
        task); else whether they may now. A plan they may not see is NotFound."""
        service = self.plans
        with read_tx(service.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None:
                raise NotFound("plan", plan_id)
            spec = service.definitions.spec_for(service.db, row.workflow_name, row.workflow_version)
            org = service.org_cache.get(service.db, row.org_generation)
            if not service.viewers.get(org, actor_id).can_view(row):
                raise NotFound("plan", plan_id)
            holders = holders_now(row, org, service.task_parts(tx, row, spec))
            return urge_option_of(
                spec,
                org,
                row,
                actor_id,
                holders,
                service.clock.now(),
                lambda: gs.task_mark(tx, row.id),
            )


def urge_option_of(
    spec: WorkflowSpec,
    org: OrgSnapshot,
    row: ps.PlanRow,
    actor_id: int,
    holders: frozenset[int],
    now: datetime,
    mark: Callable[[], gs.TaskMark | None],
) -> UrgeOption | None:
    """``Gestures.urge_option`` from what was loaded; ``mark`` reads the task's
    history, only for someone who may urge the plan at all."""
    if not may_urge(spec, org, row, actor_id):
        return None  # as ``plan_urge`` refuses them first: never theirs to urge
    try:
        decided = plan_urge(spec, org, row, actor_id, mark(), now, holders)
    except GuardFailed as refused:
        if refused.codes == ("nothing_to_urge",):
            return None
        return UrgeOption(len(holders - {actor_id}), refused.refusals[0])
    except PlanflowError:
        return None
    return UrgeOption(len(decided.recipients))


def _task_due(tx: Tx, row: ps.PlanRow) -> str | None:
    _found, due = ps.load_task_due(tx, row.id, row.version)
    return due.isoformat() if due is not None else None
