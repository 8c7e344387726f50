"""Delegation / out of office (委托): setting, listing and ending deputies.

The rules are in ``planflow.core.delegation`` (which design, and why: the
deputy acts through an authority check when they decide, nothing is
re-routed). This module stores delegations, decides who may set or end one
(the person themselves; an administrator of a unit where the person holds
a role, for someone who is away), records each on the organisation's audit
chain in the same transaction, and answers the two questions the plan path
and the pages ask: for whom may this deputy act on this task now
(``acting_for``), and which tasks may they act on (``tasks``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from planflow.clock import Clock
from planflow.core import delegation as dl
from planflow.core.definitions.spec import BUILTIN_ROLES
from planflow.core.org import OrgSnapshot
from planflow.core.text import clean_text
from planflow.errors import NotFound, Refusal, ValidationError
from planflow.services.admin_directory import ADMIN, AdminForbidden, build_scope
from planflow.services.inbox import Inbox
from planflow.storage import delegation_sql as ds
from planflow.storage import org_audit
from planflow.storage import plan_store as ps
from planflow.storage.db import Database
from planflow.storage.org_cache import OrgCache
from planflow.storage.tx import Tx, read_tx, write_tx
from planflow.views import TaskEntry

#: The refusal of a deputy's submission for someone else (``PlanService``).
DEPUTY_CANNOT_SUBMIT = Refusal(
    "deputy_cannot_submit",
    {},
    "a deputy does not submit for someone else: a submission is its submitter's own",
)


def org_timezone() -> ZoneInfo:
    """The organisation's time zone (``PLANFLOW_TIMEZONE``, default UTC): a
    delegation's days are its days."""
    name = os.environ.get("PLANFLOW_TIMEZONE", "UTC").strip() or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"PLANFLOW_TIMEZONE={name!r} is not a time zone (e.g. Asia/Shanghai)"
        ) from exc


@dataclass(frozen=True, slots=True)
class StoredDelegation:
    """A delegation with what the list shows besides the rules' fields."""

    rule: dl.Delegation
    reason: str | None
    created_by: int
    created_at: datetime
    ended_by: int | None


def in_force_for(tx: Tx, deputy_id: int, at: datetime, tz: ZoneInfo) -> list[dl.Delegation]:
    """The delegations to ``deputy_id`` in force at ``at`` (one indexed read)."""
    return [d for d in ds.for_deputy(tx, deputy_id, dl.local_day(at, tz)) if d.in_force(at, tz)]


def acting_for(
    tx: Tx, deputy_id: int, workflow: str, role: str | None, at: datetime, tz: ZoneInfo
) -> list[int]:
    """The people whose delegation to ``deputy_id`` covers a task of ``workflow``
    waiting for ``role`` at ``at`` (usually none)."""
    return [d.delegator_id for d in in_force_for(tx, deputy_id, at, tz) if d.covers(workflow, role)]


def delegated_tasks(
    inbox: Inbox, found: Sequence[dl.Delegation], org: OrgSnapshot | None = None
) -> list[tuple[TaskEntry, int]]:
    """The open tasks of the delegators of ``found`` in each one's scope, each with
    its delegator (a plan once, for the first delegation that covers it); with
    ``org``, the roles the delegators hold are its, so each costs one read."""
    out: list[tuple[TaskEntry, int]] = []
    seen: set[int] = set()
    for d in found:
        held = None
        if org is not None:
            held = [
                (role, unit)
                for (unit, role), people in org.holders_by_unit_role.items()
                if d.delegator_id in people
            ]
        for task in inbox.tasks(d.delegator_id, held=held):
            if task.plan_id not in seen and d.covers(task.workflow, task.role):
                seen.add(task.plan_id)
                out.append((task, d.delegator_id))
    return out


class Delegations:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        org_cache: OrgCache,
        workflows: Callable[[], Collection[str]] | None = None,
        roles: Callable[[], Collection[str]] = lambda: BUILTIN_ROLES,
    ) -> None:
        self.db = db
        self.clock = clock
        self.org_cache = org_cache
        #: The workflow names and roles a scope may name, asked when one is named
        #: (the definitions load lazily; None: any workflow).
        self.workflows = workflows
        self.roles = roles
        #: Every delegation not over, for one organisation generation and day: a
        #: delegation set or ended moves the generation on (``ds.bump_org_generation``),
        #: so a queue or "My work" of no one's deputy reads nothing more.
        self._not_over: tuple[int, date, tuple[dl.Delegation, ...]] | None = None

    # -- writes -----------------------------------------------------------------

    def create(
        self,
        actor_id: int,
        delegator_id: int,
        deputy_id: int,
        starts_on: date,
        ends_on: date,
        *,
        workflow: str | None = None,
        role: str | None = None,
        reason: str | None = None,
    ) -> int:
        """Name ``deputy_id`` for ``delegator_id`` from ``starts_on`` to ``ends_on``
        (both inclusive, the organisation's days); returns the delegation's id."""
        known = self.workflows
        if workflow is not None and known is not None and workflow not in known():
            raise ValidationError(
                f"there is no workflow {workflow!r}",
                code="unknown_workflow",
                params={"field": "workflow", "workflow": workflow},
            )
        if role is not None and role not in self.roles():
            raise ValidationError(
                f"there is no role {role!r}",
                code="unknown_role",
                params={"field": "role", "role": role},
            )
        reason = clean_text(reason or "", field="reason", max_length=dl.MAX_REASON, multiline=True)
        now = self.clock.now()
        tz = org_timezone()
        new = dl.Delegation(0, delegator_id, deputy_id, starts_on, ends_on, workflow, role)
        with write_tx(self.db) as tx:
            org = self.org_cache.get(self.db, ps.org_generation(tx))
            self._may_act_for(org, actor_id, delegator_id)
            today = dl.local_day(now, tz)
            dl.check_new(
                new,
                today=today,
                active_users=org.active_users,
                known_users=org.usernames,
                delegators_own=_given(ds.not_over(tx, delegator_id, today), delegator_id),
                deputys_own=_given(ds.not_over(tx, deputy_id, today), deputy_id),
            )
            delegation_id = ds.insert(tx, new, reason=reason or None, created_by=actor_id, at=now)
            ds.bump_org_generation(tx)
            names = org.usernames
            org_audit.record(
                tx,
                actor_id,
                now,
                dl.DELEGATION_SET,
                delegation=delegation_id,
                delegator=names[delegator_id],
                deputy=names[deputy_id],
                starts_on=starts_on.isoformat(),
                ends_on=ends_on.isoformat(),
                workflow=workflow,
                role=role,
            )
        return delegation_id

    def end(self, actor_id: int, delegation_id: int) -> bool:
        """End a delegation now (its delegator, its deputy declining, or an admin);
        False when it had ended already. Its open tasks are the delegator's again
        at once; the end notice follows with the scheduler's next pass."""
        now = self.clock.now()
        with write_tx(self.db) as tx:
            found = ds.load(tx, delegation_id)
            org = self.org_cache.get(self.db, ps.org_generation(tx))
            if found is None:
                raise NotFound("delegation", delegation_id)
            d = found[0]
            if actor_id != d.deputy_id:
                self._may_act_for(org, actor_id, d.delegator_id, hide=delegation_id)
            if d.has_ended(now, org_timezone()) or not ds.end_early(tx, d.id, actor_id, now):
                return False
            ds.bump_org_generation(tx)
            org_audit.record(
                tx,
                actor_id,
                now,
                dl.DELEGATION_ENDED,
                delegation=d.id,
                delegator=org.usernames.get(d.delegator_id, "?"),
                deputy=org.usernames.get(d.deputy_id, "?"),
            )
        return True

    # -- reads ------------------------------------------------------------------

    def of_person(self, actor_id: int, user_id: int) -> list[StoredDelegation]:
        """Every delegation ``user_id`` gave or received, the latest first (theirs,
        or an administrator's look at someone in their units)."""
        with read_tx(self.db) as tx:
            org = self.org_cache.get(self.db, ps.org_generation(tx))
            self._may_act_for(org, actor_id, user_id)
            rows = ds.of_person(tx, user_id)
        return [
            StoredDelegation(
                rule=d,
                reason=raw[0],
                created_by=int(raw[1]),
                created_at=tx.dt(raw[2]) or self.clock.now(),
                ended_by=None if raw[3] is None else int(raw[3]),
            )
            for d, raw in rows
        ]

    def delegators_now(self, deputy_id: int) -> list[dl.Delegation]:
        """The delegations to ``deputy_id`` in force now."""
        with read_tx(self.db) as tx:
            return in_force_for(tx, deputy_id, self.clock.now(), org_timezone())

    def tasks(
        self, deputy_id: int, inbox: Inbox, org: OrgSnapshot | None = None
    ) -> list[tuple[TaskEntry, int]]:
        """The open tasks ``deputy_id`` may act on for someone else now, each with
        whom they act for (the delegator's tasks, within the delegation's scope).

        With ``org`` (the organisation as it is now), the delegations come from the
        cache of its generation: nothing is read for someone who is no one's
        deputy, and one statement per person they stand in for otherwise."""
        if org is None:
            return delegated_tasks(inbox, self.delegators_now(deputy_id))
        now, tz = self.clock.now(), org_timezone()
        found = [
            d
            for d in self._not_over_at(org.generation, dl.local_day(now, tz))
            if d.deputy_id == deputy_id and d.in_force(now, tz)
        ]
        return delegated_tasks(inbox, found, org) if found else []

    def acting_for(
        self, org: OrgSnapshot, deputy_id: int, workflow: str, role: str | None
    ) -> list[int]:
        """``acting_for`` (module function) now, from the cache of ``org``'s generation
        (``org`` as it is now: read with the plan): a delegation set or ended moves the
        generation on, so nothing is read for a page of someone who is no one's deputy."""
        now, tz = self.clock.now(), org_timezone()
        return [
            d.delegator_id
            for d in self._not_over_at(org.generation, dl.local_day(now, tz))
            if d.deputy_id == deputy_id and d.in_force(now, tz) and d.covers(workflow, role)
        ]

    def _not_over_at(self, generation: int, day: date) -> tuple[dl.Delegation, ...]:
        cached = self._not_over
        if cached is None or cached[:2] != (generation, day):
            # Read after ``generation`` was: at worst it holds a newer delegation,
            # which is in the database already; the next generation reads anew.
            with read_tx(self.db) as tx:
                cached = (generation, day, tuple(ds.not_over_anyone(tx, day)))
            self._not_over = cached
        return cached[2]

    # -- who may -----------------------------------------------------------------

    def _may_act_for(
        self, org: OrgSnapshot, actor_id: int, user_id: int, *, hide: int | None = None
    ) -> None:
        """The person themselves, or an administrator of a unit where they hold a role
        (the organisation as of this transaction: a right taken away counts at once)."""
        if actor_id == user_id:
            return
        if user_id not in org.usernames:
            raise NotFound("user", user_id)
        parents = {u.id: u.parent_id for u in org.units.values()}
        admin_units = [
            u
            for (u, role), people in org.holders_by_unit_role.items()
            if role == ADMIN and actor_id in people
        ]
        scope = build_scope(actor_id, parents, admin_units)
        if scope is None:
            if hide is not None:
                raise NotFound("delegation", hide)
            raise AdminForbidden(
                "not_admin", "only an administrator may set a delegation for someone else"
            )
        held = [u for (u, _role), people in org.holders_by_unit_role.items() if user_id in people]
        if not scope.sees_person(held):
            raise NotFound("user", user_id)


def _given(found: Sequence[dl.Delegation], user_id: int) -> list[dl.Delegation]:
    """Of a person's delegations, those they gave (they are away), not received."""
    return [d for d in found if d.delegator_id == user_id]
