"""Cross-reference checks of a workflow definition: the part no single key can see.

The loader reads each key into a ``Draft`` (values plus the dotted path each
came from); this module checks how the pieces fit together: states referred to
exist, triggers are unambiguous, every state is reachable and can be left,
timers and schedules point at real states and triggers. It adds problems to the
shared ``Problems`` and never raises.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from planflow.core.definitions.actions import SHEET_FACT, KnownGuards
from planflow.core.definitions.nodes import Problems, join, quote, suggest
from planflow.core.definitions.spec import (
    BUILTIN_ROLES,
    DEFAULT_URGE_HOURS,
    Label,
    RoleRef,
    ScheduleSpec,
    ScoringSheet,
    StateSpec,
    TimerSpec,
    TransitionSpec,
    WorkflowSpec,
)


@dataclass
class Draft:
    """What the loader read, each entry paired with its path for messages."""

    name: str | None = None
    version: int | None = None
    title: Label | None = None
    initial: str | None = None
    creator: RoleRef = field(default_factory=lambda: RoleRef("drafter"))
    roles: tuple[str, ...] = BUILTIN_ROLES
    states: list[tuple[str, StateSpec]] = field(default_factory=list)
    transitions: list[tuple[str, TransitionSpec]] = field(default_factory=list)
    timers: list[tuple[str, TimerSpec]] = field(default_factory=list)
    schedules: list[tuple[str, ScheduleSpec]] = field(default_factory=list)
    inspection: ScoringSheet | None = None
    urge_every_hours: int = DEFAULT_URGE_HOURS
    #: False once a state or transition could not be read as written: checks of
    #: references and of the graph would then blame the wrong thing.
    complete: bool = True

    def to_spec(self, source: str, digest: str) -> WorkflowSpec:
        # Only called when no problem was found, so every required part is set.
        assert self.name is not None and self.version is not None and self.initial is not None
        return WorkflowSpec(
            name=self.name,
            version=self.version,
            title=self.title or Label.of(en=self.name),
            initial=self.initial,
            states=tuple(s for _, s in self.states),
            transitions=tuple(t for _, t in self.transitions),
            roles=self.roles,
            creator=self.creator,
            timers=tuple(t for _, t in self.timers),
            schedules=tuple(s for _, s in self.schedules),
            inspection=self.inspection,
            urge_every_hours=self.urge_every_hours,
            source=source,
            digest=digest,
        )


def validate(draft: Draft, problems: Problems, guards: KnownGuards) -> None:
    _check_ambiguity(draft, problems)
    _check_aliases(draft, problems)
    if not draft.complete:
        return
    refs_ok = _check_state_refs(draft, problems)
    _check_final_states(draft, problems)
    if refs_ok:
        _check_graph(draft, problems)
        _check_returns(draft, problems)
    _check_timers(draft, problems)
    _check_schedules(draft, problems)
    _check_sheet_guards(draft, problems, guards)
    _check_allows(draft, problems)


def _check_allows(draft: Draft, problems: Problems) -> None:
    # n-of-m counts each member's own vote: a seat handed on or shared would
    # count someone twice or someone who is no member.
    voted = {s for _, t in draft.transitions if t.quorum for s in t.sources}
    for path, state in draft.states:
        allows = state.allows
        if state.name in voted and (allows.transfer or allows.add_approver):
            problems.add(
                _where(problems, path, "allows"),
                f"state {quote(state.name)} is decided by a quorum; it may allow cc only",
            )


def _check_sheet_guards(draft: Draft, problems: Problems, guards: KnownGuards) -> None:
    if draft.inspection is not None:
        return
    for path, t in draft.transitions:
        for g in t.guards:
            if SHEET_FACT in guards.needs(g.name):
                problems.add(
                    f"{path}.guards",
                    f"guard {quote(g.name)} needs an inspection: scoring sheet in the definition",
                )


def _where(problems: Problems, path: str, key: str) -> str:
    """``path.key`` when that key was written, else ``path`` (for its line)."""
    return join(path, key) if join(path, key) in problems.lines else path


def _check_ambiguity(draft: Draft, problems: Problems) -> None:
    # Two transitions may share trigger and source only when their quorum
    # differs (e.g. a single veto beside a 2-of-3 approval); otherwise the
    # engine could not tell which one an action means.
    seen: dict[tuple[str, str, int | None], str] = {}
    for path, t in draft.transitions:
        required = t.quorum.required if t.quorum else None
        for source in t.sources:
            key = (t.trigger, source, required)
            if key in seen:
                other = seen[key]
                problems.add(
                    join(path, "trigger"),
                    f"trigger {quote(t.trigger)} from state {quote(source)} is already defined "
                    f"by {other} "
                    f"(line {problems.line_of(other)}) with the same quorum; the action "
                    "would be ambiguous",
                )
            else:
                seen[key] = path


def _check_aliases(draft: Draft, problems: Problems) -> None:
    # An alias stands for exactly one trigger: it may not be a trigger itself
    # nor the alias of another one (the same trigger may list it on each of
    # its transitions, e.g. a vote beside a veto).
    triggers = {t.trigger for _, t in draft.transitions}
    owner: dict[str, str] = {}
    for path, t in draft.transitions:
        for index, alias in enumerate(t.aliases):
            where = join(join(path, "aliases"), index)
            if alias in triggers:
                problems.add(where, f"alias {quote(alias)} is a trigger of this definition")
            elif owner.setdefault(alias, t.trigger) != t.trigger:
                problems.add(
                    where, f"alias {quote(alias)} already names trigger {quote(owner[alias])}"
                )


def _check_state_refs(draft: Draft, problems: Problems) -> bool:
    names = [s.name for _, s in draft.states]
    known = set(names)
    ok = True

    def check(path: str, name: str, what: str) -> None:
        nonlocal ok
        if name not in known:
            ok = False
            hint = suggest(name, names)
            problems.add(path, f"{what} {quote(name)} is not defined under states:{hint}")

    if draft.initial is not None and names:
        check("initial", draft.initial, "initial state")
    for path, t in draft.transitions:
        for index, source in enumerate(t.sources):
            source_path = join(join(path, "source"), index)
            if source_path not in problems.lines:
                source_path = join(path, "source")
            check(source_path, source, "source state")
        check(join(path, "dest"), t.dest, "dest state")
    return ok


def _outgoing(draft: Draft) -> dict[str, list[tuple[str, TransitionSpec]]]:
    out: dict[str, list[tuple[str, TransitionSpec]]] = defaultdict(list)
    for path, t in draft.transitions:
        for source in t.sources:
            out[source].append((path, t))
    return out


def _check_final_states(draft: Draft, problems: Problems) -> None:
    outgoing = _outgoing(draft)
    for path, state in draft.states:
        leaving = outgoing.get(state.name, [])
        if state.final and leaving:
            which = ", ".join(f"{quote(t.trigger)} ({p})" for p, t in leaving)
            problems.add(
                _where(problems, path, "final"),
                f"final state {quote(state.name)} has outgoing transitions: {which}; "
                "a final state ends the plan",
            )
        elif not state.final and not leaving:
            problems.add(
                path,
                f"state {quote(state.name)} is not final but has no outgoing transition; "
                "add one or mark it final: true",
            )


def _reachable(starts: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    """Every state reached from ``starts`` (included) along ``edges``."""
    seen = set(starts)
    todo = list(seen)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _check_graph(draft: Draft, problems: Problems) -> None:
    if draft.initial is None:
        return
    edges: dict[str, set[str]] = defaultdict(set)
    back: dict[str, set[str]] = defaultdict(set)
    for _, t in draft.transitions:
        for source in t.sources:
            edges[source].add(t.dest)
            back[t.dest].add(source)
    reached = _reachable([draft.initial], edges)
    finals = {s.name for _, s in draft.states if s.final}
    # One search backwards from the final states, not one forward from each state.
    can_finish = _reachable(finals, back)
    if not finals:
        problems.add("states", "no state is marked final: true, so no plan could ever finish")
    for path, state in draft.states:
        if state.name not in reached:
            problems.add(
                path,
                f"state {quote(state.name)} cannot be reached from the initial state "
                f"{quote(draft.initial)}",
            )
        elif finals and state.name in edges and state.name not in can_finish:
            # Not a dead end (it has a way out) but a trap: every way loops back.
            problems.add(path, f"no final state can be reached from state {quote(state.name)}")


def _check_returns(draft: Draft, problems: Problems) -> None:
    """``allows: return_to``: defined, earlier states (the plan can come back
    from each to the returning state), of a waiting state."""
    states = {s.name: s for _, s in draft.states}
    names = list(states)
    edges: dict[str, set[str]] = defaultdict(set)
    for _, t in draft.transitions:
        for source in t.sources:
            edges[source].add(t.dest)
    for path, state in draft.states:
        allows = join(path, "allows")
        if state.return_to_returner and not state.return_to:
            problems.add(
                join(allows, "return_to_returner"), "needs return_to: (the states to return to)"
            )
        if state.return_to and state.task is None:
            problems.add(
                allows, f"state {quote(state.name)} has no task: nobody could return from it"
            )
        for index, target in enumerate(state.return_to):
            where = join(join(allows, "return_to"), index)
            if target not in states:
                hint = suggest(target, names)
                problems.add(
                    where, f"return_to state {quote(target)} is not defined under states:{hint}"
                )
            elif target == state.name or states[target].final:
                what = "the state itself" if target == state.name else "a final state"
                problems.add(where, f"return_to state {quote(target)} is {what}")
            elif state.name not in _reachable([target], edges):
                problems.add(
                    where,
                    f"return_to state {quote(target)} is not an earlier step of "
                    f"{quote(state.name)}: no transition leads from it back there",
                )


@dataclass(frozen=True)
class _Triggers:
    """The triggers of a draft's transitions and the states each leaves, looked up once."""

    names: frozenset[str]
    leaving: set[tuple[str, str]]
    states: set[str]

    @classmethod
    def of(cls, draft: Draft) -> _Triggers:
        return cls(
            frozenset(t.trigger for _, t in draft.transitions),
            {(t.trigger, source) for _, t in draft.transitions for source in t.sources},
            {s.name for _, s in draft.states},
        )


def _check_trigger(
    triggers: _Triggers, problems: Problems, path: str, trigger: str, state: str
) -> None:
    if trigger not in triggers.names:
        hint = suggest(trigger, sorted(triggers.names))
        problems.add(path, f"unknown trigger {quote(trigger)}{hint}: no transition has it")
    elif state in triggers.states and (trigger, state) not in triggers.leaving:
        problems.add(path, f"trigger {quote(trigger)} has no transition from state {quote(state)}")


def _check_timers(draft: Draft, problems: Problems) -> None:
    states = {s.name: s for _, s in draft.states}
    triggers = _Triggers.of(draft)
    first: dict[str, str] = {}
    for path, timer in draft.timers:
        state_path = join(path, "state")
        state = states.get(timer.state)
        if state is None:
            hint = suggest(timer.state, states)
            problems.add(
                state_path,
                f"timer for state {quote(timer.state)}, which is not defined under states:{hint}",
            )
        elif timer.state in first:
            problems.add(
                state_path,
                f"state {quote(timer.state)} already has a timer at {first[timer.state]}",
            )
        elif state.task is None or state.task.due is None:
            problems.add(
                state_path,
                f"state {quote(timer.state)} has no task with a due: date "
                "for the timer to count from",
            )
        first.setdefault(timer.state, path)
        if timer.auto_trigger is not None:
            trigger_path = join(join(path, "auto_action"), "trigger")
            _check_trigger(triggers, problems, trigger_path, timer.auto_trigger, timer.state)


def _check_schedules(draft: Draft, problems: Problems) -> None:
    states = [s.name for _, s in draft.states]
    known = set(states)
    triggers = _Triggers.of(draft)
    first: dict[str, str] = {}
    for path, schedule in draft.schedules:
        if schedule.name in first:
            problems.add(
                join(path, "name"),
                f"schedule {quote(schedule.name)} is already defined at {first[schedule.name]}",
            )
        first.setdefault(schedule.name, path)
        if schedule.in_state not in known:
            hint = suggest(schedule.in_state, states)
            problems.add(
                join(path, "in_state"),
                f"in_state {quote(schedule.in_state)} is not defined under states:{hint}",
            )
        trigger_path = join(path, "trigger")
        _check_trigger(triggers, problems, trigger_path, schedule.trigger, schedule.in_state)
