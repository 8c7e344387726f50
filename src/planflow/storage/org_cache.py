"""Reading the organisation: one snapshot per process, reloaded when its generation moves.

``OrgCache`` keeps one ``OrgSnapshot`` (``planflow.core.org``) per process
and reloads it only when the organisation generation (one row, read in the
same query as the plan on every transition) has moved. Every change to the
tree, to role assignments or to who is active calls ``bump_generation`` in
its own transaction (``storage.org_repo``), so every process sees it on its
next use.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, bindparam, update
from sqlalchemy import select as core_select
from sqlmodel import Session

from planflow.core.org import OrgSnapshot, UnitInfo
from planflow.storage.db import Database
from planflow.storage.tables import OrgGeneration, RoleAssignment, Unit, User

org_generation_table = OrgGeneration.__table__  # type: ignore[attr-defined]
unit_table = Unit.__table__  # type: ignore[attr-defined]
user_table = User.__table__  # type: ignore[attr-defined]
#: One statement object for every call (an expanding IN): pages ask for names on
#: every view (a plan page: its timeline's, its comments', the deputy's).
_DISPLAY_NAMES = core_select(user_table.c.username, user_table.c.display_name).where(
    user_table.c.username.in_(bindparam("names", expanding=True))
)


def display_names(conn: Connection, usernames: list[str]) -> dict[str, str]:
    """Display names by username, of those of ``usernames`` that exist (one statement)."""
    return {r.username: r.display_name for r in conn.execute(_DISPLAY_NAMES, {"names": usernames})}


role_table = RoleAssignment.__table__  # type: ignore[attr-defined]


class OrgCache:
    """The organisation snapshot of this process, reloaded when it changes."""

    def __init__(self) -> None:
        self._snapshot: OrgSnapshot | None = None
        self._lock = threading.Lock()

    def get(self, db: Database, generation: int | None = None) -> OrgSnapshot:
        """The snapshot at ``generation`` or newer (None: whatever is current).

        A miss loads on its own read connection, which under WAL does not wait
        for, or block, a write transaction the caller may hold.
        """
        snap = self._snapshot
        if snap is not None and generation is not None and snap.generation >= generation:
            return snap
        with self._lock, db.read() as conn:
            snap = load_snapshot(conn, current_generation(conn))
            self._snapshot = snap
            return snap

    def latest(self, db: Database) -> OrgSnapshot:
        """The snapshot this process has, without asking whether it is current
        (loaded if there is none yet).

        For what never changes once it exists: the id of a username or of a
        unit code (users and units are never deleted or renamed in their key).
        A name the snapshot does not know may be new: ask ``get`` then.
        """
        snap = self._snapshot
        return snap if snap is not None else self.get(db)

    def clear(self) -> None:
        self._snapshot = None


def current_generation(conn: Connection) -> int:
    value = conn.execute(core_select(org_generation_table.c.generation)).scalar()
    return int(value or 0)


def load_snapshot(conn: Connection, generation: int) -> OrgSnapshot:
    units = [
        UnitInfo(r.id, r.parent_id, r.code, r.name)
        for r in conn.execute(
            core_select(
                unit_table.c.id, unit_table.c.parent_id, unit_table.c.code, unit_table.c.name
            )
        )
    ]
    assignments = [
        (r.user_id, r.unit_id, r.role)
        for r in conn.execute(
            core_select(role_table.c.user_id, role_table.c.unit_id, role_table.c.role)
        )
    ]
    users = list(
        conn.execute(core_select(user_table.c.id, user_table.c.username, user_table.c.active))
    )
    active = [r.id for r in users if r.active]
    return OrgSnapshot.build(
        generation, units, assignments, active, {r.id: r.username for r in users}
    )


def bump_generation(session: Session) -> None:
    result = session.connection().execute(
        update(org_generation_table).values(generation=org_generation_table.c.generation + 1)
    )
    if result.rowcount == 0:
        session.add(OrgGeneration(id=1, generation=2))
