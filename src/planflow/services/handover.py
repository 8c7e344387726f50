"""Transfer (转交), add an approver (加签) and CC (抄送): the library's side.

None of them is a transition: the plan stays in its state. Each runs through
``PlanService.mutate`` like every change to a plan — the lock, the version
check, one audit record (``transfer``, ``add_approver``, ``cc``, with a note
in code and parameters), the notices — in one transaction.

Only the holder of the task may hand it on or copy people, and only as the
waiting state's ``allows:`` says. The task's personal parts
(``core.handover``) are what the engine then lets act (``PlanFacts.task_people``);
``PlanService`` records a forward decision that is not the task's last as a
co-signature and removes the parts when the plan leaves the state
(``write_handover``). A copied person may read the plan until it ends
(``services.visibility``, rule 4) and their first read is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from planflow.core import handover as ho
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.intents import NOTE, Addendum, Notice
from planflow.core.notes import note
from planflow.core.org import OrgSnapshot
from planflow.errors import GuardFailed, NotFound, PlanflowError, Refusal
from planflow.services.changes import Change, StepContext
from planflow.services.handover_writer import task_holders
from planflow.services.plans import PlanService
from planflow.storage import handover_sql as hs
from planflow.storage import plan_store as ps
from planflow.storage.tx import Tx, read_tx, write_tx
from planflow.views import CcReceipt, HandoverOptions


def unit_people(org: OrgSnapshot, unit_id: int) -> frozenset[int]:
    """Every active user holding any role at ``unit_id``."""
    people: set[int] = set()
    for (unit, _role), holders in org.holders_by_unit_role.items():
        if unit == unit_id:
            people |= holders
    return frozenset(p for p in people if p in org.active_users)


#: How many people the add-an-approver and CC forms suggest at most.
SUGGESTED = 50


def _suggested(org: OrgSnapshot, row: ps.PlanRow, excluded: set[int | None]) -> tuple[str, ...]:
    """The people a holder would likely add or copy, nearest first: those of the task's
    unit, then of the plan's unit and every unit above it (no one else is refused)."""
    units = [row.task_unit_id] if row.task_unit_id is not None else []
    units += [row.unit_id, *org.ancestors(row.unit_id)]
    out: list[str] = []
    for unit in dict.fromkeys(units):
        for user in sorted(unit_people(org, unit), key=lambda u: org.usernames.get(u, "")):
            name = org.usernames.get(user)
            if name is not None and user not in excluded and name not in out:
                out.append(name)
    return tuple(out[:SUGGESTED])


def holders_now(row: ps.PlanRow, org: OrgSnapshot, parts: ho.TaskParts) -> frozenset[int]:
    """Who may act on the plan's task now: its personal parts' current group, or
    the holders of its role."""
    current = parts.current()
    return current if current is not None else task_holders(row, org)


def _refuse(gesture: str, code: str, text: str, **params: Any) -> GuardFailed:
    return GuardFailed(gesture, [Refusal(code, params, text)])


def check_person(action: str, org: OrgSnapshot, user_id: int) -> None:
    if user_id not in org.usernames:
        raise _refuse(action, "unknown_user", "there is no user {user}", user=user_id)
    if user_id not in org.active_users:
        raise _refuse(action, "inactive_user", "{user} is not active", user=user_id)


class Handover:
    def __init__(self, plans: PlanService) -> None:
        self.plans = plans

    # -- the three gestures -------------------------------------------------------

    def transfer(
        self,
        plan_id: int,
        actor_id: int,
        target_id: int,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Change:
        """Hand the task to ``target_id``: refused unless the actor holds it, the
        state allows a transfer and the target may take it (``allows.transfer``)."""

        def step(tx: Tx, row: ps.PlanRow, ctx: StepContext) -> Addendum:
            allows, parts = self._holding(tx, row, ctx, actor_id, ho.TRANSFER)
            to = allows.transfer
            if to is None:
                raise _not_allowed(ho.TRANSFER, row.state)
            org = ctx.org
            check_person(ho.TRANSFER, org, target_id)
            if target_id == actor_id:
                raise _refuse(ho.TRANSFER, "transfer_to_self", "you hold the task already")
            if target_id == row.submitted_by:
                raise _refuse(
                    ho.TRANSFER,
                    "transfer_to_submitter",
                    "{user} submitted the plan and may not decide on it",
                    user=target_id,
                )
            unit = row.task_unit_id
            assert unit is not None and row.task_role is not None  # _holding checked the task
            if to == "role" and target_id not in org.holders(row.task_role, unit):
                raise _refuse(
                    ho.TRANSFER,
                    "transfer_target_lacks_role",
                    "{user} does not hold the role {role} where the task waits",
                    user=target_id,
                    role=row.task_role,
                    unit=org.unit(unit).code,
                )
            if to == "unit" and target_id not in unit_people(org, unit):
                raise _refuse(
                    ho.TRANSFER,
                    "transfer_target_not_in_unit",
                    "{user} is not one of the unit {unit}",
                    user=target_id,
                    unit=org.unit(unit).code,
                )
            hs.save_parts(tx, row.id, ho.transferred(parts, actor_id, target_id), ctx.at)
            names = org.usernames
            said = note("transferred", by=names[actor_id], to=names[target_id])
            return Addendum(
                detail={"note": said, "to": target_id},
                notice=Notice(ho.TRANSFER, (target_id, actor_id), {"note": said}),
            )

        return self._mutate(plan_id, ho.TRANSFER, actor_id, step, comment, expected_version)

    def add_approver(
        self,
        plan_id: int,
        actor_id: int,
        target_id: int,
        mode: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Change:
        """Add ``target_id`` ``before``, ``after`` or ``alongside`` the actor."""

        def step(tx: Tx, row: ps.PlanRow, ctx: StepContext) -> Addendum:
            allows, parts = self._holding(tx, row, ctx, actor_id, ho.ADD_APPROVER)
            if not allows.add_approver:
                raise _not_allowed(ho.ADD_APPROVER, row.state)
            if mode not in allows.add_approver:
                raise _refuse(
                    ho.ADD_APPROVER,
                    "add_approver_mode_not_allowed",
                    "adding an approver {mode} is not allowed here (allowed: {allowed})",
                    mode=mode,
                    allowed=list(allows.add_approver),
                )
            org = ctx.org
            check_person(ho.ADD_APPROVER, org, target_id)
            if target_id == actor_id:
                raise _refuse(ho.ADD_APPROVER, "add_self_as_approver", "you hold the task already")
            if target_id == row.submitted_by:
                # Separation of duties: whoever submitted the plan never decides on it.
                raise _refuse(
                    ho.ADD_APPROVER,
                    "add_submitter_as_approver",
                    "{user} submitted the plan and may not decide on it",
                    user=target_id,
                )
            hs.save_parts(tx, row.id, ho.with_added(parts, actor_id, target_id, mode), ctx.at)
            names = org.usernames
            said = note("approver_added", by=names[actor_id], user=names[target_id], mode=mode)
            return Addendum(
                detail={"note": said, "added": target_id, "mode": mode},
                notice=Notice(ho.ADD_APPROVER, (target_id,), {"note": said}),
            )

        return self._mutate(plan_id, ho.ADD_APPROVER, actor_id, step, comment, expected_version)

    def cc(
        self,
        plan_id: int,
        actor_id: int,
        people: Sequence[int],
        comment: str | None = None,
    ) -> Change:
        """Copy ``people`` on the plan: told now, may read it until it ends."""
        wanted = list(dict.fromkeys(people))

        def step(tx: Tx, row: ps.PlanRow, ctx: StepContext) -> Addendum:
            allows, _parts = self._holding(tx, row, ctx, actor_id, ho.CC)
            if not allows.cc:
                raise _not_allowed(ho.CC, row.state)
            if not wanted or wanted == [actor_id]:
                raise _refuse(ho.CC, "cc_nobody", "name at least one person to copy")
            if len(wanted) > ho.MAX_CC:
                raise _refuse(ho.CC, "too_many_cc", "at most {max} people at once", max=ho.MAX_CC)
            for user_id in wanted:
                check_person(ho.CC, ctx.org, user_id)
            copied = tuple(u for u in wanted if u != actor_id)
            hs.add_cc(tx, row.id, copied, actor_id, tx.ts(ctx.at))
            names = ctx.org.usernames
            said = note("copied", by=names[actor_id], people=", ".join(names[u] for u in copied))
            return Addendum(
                detail={"note": said, "cc": list(copied)},
                notice=Notice(ho.CC, copied, {"note": said}),
            )

        return self._mutate(plan_id, ho.CC, actor_id, step, comment, None)

    # -- reads --------------------------------------------------------------------

    def record_read(self, plan_id: int, user_id: int) -> bool:
        """The CC receipt: the first time a copied person reads the plan. True when
        this read was the first."""
        with read_tx(self.plans.db) as tx:
            if not hs.has_unread(tx, plan_id, user_id):
                return False
        with write_tx(self.plans.db) as tx:
            return hs.mark_read(tx, plan_id, user_id, self.plans.clock.now())

    def receipts(self, plan_id: int, actor_id: int | None) -> list[CcReceipt]:
        """Who was copied on the plan, by whom, and whether they have read it."""
        with read_tx(self.plans.db) as tx:
            row, org = self._visible(tx, plan_id, actor_id)
            rows = hs.load_cc(tx, row.id)
        return receipts_of(org, rows)

    def options(self, plan_id: int, actor_id: int) -> HandoverOptions | None:
        """What the actor may do with the task now; None: nothing (not theirs)."""
        service = self.plans
        with read_tx(service.db) as tx:
            row, org = self._visible(tx, plan_id, actor_id)
            spec = service.definitions.spec_for(service.db, row.workflow_name, row.workflow_version)
            parts = service.task_parts(tx, row, spec)
        return options_of(spec, org, row, actor_id, parts)

    # -- shared ------------------------------------------------------------------

    def _holding(
        self, tx: Tx, row: ps.PlanRow, ctx: StepContext, actor_id: int, action: str
    ) -> tuple[Any, ho.TaskParts]:
        """The state's ``allows`` and the task's parts, once the actor is its holder."""
        spec = ctx.spec
        if row.task_role is None or row.state not in spec.state_names:
            raise _not_allowed(action, row.state)
        parts = self.plans.task_parts(tx, row, spec)
        if actor_id not in ctx.org.active_users or actor_id not in holders_now(row, ctx.org, parts):
            raise _refuse(action, "not_task_holder", "only whoever holds the task may do this")
        return spec.state(row.state).allows, parts

    def _visible(self, tx: Tx, plan_id: int, actor_id: int | None) -> tuple[ps.PlanRow, Any]:
        service = self.plans
        row = ps.load_plan(tx, plan_id)
        if row is None:
            raise NotFound("plan", plan_id)
        org = service.org_cache.get(service.db, row.org_generation)
        if actor_id is not None and not service.viewers.get(org, actor_id).can_view(row):
            raise NotFound("plan", plan_id)
        return row, org

    def _mutate(
        self,
        plan_id: int,
        action: str,
        actor_id: int,
        step: Any,
        comment: str | None,
        expected_version: int | None,
    ) -> Change:
        return self.plans.mutate(
            plan_id,
            action,
            actor_id,
            NOTE,
            check=step,
            comment=comment,
            expected_version=expected_version,
        )


def receipts_of(org: OrgSnapshot, rows: Sequence[hs.CcRow]) -> list[CcReceipt]:
    """``Handover.receipts`` from the rows loaded."""
    names = org.usernames
    return [
        CcReceipt(
            user=names.get(r.user_id, "?"),
            added_by=None if r.added_by is None else names.get(r.added_by, "?"),
            at=r.at,
            read_at=r.read_at,
            active=r.active,
        )
        for r in rows
    ]


def options_of(
    spec: WorkflowSpec, org: OrgSnapshot, row: ps.PlanRow, actor_id: int, parts: ho.TaskParts
) -> HandoverOptions | None:
    """``Handover.options`` from what was loaded (``parts``: ``PlanService.task_parts``)."""
    if row.state not in spec.state_names:
        return None
    allows = spec.state(row.state).allows
    if row.task_role is None or actor_id not in holders_now(row, org, parts):
        return None
    if not (allows.transfer or allows.add_approver or allows.cc):
        return None
    candidates: frozenset[int] = frozenset()
    if allows.transfer == "role" and row.task_unit_id is not None:
        candidates = org.holders(row.task_role, row.task_unit_id)
    elif allows.transfer == "unit" and row.task_unit_id is not None:
        candidates = unit_people(org, row.task_unit_id)
    excluded = {actor_id, row.submitted_by} | set(parts.everyone())
    names = org.usernames
    return HandoverOptions(
        transfer_to=tuple(sorted(names[u] for u in candidates if u not in excluded and u in names)),
        add_approver=allows.add_approver,
        cc=allows.cc,
        holders=tuple(sorted(names.get(u, "?") for u in parts.everyone())),
        suggested=_suggested(org, row, excluded) if allows.add_approver or allows.cc else (),
    )


def _not_allowed(action: str, state: str) -> PlanflowError:
    return _refuse(
        action,
        "not_allowed_in_state",
        "the state {state} does not allow {action}",
        action=action,
        state=state,
    )
