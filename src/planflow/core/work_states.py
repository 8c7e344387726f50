"""When a plan's unit carries out its plan: the work states, derived from a definition.

Analysis of a ``WorkflowSpec``'s transition graph (it reads no database): the
*committed* states (after a submission, from which the content can never be
edited again) and, among them, the *work states* in which the unit reports
progress and attaches evidence (``planflow.services.execution``) and the states in
which it assesses itself against the inspection sheet
(``self_assessment_states``). Nothing is listed by name in a definition, so a
new workflow gets these for free.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from planflow.core.definitions.spec import RoleRef, WorkflowSpec

#: The transition that records an inspection; work is done until it is judged.
INSPECT = "inspect"


def editable_states(spec: WorkflowSpec) -> frozenset[str]:
    states = {spec.initial}
    for t in spec.transitions:
        if t.submission:
            states.update(t.sources)
    return frozenset(states)


def content_editors(spec: WorkflowSpec) -> tuple[RoleRef, ...]:
    """Who may edit: the creator role and whoever may submit."""
    refs = [spec.creator]
    refs += [t.actor for t in spec.transitions if t.submission and t.actor is not None]
    return tuple(dict.fromkeys(refs))


def reachable(spec: WorkflowSpec, starts: Iterable[str], avoid: Iterable[str] = ()) -> set[str]:
    """States reachable from ``starts`` (included), never walking through ``avoid``."""
    blocked = set(avoid)
    graph: dict[str, set[str]] = {}
    for t in spec.transitions:
        for source in t.sources:
            graph.setdefault(source, set()).add(t.dest)
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in graph.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                if nxt not in blocked:
                    queue.append(nxt)
    return seen


def committed_states(spec: WorkflowSpec) -> frozenset[str]:
    """Non-final states after a submission from which the plan can never be edited again.

    That is the point of no return of a review: for annual_plan, ``approved``
    and every state after it (``submitted`` and ``under_review`` can still
    lead back to ``returned``).
    """
    editable = editable_states(spec)
    after = reachable(spec, {t.dest for t in spec.transitions if t.submission})
    finals = set(spec.final_states)
    return frozenset(s for s in after if s not in finals and not (reachable(spec, {s}) & editable))


_WORK_STATES: dict[tuple[str, int, str], frozenset[str]] = {}


def work_states(spec: WorkflowSpec) -> frozenset[str]:
    """The committed states in which the inspection (``inspect``) is still ahead.

    The state ``inspect`` leads to is left out: while the inspector decides,
    what they judge must hold still. So are the states after acceptance, from
    which no inspection follows. For annual_plan: approved,
    inspection_scheduled, rectification_required. A definition without an
    ``inspect`` transition takes reports in all its committed states.
    """
    key = (spec.name, spec.version, spec.digest)
    cached = _WORK_STATES.get(key)
    if cached is not None:
        return cached
    committed = committed_states(spec)
    inspect = [t for t in spec.transitions if t.trigger == INSPECT]
    states = committed
    if inspect:
        sources = {s for t in inspect for s in t.sources}
        judged = {t.dest for t in inspect}
        states = frozenset(
            s for s in committed if s not in judged and reachable(spec, {s}, avoid=judged) & sources
        )
    _WORK_STATES[key] = states
    return states


def self_assessment_states(spec: WorkflowSpec) -> tuple[str, ...]:
    """The states in which the unit records its self-assessment, in the definition's order.

    Where ``inspect`` starts (the inspection awaits), and the work states
    before the first inspection: a plan once approved can be assessed while it
    waits for its date (for annual_plan: approved, inspection_scheduled). Not
    a work state a plan comes back to after an inspection (rectification
    required): that round is decided, and the next opens when the plan awaits
    its inspection again. Nothing without an ``inspect`` transition.
    """
    sources = {s for t in spec.transitions if t.trigger == INSPECT for s in t.sources}
    if not sources:
        return ()
    # A round is counted each time the plan enters an inspect source (inspection_rounds),
    # so a state reachable from one belongs to a round already inspected.
    after_first = reachable(spec, sources)
    open_ = sources | {s for s in work_states(spec) if s not in after_first}
    return tuple(s for s in spec.state_names if s in open_)
