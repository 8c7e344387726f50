"""``Planflow.admin``: an administrator's changes to the organisation, by name.

What the admin pages, the HTTP API's admin endpoints and a script acting as
an administrator do: add, rename and move units; create people and change
their profile, active flag and password; give and take roles. Every method
names the acting administrator by username, people by username and units by
code (``Planflow.org``'s set-up operations are the trusted caller's, with no
actor); the rule of who may change what is ``services.org_admin``'s, read in
the change's own transaction. A username or code outside the actor's units
answers ``NotFound`` exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

from planflow.facade.names import Names
from planflow.services.admin_directory import (
    AdminDirectory,
    AdminForbidden,
    AdminScope,
    PeoplePage,
    Person,
    scope_of,
)
from planflow.services.org_admin import OrgAdmin
from planflow.views import UnitMoved


class AdminAPI:
    def __init__(
        self,
        names: Names,
        changes: Callable[[], OrgAdmin],
        directory: Callable[[], AdminDirectory],
        known_roles: Callable[[], tuple[str, ...]],
        move_unit: Callable[..., UnitMoved],
    ) -> None:
        self.names = names
        self._changes = changes
        self._directory = directory
        self._known_roles = known_roles
        self._move_unit = move_unit

    # -- whom an administrator sees ------------------------------------------------------

    def scope(self, actor: str) -> AdminScope:
        """The units ``actor`` administers (``AdminForbidden`` if none), as the
        organisation is now; each change reads it again in its own transaction."""
        scope = scope_of(self.names.current(), self.names.user_id(actor))
        if scope is None:
            raise AdminForbidden("not_admin", "only an administrator may change the organisation")
        return scope

    def people(self, actor: str, search: str = "", page: int = 1) -> PeoplePage:
        """The people with a role in ``actor``'s units, a page at a time."""
        return self._directory().people(self.scope(actor), search, page)

    def person(self, actor: str, username: str) -> Person:
        """One person ``actor`` sees; ``NotFound`` for anyone else."""
        scope = self.scope(actor)
        return self._directory().person(scope, self.names.user_id(username))

    # -- units ---------------------------------------------------------------------------

    def add_unit(self, actor: str, code: str, name: str, parent: str) -> None:
        """Add a unit under ``parent``, one of the units ``actor`` manages."""
        self._changes().add_unit(self.names.user_id(actor), code, name, parent)

    def rename_unit(self, actor: str, code: str, name: str, *, expected_name: str) -> None:
        """Rename a unit (its code stays); ``OrgConflict`` if its name is no longer
        ``expected_name``, the one the administrator saw."""
        self._changes().rename_unit(self.names.user_id(actor), code, name, expected_name)

    def move_unit(self, actor: str, code: str, parent: str) -> UnitMoved:
        """Move a unit and everything below it; its plans' open tasks follow in the
        same transaction (``Planflow.org.move_unit`` with an actor)."""
        moved: UnitMoved = self._move_unit(code, parent, actor=actor)
        return moved

    # -- people --------------------------------------------------------------------------

    def create_user(
        self,
        actor: str,
        username: str,
        display_name: str,
        *,
        email: str = "",
        language: str = "en",
        password: str | None = None,
        role: str | None = None,
        unit: str | None = None,
    ) -> None:
        """Create a person with a first role at ``unit`` (required unless ``actor``
        manages every unit)."""
        self._changes().create_user(
            self.names.user_id(actor),
            username=username,
            display_name=display_name,
            email=email,
            language=language,
            password=password,
            role=role,
            unit_code=unit,
            known_roles=self._known_roles(),
        )

    def update_profile(
        self,
        actor: str,
        username: str,
        *,
        display_name: str,
        email: str,
        language: str,
        expected: str,
    ) -> None:
        """Change a profile; ``expected`` is the ``Person.stamp`` the administrator saw
        (``OrgConflict`` if someone changed it since)."""
        self._changes().update_profile(
            *self._ids(actor, username),
            display_name=display_name,
            email=email,
            language=language,
            expected=expected,
        )

    def set_active(self, actor: str, username: str, active: bool) -> None:
        """(De)activate a person; either way every session of theirs ends."""
        self._changes().set_active(*self._ids(actor, username), active)

    def set_password(self, actor: str, username: str, password: str) -> None:
        """Give a person a new password; every session of theirs ends."""
        self._changes().set_password(*self._ids(actor, username), password)

    def assign_role(self, actor: str, username: str, role: str, unit: str) -> bool:
        """Give ``role`` at ``unit``; False if the person held it already."""
        return self._changes().assign_role(
            *self._ids(actor, username), role, unit, self._known_roles()
        )

    def revoke_role(self, actor: str, username: str, role: str, unit: str) -> bool:
        """Take ``role`` at ``unit`` away; False if the person no longer held it."""
        return self._changes().revoke_role(*self._ids(actor, username), role, unit)

    def _ids(self, actor: str, username: str) -> tuple[int, int]:
        # Whether the actor is an administrator at all is answered first, so that
        # someone who is not cannot learn from NotFound which usernames exist.
        # Outside the actor's units the service answers NotFound, as for no one.
        self.scope(actor)
        return self.names.user_id(actor), self.names.user_id(username)
