"""The changes administrators make to the organisation, under the admin rule.

``OrgAdmin`` adds, renames and moves units; creates people and changes
their profile, active flag and password; gives and takes roles. Each change
runs in one transaction that first reads the actor's rights from the tables
(not from a cache: a right revoked a moment ago no longer counts), then
changes the organisation through ``OrgRepository`` where it has the
operation, so the organisation generation is bumped and every process's
cache reloads. A rename or profile change carries what the admin saw and is
refused with ``OrgConflict`` if someone changed it first. Refusals are
``AdminForbidden`` (the rule), ``AdminRefused`` (consistency: duplicates,
cycles) or ``NotFound`` (outside the actor's units), each with a ``reason``
a front end can put into words. A move re-routes the open tasks of the
moved plans in the same transaction, on the path every client moves a unit
by (``planflow.services.unit_moves``).
"""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from planflow.clock import Clock
from planflow.core.definitions.spec import BUILTIN_ROLES
from planflow.core.text import MAX_DISPLAY_NAME as MAX_DISPLAY_NAME
from planflow.core.text import MAX_UNIT_NAME as MAX_UNIT_NAME
from planflow.core.text import clean_text
from planflow.errors import NotFound, ValidationError
from planflow.services.accounts import MAX_PASSWORD, MIN_PASSWORD
from planflow.services.admin_directory import (
    ADMIN,
    AdminForbidden,
    AdminRefused,
    AdminScope,
    OrgConflict,
    Person,
    build_scope,
    visible_person,
)
from planflow.services.plans import PlanService
from planflow.services.reroute import RerouteReport
from planflow.services.role_changes import GRANTED, REVOKED, RoleChange, RoleChanges
from planflow.services.unit_moves import UnitMoves
from planflow.storage.db import Database
from planflow.storage.org_repo import CODE_RE, EMAIL_RE, LANGUAGES, USERNAME_RE, OrgRepository
from planflow.storage.passwords import hash_password
from planflow.storage.tables import RoleAssignment, Unit, User

MAX_EMAIL = 320

unit_t = Unit.__table__  # type: ignore[attr-defined]


class OrgAdmin:
    """The changes of ``OrgAdmin(pf.db, pf.clock, service=pf.service)`` (or
    ``pf.org_admin()``); every method takes the acting user's id."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        repo: OrgRepository | None = None,
        *,
        service: PlanService,
    ) -> None:
        self.db = db
        self.repo = repo or OrgRepository(clock)
        self.moves = UnitMoves(service, self.repo)
        self.roles = RoleChanges(service, self.repo)
        #: Re-routes open tasks again (a repair; a move does it by itself).
        self.rerouter = self.moves.rerouter

    # -- the actor's rights, read inside the change's own transaction -----------------------

    def _scope(self, s: Session, actor_id: int) -> tuple[AdminScope, dict[int, int | None]]:
        parents: dict[int, int | None] = {
            i or 0: p for i, p in s.exec(select(Unit.id, Unit.parent_id))
        }
        admin_units = s.exec(
            select(RoleAssignment.unit_id)
            .join(User, col(User.id) == col(RoleAssignment.user_id))
            .where(RoleAssignment.user_id == actor_id, RoleAssignment.role == ADMIN)
            .where(col(User.active))
        ).all()
        scope = build_scope(actor_id, parents, admin_units)
        if scope is None:
            raise AdminForbidden("not_admin", "only an administrator may change the organisation")
        return scope, parents

    def _unit(self, s: Session, scope: AdminScope, code: str) -> Unit:
        if not CODE_RE.match(code):  # no such code can exist; keep it away from the database
            raise NotFound("unit", code)
        unit = s.exec(select(Unit).where(Unit.code == code)).first()
        if unit is None or not scope.manages(unit.id):
            raise NotFound("unit", code)
        return unit

    def _account(self, s: Session, scope: AdminScope, user_id: int) -> Person:
        person = visible_person(s, scope, user_id)
        if not person.account_managed:
            raise AdminForbidden(
                "account_elsewhere",
                f"{person.username} holds roles outside the units you manage; "
                "an administrator of the units above must change the account",
            )
        return person

    # -- units ------------------------------------------------------------------------

    def add_unit(self, actor_id: int, code: str, name: str, parent_code: str) -> int:
        """Add a unit under ``parent_code``; returns its id.

        Units go below one the admin manages: a new top-level unit (a second
        federation) would be outside every admin's reach, so it is added with
        ``planflow units add`` when the organisation is set up, not here.
        """
        name = _required(clean_text(name, field="name", max_length=MAX_UNIT_NAME), "name")
        if not CODE_RE.match(code):
            raise AdminRefused("bad_code", f"unit code {code!r} must be 1-64 letters, digits, _.-")
        try:
            with self.db.session() as s:
                scope, _parents = self._scope(s, actor_id)
                self._unit(s, scope, parent_code)
                taken = select(Unit.id).where(func.lower(Unit.code) == code.casefold())
                if s.exec(taken).first() is not None:
                    raise AdminRefused("duplicate_code", f"a unit with code {code!r} exists")
                unit = self.repo.add_unit(s, code, name, parent_code, actor_id=actor_id)
                return unit.id or 0
        except IntegrityError as exc:  # the same code added at the same moment
            raise AdminRefused("duplicate_code", f"a unit with code {code!r} exists") from exc

    def rename_unit(self, actor_id: int, code: str, name: str, expected_name: str) -> None:
        """Rename (the code stays); refused with ``OrgConflict`` if the name is no longer
        ``expected_name``, the one the admin saw."""
        name = _required(clean_text(name, field="name", max_length=MAX_UNIT_NAME), "name")
        # A stored name passed clean_text; one that would not (a NUL, say) names nothing.
        expected_name = clean_text(expected_name, field="expected name", max_length=MAX_UNIT_NAME)
        with self.db.session() as s:
            scope, _parents = self._scope(s, actor_id)
            unit = self._unit(s, scope, code)
            changed = s.connection().execute(
                update(unit_t)
                .where(unit_t.c.id == unit.id, unit_t.c.name == expected_name)
                .values(name=name)
            )
            if changed.rowcount != 1:
                s.refresh(unit)
                raise OrgConflict(f"unit {code}", unit.name)
            self.repo.renamed_unit(s, code, expected_name, name, actor_id=actor_id)

    def move_unit(self, actor_id: int, code: str, parent_code: str) -> RerouteReport:
        """Move a unit and everything below it under ``parent_code`` (a unit the admin
        manages, not the unit itself or one below it), and re-route the open tasks
        of its plans by the new tree, in one transaction
        (``planflow.services.unit_moves``); the re-routings are the admin's.
        """

        def admin_rule(s: Session) -> None:
            scope, parents = self._scope(s, actor_id)
            unit = self._unit(s, scope, code)
            cursor: int | None = self._unit(s, scope, parent_code).id
            while cursor is not None:
                if cursor == unit.id:
                    raise AdminRefused("cycle", f"unit {code!r} cannot go below itself")
                cursor = parents.get(cursor)

        return self.moves.move(code, parent_code, actor_id, check=admin_rule)[1]

    # -- people -----------------------------------------------------------------------

    def create_user(
        self,
        actor_id: int,
        *,
        username: str,
        display_name: str,
        email: str = "",
        language: str = "en",
        password: str | None = None,
        role: str | None = None,
        unit_code: str | None = None,
        known_roles: tuple[str, ...] = BUILTIN_ROLES,
    ) -> int:
        """Create a person, with a first role (required unless the actor manages everything)."""
        if not USERNAME_RE.match(username):
            raise AdminRefused("bad_username", f"user name {username!r} is not allowed")
        display_name = clean_text(display_name, field="display name", max_length=MAX_DISPLAY_NAME)
        email = clean_text(email, field="e-mail", max_length=MAX_EMAIL)
        password_hash = _hash(password) if password else None  # slow: outside the transaction
        created: list[int] = []

        def work(s: Session) -> RoleChange | None:
            scope, _parents = self._scope(s, actor_id)
            if (role is None or unit_code is None) and not scope.everything:
                raise AdminRefused("role_required", "give the new person a role at a unit")
            if unit_code is not None:
                self._unit(s, scope, unit_code)
            taken = select(User.id).where(func.lower(User.username) == username.casefold())
            if s.exec(taken).first() is not None:
                raise AdminRefused("duplicate_username", f"a user named {username!r} exists")
            try:
                user = self.repo.add_user(
                    s,
                    username,
                    display_name,
                    email=email,
                    language=language,
                    password_hash=password_hash,
                    actor_id=actor_id,
                )
            except ValidationError as exc:
                raise AdminRefused("invalid", str(exc)) from exc
            created.append(user.id or 0)
            if role is None or unit_code is None:
                return None
            self.repo.assign_role(
                s, username, role, unit_code, known_roles=known_roles, actor_id=actor_id
            )
            return RoleChange(self.repo.unit_by_code(s, unit_code).id or 0, role, GRANTED)

        try:
            self.roles.run(work, actor_id)  # a first role may take open tasks over
        except IntegrityError as exc:
            raise AdminRefused("duplicate_username", f"a user named {username!r} exists") from exc
        return created[-1]

    def update_profile(
        self,
        actor_id: int,
        user_id: int,
        *,
        display_name: str,
        email: str,
        language: str,
        expected: str,
    ) -> None:
        """Change display name, e-mail and language; ``OrgConflict`` if the profile is no
        longer the one the admin saw (``expected``: its ``profile_stamp``)."""
        display_name = _required(
            clean_text(display_name, field="display name", max_length=MAX_DISPLAY_NAME),
            "display name",
        )
        email = clean_text(email, field="e-mail", max_length=MAX_EMAIL)
        if email and not EMAIL_RE.match(email):
            raise AdminRefused("bad_email", f"{email!r} is not an e-mail address")
        if language not in LANGUAGES:
            raise AdminRefused("invalid", f"language must be one of {', '.join(LANGUAGES)}")
        with self.db.session() as s:
            scope, _parents = self._scope(s, actor_id)
            person = self._account(s, scope, user_id)
            if person.stamp != expected:
                raise OrgConflict(f"user {person.username}", person.display_name)
            user = s.get(User, user_id)
            assert user is not None
            self.repo.set_profile(
                s,
                user,
                display_name=display_name,
                email=email,
                language=language,
                actor_id=actor_id,
            )

    def set_active(self, actor_id: int, user_id: int, active: bool) -> None:
        """(De)activate a person; either way every session of theirs ends."""
        if actor_id == user_id and not active:
            raise AdminForbidden("self_deactivate", "you cannot deactivate yourself")
        with self.db.session() as s:
            scope, _parents = self._scope(s, actor_id)
            person = self._account(s, scope, user_id)
            self.repo.set_active(s, person.username, active, actor_id=actor_id)

    def set_password(self, actor_id: int, user_id: int, password: str) -> None:
        """Give a person a new password; every session of theirs ends."""
        if actor_id == user_id:
            raise AdminForbidden("self_password", "change your own password on your password page")
        password_hash = _hash(password)  # slow: outside the write transaction
        with self.db.session() as s:
            scope, _parents = self._scope(s, actor_id)
            person = self._account(s, scope, user_id)
            self.repo.set_password(
                s, person.username, password_hash=password_hash, actor_id=actor_id
            )

    def assign_role(
        self,
        actor_id: int,
        user_id: int,
        role: str,
        unit_code: str,
        known_roles: tuple[str, ...] = BUILTIN_ROLES,
    ) -> bool:
        """Give the role at the unit; False if the person held it already.

        The open tasks the role now decides follow in the same transaction
        (``planflow.services.role_changes``); the re-routings are the admin's.
        """
        if role not in known_roles:
            raise AdminRefused(
                "unknown_role",
                f"unknown role {role!r}; known roles: {', '.join(known_roles)}",
                role=role,
                known=list(known_roles),
            )

        def work(s: Session) -> RoleChange | None:
            scope, _parents = self._scope(s, actor_id)
            unit = self._unit(s, scope, unit_code)
            person = visible_person(s, scope, user_id)
            if any(r.unit_id == unit.id and r.role == role for r in person.roles):
                return None
            self.repo.assign_role(
                s, person.username, role, unit_code, known_roles=known_roles, actor_id=actor_id
            )
            return RoleChange(unit.id or 0, role, GRANTED)

        return self.roles.run(work, actor_id)[0] is not None

    def revoke_role(self, actor_id: int, user_id: int, role: str, unit_code: str) -> bool:
        """Take the role at the unit away; False if the person no longer held it.

        The open tasks the role decided follow in the same transaction.
        """
        if actor_id == user_id and role == ADMIN:
            raise AdminForbidden("self_admin", "another administrator must take your admin role")

        def work(s: Session) -> RoleChange | None:
            scope, _parents = self._scope(s, actor_id)
            unit = self._unit(s, scope, unit_code)
            person = visible_person(s, scope, user_id)
            if not any(r.unit_id == unit.id and r.role == role for r in person.roles):
                return None
            self.repo.revoke_role(s, person.username, role, unit_code, actor_id=actor_id)
            return RoleChange(unit.id or 0, role, REVOKED)

        return self.roles.run(work, actor_id)[0] is not None


def _required(text: str, field: str) -> str:
    if not text:
        raise AdminRefused("required", f"a {field} is required", field=field)
    return text


def _hash(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AdminRefused(
            "password_length",
            f"a password needs {MIN_PASSWORD}-{MAX_PASSWORD} characters",
            min=MIN_PASSWORD,
            max=MAX_PASSWORD,
        )
    try:
        return hash_password(password)
    except ValidationError as exc:  # an unpaired surrogate
        raise AdminRefused(
            "password_invalid", "the password contains an invalid character"
        ) from exc
