"""The one path by which a plan changes.

load → version check → engine → persist (plan row + audit + revision + vote
+ tasks + timers + notifications, in ONE transaction) → emit events.

``fire`` runs a workflow transition; ``mutate`` runs any other change to a
plan (content edits, comments, progress reports, inspection scores) through
the same lock, version check and audit chain, so nothing that happens to a
plan bypasses the trail. ``create_plan`` is the first step of a chain.

Callers say what a change does in domain words (``planflow.core.intents``: a
move, a content edit, a timer step …) and may add a ``Step`` of their own;
the statement that carries it out is chosen by storage
(``planflow.storage.plan_store.plan_update``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from planflow.clock import Clock, SystemClock
from planflow.core import handover, returns
from planflow.core.audit_chain import GENESIS, AuditEntry, canonical_json
from planflow.core.calendar import BusinessCalendar
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.engine import ActionOption, Decision, WorkflowEngine
from planflow.core.guard_registry import GuardRegistry
from planflow.core.guards import ALREADY_VOTED, Gate, PlanFacts
from planflow.core.handover import TaskParts
from planflow.core.intents import (
    NOTE,
    Addendum,
    DefinitionMigration,
    Move,
    Notice,
    PlanUpdate,
    TimedEffect,
    TimerStep,
)
from planflow.core.notes import COPIED_BY_DEFINITION, COUNTERSIGNED, note
from planflow.core.org import OrgSnapshot
from planflow.core.task_planning import TaskPlanner
from planflow.core.text import MAX_PLAN_TITLE, MAX_RECORD_COMMENT, clean_text
from planflow.errors import (
    GuardFailed,
    NotFound,
    PermissionDenied,
    PlanflowError,
    StaleVersion,
    ValidationError,
)
from planflow.events import EventBus, PlanChanged
from planflow.services import delegations
from planflow.services.changes import (
    DEFAULT_WRITERS,
    Change,
    Step,
    StepContext,
    Writer,
    write_notice,
)
from planflow.services.delegations import DEPUTY_CANNOT_SUBMIT
from planflow.services.inbox import Inbox
from planflow.services.visibility import ViewerCache
from planflow.services.webhook_events import WebhookEvents
from planflow.storage import handover_sql as hs
from planflow.storage import plan_store as ps
from planflow.storage import return_sql as rs
from planflow.storage.db import Database
from planflow.storage.definition_repo import DefinitionStore
from planflow.storage.org_repo import OrgCache
from planflow.storage.plan_updates import plan_update
from planflow.storage.tx import ConnectionLost, Tx, read_tx, write_tx

#: How often ``fire`` and ``mutate`` try by themselves when losing a race, if the
#: caller did not pin a version (the decision is re-made on fresh state each time).
AUTO_RETRIES = 3

T = TypeVar("T")


@dataclass(frozen=True)
class SystemEffect:
    """A change the system makes to a loaded plan: a reminder or an escalation."""

    row: ps.PlanRow
    action: str
    update: TimerStep
    detail: dict[str, Any]
    key: str
    notice: Notice | None
    #: Notices of another kind to other people (an escalation's "away from you").
    also_notices: tuple[Notice, ...] = ()


class PlanService:
    def __init__(
        self,
        db: Database,
        *,
        registry: DefinitionRegistry,
        clock: Clock | None = None,
        calendar: BusinessCalendar | None = None,
        events: EventBus | None = None,
        writers: tuple[Writer, ...] | None = None,
        guards: GuardRegistry | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        #: The guards and fact providers; the definitions' own unless given.
        self.guards = guards if guards is not None else registry.guards
        self.clock = clock or SystemClock()
        self.calendar = calendar or BusinessCalendar()
        self.tasks = TaskPlanner(self.calendar)
        #: The organisation's time zone: the days of delegations (``services.delegations``).
        self.timezone = delegations.org_timezone()
        self.events = events or EventBus()
        # The webhook writer keeps this database's active webhooks cached, so
        # it is made per service; ``writers`` replaces the whole list.
        self.writers: tuple[Writer, ...] = (
            writers
            if writers is not None
            else (*DEFAULT_WRITERS, write_handover, WebhookEvents(db))
        )
        self.org_cache = OrgCache()
        #: Who may see which plan; shared with the facade's reads.
        self.viewers = ViewerCache(grants=self._grants)
        self.definitions = DefinitionStore(registry)
        self._engines: dict[tuple[str, int, str], WorkflowEngine] = {}
        self._engines_lock = threading.Lock()

    def _grants(self, user_id: int) -> frozenset[int]:
        """The plans granted to ``user_id`` personally (CC, a part of a task), and
        those whose task they may act on as someone's deputy now."""
        with read_tx(self.db) as tx:
            granted = hs.granted_plans(tx, user_id)
            deputising = delegations.in_force_for(tx, user_id, self.clock.now(), self.timezone)
        if not deputising:
            return granted
        tasks = delegations.delegated_tasks(Inbox(self.db, self.clock), deputising)
        return granted | {task.plan_id for task, _delegator in tasks}

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
        self.definitions.ensure_stored(self.db, spec, self.clock.now())
        return _retrying(
            lambda: self._create_once(
                unit_id, year, title, actor_id, spec, content_json, item_count, items_without_due
            ),
            pinned=True,
        )

    def _create_once(
        self,
        unit_id: int,
        year: int,
        title: str,
        actor_id: int,
        spec: WorkflowSpec,
        content_json: str,
        item_count: int,
        items_without_due: int,
    ) -> int:
        now = self.clock.now()
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
            self._commit(tx, row, change, _MOVE)
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
        *,
        effect: TimedEffect | None = None,
        also: Step | None = None,
    ) -> Change:
        """Run ``action`` on the plan as ``actor_id`` (None: the system).

        ``effect``: the timer or round this transition applies (its key, a
        due-time override, audit detail). ``also`` runs inside the same
        transaction once the engine has decided, before anything is written;
        it may write rows of its own (an inspection's outcome, say) and add to
        the audit record, or raise a PlanflowError to refuse the whole transition.
        """
        return _retrying(
            lambda: self._fire_once(
                plan_id, action, actor_id, comment, expected_version, on_behalf_of_id, effect, also
            ),
            pinned=expected_version is not None,
        )

    def _fire_once(
        self,
        plan_id: int,
        action: str,
        actor_id: int | None,
        comment: str | None,
        expected_version: int | None,
        on_behalf_of_id: int | None,
        effect: TimedEffect | None,
        also: Step | None,
    ) -> Change:
        comment = _clean_comment(comment) if comment else None
        with write_tx(self.db) as tx:
            row, spec, org = self._load(tx, plan_id, expected_version, actor_id)
            engine = self.engine_for(spec)
            parts = self.task_parts(tx, row, spec)
            facts = self.facts_for(tx, row, spec, engine, action, parts)
            with self.hiding_from_strangers(row, org, actor_id):
                decision, deputising_for = self._decide(
                    tx, row, engine, facts, action, actor_id, org, comment
                )
            if deputising_for is not None:
                # A deputy acts with the delegator's right (``core.delegation``):
                # the trail says "on behalf of", a vote and a part of the task
                # are the delegator's.
                on_behalf_of_id = deputising_for
            acting_id = deputising_for if deputising_for is not None else actor_id
            if decision.transition.submission and row.revision and returns.comes_back(spec):
                # Resubmitted after a reviewer's return to an earlier step: the
                # definition may send it straight back to that reviewer's state.
                # (A first submission has no return behind it to look up.)
                decision = returns.come_back(spec, decision, rs.last_move(tx, plan_id))
            trigger = decision.transition.trigger
            if acting_id is not None and _countersigns(spec, parts, decision, acting_id):
                # Someone else still has a part of this task to decide: the
                # approval is theirs alone, recorded, and the plan stays.
                decision = decision._replace(to_state=row.state)
                trigger = handover.COUNTERSIGN
            change = self._change(
                row, spec, org, trigger, actor_id, on_behalf_of_id, comment, decision
            )
            change.had_task_parts = parts.personal
            change.vote_by = acting_id
            if trigger == handover.COUNTERSIGN and acting_id is not None:
                change.add(_countersign(tx, row, org, parts, acting_id, decision, change.at))
            if trigger != action and trigger != handover.COUNTERSIGN:
                change.detail["called_as"] = action  # a former name (``aliases:``)
            if decision.transition.notify_task_holders and decision.changes_state:
                change.left_task_holders = task_holders(row, org)
            update: PlanUpdate = NOTE  # a counted n-of-m vote moves nothing
            if decision.changes_state:
                update = _MOVE
                if decision.transition.submission:
                    change.revision = row.revision + 1
                    change.frozen_content = ps.load_content(tx, plan_id)
                    update = Move(submitted_by=actor_id)
            if decision.quorum is not None:
                change.detail["quorum"] = list(decision.quorum)
            if effect is not None:
                change.effect_key = effect.key
                change.task_due_override = effect.due_at
                change.detail.update(effect.detail)
            if also is not None:
                with self.hiding_from_strangers(row, org, actor_id):
                    change.add(also(tx, row, StepContext(spec, org, change.at)))
            self._commit(tx, row, change, update)
        self._emit(change)
        return change

    def _decide(
        self,
        tx: Tx,
        row: ps.PlanRow,
        engine: WorkflowEngine,
        facts: PlanFacts,
        action: str,
        actor_id: int | None,
        org: OrgSnapshot,
        comment: str | None,
    ) -> tuple[Decision, int | None]:
        """The engine's decision, and for whom the actor decides (None: themselves).

        An actor without the right to act may still hold it as someone's
        deputy: the first delegation in force whose delegator may take the
        action decides, and the guards must pass for the deputy as well (a
        deputy who submitted the plan may not approve it for someone else).
        """
        try:
            return engine.decide(facts, action, actor_id, org, comment), None
        except PermissionDenied as denied:
            if actor_id is None or actor_id not in org.active_users:
                raise
            delegators = delegations.acting_for(
                tx, actor_id, row.workflow_name, row.task_role, self.clock.now(), self.timezone
            )
            if not delegators:
                raise
            refused: GuardFailed | None = None
            for delegator in delegators:
                try:
                    decision = engine.decide(facts, action, delegator, org, comment)
                except PermissionDenied:
                    continue
                except GuardFailed as failed:
                    refused = refused or failed
                    continue
                gate = Gate(facts, actor_id, comment)
                if decision.transition.submission:
                    # A submission is its submitter's own signature, and the plan's
                    # submitter is who separation of duties keeps out of its review:
                    # one person for both, never a deputy for someone else.
                    gate.refuse(DEPUTY_CANNOT_SUBMIT)
                self.guards.check_all(gate, decision.transition.guards)
                if decision.quorum is not None and actor_id in facts.approvals:
                    gate.refuse(ALREADY_VOTED)  # one person, one vote, for whomever
                if gate.reasons:
                    raise GuardFailed(decision.transition.trigger, gate.reasons) from None
                return decision, delegator
            raise (refused or denied) from None

    def delegators_for(self, tx: Tx, row: ps.PlanRow, actor_id: int) -> list[int]:
        """Whose delegation lets ``actor_id`` act on the plan's task now (usually nobody)."""
        return delegations.acting_for(
            tx, actor_id, row.workflow_name, row.task_role, self.clock.now(), self.timezone
        )

    def deputy_options(
        self,
        engine: WorkflowEngine,
        facts: PlanFacts,
        deputy_id: int,
        delegators: list[int],
        org: OrgSnapshot,
        lang: str,
        own: frozenset[str] | set[str] = frozenset(),
    ) -> tuple[int, list[ActionOption]] | None:
        """The actions besides ``own`` the deputy may take for the first delegator
        who has any, each blocked by what would refuse it for the delegator or for
        the deputy (as ``_decide`` will decide it)."""
        for delegator in delegators:
            options = [
                o
                for o in engine.available_actions(facts, delegator, org, lang=lang)
                if o.trigger not in own
            ]
            if not options:
                continue
            out = []
            for option in options:
                gate = Gate(facts, deputy_id, "-")
                for t in engine.spec.transitions_from(facts.state):
                    if t.trigger == option.trigger:
                        self.guards.check_all(gate, t.guards)
                        if t.quorum is not None and deputy_id in facts.approvals:
                            gate.refuse(ALREADY_VOTED)
                        if t.submission:
                            gate.refuse(DEPUTY_CANNOT_SUBMIT)
                blocked = tuple(dict.fromkeys((*option.blocked_by, *gate.reasons)))
                out.append(dataclasses.replace(option, blocked_by=blocked))
            return delegator, out
        return None

    def actions_for(
        self,
        spec: WorkflowSpec,
        facts: PlanFacts,
        actor_id: int,
        delegators: list[int],
        org: OrgSnapshot,
        lang: str = "en",
    ) -> tuple[list[ActionOption], int | None]:
        """What ``actor_id`` may do on the plan now (``facts``), their own actions
        first, then a delegator's (``delegators_for``) they may take as deputy, with
        that delegator (None: they act for themselves, or not at all)."""
        engine = self.engine_for(spec)
        options = engine.available_actions(facts, actor_id, org, lang=lang)
        if not delegators:
            return options, None
        own = {o.trigger for o in options}
        found = self.deputy_options(engine, facts, actor_id, delegators, org, lang, own)
        if found is None:
            return options, None
        # An action one may take oneself is taken for oneself (as ``fire`` decides).
        delegator, theirs = found
        return options + theirs, delegator

    def mutate(
        self,
        plan_id: int,
        action: str,
        actor_id: int | None,
        update: PlanUpdate = NOTE,
        *,
        check: Step | None = None,
        expected_version: int | None = None,
        comment: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Change:
        """Change a plan without a workflow transition, on the same audited path.

        ``update`` says what the change does to the plan besides recording it
        (``planflow.core.intents``). ``check`` runs inside the transaction after
        the version check; it may refuse (raise a PlanflowError: nothing is
        written), write rows of its own and add to the audit record.
        ``actor_id`` None: the system (e.g. a re-routing run by maintenance).
        """
        if isinstance(update, Move | TimerStep):
            raise TypeError(f"{type(update).__name__} is not a mutation (use fire or the timers)")
        comment = _clean_comment(comment) if comment else comment
        # A change that does not pin a version (a comment, say) commutes with the
        # others: if one slipped in first, it is decided again on the fresh plan.
        return _retrying(
            lambda: self._mutate_once(
                plan_id, action, actor_id, update, check, expected_version, comment, detail
            ),
            pinned=expected_version is not None,
        )

    def _mutate_once(
        self,
        plan_id: int,
        action: str,
        actor_id: int | None,
        update: PlanUpdate,
        check: Step | None,
        expected_version: int | None,
        comment: str | None,
        detail: dict[str, Any] | None,
    ) -> Change:
        with write_tx(self.db) as tx:
            row, spec, org = self._load(tx, plan_id, expected_version, actor_id)
            change = self._change(row, spec, org, action, actor_id, None, comment, None)
            change.detail.update(detail or {})
            if check is not None:
                with self.hiding_from_strangers(row, org, actor_id):
                    change.add(check(tx, row, StepContext(spec, org, change.at)))
            if isinstance(update, DefinitionMigration):
                change.spec = update.target
                change.to_state = update.to_state
            self._commit(tx, row, change, update)
        self._emit(change)
        return change

    def redirect(
        self,
        plan_id: int,
        action: str,
        actor_id: int,
        to_state: str,
        *,
        check: Step,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Change:
        """Move the plan to ``to_state`` outside the definition's transitions, where
        the definition allows it (a reviewer's return to a chosen earlier step).

        ``check`` decides (permission, what the definition allows) inside the
        transaction and may refuse; the plan then gets the new state's task and
        timer, the audit record and the check's notice, as with a transition.
        """
        comment = _clean_comment(comment) if comment else comment
        return _retrying(
            lambda: self._redirect_once(
                plan_id, action, actor_id, to_state, check, comment, expected_version
            ),
            pinned=expected_version is not None,
        )

    def _redirect_once(
        self,
        plan_id: int,
        action: str,
        actor_id: int,
        to_state: str,
        check: Step,
        comment: str | None,
        expected_version: int | None,
    ) -> Change:
        with write_tx(self.db) as tx:
            row, spec, org = self._load(tx, plan_id, expected_version, actor_id)
            change = self._change(row, spec, org, action, actor_id, None, comment, None)
            with self.hiding_from_strangers(row, org, actor_id):
                change.add(check(tx, row, StepContext(spec, org, change.at)))
            change.to_state = to_state
            self._commit(tx, row, change, _MOVE)
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
        change.also_notices = effect.also_notices
        self._commit(tx, row, change, effect.update)
        return change

    def change_in(
        self,
        tx: Tx,
        row: ps.PlanRow,
        org: OrgSnapshot,
        action: str,
        actor_id: int | None,
        update: PlanUpdate,
        addendum: Addendum | None = None,
    ) -> Change:
        """``mutate`` inside the caller's transaction, on a row it has loaded for a
        change (``ps.load_plan(..., for_change=True)``) and decided on with ``org``.

        For a change that is part of a larger one: the organisation changed in
        the same transaction, so ``org`` is what the caller read there, not the
        cache's (which must not hold a tree that may yet roll back). The plan
        UPDATE checks the version the row was loaded at. Emit the change with
        ``emit`` after the commit.
        """
        if isinstance(update, Move | TimerStep | DefinitionMigration):
            raise TypeError(f"{type(update).__name__} is not a change_in update")
        spec = self.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        change = self._change(row, spec, org, action, actor_id, None, None, None)
        change.add(addendum)
        self._commit(tx, row, change, update)
        return change

    def emit(self, change: Change) -> None:
        """Tell subscribers about a committed change (see ``apply_system_change``)."""
        self._emit(change)

    # -- the shared steps --------------------------------------------------------

    def facts_for(
        self,
        tx: Tx,
        row: ps.PlanRow,
        spec: WorkflowSpec,
        engine: WorkflowEngine | None = None,
        action: str | None = None,
        parts: TaskParts | None = None,
        known: Mapping[str, object] | None = None,
    ) -> PlanFacts:
        """What the engine may know about the plan: the row, plus what guards need
        (the guards of ``action``; None: of every action of the plan's state), plus
        who holds its task personally (``parts``; looked up when None). ``known``:
        facts the caller computed already (from rows it read), by name."""
        engine = engine or self.engine_for(spec)
        approvals = frozenset[int]()
        if row.state in engine.quorum_states:
            approvals = ps.load_votes(tx, row.id, row.revision)
        facts: dict[str, object] = {}
        for fact in engine.facts_for(row.state, action):
            if known is not None and fact in known:
                facts[fact] = known[fact]
                continue
            provider = self.guards.provider(fact)
            # Without a provider the fact is unknown (None), and its guards refuse.
            facts[fact] = provider(tx, row, spec) if provider is not None else None
        inspection = facts.pop("inspection", None)
        found = row.facts(approvals, None if inspection is None else str(inspection), facts)
        if parts is None:
            parts = self.task_parts(tx, row, spec)
        return found._replace(task_people=parts.current()) if parts.personal else found

    def task_parts(self, tx: Tx, row: ps.PlanRow, spec: WorkflowSpec) -> TaskParts:
        """Who holds the plan's task personally (``core.handover``); looked up only
        where the state allows a transfer or an added approver."""
        if row.state not in spec.state_names:
            return _NO_PARTS
        allows = spec.state(row.state).allows
        if allows.transfer is None and not allows.add_approver:
            return _NO_PARTS
        return hs.load_parts(tx, row.id)

    def _load(
        self, tx: Tx, plan_id: int, expected_version: int | None, actor_id: int | None = None
    ) -> tuple[ps.PlanRow, WorkflowSpec, OrgSnapshot]:
        row = ps.load_plan(tx, plan_id, for_change=True)
        if row is None:
            raise NotFound("plan", plan_id)
        org = self.org_cache.get(self.db, row.org_generation)
        if expected_version is not None and row.version != expected_version:
            with self.hiding_from_strangers(row, org, actor_id):
                raise StaleVersion(plan_id, expected_version, row.version)
        spec = self.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        return row, spec, org

    def hiding_from_strangers(
        self, row: ps.PlanRow, org: OrgSnapshot, actor_id: int | None
    ) -> _HidingFromStrangers:
        """A refusal to someone who may not see the plan is ``NotFound``.

        The refusal itself would tell them the plan exists (and its state, its
        version, who submitted it): a stranger guessing ids must learn nothing
        on the write path either. Only refusals pay for the check.
        """
        return _HidingFromStrangers(self.viewers, row, org, actor_id)

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

    def _commit(self, tx: Tx, row: ps.PlanRow, change: Change, update: PlanUpdate) -> None:
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
            "revision": change.revision,
        }
        task = None
        if type(update) is Move or type(update) is DefinitionMigration:
            task = self.tasks.task_for_state(
                change.spec,
                change.org,
                row.unit_id,
                change.to_state,
                change.at,
                change.task_due_override,
            )
            change.task = task
        sql = plan_update(tx, row, update, params, change.at, task)
        if not ps.update_plan_checked(tx, sql, params, bound=True):
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


class _HidingFromStrangers:
    """``PlanService.hiding_from_strangers``: a class, not a generator context
    manager, since every transition enters one (measured: ~3 us against ~0.5 us)."""

    __slots__ = ("actor_id", "org", "row", "viewers")

    def __init__(
        self, viewers: ViewerCache, row: ps.PlanRow, org: OrgSnapshot, actor_id: int | None
    ) -> None:
        self.viewers = viewers
        self.row = row
        self.org = org
        self.actor_id = actor_id

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object
    ) -> None:
        if exc is None or not isinstance(exc, PlanflowError):
            return
        actor_id, row = self.actor_id, self.row
        if actor_id is not None and not self.viewers.get(self.org, actor_id).can_view(row):
            raise NotFound("plan", row.id) from None


#: A transition that is not a submission (the submitter stays), and a plan's creation.
_MOVE = Move()
_NO_PARTS = TaskParts()


def _countersigns(spec: WorkflowSpec, parts: TaskParts, decision: Decision, actor_id: int) -> bool:
    """Whether a decision only completes the actor's part of a shared task (a
    reviewer above, acting on an escalated task, decides for all of it)."""
    return (
        parts.personal
        and any(p.user_id == actor_id for p in parts.parts)
        and decision.changes_state
        and not handover.is_return(spec, decision.transition)
        and not parts.last_to_decide(actor_id)
    )


def _countersign(
    tx: Tx,
    row: ps.PlanRow,
    org: OrgSnapshot,
    parts: TaskParts,
    actor_id: int,
    decision: Decision,
    at: Any,
) -> Addendum:
    after = TaskParts(handover.decided(parts, actor_id))
    hs.save_parts(tx, row.id, after.parts, at)
    waiting = tuple(sorted(after.current() or ()))
    said = note(COUNTERSIGNED, by=org.usernames.get(actor_id, "?"))
    return Addendum(
        detail={"trigger": decision.transition.trigger, "waiting_for": list(waiting)},
        notice=Notice(
            handover.COUNTERSIGN, waiting, {"trigger": decision.transition.trigger, "note": said}
        ),
    )


def write_handover(tx: Tx, change: Change) -> None:
    """The parts of a task end with it; a plan that ends ends its CCs; a
    transition's ``cc:`` copies its roles (read only where a definition has them)."""
    if not change.changes_state:
        return
    spec = change.spec
    if change.from_state in spec.state_names:
        allows = spec.state(change.from_state).allows
        held = allows.transfer is not None or bool(allows.add_approver)
        if held and change.had_task_parts is not False:
            hs.clear_parts(tx, change.plan_id)
    decision = change.decision
    if decision is not None and decision.transition.cc:
        org = change.org
        people: set[int] = set()
        for ref in decision.transition.cc:
            people |= org.assignees(ref, change.unit_id)
        people.discard(change.actor_id or 0)
        copied = tuple(sorted(p for p in people if p in org.active_users))
        if copied:
            hs.add_cc(tx, change.plan_id, copied, None, change.at_db)
            said = note(COPIED_BY_DEFINITION)
            write_notice(tx, change, Notice(handover.CC, copied, {"fixed": True, "note": said}))
    if change.to_state in spec.final_states and _copies(spec):
        hs.end_cc(tx, change.plan_id)


def _copies(spec: WorkflowSpec) -> bool:
    return any(s.allows.cc for s in spec.states) or any(t.cc for t in spec.transitions)


def task_holders(row: ps.PlanRow, org: OrgSnapshot) -> frozenset[int]:
    """Who holds the plan's open task now: its role where it waits and where it was
    escalated to (active people only)."""
    if row.task_role is None:
        return frozenset()
    people: set[int] = set()
    for unit_id in (row.task_unit_id, row.task_escalated_unit_id):
        if unit_id is not None:
            people |= org.holders(row.task_role, unit_id)
    return frozenset(p for p in people if p in org.active_users)


def _retrying(run: Callable[[], T], *, pinned: bool) -> T:
    """Run a write transaction; again when it may be.

    A change that lost a race (``StaleVersion``) runs again, up to
    ``AUTO_RETRIES`` times, unless the caller pinned the version it decided
    on. A transaction whose connection died before its COMMIT wrote nothing
    and runs once more on a new connection (a restarted server, a killed
    backend); after a second loss, or a loss during the COMMIT, the caller
    is told the database is unavailable.
    """
    races = 0
    reconnected = False
    while True:
        try:
            return run()
        except StaleVersion:
            races += 1
            if pinned or races >= AUTO_RETRIES:
                raise
        except ConnectionLost as lost:
            if reconnected or not lost.before_commit:
                raise
            reconnected = True


def _clean_comment(comment: str) -> str:
    return clean_text(comment, field="comment", max_length=MAX_RECORD_COMMENT, multiline=True)
