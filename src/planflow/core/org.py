"""The organisation tree and role routing, as plain Python.

``OrgSnapshot`` is an immutable picture of units and role assignments. It
answers the question at the heart of planflow: "who must act on this plan?" —
a role looked up at the plan's unit, its parent, or the nearest unit upwards
that has someone in that role, and, for escalation, the same role further up.
Storage builds snapshots (``planflow.storage.org_cache``) and caches them by
the organisation generation number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from planflow.core.definitions.spec import RoleRef, Where


@dataclass(frozen=True, slots=True)
class UnitInfo:
    id: int
    parent_id: int | None
    code: str
    name: str


@dataclass(frozen=True)
class OrgSnapshot:
    generation: int
    units: Mapping[int, UnitInfo]
    #: (unit_id, role) -> user ids holding the role there
    holders_by_unit_role: Mapping[tuple[int, str], frozenset[int]]
    active_users: frozenset[int]
    #: user id -> username, of every user (active or not): names on the audit trail
    #: and in views, and the names callers of the library act under.
    usernames: Mapping[int, str] = field(default_factory=dict)
    #: username -> user id and unit code -> unit id: how the library's front door
    #: turns the names its callers use into the ids the services work with.
    user_ids: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    unit_ids: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    _children: dict[int, tuple[int, ...]] = field(default_factory=dict, compare=False)
    #: (role, where, plan unit) -> unit: a snapshot never changes, so neither
    #: does where a role is looked up in it (at most one entry per unit and
    #: role reference of the definitions).
    _resolved: dict[tuple[str, Where, int], int | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def build(
        cls,
        generation: int,
        units: Iterable[UnitInfo],
        assignments: Iterable[tuple[int, int, str]],
        active_users: Iterable[int],
        usernames: Mapping[int, str] | None = None,
    ) -> OrgSnapshot:
        """Build from units and ``(user_id, unit_id, role)`` assignments.

        ``usernames`` names every user (id -> username), inactive ones too.
        """
        unit_map = {u.id: u for u in units}
        active = frozenset(active_users)
        holders: dict[tuple[int, str], set[int]] = {}
        for user_id, unit_id, role in assignments:
            if user_id in active:
                holders.setdefault((unit_id, role), set()).add(user_id)
        children: dict[int, list[int]] = {}
        for u in unit_map.values():
            if u.parent_id is not None:
                children.setdefault(u.parent_id, []).append(u.id)
        return cls(
            generation=generation,
            units=unit_map,
            holders_by_unit_role={k: frozenset(v) for k, v in holders.items()},
            active_users=active,
            usernames=dict(usernames or {}),
            user_ids={name: uid for uid, name in (usernames or {}).items()},
            unit_ids={u.code: u.id for u in unit_map.values()},
            _children={k: tuple(sorted(v)) for k, v in children.items()},
        )

    def unit(self, unit_id: int) -> UnitInfo:
        return self.units[unit_id]

    def parent(self, unit_id: int) -> int | None:
        return self.units[unit_id].parent_id

    def ancestors(self, unit_id: int) -> list[int]:
        """The units above ``unit_id``, nearest first."""
        out: list[int] = []
        current = self.units[unit_id].parent_id
        while current is not None and current not in out:
            out.append(current)
            current = self.units[current].parent_id
        return out

    def subtree(self, unit_id: int) -> list[int]:
        """``unit_id`` and every unit below it."""
        out, stack = [], [unit_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(self._children.get(current, ()))
        return out

    def holders(self, role: str, unit_id: int) -> frozenset[int]:
        return self.holders_by_unit_role.get((unit_id, role), frozenset())

    def resolve(self, ref: RoleRef, plan_unit_id: int) -> int | None:
        """The unit where ``ref.role`` is looked up for a plan of ``plan_unit_id``.

        Returns None when the lookup leads nowhere (no parent, or nobody holds
        the role anywhere upwards).
        """
        at = ref.at
        if at is Where.SAME:
            return plan_unit_id
        if at is Where.PARENT:
            return self.parent(plan_unit_id)
        key = (ref.role, at, plan_unit_id)
        try:
            return self._resolved[key]
        except KeyError:
            pass
        chain = self.ancestors(plan_unit_id)
        if at is Where.NEAREST:
            chain = [plan_unit_id, *chain]
        found = next((u for u in chain if self.holders(ref.role, u)), None)
        self._resolved[key] = found
        return found

    def escalation_unit(self, role: str, unit_id: int) -> int | None:
        """The next unit above ``unit_id`` where someone holds ``role``."""
        for candidate in self.ancestors(unit_id):
            if self.holders(role, candidate):
                return candidate
        return None

    def assignees(self, ref: RoleRef, plan_unit_id: int) -> frozenset[int]:
        unit_id = self.resolve(ref, plan_unit_id)
        return frozenset() if unit_id is None else self.holders(ref.role, unit_id)
