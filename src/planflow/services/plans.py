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
from dataclasses import dataclass
from typing import Any

from planflow.clock import Clock, SystemClock
from planflow.core.audit_chain import GENESIS, AuditEntry, canonical_json
from planflow.core.calendar import BusinessCalendar
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.engine import Decision, WorkflowEngine
from planflow.core.guard_registry import GuardRegistry
from planflow.core.guards import PlanFacts
from planflow.core.org import OrgSnapshot
from planflow.core.task_planning import TaskPlanner
from planflow.core.text import MAX_PLAN_TITLE, MAX_RECORD_COMMENT, clean_text
from planflow.errors import NotFound, PermissionDenied, StaleVersion, ValidationError
from planflow.events import EventBus, PlanChanged
from planflow.services.changes import DEFAULT_WRITERS, Change, Writer
from planflow.storage import plan_store as ps
from planflow.storage.db import Database
from planflow.storage.definition_repo import DefinitionStore
from planflow.storage.org_repo import OrgCache
from planflow.storage.tx import Sql, Tx, write_tx

#: How often ``fire`` retries by itself after losing a race, when the caller
#: did not pin a version (the decision is re-made on fresh state each time).
AUTO_RETRIES = 3

Mutation = Callable[[Tx, ps.PlanRow, Change], None]


@dataclass(frozen=True)
class SystemEffect:
    """A change the system makes to a loaded plan: a reminder or an escalation."""

    row: ps.PlanRow
    action: str
    update: tuple[Sql, dict[str, Any]]
    detail: dict[str, Any]
    key: str
    notice: tuple[str, tuple[int, ...], dict[str, Any]] | None


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
        guards: GuardRegistry | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        #: The guards and fact providers; the definitions' own unless given.
        self.guards = guards if guards is not None else registry.guards
        self.clock = clock or SystemClock()
        self.calendar = calendar or BusinessCalendar()
        self.tasks = TaskPlanner(self.calendar)
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
                engine = self._engines.setdefault(key, WorkflowEngine(spec, self.guards))
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
        title = clean_text(title, field="title", max_length=MAX_PLAN_TITLE)
        if not title:
            raise ValidationError(
                "a plan needs a title of 1-300 characters",
                code="title_required",
                params={"max": MAX_PLAN_TITLE},
            )
        if not 2000 <= year <= 2100:
            raise ValidationError(
                f"year {year} is outside 2000-2100",
                code="year_out_of_range",
                params={"year": year, "min": 2000, "max": 2100},
            )
        spec = self.registry.get(workflow)
        now = self.clock.now()
        self.definitions.ensure_stored(self.db, spec, now)
        with write_tx(self.db) as tx:
            org = self.org_cache.get(self.db, ps.org_generation(tx))
            if unit_id not in org.units:
                raise NotFound("unit", unit_id)
            creator_unit = org.resolve(spec.creator, unit_id)
            if creator_unit is None or actor_id not in org.holders(spec.creator.role, creator_unit):
                raise PermissionDenied("create", spec.creator.role, spec.creator.at.describe())
            plan_id = tx.insert(
                ps.INSERT_PLAN,
                {
                    "unit_id": unit_id,
                    "year": year,
                    "title": title,
                    "workflow_name": spec.name,
                    "workflow_version": spec.version,
                    "state": spec.initial,
                    "created_by": actor_id,
                    "at": now,
                    "content": content_json,
                    "item_count": item_count,
                    "items_without_due": items_without_due,
                },
            )
            row = ps.PlanRow(
                id=plan_id,
                unit_id=unit_id,
                year=year,
                title=title,
                workflow_name=spec.name,
                workflow_version=spec.version,
                state=spec.initial,
                version=0,
                submitted_by=None,
                item_count=item_count,
                items_without_due=items_without_due,
                revision=0,
                audit_seq=0,
                audit_hash=GENESIS,
                task_role=None,
                task_unit_id=None,
                task_level=0,
                task_escalated_unit_id=None,
                has_timer=False,
                org_generation=org.generation,
            )
            change = self._change(row, spec, org, "create", actor_id, None, None, None)
            change.from_state = None
            change.detail = {"title": title, "year": year, "workflow": spec.key}
            # The row is inserted at version 0 without an audit head; sealing the
            # first audit record moves it to version 1 through the same checked
            # update as every later change.
            self._commit(tx, row, change, ps.UPDATE_PLAN_MOVE, {"submitted_by": None})
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
        attach: Mutation | None = None,
    ) -> Change:
        """Run ``action`` on the plan as ``actor_id`` (None: the system).

        ``attach`` runs inside the same transaction once the engine has
        decided, before anything is written; it may add detail to the audit
        record and write rows of its own (an inspection's outcome, say), or
        raise a PlanflowError to refuse the whole transition.
        """
        attempts = 1 if expected_version is not None else AUTO_RETRIES
        for attempt in range(attempts):
            try:
                return self._fire_once(
                    plan_id,
                    action,
                    actor_id,
                    comment,
                    expected_version,
                    on_behalf_of_id,
                    attach,
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
        attach: Mutation | None = None,
    ) -> Change:
        comment = _clean_comment(comment) if comment else None
        with write_tx(self.db) as tx:
            row, spec, org = self._load(tx, plan_id, expected_version)
            engine = self.engine_for(spec)
            facts = self.facts_for(tx, row, spec, engine)
            decision = engine.decide(facts, action, actor_id, org, comment)
            change = self._change(
                row, spec, org, action, actor_id, on_behalf_of_id, comment, decision
            )
            submitted_by = None
            if decision.transition.submission and decision.changes_state:
                change.revision = row.revision + 1
                change.frozen_content = ps.load_content(tx, plan_id)
                submitted_by = actor_id
            sql, extra = ps.UPDATE_PLAN, {}
            if decision.changes_state:
                sql, extra = ps.UPDATE_PLAN_MOVE, {"submitted_by": submitted_by}
            if decision.quorum is not None:
                change.detail["quorum"] = list(decision.quorum)
            if attach is not None:
                attach(tx, row, change)
            self._commit(tx, row, change, sql, extra)
        self._emit(change)
        return change

    def mutate(
        self,
        plan_id: int,
        action: str,
        actor_id: int | None,
        apply: Mutation,
        *,
        expected_version: int | None = None,
        comment: str | None = None,
        update: tuple[Sql, dict[str, Any]] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Change:
        """Change a plan without a state transition, on the same audited path.

        ``apply`` runs inside the transaction after the version check; it may
        raise a PlanflowError to refuse the change (nothing is written then).
        ``update`` is the plan UPDATE to use (it must set the audit head and
        check the version like ``UPDATE_PLAN``) with its extra parameters.
        ``actor_id`` None: the system (e.g. a re-routing run by maintenance).
        """
        sql, extra = update or (ps.UPDATE_PLAN, {})
        comment = _clean_comment(comment) if comment else comment
        with write_tx(self.db) as tx:
            row, spec, org = self._load(tx, plan_id, expected_version)
            change = self._change(row, spec, org, action, actor_id, None, comment, None)
            change.detail.update(detail or {})
            apply(tx, row, change)
            self._commit(tx, row, change, sql, extra)
        self._emit(change)
        return change

    def apply_system_change(self, tx: Tx, effect: SystemEffect) -> Change:
        """A timer's change to a plan the scheduler has already loaded (in a batch).

        The same path as ``mutate`` without the per-plan SELECT, inside the
        caller's transaction (the deadline processor commits a group of
        effects at once; emit the changes with ``emit`` after the commit).
        ``effect.update`` checks the version the row was loaded at and the
        scheduler's claim: a plan changed since is refused with
        ``StaleVersion`` before anything is written for it. The effect key
        makes a second application of the same effect a no-op.
        """
        row = effect.row
        spec = self.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        org = self.org_cache.get(self.db, row.org_generation)
        change = self._change(row, spec, org, effect.action, None, None, None, None)
        change.detail.update(effect.detail)
        change.effect_key = effect.key
        change.notice = effect.notice
        self._commit(tx, row, change, *effect.update)
        return change

    def emit(self, change: Change) -> None:
        """Tell subscribers about a committed change (see ``apply_system_change``)."""
        self._emit(change)

    # -- the shared steps --------------------------------------------------------

    def facts_for(
        self, tx: Tx, row: ps.PlanRow, spec: WorkflowSpec, engine: WorkflowEngine | None = None
    ) -> PlanFacts:
        """What the engine may know about the plan: the row, plus what guards need."""
        engine = engine or self.engine_for(spec)
        approvals = frozenset[int]()
        if row.state in engine.quorum_states:
            approvals = ps.load_votes(tx, row.id, row.revision)
        facts: dict[str, object] = {}
        for fact in engine.facts_needed.get(row.state, ()):
            provider = self.guards.provider(fact)
            # Without a provider the fact is unknown (None), and its guards refuse.
            facts[fact] = provider(tx, row, spec) if provider is not None else None
        inspection = facts.pop("inspection", None)
        return row.facts(approvals, None if inspection is None else str(inspection), facts)

    def _load(
        self, tx: Tx, plan_id: int, expected_version: int | None
    ) -> tuple[ps.PlanRow, WorkflowSpec, OrgSnapshot]:
        row = ps.load_plan(tx, plan_id)
        if row is None:
            raise NotFound("plan", plan_id)
        if expected_version is not None and row.version != expected_version:
            raise StaleVersion(plan_id, expected_version, row.version)
        spec = self.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        org = self.org_cache.get(self.db, row.org_generation)
        return row, spec, org

    def _change(
        self,
        row: ps.PlanRow,
        spec: WorkflowSpec,
        org: OrgSnapshot,
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
        self, tx: Tx, row: ps.PlanRow, change: Change, sql: Sql, extra: dict[str, Any]
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
            detail=canonical_json(change.detail) if change.detail else "{}",
            prev_hash=row.audit_hash,
        )
        change.audit = entry
        # Hash first: the database text of ``at`` then reuses the hash's.
        change.audit_hash = entry.compute_hash()
        change.at_db = at_db = tx.ts(change.at)
        params = {
            "plan_id": row.id,
            "version": row.version,
            "state": change.to_state,
            "new_version": change.new_version,
            "at": at_db,
            "audit_seq": entry.seq,
            "audit_hash": change.audit_hash,
        }
        if extra:
            params.update(extra)
        # Our own parameters are bound already; an ``extra`` of a caller's may not be.
        bound = not extra
        if sql.name in ps.TASK_UPDATES:
            task = self.tasks.task_for_state(
                change.spec,
                change.org,
                row.unit_id,
                change.to_state,
                change.at,
                change.task_due_override,
            )
            change.task = task
            timer_at = tx.ts(task.timer_at)
            if sql is ps.UPDATE_PLAN_MOVE:
                sql = ps.move_update(row, task.role, task.unit_id, timer_at, extra["submitted_by"])
                bound = True  # its one extra (from create and fire), the submitter, is an id
            params["revision"] = change.revision
            params["task_role"] = task.role
            params["task_unit_id"] = task.unit_id
            params["task_since"] = at_db if task.since == change.at else tx.ts(task.since)
            params["task_due_at"] = tx.ts(task.due_at)
            params["timer_at"] = timer_at
            params["timer_kind"] = task.timer_kind
        if not ps.update_plan_checked(tx, sql, params, bound=bound):
            current = ps.current_version(tx, row.id)
            if current is None:
                raise NotFound("plan", row.id)
            raise StaleVersion(row.id, row.version, current)
        for writer in self.writers:
            writer(tx, change)

    def _emit(self, change: Change) -> None:
        if not self.events.has_subscribers:
            return
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


def _clean_comment(comment: str) -> str:
    return clean_text(comment, field="comment", max_length=MAX_RECORD_COMMENT, multiline=True)
