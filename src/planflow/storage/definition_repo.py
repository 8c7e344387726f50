"""Definition versions in the database: what plans started under stays readable.

When a plan is created under ``annual_plan@2`` the definition's text is
stored; later, a plan loads its definition from the registry (files) when the
digest matches and from the stored text otherwise, so editing or deleting a
file never changes or breaks running plans. Reusing a version number for a
different file is refused: a new meaning needs a new version.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from planflow.core.definitions.loader import parse_definition
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import WorkflowSpec
from planflow.errors import DefinitionError, DefinitionProblem, NotFound
from planflow.storage.db import Database
from planflow.storage.tables import WorkflowDefinition

definition_t = WorkflowDefinition.__table__  # type: ignore[attr-defined]


class DefinitionStore:
    def __init__(self, registry: DefinitionRegistry) -> None:
        self.registry = registry
        self._stored: set[tuple[str, int, str]] = set()
        self._by_version: dict[tuple[str, int], WorkflowSpec] = {}
        self._lock = threading.Lock()

    def ensure_stored(self, db: Database, spec: WorkflowSpec, now: datetime) -> None:
        """Record ``spec`` before the first plan starts under it (own transaction)."""
        key = (spec.name, spec.version, spec.digest)
        if key in self._stored:
            return
        with db.write() as conn:
            self._store(conn, spec, now)
        with self._lock:
            self._stored.add(key)
            self._by_version[(spec.name, spec.version)] = spec

    @staticmethod
    def _store(conn: Any, spec: WorkflowSpec, now: datetime) -> None:
        row = conn.execute(
            select(definition_t.c.digest).where(
                definition_t.c.name == spec.name, definition_t.c.version == spec.version
            )
        ).first()
        if row is None:
            body = Path(spec.source).read_bytes().decode("utf-8") if spec.source else ""
            conn.execute(
                insert(definition_t),
                {
                    "name": spec.name,
                    "version": spec.version,
                    "digest": spec.digest,
                    "body": body,
                    "registered_at": now,
                },
            )
        elif row.digest != spec.digest:
            raise DefinitionError(
                spec.source or spec.name,
                [
                    DefinitionProblem(
                        "version",
                        None,
                        f"{spec.key} is already in use with different content; "
                        "give the changed definition a new version number",
                    )
                ],
            )

    def spec_for(self, db: Database, name: str, version: int) -> WorkflowSpec:
        cached = self._by_version.get((name, version))
        if cached is not None:
            return cached
        with db.read() as conn:
            row = conn.execute(
                select(definition_t.c.digest, definition_t.c.body).where(
                    definition_t.c.name == name, definition_t.c.version == version
                )
            ).first()
        spec: WorkflowSpec | None = None
        try:
            candidate = self.registry.get(name, version)
            if row is None or candidate.digest == row.digest:
                spec = candidate
        except NotFound:
            pass
        if spec is None:
            if row is None:
                raise NotFound("workflow definition", f"{name}@{version}")
            source = f"<stored {name}@{version}>"
            spec = parse_definition(row.body, source, guards=self.registry.guards)
        with self._lock:
            self._by_version[(name, version)] = spec
        return spec

    def loaded(self) -> tuple[WorkflowSpec, ...]:
        """Every definition ``spec_for`` or ``ensure_stored`` has met (those it would return)."""
        with self._lock:
            return tuple(self._by_version.values())
