"""The one path by which a plan changes.

load → version check → engine → persist (plan row + audit + revision + vote
+ tasks + timers + notifications, in ONE transaction) → emit events.

``fire`` runs a workflow transition; ``mutate`` runs any other change to a
plan (content edits, comments, progress reports, inspection scores) through
the same lock, version check and audit chain, so nothing that happens to a
plan bypasses the trail. ``create_plan`` is the first step of a chain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from .audit_chain import GENESIS, AuditEntry, canonical_json
from .calendar import BusinessCalendar
from .changes import DEFAULT_WRITERS, Change, Writer
from .clock import Clock, SystemClock
from .definitions.registry import DefinitionRegistry
from .definitions.spec import WorkflowSpec
from .engine import Decision, WorkflowEngine
from .errors import NotFound, PermissionDenied, StaleVersion, ValidationError
from .events import EventBus, PlanChanged
from .storage import plan_store as ps
from .storage.db import Database
from .storage.definition_repo import DefinitionStore
from .storage.org_repo import OrgCache

#: How often ``fire`` retries by itself after losing a race, when the caller
#: did not pin a version (the decision is re-made on fresh state each time).
AUTO_RETRIES = 3

Mutation = Callable[[Connection, ps.PlanRow, Change], None]


class PlanService:
    def __init__(
        self,
        db: Database,
        *,
        registry: DefinitionRegistry,
        clock: Clock | None = None,
        calendar: BusinessCalendar | None = None,
        events: EventBus | None = None,
        writers: tuple[Writer, ...] = DEFAULT_WRITERS,
    ) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock or SystemClock()
        self.calendar = calendar or BusinessCalendar()
        self.events = events or EventBus()
        self.writers = writers
        self.org_cache = OrgCache()
        self.definitions = DefinitionStore(registry)
        self._engines: dict[tuple[str, int, str], WorkflowEngine] = {}
        self._engines_lock = threading.Lock()

    # -- definitions and engines -------------------------------------------

    def engine_for(self, spec: WorkflowSpec) -> WorkflowEngine:
        key = (spec.name, spec.version, spec.digest)
        engine = self._engines.get(key)
        if engine is None:
            with self._engines_lock:
                engine = self._engines.setdefault(key, WorkflowEngine(spec))
        return engine

    # -- creating a plan -----------------------------------------------------

    def create_plan(
        self,
        *,
        unit_id: int,
        year: int,
        title: str,
        actor_id: int,
        workflow: str = "annual_plan",
        content_json: str = '{"sections":[]}',
        item_count: int = 0,
        items_without_due: int = 0,
    ) -> int:
        title = title.strip()
        if not title or len(title) > 300:
            raise ValidationError("a plan needs a title of 1-300 characters")
        if not 2000 <= year <= 2100:
            raise ValidationError(f"year {year} is outside 2000-2100")
        spec = self.registry.get(workflow)
        now = self.clock.now()
        with self.db.write() as conn:
            self.definitions.ensure_stored(conn, spec, now)
            org = self.org_cache.get(conn)
            if unit_id not in org.units:
                raise NotFound("unit", unit_id)
            creator_unit = org.resolve(spec.creator, unit_id)
            if creator_unit is None or actor_id not in org.holders(spec.creator.role, creator_unit):
                raise PermissionDenied("create", spec.creator.role, spec.creator.at.describe())
            entry = AuditEntry(
                plan_id=0,
                seq=1,
                actor_id=actor_id,
                on_behalf_of_id=None,
                at=now,
                action="create",
                from_state=None,
                to_state=spec.initial,
                comment=None,
                revision=0,
                detail=canonical_json({"title": title, "year": year, "workflow": spec.key}),
                prev_hash=GENESIS,
            )
            result = conn.execute(
                ps.plan_t.insert(),
                {
                    "unit_id": unit_id,
                    "year": year,
                    "title": title,
                    "workflow_name": spec.name,
                    "workflow_version": spec.version,
                    "state": spec.initial,
                    "version": 1,
                    "created_by": actor_id,
                    "submitted_by": None,
                    "created_at": now,
                    "updated_at": now,
                    "content": content_json,
                    "item_count": item_count,
                    "items_without_due": items_without_due,
                    "revision": 0,
                    "audit_seq": 1,
                    "audit_hash": "",
                },
            )
            plan_id = int(result.inserted_primary_key[0])
            entry = _replace_plan(entry, plan_id)
            ps.update_plan_checked(conn, plan_id, 1, {"audit_hash": entry.compute_hash()})
            change = Change(
                plan_id=plan_id,
                unit_id=unit_id,
                title=title,
                action="create",
                actor_id=actor_id,
                on_behalf_of_id=None,
                at=now,
                from_state=None,
                to_state=spec.initial,
                comment=None,
                revision=0,
                new_version=1,
                spec=spec,
                org=org,
                calendar=self.calendar,
                audit=entry,
            )
            for writer in self.writers:
                writer(conn, change)
        self._emit(change)
        return plan_id

    # -- transitions ----------------------------------------------------------

    def fire(
        self,
        plan_id: int,
        action: str,
        actor_id: int | None,
        comment: str | None = None,
        expected_version: int | None = None,
        on_behalf_of_id: int | None = None,
    ) -> Change:
        """Run ``action`` on the plan as ``actor_id`` (None: the system)."""
        attempts = 1 if expected_version is not None else AUTO_RETRIES
        for attempt in range(attempts):
            try:
                return self._fire_once(
                    plan_id, action, actor_id, comment, expected_version, on_behalf_of_id
                )
            except StaleVersion:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _fire_once(
        self,
        plan_id: int,
        action: str,
        actor_id: int | None,
        comment: str | None,
        expected_version: int | None,
        on_behalf_of_id: int | None,
    ) -> Change:
        comment = comment.strip() if comment else None
        with self.db.write() as conn:
            row, spec, org = self._load(conn, plan_id, expected_version)
            engine = self.engine_for(spec)
            approvals = frozenset[int]()
            if any(t.quorum for t in spec.transitions_from(row.state)):
                approvals = ps.load_votes(conn, plan_id, row.revision)
            decision = engine.decide(row.facts(approvals), action, actor_id, org, comment)
            change = self._change(
                row, spec, org, action, actor_id, on_behalf_of_id, comment, decision
            )
            extra: dict[str, Any] = {}
            t = decision.transition
            if t.submission and decision.changes_state:
                change.revision = row.revision + 1
                change.frozen_content = ps.load_content(conn, plan_id)
                extra = {"submitted_by": actor_id, "revision": change.revision}
            if decision.quorum is not None:
                change.detail["quorum"] = list(decision.quorum)
            self._commit(conn, row, change, extra)
        self._emit(change)
        return change

    def mutate(
        self,
        plan_id: int,
        action: str,
        actor_id: int,
        apply: Mutation,
        *,
        expected_version: int | None = None,
        comment: str | None = None,
        plan_values: dict[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Change:
        """Change a plan without a state transition, on the same audited path.

        ``apply`` runs inside the transaction after the version check; it may
        raise a PlanflowError to refuse the change (nothing is written then).
        """
        with self.db.write() as conn:
            row, spec, org = self._load(conn, plan_id, expected_version)
            change = self._change(row, spec, org, action, actor_id, None, comment, None)
            change.detail.update(detail or {})
            apply(conn, row, change)
            self._commit(conn, row, change, plan_values or {})
        self._emit(change)
        return change

    # -- the shared steps --------------------------------------------------------

    def _load(
        self, conn: Connection, plan_id: int, expected_version: int | None
    ) -> tuple[ps.PlanRow, WorkflowSpec, Any]:
        row = ps.load_plan(conn, plan_id)
        if row is None:
            raise NotFound("plan", plan_id)
        if expected_version is not None and row.version != expected_version:
            raise StaleVersion(plan_id, expected_version, row.version)
        spec = self.definitions.spec_for(conn, row.workflow_name, row.workflow_version)
        org = self.org_cache.get(conn, row.org_generation)
        return row, spec, org

    def _change(
        self,
        row: ps.PlanRow,
        spec: WorkflowSpec,
        org: Any,
        action: str,
        actor_id: int | None,
        on_behalf_of_id: int | None,
        comment: str | None,
        decision: Decision | None,
    ) -> Change:
        return Change(
            plan_id=row.id,
            unit_id=row.unit_id,
            title=row.title,
            action=action,
            actor_id=actor_id,
            on_behalf_of_id=on_behalf_of_id,
            at=self.clock.now(),
            from_state=row.state,
            to_state=decision.to_state if decision else row.state,
            comment=comment,
            revision=row.revision,
            new_version=row.version + 1,
            spec=spec,
            org=org,
            calendar=self.calendar,
            decision=decision,
            previous_submitter=row.submitted_by,
        )

    def _commit(
        self, conn: Connection, row: ps.PlanRow, change: Change, extra: dict[str, Any]
    ) -> None:
        entry = AuditEntry(
            plan_id=row.id,
            seq=row.audit_seq + 1,
            actor_id=change.actor_id,
            on_behalf_of_id=change.on_behalf_of_id,
            at=change.at,
            action=change.action,
            from_state=change.from_state,
            to_state=change.to_state,
            comment=change.comment,
            revision=change.revision,
            detail=canonical_json(change.detail),
            prev_hash=row.audit_hash,
        )
        change.audit = entry
        values = {
            "state": change.to_state,
            "version": change.new_version,
            "updated_at": change.at,
            "audit_seq": entry.seq,
            "audit_hash": entry.compute_hash(),
            **extra,
        }
        if not ps.update_plan_checked(conn, row.id, row.version, values):
            current = ps.current_version(conn, row.id)
            if current is None:
                raise NotFound("plan", row.id)
            raise StaleVersion(row.id, row.version, current)
        for writer in self.writers:
            writer(conn, change)

    def _emit(self, change: Change) -> None:
        self.events.emit(
            PlanChanged(
                plan_id=change.plan_id,
                action=change.action,
                from_state=change.from_state,
                to_state=change.to_state,
                actor_id=change.actor_id,
                version=change.new_version,
                at=change.at,
                notified=tuple(change.notified),
            )
        )


def _replace_plan(entry: AuditEntry, plan_id: int) -> AuditEntry:
    from dataclasses import replace

    return replace(entry, plan_id=plan_id)
