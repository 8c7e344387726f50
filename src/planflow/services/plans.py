"""The one path by which a plan changes.

load → version check → engine → persist (plan row + audit + revision + vote
+ tasks + timers + notifications, in ONE transaction) → emit events.

``fire`` runs a workflow transition (this module, with what a deputy may
do); ``mutate`` runs any other change to a plan (content edits, comments,
progress reports, inspection scores) through the same lock, version check
and audit chain, so nothing that happens to a plan bypasses the trail, and
``create_plan`` is the first step of a chain (both ``plan_changes``). The
steps all of them share are ``plan_steps``; what a shared task and its
copies write, ``handover_writer``.

Callers say what a change does in domain words (``planflow.core.intents``: a
move, a content edit, a timer step …) and may add a ``Step`` of their own;
the statement that carries it out is chosen by storage
(``planflow.storage.plan_store.plan_update``).
"""

from __future__ import annotations

import dataclasses
import threading

from planflow.clock import Clock, SystemClock
from planflow.core import handover, returns
from planflow.core.calendar import BusinessCalendar
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.engine import ActionOption, Decision, WorkflowEngine
from planflow.core.guard_registry import GuardRegistry
from planflow.core.guards import ALREADY_VOTED, Gate, PlanFacts
from planflow.core.intents import NOTE, Move, PlanUpdate, TimedEffect
from planflow.core.org import OrgSnapshot
from planflow.core.task_planning import TaskPlanner
from planflow.errors import GuardFailed, PermissionDenied
from planflow.events import EventBus
from planflow.services import delegations
from planflow.services.changes import DEFAULT_WRITERS, Change, Step, StepContext, Writer
from planflow.services.delegations import DEPUTY_CANNOT_SUBMIT
from planflow.services.handover_writer import (
    countersign,
    countersigns,
    task_holders,
    write_handover,
)
from planflow.services.inbox import Inbox
from planflow.services.plan_changes import PlanChanges
from planflow.services.plan_steps import MOVE, clean_comment, retrying
from planflow.services.visibility import ViewerCache
from planflow.services.webhook_events import WebhookEvents
from planflow.storage import handover_sql as hs
from planflow.storage import plan_store as ps
from planflow.storage import return_sql as rs
from planflow.storage.db import Database
from planflow.storage.definition_repo import DefinitionStore
from planflow.storage.org_repo import OrgCache
from planflow.storage.tx import Tx, read_tx, write_tx


class PlanService(PlanChanges):
    """The one path by which a plan changes (see the module): transitions here,
    other changes in ``PlanChanges``, the shared steps in ``PlanSteps``."""

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
        return retrying(
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
        comment = clean_comment(comment) if comment else None
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
            if acting_id is not None and countersigns(spec, parts, decision, acting_id):
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
                change.add(countersign(tx, row, org, parts, acting_id, decision, change.at))
            if trigger != action and trigger != handover.COUNTERSIGN:
                change.detail["called_as"] = action  # a former name (``aliases:``)
            if decision.transition.notify_task_holders and decision.changes_state:
                change.left_task_holders = task_holders(row, org)
            update: PlanUpdate = NOTE  # a counted n-of-m vote moves nothing
            if decision.changes_state:
                update = MOVE
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
