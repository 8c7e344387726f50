"""Units, users and role assignments: changing the organisation.

Every mutation of the tree, of role assignments or of who is active bumps
the organisation generation in the same transaction (``storage.org_cache``,
which also reads the tree), so every process sees it on its next use, and
goes on the organisation's audit chain (``storage.org_audit``) in that
transaction too, with the acting admin (``actor_id``; None: the system).
Passwords are checked and hashed by ``storage.passwords``.
"""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlmodel import Session, select

from planflow.clock import Clock
from planflow.core.definitions.spec import BUILTIN_ROLES
from planflow.core.text import MAX_DISPLAY_NAME, MAX_UNIT_NAME, clean_text
from planflow.errors import NotFound, ValidationError
from planflow.storage import org_audit
from planflow.storage.org_cache import OrgCache as OrgCache  # services.plans imports it here
from planflow.storage.org_cache import bump_generation
from planflow.storage.passwords import hash_password
from planflow.storage.tables import RoleAssignment, Unit, User

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,79}$")
# Deliberately simple: one "@", a non-empty local part, a dotted domain, no
# spaces. The real check is the SMTP server accepting the address.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
EMAIL_PREFERENCES = ("immediately", "digest", "off")
LANGUAGES = ("en", "zh", "ko")


def check_role(role: str, known_roles: tuple[str, ...]) -> None:
    if role not in known_roles:
        raise ValidationError(
            f"unknown role {role!r}; known roles: {', '.join(known_roles)}",
            code="unknown_role",
            params={"role": role, "known": list(known_roles)},
        )


class OrgRepository:
    """Changes to the organisation; each method runs inside the caller's session."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def unit_by_code(self, session: Session, code: str) -> Unit:
        unit = session.exec(select(Unit).where(Unit.code == code)).first()
        if unit is None:
            raise NotFound("unit", code)
        return unit

    def user_by_name(self, session: Session, username: str) -> User:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound("user", username)
        return user

    def add_unit(
        self,
        session: Session,
        code: str,
        name: str,
        parent_code: str | None,
        *,
        actor_id: int | None = None,
    ) -> Unit:
        name = clean_text(name, field="name", max_length=MAX_UNIT_NAME)
        problems = []
        if not CODE_RE.match(code):
            problems.append(f"unit code {code!r} must be 1-64 letters, digits, '_', '.' or '-'")
        if not name:
            problems.append("a unit needs a name of 1-300 characters")
        if problems:
            raise ValidationError("; ".join(problems))
        # Codes differ in more than case (as on the admin pages): "Union1" is "union1".
        if session.exec(select(Unit).where(func.lower(Unit.code) == code.lower())).first():
            raise ValidationError(
                f"a unit with code {code!r} already exists",
                code="duplicate_code",
                params={"code": code},
            )
        parent = self.unit_by_code(session, parent_code) if parent_code else None
        unit = Unit(
            code=code,
            name=name.strip(),
            parent_id=parent.id if parent else None,
            created_at=self.clock.now(),
        )
        session.add(unit)
        bump_generation(session)
        session.flush()
        org_audit.record_in(
            session,
            actor_id,
            unit.created_at,
            "unit_created",
            unit=code,
            name=unit.name,
            parent=parent_code,
        )
        return unit

    def move_unit(
        self,
        session: Session,
        code: str,
        new_parent_code: str | None,
        *,
        actor_id: int | None = None,
    ) -> Unit:
        unit = self.unit_by_code(session, code)
        before = session.get(Unit, unit.parent_id) if unit.parent_id else None
        parent = self.unit_by_code(session, new_parent_code) if new_parent_code else None
        # Refuse cycles: the new parent must not be the unit or below it.
        cursor = parent
        while cursor is not None:
            if cursor.id == unit.id:
                raise ValidationError(f"unit {code!r} cannot be moved below itself")
            cursor = session.get(Unit, cursor.parent_id) if cursor.parent_id else None
        unit.parent_id = parent.id if parent else None
        session.add(unit)
        bump_generation(session)
        org_audit.record_in(
            session,
            actor_id,
            self.clock.now(),
            "unit_moved",
            unit=code,
            **{"from": before.code if before else None, "to": new_parent_code},
        )
        return unit

    def renamed_unit(
        self, session: Session, code: str, old: str, new: str, *, actor_id: int | None = None
    ) -> None:
        """After the caller renamed a unit (``OrgAdmin.rename_unit``, which checks what the
        admin saw): the generation moves, the rename goes on the trail."""
        bump_generation(session)
        org_audit.record_in(
            session,
            actor_id,
            self.clock.now(),
            "unit_renamed",
            unit=code,
            **{"from": old, "to": new},
        )

    def add_user(
        self,
        session: Session,
        username: str,
        display_name: str,
        *,
        email: str = "",
        language: str = "en",
        password: str | None = None,
        password_hash: str | None = None,
        actor_id: int | None = None,
    ) -> User:
        """A new person; ``password`` (hashed here) or ``password_hash`` (hashed already)."""
        display_name = clean_text(display_name, field="display name", max_length=MAX_DISPLAY_NAME)
        problems = []
        if not USERNAME_RE.match(username):
            problems.append(
                f"username {username!r} must be 1-80 letters, digits, '_', '.', '@' or '-'"
            )
        if not display_name:
            problems.append("a display name is required")
        if email and (not EMAIL_RE.match(email) or len(email) > 320):
            problems.append(f"{email!r} is not an e-mail address")
        if language not in LANGUAGES:
            problems.append(f"language must be one of {', '.join(LANGUAGES)}")
        if problems:
            raise ValidationError("; ".join(problems))
        taken = select(User).where(func.lower(User.username) == username.lower())
        if session.exec(taken).first() is not None:
            raise ValidationError(
                f"a user named {username!r} already exists",
                code="duplicate_username",
                params={"username": username},
            )
        user = User(
            username=username,
            display_name=display_name,
            email=email,
            language=language,
            password_hash=hash_password(password) if password else password_hash,
            created_at=self.clock.now(),
        )
        session.add(user)
        bump_generation(session)
        session.flush()
        org_audit.record_in(
            session,
            actor_id,
            user.created_at,
            "user_created",
            user=username,
            display_name=display_name,
            email=email,
            language=language,
            password_set=user.password_hash is not None,
        )
        return user

    def set_profile(
        self,
        session: Session,
        user: User,
        *,
        display_name: str,
        email: str,
        language: str,
        actor_id: int | None = None,
    ) -> None:
        """Change a profile; the record says what changed (from, to)."""
        new = {"display_name": display_name, "email": email, "language": language}
        old = {"display_name": user.display_name, "email": user.email, "language": user.language}
        changed = {k: {"from": old[k], "to": v} for k, v in new.items() if old[k] != v}
        user.display_name, user.email, user.language = display_name, email, language
        session.add(user)
        if changed:
            org_audit.record_in(
                session, actor_id, self.clock.now(), "user_changed", user=user.username, **changed
            )

    def set_active(
        self, session: Session, username: str, active: bool, *, actor_id: int | None = None
    ) -> User:
        user = self.user_by_name(session, username)
        user.active = active
        user.session_version += 1
        session.add(user)
        bump_generation(session)
        action = "user_activated" if active else "user_deactivated"
        org_audit.record_in(session, actor_id, self.clock.now(), action, user=username)
        return user

    def set_password(
        self,
        session: Session,
        username: str,
        password: str | None = None,
        *,
        password_hash: str | None = None,
        actor_id: int | None = None,
    ) -> User:
        """A new password (or its hash, made outside the transaction); never on the trail."""
        user = self.user_by_name(session, username)
        user.password_hash = hash_password(password) if password is not None else password_hash
        user.session_version += 1  # every other session of the user ends
        session.add(user)
        org_audit.record_in(session, actor_id, self.clock.now(), "user_password_set", user=username)
        return user

    def assign_role(
        self,
        session: Session,
        username: str,
        role: str,
        unit_code: str,
        known_roles: tuple[str, ...] = BUILTIN_ROLES,
        *,
        actor_id: int | None = None,
    ) -> RoleAssignment:
        check_role(role, known_roles)
        user, unit, existing = self._assignment(session, username, role, unit_code)
        if existing is not None:
            return existing
        assert user.id is not None and unit.id is not None
        assignment = RoleAssignment(
            user_id=user.id,
            unit_id=unit.id,
            role=role,
            created_at=self.clock.now(),
        )
        session.add(assignment)
        bump_generation(session)
        session.flush()
        org_audit.record_in(
            session,
            actor_id,
            assignment.created_at,
            "role_granted",
            user=username,
            role=role,
            unit=unit_code,
        )
        return assignment

    def revoke_role(
        self,
        session: Session,
        username: str,
        role: str,
        unit_code: str,
        *,
        actor_id: int | None = None,
    ) -> None:
        _user, _unit, found = self._assignment(session, username, role, unit_code)
        if found is None:
            raise NotFound("role assignment", f"{username} {role} at {unit_code}")
        session.delete(found)
        bump_generation(session)
        org_audit.record_in(
            session,
            actor_id,
            self.clock.now(),
            "role_revoked",
            user=username,
            role=role,
            unit=unit_code,
        )

    def holds(self, session: Session, username: str, role: str, unit_code: str) -> bool:
        """Does ``username`` hold ``role`` at ``unit_code`` (both must exist)?"""
        return self._assignment(session, username, role, unit_code)[2] is not None

    def _assignment(
        self, session: Session, username: str, role: str, unit_code: str
    ) -> tuple[User, Unit, RoleAssignment | None]:
        user = self.user_by_name(session, username)
        unit = self.unit_by_code(session, unit_code)
        found = session.exec(
            select(RoleAssignment).where(
                RoleAssignment.user_id == user.id,
                RoleAssignment.unit_id == unit.id,
                RoleAssignment.role == role,
            )
        ).first()
        return user, unit, found
