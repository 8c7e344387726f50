"""Handing a task on: transfer (转交) and added approvers (加签). Plain Python.

A waiting state's task is held by the holders of its role (``task:``) until
someone holding it hands it on or adds an approver; from then on it is held
*personally*, by the parts of ``TaskParts``: one person each, ordered by
position, people at the same position deciding alongside (all of them must
approve). The current group is the lowest position with someone still to
decide; only they may take the task's transitions.

- transfer: the actor's part becomes the target's (no parts yet: the target's
  part is the whole task);
- before: the added person decides first, then the task comes back;
- after: once the actor approves, the added person decides before the plan moves;
- alongside: the actor and the added person both must approve.

A *forward* decision (a transition that does not lead back to where the plan
is edited) by someone whose part is not the last to decide only marks their
part done (the audit records it as a co-signature); a *return* decides for
the whole task at once, as in every approval system users know. The parts
end with the task: the plan leaving the state removes them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planflow.core.definitions.spec import TransitionSpec, WorkflowSpec
from planflow.core.work_states import editable_states
from planflow.errors import GuardFailed, Refusal

TRANSFER = "transfer"
ADD_APPROVER = "add_approver"
CC = "cc"
#: The audit action of a forward decision that is not yet the task's last.
COUNTERSIGN = "countersign"
#: Most people who may hold parts of one task (a sanity limit of the table).
MAX_PARTS = 20
#: Most people copied in one go.
MAX_CC = 50


@dataclass(frozen=True, slots=True)
class Part:
    user_id: int
    position: int
    #: holder | transfer | before | after | alongside
    kind: str
    added_by: int | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class TaskParts:
    """The personal parts of one open task (empty: its role's holders hold it)."""

    parts: tuple[Part, ...] = ()

    @property
    def personal(self) -> bool:
        return bool(self.parts)

    def open_parts(self) -> list[Part]:
        return [p for p in self.parts if not p.done]

    def current(self) -> frozenset[int] | None:
        """Who may decide now; None when the task is not held personally."""
        if not self.parts:
            return None
        waiting = self.open_parts()
        if not waiting:
            return frozenset()
        first = min(p.position for p in waiting)
        return frozenset(p.user_id for p in waiting if p.position == first)

    def everyone(self) -> frozenset[int]:
        """Everybody with a part still to decide (they may read the plan)."""
        return frozenset(p.user_id for p in self.open_parts())

    def last_to_decide(self, actor: int) -> bool:
        """Whether ``actor`` deciding forward completes the task."""
        return all(p.done or p.user_id == actor for p in self.parts)


def refuse(action: str, code: str, params: dict[str, object], text: str) -> GuardFailed:
    return GuardFailed(action, [Refusal(code, params, text)])


def is_return(spec: WorkflowSpec, t: TransitionSpec) -> bool:
    """A transition back to where the plan is edited: it decides for the whole task."""
    return t.dest in editable_states(spec)


def transferred(parts: TaskParts, actor: int, target: int) -> tuple[Part, ...]:
    """The parts after ``actor`` handed their part of the task to ``target``."""
    if not parts.personal:
        return (Part(target, 0, TRANSFER, actor),)
    if target in parts.everyone():
        raise refuse(
            TRANSFER,
            "transfer_to_holder",
            {"user": target},
            "they already have a part in this task",
        )
    return tuple(
        replace(p, user_id=target, kind=TRANSFER, added_by=actor)
        if p.user_id == actor and not p.done
        else p
        for p in parts.parts
    )


def with_added(parts: TaskParts, actor: int, target: int, mode: str) -> tuple[Part, ...]:
    """The parts after ``actor`` added ``target`` ``before``, ``after`` or ``alongside`` them."""
    base = parts.parts or (Part(actor, 0, "holder"),)
    if target in TaskParts(base).everyone():
        raise refuse(
            ADD_APPROVER,
            "approver_already_added",
            {"user": target},
            "they already have a part in this task",
        )
    if len(base) >= MAX_PARTS:
        raise refuse(
            ADD_APPROVER, "too_many_approvers", {"max": MAX_PARTS}, "at most {max} people per task"
        )
    mine = next(p for p in base if p.user_id == actor and not p.done)
    added = Part(target, mine.position, mode, actor)
    if mode == "alongside":
        return (*base, added)
    # Positions are renumbered: "before" takes the actor's place and pushes
    # the actor and everyone after them one step on; "after" goes right
    # behind the actor's group.
    cut = mine.position if mode == "before" else mine.position + 1
    moved = tuple(replace(p, position=p.position + 1) if p.position >= cut else p for p in base)
    return (*moved, replace(added, position=cut))


def decided(parts: TaskParts, actor: int) -> tuple[Part, ...]:
    """The parts once ``actor`` decided forward (their part is done)."""
    return tuple(
        replace(p, done=True) if p.user_id == actor and not p.done else p for p in parts.parts
    )
