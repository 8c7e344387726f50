"""``Planflow``: the library's front door, one per process and database.

It wires the adapters (database, clock, calendar, definition registry, event
bus) to the service and offers the operations the command line, the web UI
and the scheduler need. It holds no per-plan state.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from planflow.clock import Clock, SystemClock
from planflow.core.calendar import BusinessCalendar, load_calendar
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.engine import ActionOption
from planflow.core.guard_registry import FactProvider, GuardRegistry
from planflow.core.guards import GuardFunction
from planflow.core.org import OrgSnapshot
from planflow.core.state_phases import StateClasses, state_classes
from planflow.errors import NotFound
from planflow.events import EventBus
from planflow.services.accounts import Accounts
from planflow.services.content import PlanContentService
from planflow.services.execution import ExecutionService
from planflow.services.inbox import Inbox
from planflow.services.inspections.service import InspectionService
from planflow.services.org_admin import OrgAdmin
from planflow.services.overview import YearOverview, year_overview
from planflow.services.plans import PlanService
from planflow.storage import plan_store as ps
from planflow.storage.audit_keys import of_plan
from planflow.storage.db import Database, database_url_from_env
from planflow.storage.evidence_files import EvidenceStore
from planflow.storage.org_repo import OrgRepository
from planflow.storage.schema import upgrade
from planflow.storage.tables import AuditRecord, Plan, Unit, User
from planflow.storage.tx import read_tx


@dataclass(frozen=True)
class PlanSummary:
    id: int
    unit_code: str
    year: int
    title: str
    workflow: str
    state: str
    version: int
    updated_at: datetime


class Planflow:
    def __init__(
        self,
        database_url: str | None = None,
        *,
        clock: Clock | None = None,
        calendar: BusinessCalendar | None = None,
        workflows_dir: str | os.PathLike[str] | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.db = Database(database_url or database_url_from_env())
        self.clock = clock or SystemClock()
        self.calendar = calendar or load_calendar()
        #: The guards definitions may name (built-ins, and ``register_guard``'s).
        self.guards = GuardRegistry()
        self.registry = DefinitionRegistry(
            Path(workflows_dir) if workflows_dir else None, guards=self.guards
        )
        self.events = events or EventBus()
        self.service = PlanService(
            self.db,
            registry=self.registry,
            clock=self.clock,
            calendar=self.calendar,
            events=self.events,
            guards=self.guards,
        )
        self.org = OrgRepository(self.clock)
        self.accounts = Accounts(self.db, self.clock)
        self.content = PlanContentService(self.service)
        self.execution = ExecutionService(self.service, EvidenceStore.from_env())
        self.inspections = InspectionService(self.service)
        # The inspection guards read the current round's verdict.
        self.guards.provide("inspection", self.inspections.inspection_fact)
        self.inbox = Inbox(self.db, self.clock)

    # -- custom guards -------------------------------------------------------------

    def register_guard(
        self, name: str, function: GuardFunction, *, needs: Iterable[str] = ()
    ) -> None:
        """Let definitions name the guard ``name``: ``function(gate, ref)`` returns None to
        allow the transition, or a ``Refusal`` with a code of the guard's own to refuse it.

        ``needs`` names facts beyond the plan row (each must have a provider:
        ``provide_fact``); the guard reads them as ``gate.facts.fact(name)``.
        Register guards before the definitions that name them are first used.
        """
        self.guards.register(name, function, needs)

    def provide_fact(self, fact: str, provider: FactProvider) -> None:
        """Compute ``fact`` for guards that need it: ``provider(tx, row, spec)``, called
        in the decision's transaction (``tx.one``/``tx.all`` run SQL) when a plan is in
        a state whose transitions have such a guard."""
        self.guards.provide(fact, provider)

    # -- set-up ------------------------------------------------------------------

    def init(self) -> str:
        """Create or upgrade the schema; returns the schema revision."""
        return upgrade(self.db)

    def close(self) -> None:
        self.db.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for changes. The look-ups below only read, in ``db.read_session()``:
        on SQLite this one takes the write lock up front, and a page that looks a name
        up should not queue behind writers (and other pages) for it."""
        with self.db.session() as session:
            yield session

    def org_snapshot(self) -> OrgSnapshot:
        return self.service.org_cache.get(self.db)

    def org_admin(self) -> OrgAdmin:
        """The administrators' changes to the organisation (``planflow.services.org_admin``)."""
        return OrgAdmin(self.db, self.clock, self.org, service=self.service)

    # -- look-ups ------------------------------------------------------------------

    def user_id(self, username: str) -> int:
        with self.db.read_session() as s:
            user = self.org.user_by_name(s, username)
            assert user.id is not None
            return user.id

    def unit_id(self, code: str) -> int:
        with self.db.read_session() as s:
            unit = self.org.unit_by_code(s, code)
            assert unit.id is not None
            return unit.id

    # -- plans -----------------------------------------------------------------------

    def create_plan(
        self, *, unit_code: str, year: int, title: str, actor: str, workflow: str = "annual_plan"
    ) -> int:
        return self.service.create_plan(
            unit_id=self.unit_id(unit_code),
            year=year,
            title=title,
            actor_id=self.user_id(actor),
            workflow=workflow,
        )

    def fire(
        self,
        plan_id: int,
        action: str,
        actor: str | None,
        comment: str | None = None,
        expected_version: int | None = None,
        *,
        on_behalf_of: str | None = None,
    ) -> str:
        """Fire ``action`` as ``actor`` (a username; None is the system). Returns the new state.

        ``on_behalf_of`` names the colleague the actor stands in for; it is
        recorded on the audit trail (permissions are the actor's own).
        """
        actor_id = self.user_id(actor) if actor is not None else None
        behalf_id = self.user_id(on_behalf_of) if on_behalf_of is not None else None
        change = self.service.fire(
            plan_id, action, actor_id, comment, expected_version, on_behalf_of_id=behalf_id
        )
        return change.to_state

    def available_actions(self, plan_id: int, actor: str, lang: str = "en") -> list[ActionOption]:
        actor_id = self.user_id(actor)
        with read_tx(self.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None:
                raise NotFound("plan", plan_id)
            spec = self.service.definitions.spec_for(
                self.db, row.workflow_name, row.workflow_version
            )
            org = self.service.org_cache.get(self.db, row.org_generation)
            facts = self.service.facts_for(tx, row, spec)
        engine = self.service.engine_for(spec)
        return engine.available_actions(facts, actor_id, org, lang=lang)

    def plan(self, plan_id: int) -> Plan:
        with self.db.read_session() as s:
            plan = s.get(Plan, plan_id)
            if plan is None:
                raise NotFound("plan", plan_id)
            s.expunge(plan)
            return plan

    def list_plans(
        self,
        *,
        state: str | None = None,
        year: int | None = None,
        unit_code: str | None = None,
        limit: int = 200,
    ) -> list[PlanSummary]:
        with self.db.read_session() as s:
            query = select(Plan, Unit.code).join(Unit, col(Unit.id) == col(Plan.unit_id))
            if state:
                query = query.where(Plan.state == state)
            if year:
                query = query.where(Plan.year == year)
            if unit_code:
                query = query.where(Unit.code == unit_code)
            query = query.order_by(col(Plan.id)).limit(limit)
            return [
                PlanSummary(
                    p.id or 0,
                    code,
                    p.year,
                    p.title,
                    f"{p.workflow_name}@{p.workflow_version}",
                    p.state,
                    p.version,
                    p.updated_at,
                )
                for p, code in s.exec(query)
            ]

    def audit_trail(self, plan_id: int) -> list[AuditRecord]:
        with self.db.read_session() as s:
            records = list(
                s.exec(
                    select(AuditRecord)
                    .where(of_plan(col(AuditRecord.id), plan_id))
                    .order_by(col(AuditRecord.id))
                )
            )
            # Only a plan without records needs a look at the plan (its content can
            # be megabytes): does it exist at all?
            if not records and s.exec(select(Plan.id).where(Plan.id == plan_id)).first() is None:
                raise NotFound("plan", plan_id)
            for r in records:
                s.expunge(r)
            return records

    def user_names(self) -> dict[int, str]:
        with self.db.read_session() as s:
            return {u.id or 0: u.username for u in s.exec(select(User))}

    def year_overview(
        self, year: int, roots: Sequence[int], *, depth: int = 1, org: OrgSnapshot | None = None
    ) -> YearOverview:
        """A year's plans under ``roots`` (unit ids), per unit and rolled up ``depth`` levels down.

        A fixed number of queries whatever the number of units (see ``planflow.services.overview``).
        """

        def classes_of(name: str, version: int) -> StateClasses:
            return state_classes(self.service.definitions.spec_for(self.db, name, version))

        return year_overview(
            self.db,
            org or self.org_snapshot(),
            classes_of,
            year=year,
            roots=roots,
            depth=depth,
            now=self.clock.now(),
        )

    def counts(self) -> dict[str, int]:
        with self.db.read_session() as s:
            return {
                "units": s.exec(select(func.count()).select_from(Unit)).one(),
                "users": s.exec(select(func.count()).select_from(User)).one(),
                "plans": s.exec(select(func.count()).select_from(Plan)).one(),
                "audit_records": s.exec(select(func.count()).select_from(AuditRecord)).one(),
            }
