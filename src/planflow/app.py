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

import dataclasses
import logging
import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import IO

from sqlalchemy import func
from sqlmodel import Session, select

from planflow.clock import Clock, SystemClock
from planflow.core.audit_chain import ChainProblem
from planflow.core.calendar import BusinessCalendar, load_calendar
from planflow.core.content.model import PlanContent
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.engine import ActionOption
from planflow.core.guard_registry import FactProvider, GuardRegistry
from planflow.core.guards import GuardFunction
from planflow.core.org import OrgSnapshot
from planflow.core.state_phases import StateClasses, state_classes
from planflow.errors import GuardFailed, NotFound, Refusal, StaleVersion, ValidationError
from planflow.events import EventBus
from planflow.facade import convert
from planflow.facade.admin import AdminAPI
from planflow.facade.content import ContentAPI, comment_views
from planflow.facade.delegations import DelegationsAPI
from planflow.facade.documents import DocumentsAPI
from planflow.facade.execution import ExecutionAPI
from planflow.facade.feeds import FeedsAPI
from planflow.facade.inbox import InboxAPI
from planflow.facade.inspections import InspectionsAPI
from planflow.facade.names import Names
from planflow.facade.org import OrgAPI
from planflow.facade.plans import PlanReads
from planflow.facade.tokens import TokensAPI
from planflow.facade.webhooks import WebhooksAPI
from planflow.integrations.webhooks import resolve
from planflow.services import simulation
from planflow.services.accounts import Accounts
from planflow.services.admin_directory import AdminDirectory
from planflow.services.api_tokens import ApiTokens
from planflow.services.bulk import Bulk
from planflow.services.changes import Change
from planflow.services.content import PlanContentService
from planflow.services.delegations import Delegations
from planflow.services.email_preferences import EmailPreferences
from planflow.services.execution import ExecutionService
from planflow.services.feed_tokens import FeedTokens
from planflow.services.gestures import Gestures, acted_on_fact
from planflow.services.handover import Handover, receipts_of
from planflow.services.inbox import Inbox
from planflow.services.inspections.service import InspectionService
from planflow.services.org_admin import OrgAdmin
from planflow.services.overview import UnitPlan, YearOverview, year_overview
from planflow.services.plan_creation import units_for_new_plans
from planflow.services.plan_page import PlanPages
from planflow.services.plans import PlanService
from planflow.services.returns import Returns
from planflow.services.role_changes import RoleChanges
from planflow.services.unit_moves import UnitMoves
from planflow.services.visibility import OWN_UNIT_ROLES, Viewer
from planflow.services.webhook_events import enqueue_audit_failure
from planflow.services.webhooks import Webhooks
from planflow.storage import audit_repo, plan_reads
from planflow.storage import plan_store as ps
from planflow.storage.db import Database, database_url_from_env
from planflow.storage.evidence_files import EvidenceStore
from planflow.storage.org_repo import OrgRepository
from planflow.storage.overview_sql import unit_plans
from planflow.storage.schema import upgrade
from planflow.storage.tables import AuditRecord, Plan, Unit, User
from planflow.storage.tx import read_tx
from planflow.views import (
    ActionResult,
    AuditEntry,
    AuditReport,
    BulkOutcome,
    CcReceipt,
    HandoverOptions,
    HandoverResult,
    Page,
    PlanPage,
    PlanSummary,
    PlanView,
    ReturnOption,
    ReviewQueue,
    TaskEntry,
    UnitRef,
    UrgeOption,
    UrgeResult,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """The id-based services behind the front door (for the library's own parts and tests)."""

    plans: PlanService
    content: PlanContentService
    execution: ExecutionService
    inspections: InspectionService
    inbox: Inbox
    gestures: Gestures
    returns: Returns
    bulk: Bulk
    handover: Handover
    pages: PlanPages


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

    def org_snapshot(self) -> OrgSnapshot:
        """The organisation as it is now (one read of its generation; reloaded if it moved)."""
        return self.names.current()

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

    def units_for_new_plans(
        self, username: str, workflow: str | None = None, *, org: OrgSnapshot | None = None
    ) -> list[UnitRef]:
        """The units where ``username`` may create a plan (of ``workflow``; None: of any
        definition at hand, in its latest version), by code; ``org`` as for ``plans``."""
        org = org or self.names.current()
        viewer = self._reads.viewer(username, org)
        if workflow is not None:
            specs = [self.registry.get(workflow)]
        else:
            latest = {spec.name: spec for spec in self.registry.all()}  # ordered by version
            specs = list(latest.values())
        units = units_for_new_plans(org, viewer, specs)
        return [UnitRef(org.unit(u).code, org.unit(u).name) for u in units]

    def display_names(self, usernames: Sequence[str | None]) -> dict[str, str]:
        """Display names by username, for showing people (one query)."""
        return self.org.display_names(usernames)

    # -- plans -------------------------------------------------------------------

    def create_plan(
        self,
        *,
        unit_code: str,
        year: int,
        title: str,
        actor: str,
        workflow: str = "annual_plan",
        content: PlanContent | None = None,
    ) -> int:
        """Create a plan of ``unit_code`` for ``year`` as ``actor``; returns its id.

        With ``content`` (an imported outline, say) the draft is created holding it, in
        the same transaction: a refusal leaves no empty draft behind.
        """
        if content is not None and content.year != year:
            raise ValidationError(
                f"the content is for {content.year}, the plan for {year}",
                code="content_year_mismatch",
                params={"content_year": content.year, "plan_year": year},
            )
        body = content if content is not None else PlanContent(year)
        return self.service.create_plan(
            unit_id=self.names.unit_id(unit_code),
            year=year,
            title=title,
            actor_id=self.names.user_id(actor),
            workflow=workflow,
            content_json=body.canonical_json(),
            item_count=body.item_count,
            items_without_due=len(body.items_without_due()),
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
    ) -> ActionResult:
        """Fire ``action`` as ``actor`` (a username; None is the system).

        ``on_behalf_of`` names the colleague the actor stands in for; it is
        recorded on the audit trail (permissions are the actor's own).
        ``expected_version`` refuses with ``StaleVersion`` if the plan changed
        since you read it; without it a lost race is decided again on fresh state.
        """
        change = self.service.fire(
            plan_id,
            action,
            self.names.actor_id(actor),
            comment,
            expected_version,
            on_behalf_of_id=self.names.actor_id(on_behalf_of),
        )
        decision = change.decision
        return ActionResult(
            plan_id=plan_id,
            action=change.action,  # the trigger, also when ``action`` was a former name
            from_state=change.from_state,
            to_state=change.to_state,
            version=change.new_version,
            quorum=decision.quorum if decision is not None else None,
        )

    # -- gestures around a waiting task (``services.gestures``) --------------------

    def recall(
        self,
        plan_id: int,
        actor: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> ActionResult:
        """Pull a submitted plan back to its draft (the definition's ``recall``), while
        nobody but its submitter has decided anything on it since the submission;
        after that, ``GuardFailed`` with ``recall_too_late{acted_by, action, at}``."""
        return self.fire(plan_id, "recall", actor, comment, expected_version)

    def abandon(
        self,
        plan_id: int,
        actor: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> ActionResult:
        """End the plan for good (the definition's ``abandon``, formerly ``withdraw``).

        Plans started under a definition version from before the rename know
        only ``withdraw``: fire that, or move them to the new version."""
        return self.fire(plan_id, "abandon", actor, comment, expected_version)

    def urge(self, plan_id: int, actor: str, comment: str | None = None) -> UrgeResult:
        """Remind the holders of the plan's open task now, as its submitter or one of
        its unit's drafters; at most once per task per the definition's ``urge:
        {every_hours}`` (``GuardFailed`` with ``urge_too_soon{next_at}`` before)."""
        change = self.services.gestures.urge(plan_id, self.names.user_id(actor), comment)
        org = change.org
        return UrgeResult(
            plan_id=plan_id,
            version=change.new_version,
            at=change.at,
            notified=tuple(org.usernames.get(u, "?") for u in change.notified),
        )

    def return_to(
        self,
        plan_id: int,
        state: str,
        actor: str,
        comment: str | None,
        expected_version: int | None = None,
    ) -> ActionResult:
        """Send the plan back to an earlier ``state`` its current state allows
        (``allows: return_to``), as a holder of its task, with a reason. Refused with
        ``GuardFailed`` (``return_target_not_allowed{state, target, allowed}``,
        ``comment_required``, ``not_self``), ``ActionNotAllowed`` where the state
        allows no return, ``PermissionDenied`` for someone not holding the task."""
        change = self.services.returns.return_to(
            plan_id, state, self.names.user_id(actor), comment, expected_version
        )
        return ActionResult(
            plan_id=plan_id,
            action=change.action,
            from_state=change.from_state,
            to_state=change.to_state,
            version=change.new_version,
        )

    def bulk(
        self,
        items: Sequence[tuple[int, int]],
        action: str,
        actor: str,
        comment: str | None,
        *,
        return_to: str | None = None,
    ) -> list[BulkOutcome]:
        """``approve`` or ``return`` each ``(plan_id, expected_version)`` of a selection
        with one comment; each plan is its own transition, with its own permission,
        guard and version check, done whole or not at all. One outcome per plan, in
        order: done (new state) or refused (code, params). ``return_to`` sends each
        back to that earlier state instead of the definition's ``return_for_revision``.
        A selection that cannot be meant (empty, over 100, a plan twice) is
        ``ValidationError`` and nothing is done."""
        return self.services.bulk.run(
            items, action, self.names.user_id(actor), comment, return_to=return_to
        )

    def return_options(self, plan_id: int, actor: str, lang: str = "en") -> list[ReturnOption]:
        """The earlier states ``actor`` may send the plan back to now (empty: none)."""
        states = self.services.returns.options(plan_id, self.names.user_id(actor))
        return [ReturnOption(s.name, s.label.get(lang)) for s in states]

    def urge_option(self, plan_id: int, actor: str) -> UrgeOption | None:
        """Whether ``actor`` may urge the plan: None when never (not theirs, no task
        held by someone else), else ready now or refused until a time."""
        return self.services.gestures.urge_option(plan_id, self.names.user_id(actor))

    # -- handing a task on and copying people (``services.handover``) ----------------

    def transfer(
        self,
        plan_id: int,
        actor: str,
        to: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> HandoverResult:
        """Hand the task ``actor`` holds to ``to`` (转交), as the waiting state's
        ``allows: {transfer: {to: role|unit}}`` says; the old holder no longer has it."""
        target = self._person(plan_id, "transfer", to)
        change = self.services.handover.transfer(
            plan_id, self.names.user_id(actor), target, comment, expected_version
        )
        return _handover_result(change)

    def add_approver(
        self,
        plan_id: int,
        actor: str,
        user: str,
        mode: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> HandoverResult:
        """Add ``user`` as an approver of the task ``actor`` holds (加签): ``before``
        (they decide first, then it comes back), ``after`` (they decide after the
        actor's approval) or ``alongside`` (both must approve)."""
        target = self._person(plan_id, "add_approver", user)
        change = self.services.handover.add_approver(
            plan_id, self.names.user_id(actor), target, mode, comment, expected_version
        )
        return _handover_result(change)

    def cc(
        self, plan_id: int, actor: str, people: Sequence[str], comment: str | None = None
    ) -> HandoverResult:
        """Copy ``people`` on the plan (抄送): they are told, and may read it until it ends."""
        targets = [self._person(plan_id, "cc", name) for name in people]
        change = self.services.handover.cc(plan_id, self.names.user_id(actor), targets, comment)
        return _handover_result(change)

    def handover_options(self, plan_id: int, actor: str) -> HandoverOptions | None:
        """What ``actor`` may do with the plan's task: None when it is not theirs."""
        return self.services.handover.options(plan_id, self.names.user_id(actor))

    def record_cc_read(self, plan_id: int, user: str) -> bool:
        """Record that ``user``, copied on the plan, read it (the first time counts)."""
        return self.services.handover.record_read(plan_id, self.names.user_id(user))

    def cc_receipts(self, plan_id: int, *, as_user: str | None = None) -> list[CcReceipt]:
        """Who was copied on the plan, and whether they have read it."""
        actor = self.names.user_id(as_user) if as_user is not None else None
        return self.services.handover.receipts(plan_id, actor)

    def _person(self, plan_id: int, action: str, username: str) -> int:
        # An unknown name is a refusal of the gesture, not a missing page.
        try:
            return self.names.user_id(username)
        except (NotFound, ValidationError):
            raise GuardFailed(
                action,
                [Refusal("unknown_user", {"user": str(username)[:100]}, "there is no user {user}")],
            ) from None

    def available_actions(self, plan_id: int, actor: str, lang: str = "en") -> list[ActionOption]:
        """What ``actor`` may do on the plan now, each with the checks that would refuse it
        (``blocked_by``). A plan ``actor`` may not see is ``NotFound``."""
        return self.actions_and_behalf(plan_id, actor, lang)[0]

    def acting_on_behalf_of(self, plan_id: int, actor: str) -> str | None:
        """Whom ``actor`` would act for on the plan's task now as their deputy (委托,
        ``delegations``): a username, or None when they act for themselves or not at all."""
        return self.actions_and_behalf(plan_id, actor)[1]

    def actions_and_behalf(
        self, plan_id: int, actor: str, lang: str = "en"
    ) -> tuple[list[ActionOption], str | None]:
        """``available_actions`` and ``acting_on_behalf_of`` in one read (a plan page)."""
        actor_id = self.names.user_id(actor)
        with read_tx(self.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None:
                raise NotFound("plan", plan_id)
            spec = self.service.definitions.spec_for(
                self.db, row.workflow_name, row.workflow_version
            )
            org = self.names.at(row.org_generation)
            self._reads.check_visible(org, row, plan_id, actor)
            facts = self.service.facts_for(tx, row, spec)
            delegators = self.service.delegators_for(tx, row, actor_id)
        options, delegator = self.service.actions_for(spec, facts, actor_id, delegators, org, lang)
        return options, None if delegator is None else org.usernames.get(delegator)

    def plan_page(
        self, plan_id: int, actor: str, lang: str = "en", *, mark_read: bool = False
    ) -> PlanPage:
        """Everything the plan's page shows ``actor``, in one read (``views.PlanPage``
        names the separate read each part equals): the plan is loaded once, and what
        ``actor`` may do (actions, urge, returns, the task holder's gestures) is
        decided from that one load. A plan ``actor`` may not see is ``NotFound``.

        ``mark_read``: ``actor`` is opening the page, so a CC of the plan to them
        counts as read (``record_cc_read``); the receipts show it.
        """
        read = self.services.pages.read(
            plan_id, self.names.user_id(actor), lang, mark_read=mark_read
        )
        org, naming = read.org, read.naming
        names = naming.usernames
        voters = None if read.voters is None else tuple(names.get(u, "?") for u in read.voters)
        return PlanPage(
            plan=convert.plan_view(org, read.view_row),
            content=read.content,
            trail=tuple(convert.audit_entry(naming, r) for r in read.records),
            comments=tuple(comment_views(naming, read.comments, read.decided)),
            actions=tuple(read.actions),
            on_behalf_of=None if read.delegator is None else org.usernames.get(read.delegator),
            approvals=voters,
            diff=read.diff,
            can_edit=read.can_edit,
            urge=read.urge,
            return_options=tuple(ReturnOption(s.name, s.label.get(lang)) for s in read.returns),
            handover=read.handover,
            receipts=tuple(receipts_of(naming, read.cc)),
            names=MappingProxyType(read.display),
        )

    def open_task(
        self, plan_id: int, actor: str, expected_version: int | None = None
    ) -> ActionResult | None:
        """``actor`` opens the plan from their queue: if its state has an ``on_open:``
        transition (``start_review``) that ``actor`` may fire now, it is fired, through
        the one transition path; else nothing happens (None). A plan changed since
        ``expected_version`` is left as it is (None): the reader sees it as it is now."""
        with read_tx(self.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None:
                raise NotFound("plan", plan_id)
            # A plan the actor may not see answers like one that does not exist.
            self._reads.check_visible(self.names.at(row.org_generation), row, plan_id, actor)
            spec = self.service.definitions.spec_for(
                self.db, row.workflow_name, row.workflow_version
            )
        opening = [t.trigger for t in spec.transitions if t.on_open and row.state in t.sources]
        if not opening or (expected_version is not None and row.version != expected_version):
            return None
        ready = {o.trigger for o in self.available_actions(plan_id, actor) if o.ready}
        for trigger in opening:
            if trigger in ready:
                try:
                    return self.fire(plan_id, trigger, actor, expected_version=row.version)
                except StaleVersion:
                    return None  # someone else opened it first: it is started
        return None

    def plan(self, plan_id: int, *, as_user: str | None = None) -> PlanView:
        """The plan as it is now; ``NotFound`` if there is none, or ``as_user`` may not see it."""
        return self._reads.plan(plan_id, as_user)

    def plans(
        self,
        *,
        as_user: str | None = None,
        state: str | None = None,
        year: int | None = None,
        unit_code: str | None = None,
        search: str | None = None,
        order: str = "year",
        page: int = 1,
        page_size: int = 50,
        org: OrgSnapshot | None = None,
    ) -> Page[PlanSummary]:
        """A page of the plans ``as_user`` may see (None: every plan), filtered.

        ``search`` finds words in the title (any case); ``order`` is ``"year"``
        (latest year, then newest plan, first), ``"recent"`` (last changed
        first) or ``"id"`` (oldest first). ``org``: the organisation as the
        caller read it a moment ago (``org_snapshot``), to apply the rule in
        without reading its generation again (None: read it now).
        """
        return self._reads.plans(
            as_user=as_user,
            state=state,
            year=year,
            unit_code=unit_code,
            search=search,
            order=order,
            page=page,
            page_size=page_size,
            org=org,
        )

    def approvals(self, plan_id: int, round: int | None = None) -> list[str]:
        """Who approved the plan in an n-of-m review round (``round``: the plan's revision
        then; None: the current round), by username, in the order they did."""
        with self.db.read() as conn:
            found = plan_reads.voters(conn, plan_id, round)
        if found is None:
            raise NotFound("plan", plan_id)
        org = self.names.knowing(found)
        return [org.usernames.get(u, "?") for u in found]

    def tasks(self, username: str, limit: int = 500) -> list[TaskEntry]:
        """The open tasks of ``username``, escalated and overdue first (``inbox.tasks``)."""
        return self.inbox.tasks(username, limit)

    def has_review_queue(self, username: str, *, org: OrgSnapshot | None = None) -> bool:
        """Whether ``username``'s review queue can hold a plan (a menu offers it then):
        they hold a role that reviews, decides or oversees somewhere, or they stand in
        for someone away whose review work is open now (``ReviewQueue.for_others``).

        A deputy with no such role of their own gets the queue while, and only while,
        it would show them something; their drafting tasks stay in "My work". For
        someone who is no one's deputy this reads nothing more (the delegations are
        cached by the organisation's generation)."""
        org = org or self.names.current()
        if self._reads.has_review_queue(username, org):
            return True
        return bool(self._for_others(username, org, frozenset()))

    def review_queue(
        self,
        username: str,
        *,
        mine_page: int = 1,
        others_page: int = 1,
        page_size: int = 50,
        org: OrgSnapshot | None = None,
    ) -> ReviewQueue:
        """The review queue of ``username`` (``views.ReviewQueue`` says what is on it);
        ``org`` as for ``plans``. ``for_others``: what they may act on as someone's
        deputy (``delegations.open_tasks``), in an oversight role, not already theirs."""
        org = org or self.names.current()  # once: the lists, the deputy's tasks
        queue = self._reads.review_queue(
            username,
            mine_page=mine_page,
            others_page=others_page,
            page_size=page_size,
            org=org,
        )
        found = self._for_others(username, org, frozenset(e.plan.id for e in queue.mine.items))
        return dataclasses.replace(queue, for_others=tuple(found)) if found else queue

    def _for_others(
        self, username: str, org: OrgSnapshot, on_page: frozenset[int]
    ) -> list[TaskEntry]:
        """The review queue's ``for_others``: the open tasks of the people ``username``
        stands in for that are review work and not theirs anyway (``on_page``: the
        plans of their own list's page)."""
        viewer = self._reads.viewer(username, org)
        units = org.unit_ids

        def theirs(t: TaskEntry) -> bool:
            # A drafter's or submitter's task is "My work", never the queue; one whose
            # role the deputy holds too is in ``mine`` already (maybe on another page).
            return (
                t.role in OWN_UNIT_ROLES
                or t.plan_id in on_page
                or (units.get(t.unit_code, 0), t.role) in viewer.roles
            )

        return self.delegations.open_tasks(username, theirs=theirs, org=org)

    # -- the audit trail -----------------------------------------------------------

    def audit_trail(self, plan_id: int, *, as_user: str | None = None) -> list[AuditEntry]:
        """The plan's audit records, oldest first."""
        return self._reads.audit_trail(plan_id, as_user)

    def verify_audit(self) -> AuditReport:
        """Check every chain and checkpoint; the problems name the first record tampered with.

        Problems found are told to the webhooks subscribed to
        ``audit.verification_failed`` (once per distinct set of problems).
        """
        report = audit_repo.verify(self.db)
        try:
            self.tell_audit_failure(report.problems)
        except Exception:
            # Telling the webhooks must not hide what the verification found (the
            # command line and the admin page still show the problems).
            _log.exception("the audit verification's webhook event could not be enqueued")
        return AuditReport(
            ok=report.ok,
            plans=report.plans,
            records=report.records,
            checkpoints=report.checkpoints,
            problems=tuple(report.problems),
            org_records=report.org_records,
        )

    def tell_audit_failure(self, problems: Sequence[ChainProblem]) -> int:
        """Enqueue ``audit.verification_failed`` for the problems a verification found.

        Returns the deliveries enqueued: none when there are no problems, no
        subscribed webhook, or the same problems were told before.
        """
        return enqueue_audit_failure(self.db, self.clock.now(), problems)

    def export_audit(self, out: IO[str], fmt: str = "jsonl", *, plan_id: int | None = None) -> int:
        """Write the trail (of one plan, or all) as JSON lines or CSV; returns the records
        written. JSON lines are exact (each record's hash can be checked from them)."""
        return audit_repo.export(audit_repo.iter_records(self.db, plan_id), out, fmt)

    def audit_records(self, plan_id: int | None = None) -> Iterator[dict[str, object]]:
        """The stored records (of one plan, or all), oldest first, as the export writes them."""
        return audit_repo.iter_records(self.db, plan_id)

    # -- figures ---------------------------------------------------------------------

    def user_names(self) -> dict[int, str]:
        """Usernames by id (internal: for the id-based services' callers)."""
        return dict(self.org_snapshot().usernames)

    def year_overview(
        self, year: int, roots: Sequence[int], *, depth: int = 1, org: OrgSnapshot | None = None
    ) -> YearOverview:
        """A year's plans under ``roots`` (unit ids), per unit and rolled up ``depth`` levels down.

        Only units that draft plans count in the roll-ups: a unit with a plan, or
        where someone holds the role a definition at hand creates plans with.

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
            creator_roles={spec.creator.role for spec in self.registry.all()},
        )

    def unit_plans(self, year: int, unit_ids: Collection[int]) -> list[UnitPlan]:
        """The year's plans of ``unit_ids`` (the overview's units), oldest first, in one query."""
        return unit_plans(self.db, year, unit_ids)

    def counts(self) -> dict[str, int]:
        with self.db.read_session() as s:
            return {
                "units": s.exec(select(func.count()).select_from(Unit)).one(),
                "users": s.exec(select(func.count()).select_from(User)).one(),
                "plans": s.exec(select(func.count()).select_from(Plan)).one(),
                "audit_records": s.exec(select(func.count()).select_from(AuditRecord)).one(),
            }


def _handover_result(change: Change) -> HandoverResult:
    org = change.org
    return HandoverResult(
        plan_id=change.plan_id,
        action=change.action,
        version=change.new_version,
        at=change.at,
        notified=tuple(org.usernames.get(u, "?") for u in change.notified),
    )
