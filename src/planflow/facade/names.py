"""Usernames and unit codes to ids, and back, through the cached organisation snapshot.

A username or unit code never changes and is never reused (users are
deactivated, not deleted; a unit is renamed, never recoded), so the id the
process's snapshot gives for a name stays right for good: a lookup costs
no query. Only a name the snapshot does not know asks the database whether
the organisation moved on (one read of its generation) before saying
``NotFound``: it may be a user added by another process since.
"""

from __future__ import annotations

from collections.abc import Iterable

from planflow.core.org import OrgSnapshot
from planflow.errors import NotFound
from planflow.storage.db import Database
from planflow.storage.org_cache import OrgCache, current_generation


def _name(value: object, kind: str) -> str:
    if not isinstance(value, str):
        # The services take ids; the front door takes names. Say so plainly.
        raise TypeError(f"a {kind} is named by its {_KEYS[kind]} (a str), not {value!r}")
    return value


_KEYS = {"user": "username", "unit": "code"}


class Names:
    def __init__(self, db: Database, cache: OrgCache) -> None:
        self.db = db
        self.cache = cache

    def org(self) -> OrgSnapshot:
        """The snapshot this process has (not checked against the database)."""
        return self.cache.latest(self.db)

    def current(self) -> OrgSnapshot:
        """The snapshot of the organisation as it is now (one read of its generation)."""
        with self.db.read() as conn:
            generation = current_generation(conn)
        return self.cache.get(self.db, generation)

    def at(self, generation: int) -> OrgSnapshot:
        """The snapshot at ``generation`` or newer (a query read the generation with its rows)."""
        return self.cache.get(self.db, generation)

    def knowing(self, user_ids: Iterable[int | None]) -> OrgSnapshot:
        """A snapshot that names every one of ``user_ids`` (refreshed if someone is newer)."""
        org = self.org()
        names = org.usernames
        if any(u is not None and u not in names for u in user_ids):
            org = self.current()
        return org

    def user_id(self, username: str) -> int:
        name = _name(username, "user")
        found = self.org().user_ids.get(name)
        if found is None:
            found = self.current().user_ids.get(name)
            if found is None:
                raise NotFound("user", name)
        return found

    def actor_id(self, username: str | None) -> int | None:
        """The id of an acting person; None stays None (the system)."""
        return None if username is None else self.user_id(username)

    def unit_id(self, code: str) -> int:
        key = _name(code, "unit")
        found = self.org().unit_ids.get(key)
        if found is None:
            found = self.current().unit_ids.get(key)
            if found is None:
                raise NotFound("unit", key)
        return found

    def username(self, user_id: int | None) -> str | None:
        """The username of ``user_id`` (None for None: the system)."""
        if user_id is None:
            return None
        found = self.org().usernames.get(user_id)
        if found is None:
            found = self.current().usernames.get(user_id, "?")
        return found
