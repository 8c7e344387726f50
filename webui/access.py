"""Who may see which plan: the one visibility rule of the web UI.

A user sees a plan when

1. they hold any role at the plan's unit (its own people, whatever its state);
2. the plan has been submitted at least once and they hold an oversight
   role at the plan's unit or any unit above it (reviewers, inspectors,
   officers, admins, and roles a definition adds such as ``committee``:
   every role except the two that work on their own unit's plans,
   ``drafter`` and ``submitter``); or
3. they hold the role of the plan's open task where it waits or where it
   was escalated to (so every task in someone's inbox opens).

A plan never submitted (a draft, or a draft that was withdrawn) is thus seen
only by its own unit. Every route that takes a plan id loads it through
``visible_plan``: a plan that does not exist and one the user may not see
give the same 404, so guessing ids reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g
from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import col

from planflow.app import Planflow
from planflow.core.org import OrgSnapshot
from planflow.storage.org_repo import current_generation
from planflow.storage.tables import Plan

#: Roles that act on their own unit's plans only; every other role oversees the units below.
OWN_UNIT_ROLES = frozenset({"drafter", "submitter"})


@dataclass(frozen=True)
class Viewer:
    user_id: int
    #: (unit id, role) the user holds.
    roles: frozenset[tuple[int, str]]
    own_units: frozenset[int]
    #: Units at or below a unit where the user holds an oversight role.
    oversight: frozenset[int]
    #: True when ``oversight`` is the whole tree (no need to list units in SQL).
    oversees_all: bool

    def can_view(self, plan: Plan) -> bool:
        if plan.unit_id in self.own_units:
            return True
        if plan.revision > 0 and (self.oversees_all or plan.unit_id in self.oversight):
            return True
        role = plan.task_role
        return role is not None and any(
            (unit, role) in self.roles
            for unit in (plan.task_unit_id, plan.task_escalated_unit_id)
            if unit is not None
        )

    def plan_filter(self) -> ColumnElement[bool]:
        """``can_view`` as a WHERE clause over ``Plan``."""
        clauses: list[ColumnElement[bool]] = []
        if self.own_units:
            clauses.append(col(Plan.unit_id).in_(sorted(self.own_units)))
        if self.oversees_all:
            clauses.append(col(Plan.revision) > 0)
        elif self.oversight:
            clauses.append(
                and_(col(Plan.revision) > 0, col(Plan.unit_id).in_(sorted(self.oversight)))
            )
        for unit, role in sorted(self.roles):
            clauses.append(
                and_(
                    col(Plan.task_role) == role,
                    or_(col(Plan.task_unit_id) == unit, col(Plan.task_escalated_unit_id) == unit),
                )
            )
        return or_(*clauses) if clauses else false()


def org_now(pf: Planflow) -> OrgSnapshot:
    """The current organisation, from the process cache unless it changed."""
    with pf.db.read() as conn:
        generation = current_generation(conn)
    return pf.service.org_cache.get(pf.db, generation)


def viewer_for(org: OrgSnapshot, user_id: int) -> Viewer:
    roles = frozenset(
        (unit, role)
        for (unit, role), holders in org.holders_by_unit_role.items()
        if user_id in holders
    )
    own = frozenset(unit for unit, _role in roles)
    tops = {unit for unit, role in roles if role not in OWN_UNIT_ROLES}
    oversight = frozenset(u for top in tops for u in org.subtree(top))
    return Viewer(
        user_id=user_id,
        roles=roles,
        own_units=own,
        oversight=oversight,
        oversees_all=bool(oversight) and len(oversight) == len(org.units),
    )


def current_org(pf: Planflow) -> OrgSnapshot:
    """The organisation of this request (read once per request), the viewer's too."""
    cached = g.get("planflow_org")
    if not isinstance(cached, OrgSnapshot):
        cached = g.planflow_org = org_now(pf)
    return cached


def current_viewer(pf: Planflow, user_id: int) -> Viewer:
    """The viewer of this request (computed once per request)."""
    cached = g.get("planflow_viewer")
    if isinstance(cached, Viewer) and cached.user_id == user_id:
        return cached
    viewer = viewer_for(current_org(pf), user_id)
    g.planflow_viewer = viewer
    return viewer


def visible_plan(pf: Planflow, viewer: Viewer, plan_id: int) -> Plan:
    """The plan, or a 404 when it does not exist or the viewer may not see it."""
    with pf.db.read_session() as s:
        plan = s.get(Plan, plan_id)
        if plan is None or not viewer.can_view(plan):
            abort(404)
        s.expunge(plan)
        return plan
