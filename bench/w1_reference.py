"""W1's reference point: the bare ``transitions`` library driving hand-written SQL.

The issue that set W1's target measured, on its machine, plain
``transitions`` driving hand-written sqlite3 at 0.39x the floor. The ratio
to the floor moves with the machine (how much a system call costs against
an instruction), so ``python -m bench w1`` runs this reference in the same
run: planflow's ratio can then be read against the bare library's on the
same machine. The reference does what a minimal engine on ``transitions``
does per step, and nothing more: one Machine for the workflow, a model
attached for the step and detached after it (``add_model``/``remove_model``),
the event triggered, then the floor's SQL. No permissions, guards, audit
chain, tasks or notifications.
"""

from __future__ import annotations

from transitions import Machine

from bench.common import Scratch
from bench.w1_floor import Chunks, Runner, hand_written_steps
from bench.w1_paths import DEST, HAPPY, WITH_RETURN


class _Plan:
    state: str


def _machine() -> Machine:
    """The states and events of W1's two paths, each event from the state before it."""
    transitions = {}
    for path in (HAPPY, WITH_RETURN):
        state = "draft"
        for action in path:
            transitions[(action, state)] = {
                "trigger": action,
                "source": state,
                "dest": DEST[action],
            }
            state = DEST[action]
    return Machine(
        model=None,
        states=sorted({"draft", *DEST.values()}),
        transitions=list(transitions.values()),
        initial="draft",
        auto_transitions=False,
    )


def reference_steps(scratch: Scratch, n: int, chunks: Chunks) -> Runner:
    machine = _machine()

    def decide(state: str, action: str) -> str:
        plan = _Plan()
        machine.add_model(plan, initial=state)
        try:
            machine.events[action].trigger(plan)
            return plan.state
        finally:
            machine.remove_model(plan)

    return hand_written_steps(scratch, n, chunks, "reference", decide)
