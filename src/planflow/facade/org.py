"""``Planflow.org``: the organisation tree, its people and who holds which role where.

The set-up operations of a trusted caller (a script, the command line):
each runs in its own transaction through ``storage.org_repo`` (the same
checks as everywhere: codes, usernames, e-mail addresses, known roles) and
moves the organisation generation, so every process sees the change on its
next use. The admin pages' scoped changes, where an administrator may
change only their part of the tree, are ``services.org_admin``. A move is
the same for both (``services.unit_moves``): the open tasks of the moved
plans follow the unit in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from sqlmodel import col, select

from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import BUILTIN_ROLES
from planflow.facade.names import Names
from planflow.services.admin_directory import AdminRefused
from planflow.services.org_admin import OrgAdmin
from planflow.services.role_changes import RoleChanges
from planflow.services.unit_moves import UnitMoves
from planflow.storage import org_audit
from planflow.storage.db import Database
from planflow.storage.org_cache import display_names
from planflow.storage.org_repo import OrgRepository
from planflow.storage.tables import RoleAssignment, Unit, User
from planflow.views import OrgAuditView, RoleView, UnitMoved, UnitRef, UnitView, UserView


def _user_view(u: User) -> UserView:
    return UserView(u.username, u.display_name, u.email, u.language, u.active)


class OrgAPI:
    def __init__(
        self,
        db: Database,
        repo: OrgRepository,
        names: Names,
        registry: DefinitionRegistry,
        *,
        moves: UnitMoves,
        roles: RoleChanges,
        admin: Callable[[], OrgAdmin],
    ) -> None:
        self.db = db
        self.repo = repo
        self.names = names
        self.registry = registry
        self.moves = moves
        self.role_changes = roles
        self._admin = admin

    # -- changes ----------------------------------------------------------------------

    def add_unit(self, code: str, name: str, parent: str | None = None) -> UnitView:
        """Add a unit with a stable ``code`` under the unit ``parent`` (None: a root)."""
        with self.db.session() as s:
            unit = self.repo.add_unit(s, code, name, parent)
            return UnitView(unit.code, unit.name, parent)

    def move_unit(self, code: str, parent: str | None, *, actor: str | None = None) -> UnitMoved:
        """Move a unit, and everything below it, under ``parent`` (None: make it a root).

        The open tasks of its plans (and of the units below it) are routed
        again by the new tree in the same transaction, each on the plan's audit
        trail (``reroute_task``) with its new holders told; the web admin pages
        move units the same way. ``actor`` (a username) moves it as that
        administrator, under the admin rule (``AdminForbidden``,
        ``AdminRefused``, ``NotFound`` outside their units; they cannot make a
        root) and is recorded on the re-routings; None is the system.
        Moving a unit to the parent it has re-routes whatever was left.
        """
        if actor is None:
            unit_id, report = self.moves.move(code, parent)
        else:
            actor_id = self.names.user_id(actor)
            if parent is None:
                raise AdminRefused("required", "a unit above is required", field="parent")
            report = self._admin().move_unit(actor_id, code, parent)
            unit_id = self.names.unit_id(code)
        org = self.names.current()
        unit = org.unit(unit_id)
        above = org.unit(unit.parent_id) if unit.parent_id is not None else None
        return UnitMoved(
            UnitRef(unit.code, unit.name),
            UnitRef(above.code, above.name) if above is not None else None,
            tuple(report.rerouted),
            report.unchanged,
        )

    def add_user(
        self,
        username: str,
        display_name: str,
        *,
        email: str = "",
        language: str = "en",
        password: str | None = None,
    ) -> UserView:
        with self.db.session() as s:
            user = self.repo.add_user(
                s, username, display_name, email=email, language=language, password=password
            )
            return _user_view(user)

    def set_active(self, username: str, active: bool) -> None:
        """An inactive user can neither act nor sign in; their history stays theirs."""
        with self.db.session() as s:
            self.repo.set_active(s, username, active)

    def set_password(self, username: str, password: str) -> None:
        """Set a password (at least 8 characters); the user's other sessions end."""
        with self.db.session() as s:
            self.repo.set_password(s, username, password)

    def known_roles(self) -> tuple[str, ...]:
        """The built-in roles and every role a definition at hand declares."""
        added = {r for spec in self.registry.all() for r in spec.roles}
        return tuple(sorted(set(BUILTIN_ROLES) | added))

    def assign_role(
        self, username: str, role: str, unit: str, *, known_roles: tuple[str, ...] | None = None
    ) -> None:
        """Give ``username`` the ``role`` at the unit with code ``unit`` (no-op if held).

        The open tasks the role now decides (``at: nearest`` lookups) follow in
        the same transaction, each on its plan's trail (``reroute_task``).
        ``known_roles``: the roles accepted (default: ``known_roles()``).
        """
        known = known_roles if known_roles is not None else self.known_roles()
        self.role_changes.grant(username, role, unit, known_roles=known)

    def revoke_role(self, username: str, role: str, unit: str) -> None:
        """Take the role away; the open tasks it decided follow, as for a grant."""
        self.role_changes.revoke(username, role, unit)

    # -- reading ----------------------------------------------------------------------

    def units(self) -> list[UnitView]:
        """Every unit, parents before their children, siblings by code."""
        org = self.names.current()
        out: list[UnitView] = []

        def walk(unit_id: int, parent: str | None) -> None:
            u = org.unit(unit_id)
            out.append(UnitView(u.code, u.name, parent))
            for child in sorted(
                (c for c in org.units.values() if c.parent_id == unit_id), key=lambda c: c.code
            ):
                walk(child.id, u.code)

        for root in sorted(
            (u for u in org.units.values() if u.parent_id is None), key=lambda u: u.code
        ):
            walk(root.id, None)
        return out

    def users(self) -> list[UserView]:
        """Every user, by username."""
        with self.db.read_session() as s:
            return [_user_view(u) for u in s.exec(select(User).order_by(col(User.username)))]

    def roles(self, unit: str | None = None) -> list[RoleView]:
        """Who holds which role where (only at the unit with code ``unit``, if given)."""
        with self.db.read_session() as s:
            query = (
                select(User.username, RoleAssignment.role, Unit.code)
                .join(User, col(User.id) == col(RoleAssignment.user_id))
                .join(Unit, col(Unit.id) == col(RoleAssignment.unit_id))
                .order_by(col(Unit.code), col(RoleAssignment.role), col(User.username))
            )
            if unit:
                query = query.where(Unit.code == unit)
            return [RoleView(name, role, code) for name, role, code in s.exec(query)]

    def audit(self, *, newest_first: bool = False, limit: int | None = None) -> list[OrgAuditView]:
        """The organisation's trail of admin actions (oldest first, or the newest ``limit``)."""
        with self.db.read() as conn:
            rows = org_audit.records(conn, newest_first=newest_first, limit=limit)
        names = self.names.current().usernames
        return [
            OrgAuditView(
                seq=r.seq,
                at=r.at,
                actor=None if r.actor_id is None else names.get(r.actor_id, f"#{r.actor_id}"),
                action=r.action,
                detail=json.loads(r.detail),
                prev_hash=r.prev_hash,
                hash=r.hash,
            )
            for r in rows
        ]

    def display_names(self, usernames: Iterable[str | None]) -> dict[str, str]:
        """Display names of ``usernames`` (unknown ones are left out), in one query."""
        wanted = sorted({n for n in usernames if n})
        if not wanted:
            return {}
        with self.db.read() as conn:
            return display_names(conn, wanted)
