"""``Planflow``: the library's front door, one per process and database.

It wires the adapters (database, clock, calendar, definition registry, event
bus) to the services and offers what every client needs (the command line,
the web UI, the scheduler, a script) in the names people use: a person is
named by username (``actor="union1.reviewer"``; ``None`` is the system,
where the system may act), a unit by its code, a plan by its id. What it
returns are frozen views (``planflow.views``), never database rows. The
services behind it work with ids (``services``); this is where names become
ids, through the process's cached organisation snapshot, without a query.

Reads that name a user (``as_user``) apply the visibility rule
(``services.visibility``): a plan the user may not see is ``NotFound``,
exactly like a plan that does not exist.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from planflow.clock import Clock, SystemClock
from planflow.core.calendar import BusinessCalendar, load_calendar
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.guard_registry import FactProvider, GuardRegistry
from planflow.core.guards import GuardFunction
from planflow.core.org import OrgSnapshot
from planflow.events import EventBus
from planflow.facade.acting import ActingMixin
from planflow.facade.admin import AdminAPI
from planflow.facade.audit import AuditMixin
from planflow.facade.base import Services
from planflow.facade.content import ContentAPI
from planflow.facade.delegations import DelegationsAPI
from planflow.facade.documents import DocumentsAPI
from planflow.facade.execution import ExecutionAPI
from planflow.facade.feeds import FeedsAPI
from planflow.facade.figures import FiguresMixin
from planflow.facade.gestures import GesturesMixin
from planflow.facade.inbox import InboxAPI
from planflow.facade.inspections import InspectionsAPI
from planflow.facade.names import Names
from planflow.facade.org import OrgAPI
from planflow.facade.pages import PagesMixin
from planflow.facade.plans import PlanReads
from planflow.facade.tokens import TokensAPI
from planflow.facade.webhooks import WebhooksAPI
from planflow.integrations.webhooks import resolve
from planflow.services import simulation
from planflow.services.accounts import Accounts
from planflow.services.admin_directory import AdminDirectory
from planflow.services.api_tokens import ApiTokens
from planflow.services.bulk import Bulk
from planflow.services.content import PlanContentService
from planflow.services.delegations import Delegations
from planflow.services.email_preferences import EmailPreferences
from planflow.services.execution import ExecutionService
from planflow.services.feed_tokens import FeedTokens
from planflow.services.gestures import Gestures, acted_on_fact
from planflow.services.handover import Handover
from planflow.services.inbox import Inbox
from planflow.services.inspections.service import InspectionService
from planflow.services.org_admin import OrgAdmin
from planflow.services.plan_page import PlanPages
from planflow.services.plans import PlanService
from planflow.services.returns import Returns
from planflow.services.role_changes import RoleChanges
from planflow.services.unit_moves import UnitMoves
from planflow.services.visibility import Viewer
from planflow.services.webhooks import Webhooks
from planflow.storage.db import Database, database_url_from_env
from planflow.storage.evidence_files import EvidenceStore
from planflow.storage.org_repo import OrgRepository
from planflow.storage.schema import upgrade


# The operations live in ``planflow.facade``, one mixin per group (``facade.base`` says
# why); what stays here is the wiring, the set-up and the names.
class Planflow(ActingMixin, GesturesMixin, PagesMixin, AuditMixin, FiguresMixin):
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
        #: The one path by which a plan changes (id-based; see ``services.plans``).
        self.service = PlanService(
            self.db,
            registry=self.registry,
            clock=self.clock,
            calendar=self.calendar,
            events=self.events,
            guards=self.guards,
        )
        self.services = Services(
            plans=self.service,
            content=PlanContentService(self.service),
            execution=ExecutionService(self.service, EvidenceStore.from_env()),
            inspections=InspectionService(self.service),
            inbox=Inbox(self.db, self.clock),
            gestures=Gestures(self.service),
            returns=(returns := Returns(self.service)),
            bulk=Bulk(self.service, returns),
            handover=Handover(self.service),
            pages=PlanPages(self.service),
        )
        self.names = Names(self.db, self.service.org_cache)
        #: The organisation's changes inside a caller's session (``storage.org_repo``).
        self.org_repo = OrgRepository(self.clock)
        self.accounts = Accounts(self.db, self.clock)
        # The inspection guards read the current round's verdict.
        self.guards.provide("inspection", self.services.inspections.inspection_fact)
        # ``not_acted_on`` (recall) reads who decided on the plan since its submission.
        self.guards.provide("acted_on", acted_on_fact)
        self._reads = PlanReads(self.db, self.names, self.clock, self.service.viewers)
        #: The organisation: units, users, roles (``facade.org``).
        self.org = OrgAPI(
            self.db,
            self.org_repo,
            self.names,
            self.registry,
            moves=UnitMoves(self.service, self.org_repo),
            roles=RoleChanges(self.service, self.org_repo),
            admin=self.org_admin,
        )
        #: An administrator's scoped changes, by username and code (``facade.admin``).
        self.admin = AdminAPI(
            self.names,
            self.org_admin,
            self.admin_directory,
            self.org.known_roles,
            self.org.move_unit,
        )
        #: Personal access tokens of the HTTP API (``facade.tokens``).
        self.tokens = TokensAPI(ApiTokens(self.db, self.clock), self.names)
        #: Outgoing webhooks and their delivery log (``facade.webhooks``).
        self.webhooks = WebhooksAPI(Webhooks(self.db, self.clock, resolve), self.names)
        #: Content, revisions and comments (``facade.content``).
        self.content = ContentAPI(self.services.content, self.names)
        #: Progress reports and evidence (``facade.execution``).
        self.execution = ExecutionAPI(self.services.execution, self.names)
        #: Scoring sheets, visits, self-assessments, the calendar (``facade.inspections``).
        self.inspections = InspectionsAPI(self.services.inspections, self.names, self._reads)
        #: Tasks and notifications of one person (``facade.inbox``).
        self.inbox = InboxAPI(self.services.inbox, self.names, EmailPreferences(self.db))
        #: Calendar feeds: secret addresses and what they show (``facade.feeds``).
        self.feeds = FeedsAPI(
            FeedTokens(self.db, self.clock),
            self.names,
            self._reads,
            self.inbox,
            self.inspections,
            self.services.content,
            self.registry,
            self.org.display_names,
        )
        #: Deputies for people who are away, 委托 (``facade.delegations``).
        self.delegations = DelegationsAPI(
            Delegations(
                self.db,
                self.clock,
                self.service.org_cache,
                workflows=lambda: {spec.name for spec in self.registry.all()},
                roles=self.org.known_roles,
            ),
            self.names,
            self.services.inbox,
            self.clock,
        )
        self.inbox.delegated = lambda user, theirs, org: self.delegations.open_tasks(
            user, theirs=theirs, org=org
        )
        # The plan page reads whom a deputy acts for from the delegations' cache.
        self.services.pages.deputies = self.delegations.service.acting_for
        #: A plan and its inspection result as Word files (``facade.documents``).
        self.documents = DocumentsAPI(self)

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

    def is_simulation(self) -> bool:
        """Whether the database is marked for simulation (``planflow.services.simulation``)."""
        return simulation.is_simulation(self.db)

    def mark_simulation(self, on: bool = True) -> None:
        """Mark the database for simulation, so that a scheduler pass may be run at a
        moment ahead of the real time; ``on=False`` marks it live again."""
        simulation.mark(self.db, on, SystemClock().now())

    def check_moment(self, moment: datetime, *, allow_future: bool = False) -> None:
        """Refuse (``FutureMomentRefused``) to act at ``moment`` if it is ahead of the real
        time and the database is not marked for simulation, unless ``allow_future``."""
        simulation.check_moment(self.db, moment, allow_future=allow_future)

    def close(self) -> None:
        self.db.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for changes (internal: the organisation's set-up in one transaction)."""
        with self.db.session() as session:
            yield session

    def admin_directory(self) -> AdminDirectory:
        """The admin pages' reads: people and units within an administrator's scope."""
        return AdminDirectory(self.db)

    def org_admin(self) -> OrgAdmin:
        """The administrators' changes to the organisation (``planflow.services.org_admin``)."""
        return OrgAdmin(self.db, self.clock, self.org_repo, service=self.service)

    def definition(self, name: str, version: int | None = None) -> WorkflowSpec:
        """A workflow definition: ``version`` as plans started under it (None: the latest)."""
        if version is None:
            return self.registry.get(name)
        return self.service.definitions.spec_for(self.db, name, version)

    # -- names -------------------------------------------------------------------

    def user_id(self, username: str) -> int:
        """The id behind a username (for the id-based services; no query when cached)."""
        return self.names.user_id(username)

    def unit_id(self, code: str) -> int:
        """The id behind a unit code (for the id-based services; no query when cached)."""
        return self.names.unit_id(code)

    def viewer(self, username: str, org: OrgSnapshot | None = None) -> Viewer:
        """What ``username`` may see, worked out in ``org`` (default: as it is now)."""
        return self._reads.viewer(username, org)

    def display_names(self, usernames: Sequence[str | None]) -> dict[str, str]:
        """Display names by username, for showing people (one query)."""
        return self.org.display_names(usernames)
