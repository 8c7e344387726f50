"""The workflow engine: decides what an action does to a plan. Plain Python.

One ``transitions`` Machine per definition version, built once and shared;
never a Machine per plan. A decision borrows a small cursor model that is
attached to the Machine once (``add_model``) and kept in a free list: the
cursor carries only the state being decided on, so attaching per use would
cost ~35 µs per transition for nothing. The list holds at most as many
cursors as decisions ever ran at once, so memory stays flat. The Machine is
built with ``auto_transitions=False``: no ``to_<state>()`` shortcut exists
that could skip an approval.

The engine checks, in this order: the action exists in the current state,
the actor holds the role (where the definition says to look it up), the
guards pass (every failing guard is reported), and for n-of-m approval
whether this vote completes the quorum. It returns a ``Decision``; it never
touches storage. ``planflow.services.plans`` persists decisions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, NamedTuple

from transitions import Event, EventData, Machine, State

from planflow.core.definitions.spec import TransitionSpec, WorkflowSpec
from planflow.core.guard_registry import BUILTIN_REGISTRY, GuardRegistry
from planflow.core.guards import ALREADY_VOTED, CONDITIONS_NOT_MET, Gate, PlanFacts
from planflow.core.org import OrgSnapshot
from planflow.errors import ActionNotAllowed, GuardFailed, PermissionDenied, Refusal

#: The actor id used for the system (timers, scheduled rounds).
SYSTEM: None = None


class Decision(NamedTuple):
    transition: TransitionSpec
    from_state: str
    to_state: str
    #: For n-of-m approval: (approvals including this one, required).
    quorum: tuple[int, int] | None = None

    @property
    def changes_state(self) -> bool:
        return self.from_state != self.to_state


@dataclass(frozen=True, slots=True)
class ActionOption:
    """An action a user may take now; ``blocked_by`` lists failing guards."""

    trigger: str
    label: str
    blocked_by: tuple[Refusal, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.blocked_by


class _Cursor:
    """The model attached to the Machine for one decision."""

    state: str


class _PlanState(State):
    """A ``transitions`` State named by a plain string, quiet when it has no callbacks.

    The base class serves Enum names too, so its ``name`` is a property that
    checks the type on every read, and ``enter``/``exit`` log two lines each
    even with nothing to call; a decision reads the name six times and
    enters and exits once. Our states are strings and have no callbacks:
    the same Machine, without that work on every transition.
    """

    #: A plain attribute, shadowing the base class's property.
    name: str = ""

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(name, *args, **kwargs)
        self.name = name

    def enter(self, event_data: Any) -> None:
        if self.on_enter:
            super().enter(event_data)

    def exit(self, event_data: Any) -> None:
        if self.on_exit:
            super().exit(event_data)


class _PlanMachine(Machine):
    """The Machine of one definition version, with ``_PlanState`` states."""

    state_cls = _PlanState

    def get_state(self, state: Any) -> Any:
        # Five lookups a decision; the base class handles Enums and unknown names.
        try:
            return self.states[state]
        except (KeyError, TypeError):
            return super().get_state(state)


class WorkflowEngine:
    def __init__(self, spec: WorkflowSpec, guards: GuardRegistry = BUILTIN_REGISTRY) -> None:
        self.spec = spec
        self.guards = guards
        self._lock = threading.Lock()
        self._idle: list[_Cursor] = []
        # The transitions each (state, trigger) may take, looked up once here
        # rather than scanned on every decision.
        self._candidates: dict[tuple[str, str], tuple[TransitionSpec, ...]] = {}
        for t in spec.transitions:
            for source in t.sources:
                key = (source, t.trigger)
                self._candidates[key] = (*self._candidates.get(key, ()), t)
        #: Former names of triggers (``aliases:``), each to the trigger it now is.
        self.aliases = {a: t.trigger for t in spec.transitions for a in t.aliases}
        # What a decision in each state needs loaded besides the plan row: for
        # the list of actions, the facts of every transition leaving the state;
        # for one action, only its own (a recall's look at the trail costs the
        # approvals in the same state nothing).
        self.quorum_states = frozenset(s for t in spec.transitions if t.quorum for s in t.sources)
        self.facts_needed: dict[str, frozenset[str]] = {
            state: frozenset(
                fact
                for t in spec.transitions_from(state)
                for g in t.guards
                for fact in guards.needs(g.name)
            )
            for state in spec.state_names
        }
        self._facts_of_action: dict[tuple[str, str], frozenset[str]] = {
            key: frozenset(fact for t in ts for g in t.guards for fact in guards.needs(g.name))
            for key, ts in self._candidates.items()
        }
        self._machine = _PlanMachine(
            model=None,
            states=list(spec.state_names),
            transitions=self._machine_transitions(spec, guards),
            initial=spec.initial,
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
        )

    @staticmethod
    def _machine_transitions(spec: WorkflowSpec, guards: GuardRegistry) -> list[dict[str, Any]]:
        # A transition's last condition records it as the one taken: once
        # its conditions pass the Machine takes it, and recording it there
        # costs less than an ``after`` callback of its own.
        out: list[dict[str, Any]] = []
        for t in spec.transitions:
            if t.quorum is None:
                out.append(
                    {
                        "trigger": t.trigger,
                        "source": list(t.sources),
                        "dest": t.dest,
                        "conditions": [_guards_condition(t, guards, taken=(t, True))],
                    }
                )
                continue
            # n-of-m: the vote that completes the quorum moves the plan; any
            # earlier vote is an internal transition (recorded, no state change).
            out.append(
                {
                    "trigger": t.trigger,
                    "source": list(t.sources),
                    "dest": t.dest,
                    "conditions": [
                        _guards_condition(t, guards, taken=None),
                        _quorum_reached(t),
                    ],
                }
            )
            out.append(
                {
                    "trigger": t.trigger,
                    "source": list(t.sources),
                    "dest": None,
                    "conditions": [_guards_condition(t, guards, taken=(t, False))],
                }
            )
        return out

    # -- queries -----------------------------------------------------------

    def canonical(self, action: str) -> str:
        """The trigger ``action`` names: itself, or the one it is a former name of."""
        return self.aliases.get(action, action)

    def facts_for(self, state: str, action: str | None = None) -> frozenset[str]:
        """The facts a decision needs: of ``action`` in ``state`` (None: of every action)."""
        if action is None:
            return self.facts_needed.get(state, frozenset())
        return self._facts_of_action.get((state, self.canonical(action)), frozenset())

    def may_act(
        self, t: TransitionSpec, facts: PlanFacts, actor: int | None, org: OrgSnapshot
    ) -> bool:
        """Whether ``actor`` holds the role ``t`` needs for this plan."""
        if actor is SYSTEM:
            # The scheduler may fire any transition its definition gives it,
            # but a vote is a person's: the system never counts towards n-of-m.
            return t.quorum is None
        if t.actor is None or actor not in org.active_users:
            return False
        if facts.task_people is not None and t.actor.role == facts.task_role:
            # The task is held personally (handed on, approvers added): its
            # people act on it, with or without the role — and, once it is
            # overdue and escalated, the role's holders where it was escalated to.
            if actor in facts.task_people:
                return True
            return any(actor in org.holders(t.actor.role, u) for u in facts.task_units)
        unit_id = org.resolve(t.actor, facts.unit_id)
        if unit_id is not None and actor in org.holders(t.actor.role, unit_id):
            return True
        # After escalation the holders of the role further up may act too.
        if facts.task_role == t.actor.role:
            return any(actor in org.holders(t.actor.role, u) for u in facts.task_units)
        return False

    def available_actions(
        self,
        facts: PlanFacts,
        actor: int | None,
        org: OrgSnapshot,
        *,
        lang: str = "en",
        comment: str | None = "-",
    ) -> list[ActionOption]:
        """The actions ``actor`` may take now, with the guards that would refuse them.

        ``comment`` defaults to a placeholder so that ``comment_required`` does
        not hide an action the user can take once they write a reason.
        """
        seen: dict[str, ActionOption] = {}
        for t in self.spec.transitions_from(facts.state):
            if t.trigger in seen or not self.may_act(t, facts, actor, org):
                continue
            gate = Gate(facts, actor, comment)
            self.guards.check_all(gate, t.guards)
            _check_vote(t, gate)
            seen[t.trigger] = ActionOption(t.trigger, t.label.get(lang), tuple(gate.reasons))
        return list(seen.values())

    # -- the decision ------------------------------------------------------

    def decide(
        self,
        facts: PlanFacts,
        action: str,
        actor: int | None,
        org: OrgSnapshot,
        comment: str | None = None,
    ) -> Decision:
        action = self.canonical(action)
        candidates = self._candidates.get((facts.state, action), ())
        if not candidates:
            available = [o.trigger for o in self.available_actions(facts, actor, org)]
            raise ActionNotAllowed(action, facts.state, available)
        permitted = [t for t in candidates if self.may_act(t, facts, actor, org)]
        if not permitted:
            first = candidates[0]
            if first.actor is None:
                raise PermissionDenied(action, "system", "(only the scheduler fires it)")
            raise PermissionDenied(action, first.actor.role, first.actor.at.describe())
        gate = Gate(facts, actor, comment)
        cursor = self._borrow(facts.state)
        try:
            fired = self._trigger(self._machine.events[action], cursor, gate)
        finally:
            self._idle.append(cursor)
        chosen = gate.chosen
        if not fired or chosen is None:
            raise GuardFailed(action, gate.reasons or [CONDITIONS_NOT_MET])
        transition, final = chosen
        quorum = None
        if transition.quorum is not None:
            voters = facts.approvals | ({actor} if actor is not None else set())
            quorum = (len(voters), transition.quorum.required)
        return Decision(
            transition=transition,
            from_state=facts.state,
            to_state=transition.dest if final else facts.state,
            quorum=quorum,
        )

    def _trigger(self, event: Event, cursor: _Cursor, gate: Gate) -> bool:
        """``event.trigger(cursor, gate=gate)`` without the Machine-wide steps this
        Machine never uses: its event queue and ``prepare_event``/``finalize_event``
        callbacks (measured: 27% of the library's instructions per decision, 3%
        of a W1 step; ``tests/test_engine.py`` checks that this Machine has none).

        The transitions out of the cursor's state run as ``Event`` runs them:
        each through ``Transition.execute`` (its conditions, which are the
        guards, its callbacks and the state change) until one is taken.
        """
        machine = self._machine
        source = machine.get_state(cursor.state)
        data = EventData(source, event, machine, cursor, args=(), kwargs={"gate": gate})
        for transition in event.transitions.get(source.name, ()):
            data.transition = transition
            if transition.execute(data):
                return True
        return False

    def _borrow(self, state: str) -> _Cursor:
        try:
            cursor = self._idle.pop()  # list.pop/append are atomic: no lock needed
        except IndexError:
            cursor = _Cursor()
            with self._lock:
                self._machine.add_model(cursor, initial=state)
        # What ``Machine.set_state`` does for a plain string state, minus its
        # lookups: this runs on every decision.
        cursor.state = state
        return cursor


def _check_vote(t: TransitionSpec, gate: Gate) -> bool:
    if t.quorum is not None and gate.actor in gate.facts.approvals:
        return gate.refuse(ALREADY_VOTED)
    return True


def _guards_condition(
    t: TransitionSpec, guards: GuardRegistry, *, taken: tuple[TransitionSpec, bool] | None
) -> Any:
    """The guards (and vote check) of ``t``; ``taken`` is recorded when they pass."""

    def condition(event: Any) -> bool:
        gate: Gate = event.kwargs["gate"]
        # Both checks run so that every reason is reported at once.
        guards_ok = guards.check_all(gate, t.guards)
        vote_ok = _check_vote(t, gate)
        if guards_ok and vote_ok:
            if taken is not None:
                gate.chosen = taken
            return True
        return False

    return condition


def _quorum_reached(t: TransitionSpec) -> Any:
    """The last condition of the vote that completes an n-of-m approval."""
    assert t.quorum is not None
    required = t.quorum.required

    def condition(event: Any) -> bool:
        gate: Gate = event.kwargs["gate"]
        voters = set(gate.facts.approvals)
        if gate.actor is not None:
            voters.add(gate.actor)
        if len(voters) >= required:
            gate.chosen = (t, True)
            return True
        return False

    return condition
