"""The admin rule, and the organisation as an administrator sees it.

The rule: an administrator manages the units at or below every unit where
they hold ``admin`` (an admin of the federation manages everything, an
admin of a union only its subtree). They see the people holding a role at
those units and change the role assignments there. They change a person's
account (profile, active flag, password) only when every role that person
holds lies within their units, so an admin of one union can never take over
the account of someone who acts for the federation. People without any role
are seen and managed by admins of the whole organisation only.

``AdminScope`` is the rule as data (pure: built from a snapshot or from the
tables); ``AdminDirectory`` reads what an admin sees: people, paged and
searched, and how many people and roles each unit has. The changes are in
``planflow.services.org_admin``. Anything outside an admin's units is
``NotFound``, as if it did not exist.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from planflow.core.org import OrgSnapshot
from planflow.core.text import clean_text
from planflow.errors import NotFound, PermissionDenied, PlanflowError, ValidationError
from planflow.storage.db import Database
from planflow.storage.tables import Plan, RoleAssignment, Unit, User, WorkflowDefinition

ADMIN = "admin"
PAGE_SIZE = 50
MAX_SEARCH = 100

unit_t = Unit.__table__  # type: ignore[attr-defined]


class AdminForbidden(PermissionDenied):
    """The admin rule refuses this; ``reason`` names which part (for a translated message)."""

    code = "admin_forbidden"

    def __init__(self, reason: str, message: str) -> None:
        PlanflowError.__init__(
            self, message, params={"action": reason, "role": ADMIN, "where": "", "reason": reason}
        )
        self.action, self.role, self.where, self.reason = reason, ADMIN, "", reason


class AdminRefused(ValidationError):
    """The organisation's consistency refuses this (a duplicate code, a cycle, ...)."""

    def __init__(self, reason: str, message: str, **params: object) -> None:
        # Each reason is a refusal of its own: it is the code.
        super().__init__(message, code=reason, params={"reason": reason, **params})
        self.reason = reason


class OrgConflict(PlanflowError):
    """Someone changed the item first; nothing was written. ``current`` is what it is now."""

    code = "conflict"

    def __init__(self, what: str, current: str) -> None:
        super().__init__(
            f"{what} was changed by someone else meanwhile; nothing was saved",
            params={"what": what},
        )
        self.current = current


@dataclass(frozen=True)
class AdminScope:
    """What one administrator manages."""

    user_id: int
    tops: frozenset[int]
    units: frozenset[int]
    #: The whole organisation: adding and moving units at the top level, people without roles.
    everything: bool

    def manages(self, unit_id: int | None) -> bool:
        return unit_id is not None and unit_id in self.units

    def manages_account(self, role_units: Iterable[int]) -> bool:
        held = set(role_units)
        return self.everything if not held else held <= self.units

    def sees_person(self, role_units: Iterable[int]) -> bool:
        held = set(role_units)
        return self.everything or bool(held & self.units)


def build_scope(
    user_id: int, parents: Mapping[int, int | None], admin_units: Iterable[int]
) -> AdminScope | None:
    """The scope of a user holding ``admin`` at ``admin_units``; None when they hold it nowhere."""
    tops = frozenset(u for u in admin_units if u in parents)
    if not tops:
        return None
    children: dict[int, list[int]] = {}
    for unit, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(unit)
    units: set[int] = set()
    stack = list(tops)
    while stack:
        unit = stack.pop()
        if unit not in units:
            units.add(unit)
            stack.extend(children.get(unit, ()))
    return AdminScope(user_id, tops, frozenset(units), len(units) == len(parents))


def scope_of(org: OrgSnapshot, user_id: int) -> AdminScope | None:
    """The scope from an organisation snapshot (for showing pages; changes re-read it)."""
    admin_units = [
        unit
        for (unit, role), holders in org.holders_by_unit_role.items()
        if role == ADMIN and user_id in holders
    ]
    return build_scope(user_id, {u.id: u.parent_id for u in org.units.values()}, admin_units)


def profile_stamp(display_name: str, email: str, language: str) -> str:
    """A short fingerprint of a profile: a form sends back the one it showed."""
    text = json.dumps([display_name, email, language], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class RoleRow:
    unit_id: int
    unit_code: str
    unit_name: str
    role: str
    #: The admin looking at it manages this unit (may revoke it).
    manageable: bool


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    display_name: str
    email: str
    language: str
    active: bool
    roles: tuple[RoleRow, ...]
    #: The admin looking may change the account (every role is within their units).
    account_managed: bool

    @property
    def stamp(self) -> str:
        return profile_stamp(self.display_name, self.email, self.language)


@dataclass(frozen=True)
class PeoplePage:
    people: tuple[Person, ...]
    total: int
    page: int
    size: int

    @property
    def more(self) -> bool:
        return self.page * self.size < self.total


@dataclass(frozen=True)
class UnitStats:
    people: int
    roles: int


def scope_units_query(scope: AdminScope) -> Select[tuple[int]]:
    """The ids of the scope's units, as a recursive query (no list of ids in the SQL)."""
    tree = (
        core_select(unit_t.c.id).where(unit_t.c.id.in_(sorted(scope.tops))).cte("admin_tree", True)
    )
    tree = tree.union(core_select(unit_t.c.id).where(unit_t.c.parent_id == tree.c.id))
    return core_select(tree.c.id)


class AdminDirectory:
    """The organisation as an administrator sees it (``AdminDirectory(pf.db)``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def unit_stats(self) -> dict[int, UnitStats]:
        """Per unit: how many active people hold a role there, and how many roles they hold."""
        with self.db.read_session() as s:
            rows = s.exec(
                select(
                    RoleAssignment.unit_id,
                    func.count(func.distinct(RoleAssignment.user_id)),
                    func.count(),
                )
                .join(User, col(User.id) == col(RoleAssignment.user_id))
                .where(col(User.active))
                .group_by(col(RoleAssignment.unit_id))
            )
            return {unit: UnitStats(people, roles) for unit, people, roles in rows}

    def people(self, scope: AdminScope, search: str = "", page: int = 1) -> PeoplePage:
        """The people the admin sees, by user name, ``PAGE_SIZE`` a page; ``search`` in
        user name, display name or e-mail (case-insensitive)."""
        # lower(), not casefold(): the same folding as SQL lower() on both databases.
        search = clean_text(search, field="search", max_length=MAX_SEARCH).lower()
        where: list[ColumnElement[bool]] = []
        if not scope.everything:
            holders = select(RoleAssignment.user_id).where(
                col(RoleAssignment.unit_id).in_(scope_units_query(scope))
            )
            where.append(col(User.id).in_(holders))
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            where.append(
                or_(
                    *(
                        func.lower(c).like(pattern, escape="\\")
                        for c in (col(User.username), col(User.display_name), col(User.email))
                    )
                )
            )
        page = max(page, 1)
        with self.db.read_session() as s:
            total = s.exec(select(func.count()).select_from(User).where(*where)).one()
            users = list(
                s.exec(
                    select(User)
                    .where(*where)
                    .order_by(col(User.username))
                    .offset((page - 1) * PAGE_SIZE)
                    .limit(PAGE_SIZE)
                )
            )
            roles = roles_of(s, scope, [u.id for u in users if u.id is not None])
            people = tuple(_person(scope, u, roles.get(u.id or 0, ())) for u in users)
        return PeoplePage(people, total, page, PAGE_SIZE)

    def person(self, scope: AdminScope, user_id: int) -> Person:
        """One person the admin sees; ``NotFound`` for anyone else."""
        with self.db.read_session() as s:
            return visible_person(s, scope, user_id)

    def definitions_in_use(self, scope: AdminScope) -> dict[tuple[str, int], int]:
        """Every stored definition version, with how many plans of the admin's units run on it."""
        with self.db.read_session() as s:
            found = dict.fromkeys(
                s.exec(select(WorkflowDefinition.name, WorkflowDefinition.version)), 0
            )
            query = select(Plan.workflow_name, Plan.workflow_version, func.count()).group_by(
                col(Plan.workflow_name), col(Plan.workflow_version)
            )
            if not scope.everything:
                query = query.where(col(Plan.unit_id).in_(scope_units_query(scope)))
            for name, version, count in s.exec(query):
                found[(name, version)] = count
            return found

    def unit_people(self, unit_id: int) -> list[tuple[User, str]]:
        """Everyone with a role at the unit, with that role, by role and user name."""
        with self.db.read_session() as s:
            rows = list(
                s.exec(
                    select(User, RoleAssignment.role)
                    .join(RoleAssignment, col(RoleAssignment.user_id) == col(User.id))
                    .where(RoleAssignment.unit_id == unit_id)
                    .order_by(col(RoleAssignment.role), col(User.username))
                )
            )
            for user, _role in rows:
                s.expunge(user)
            return rows


def roles_of(s: Session, scope: AdminScope, user_ids: list[int]) -> dict[int, tuple[RoleRow, ...]]:
    """Each user's role assignments, marked with whether ``scope`` manages them."""
    if not user_ids:
        return {}
    found: dict[int, list[RoleRow]] = {}
    rows = s.exec(
        select(RoleAssignment, Unit)
        .join(Unit, col(Unit.id) == col(RoleAssignment.unit_id))
        .where(col(RoleAssignment.user_id).in_(user_ids))
        .order_by(col(Unit.code), col(RoleAssignment.role))
    )
    for assignment, unit in rows:
        row = RoleRow(unit.id or 0, unit.code, unit.name, assignment.role, scope.manages(unit.id))
        found.setdefault(assignment.user_id, []).append(row)
    return {k: tuple(v) for k, v in found.items()}


def _person(scope: AdminScope, user: User, roles: tuple[RoleRow, ...]) -> Person:
    return Person(
        user.id or 0,
        user.username,
        user.display_name,
        user.email,
        user.language,
        user.active,
        roles,
        scope.manages_account(r.unit_id for r in roles),
    )


def visible_person(s: Session, scope: AdminScope, user_id: int) -> Person:
    user = s.get(User, user_id)
    roles = roles_of(s, scope, [user_id]).get(user_id, ())
    if user is None or not scope.sees_person(r.unit_id for r in roles):
        raise NotFound("user", user_id)
    return _person(scope, user, roles)
