"""Who may see which plan: the one visibility rule, for every client.

A user sees a plan when

1. they hold any role at the plan's unit (its own people, whatever its state);
2. the plan has been submitted at least once and they hold an oversight
   role at the plan's unit or any unit above it (reviewers, inspectors,
   officers, admins, and roles a definition adds such as ``committee``:
   every role except the two that work on their own unit's plans,
   ``drafter`` and ``submitter``); or
3. they hold the role of the plan's open task where it waits or where it
   was escalated to (so every task in someone's inbox opens); or
4. the plan was granted to them personally: they were copied on it (CC,
   until it ends) or hold a part of its open task, decided or not (a transfer
   or an added approver, ``services.handover``) — that plan only.

A plan never submitted (a draft, or a draft that was withdrawn) is thus seen
only by its own unit. A plan the user may not see answers exactly like a
plan that does not exist (``NotFound``), so guessing ids reveals nothing.

``Viewer`` is the rule worked out for one user in one organisation snapshot
(plain Python); ``storage.plan_reads.visible_clause`` is the same rule as a
WHERE clause, for lists.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from planflow.core.org import OrgSnapshot

#: Roles that act on their own unit's plans only; every other role oversees the units below.
OWN_UNIT_ROLES = frozenset({"drafter", "submitter"})


class VisibleRow(Protocol):
    """The columns of a plan the rule reads (a plan row, a list row, a view row)."""

    @property
    def id(self) -> int: ...
    @property
    def unit_id(self) -> int: ...
    @property
    def revision(self) -> int: ...
    @property
    def task_role(self) -> str | None: ...
    @property
    def task_unit_id(self) -> int | None: ...
    @property
    def task_escalated_unit_id(self) -> int | None: ...


#: The plans granted to one user personally (rule 4), read from the database.
Grants = Callable[[int], frozenset[int]]


@dataclass(frozen=True)
class Viewer:
    """The visibility rule worked out for one user, in the organisation's unit ids."""

    user_id: int
    #: (unit id, role) the user holds.
    roles: frozenset[tuple[int, str]]
    own_units: frozenset[int]
    #: Units at or below a unit where the user holds an oversight role.
    oversight: frozenset[int]
    #: True when ``oversight`` is the whole tree (no need to list units in SQL).
    oversees_all: bool
    #: Plans granted to the user personally (rule 4), by id.
    granted: frozenset[int] = frozenset()
    #: Where the grants are read when needed (``ViewerCache``): a plan the roles
    #: already show costs no lookup.
    grants: Grants | None = field(default=None, compare=False, hash=False, repr=False)

    def all_granted(self) -> frozenset[int]:
        """The plans granted personally (rule 4), read now when there is a lookup."""
        if self.grants is None:
            return self.granted
        return self.granted | self.grants(self.user_id)

    def can_view(self, plan: VisibleRow) -> bool:
        if plan.unit_id in self.own_units or plan.id in self.granted:
            return True
        if plan.revision > 0 and (self.oversees_all or plan.unit_id in self.oversight):
            return True
        role = plan.task_role
        if role is not None and any(
            (unit, role) in self.roles
            for unit in (plan.task_unit_id, plan.task_escalated_unit_id)
            if unit is not None
        ):
            return True
        return self.grants is not None and plan.id in self.grants(self.user_id)

    @property
    def oversight_roles(self) -> list[tuple[str, int]]:
        """(role, unit) of the roles held that oversee (all but drafter and submitter)."""
        return [(role, unit) for unit, role in self.roles if role not in OWN_UNIT_ROLES]


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


class ViewerCache:
    """Viewers by (organisation generation, user): worked out once per change of the tree.

    ``viewer_for`` walks every role assignment; a client asks for the same
    user's viewer on every page. A new generation starts a new cache, so a
    change of roles takes effect at once and old entries do not pile up.
    The personal grants (rule 4) change with plans, not with the tree: with
    ``grants`` a viewer reads them afresh, and only when its roles do not
    already show the plan (one indexed lookup).
    """

    def __init__(self, grants: Grants | None = None) -> None:
        self._generation = -1
        self._viewers: dict[int, Viewer] = {}
        self._lock = threading.Lock()
        self.grants = grants

    def get(self, org: OrgSnapshot, user_id: int) -> Viewer:
        found = self._roles(org, user_id)
        if self.grants is None:
            return found
        return dataclasses.replace(found, grants=_read_once(self.grants))

    def _roles(self, org: OrgSnapshot, user_id: int) -> Viewer:
        with self._lock:
            if org.generation != self._generation:
                if org.generation < self._generation:
                    # An older snapshot (another thread's): answer, but keep the newer cache.
                    return viewer_for(org, user_id)
                self._generation, self._viewers = org.generation, {}
            found = self._viewers.get(user_id)
            if found is None:
                found = self._viewers[user_id] = viewer_for(org, user_id)
            return found


def _read_once(lookup: Grants) -> Grants:
    """``lookup`` read at most once per user for one viewer (a list that checks
    many rows asks once)."""
    seen: dict[int, frozenset[int]] = {}

    def read(user_id: int) -> frozenset[int]:
        if user_id not in seen:
            seen[user_id] = lookup(user_id)
        return seen[user_id]

    return read
