"""Immutable workflow specifications: what a definition file means once loaded.

A ``WorkflowSpec`` is parsed and validated once, then shared by every plan that
runs under that definition version. Nothing here holds per-plan state. All
classes are frozen dataclasses with tuple fields, so a spec can be cached and
used from several threads without copying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from planflow.core.content.target_words import TargetWording, meets, target_wording

LANGUAGES = ("en", "zh", "ko")

#: Roles every deployment knows. A definition may declare more under ``roles:``.
BUILTIN_ROLES = ("drafter", "submitter", "reviewer", "inspector", "officer", "admin")

#: How often a task's holders may be urged when the definition does not say.
DEFAULT_URGE_HOURS = 24
#: The longest interval a definition may set between two urges: a year.
MAX_URGE_HOURS = 8784


class Where(StrEnum):
    """Where a role is looked up, relative to the plan's unit."""

    SAME = "same"  # the plan's own unit
    PARENT = "parent"  # the unit directly above
    NEAREST = "nearest"  # the nearest unit, from the plan's own upwards, with a holder
    NEAREST_ABOVE = "nearest_above"  # as NEAREST, but starting at the parent

    def describe(self) -> str:
        return {
            Where.SAME: "at the plan's unit",
            Where.PARENT: "at the unit above the plan's unit",
            Where.NEAREST: "at the plan's unit or the nearest unit above it that has one",
            Where.NEAREST_ABOVE: "at the nearest unit above the plan's unit that has one",
        }[self]


@dataclass(frozen=True, slots=True)
class Label:
    """A text in several languages; ``get`` falls back to English."""

    texts: tuple[tuple[str, str], ...]

    def get(self, lang: str = "en") -> str:
        values = dict(self.texts)
        return values.get(lang) or values.get("en") or next(iter(values.values()), "")

    @classmethod
    def of(cls, **texts: str) -> Label:
        return cls(tuple(sorted(texts.items())))


@dataclass(frozen=True, slots=True)
class Duration:
    """A delay counted in calendar days or in working days."""

    days: int = 0
    working_days: int = 0
    hours: int = 0

    def describe(self) -> str:
        parts = []
        if self.days:
            parts.append(f"{self.days} day(s)")
        if self.working_days:
            parts.append(f"{self.working_days} working day(s)")
        if self.hours:
            parts.append(f"{self.hours} hour(s)")
        return " + ".join(parts) or "0 days"


@dataclass(frozen=True, slots=True)
class RoleRef:
    """A role and where it is looked up."""

    role: str
    at: Where = Where.SAME

    def describe(self) -> str:
        return f"{self.role} {self.at.describe()}"


@dataclass(frozen=True, slots=True)
class GuardRef:
    """A guard by name with its (immutable) parameters."""

    name: str
    params: tuple[tuple[str, object], ...] = ()

    def param(self, key: str, default: object = None) -> object:
        return dict(self.params).get(key, default)


@dataclass(frozen=True, slots=True)
class Quorum:
    """n-of-m approval: ``required`` distinct holders of the role must approve."""

    required: int


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """The task a waiting state creates: who must act, and by when."""

    assignee: RoleRef
    due: Duration | None = None


#: The ways a task may be handed on (``allows: {transfer: {to: ...}}``).
TRANSFER_TO = ("role", "unit")
#: Where an added approver goes relative to the one adding them.
ADD_APPROVER_MODES = ("before", "after", "alongside")


@dataclass(frozen=True, slots=True)
class Allows:
    """What the holder of a waiting state's task may do besides its transitions.

    ``transfer``: to whom the task may be handed (``role``: another holder of
    the task's role where it waits; ``unit``: any active user of that unit);
    None: no transfer. ``add_approver``: the modes allowed. ``cc``: whether
    the holder may copy people on the plan. ``return_to``: the earlier states a
    reviewer may send the plan back to; ``return_to_returner``: a resubmitted
    plan comes straight back to this state (both checked against the graph by
    ``validate``).
    """

    transfer: str | None = None
    add_approver: tuple[str, ...] = ()
    cc: bool = False
    return_to: tuple[str, ...] = ()
    return_to_returner: bool = False


@dataclass(frozen=True, slots=True)
class StateSpec:
    name: str
    label: Label
    task: TaskSpec | None = None
    final: bool = False
    allows: Allows = field(default_factory=Allows)

    @property
    def return_to(self) -> tuple[str, ...]:
        """``allows: return_to:`` the earlier states a reviewer may send the plan back to."""
        return self.allows.return_to

    @property
    def return_to_returner(self) -> bool:
        """``allows: return_to_returner:`` a plan sent back from this state comes
        straight back here when it is resubmitted, skipping the steps it passed."""
        return self.allows.return_to_returner


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    actor: RoleRef | None  # None: only the system (timers, rounds) may fire it
    label: Label
    guards: tuple[GuardRef, ...] = ()
    quorum: Quorum | None = None
    #: The actor becomes the plan's submitter (for ``not_self``).
    submission: bool = False
    #: Roles (resolved like ``actor``) to notify besides the new task's assignees.
    notify: tuple[RoleRef, ...] = ()
    #: Also notify the plan's submitter (e.g. on return).
    notify_submitter: bool = False
    #: Also notify whoever held the task of the state the plan leaves (a recall:
    #: the reviewers who had it waiting are told it is gone).
    notify_task_holders: bool = False
    #: Former names of the trigger that still fire it (``withdraw`` for
    #: ``abandon``): scripts and links that use them keep working; the audit
    #: record carries the trigger's name.
    aliases: tuple[str, ...] = ()
    #: Roles (resolved like ``actor``) copied on the plan when it is taken (抄送):
    #: told, and may read the plan until it ends.
    cc: tuple[RoleRef, ...] = ()
    #: Fired when the task's holder opens the plan from their queue (``start_review``):
    #: opening the task starts it, without an extra tap (``Planflow.open_task``).
    on_open: bool = False

    def answers_to(self, action: str) -> bool:
        return action == self.trigger or action in self.aliases


@dataclass(frozen=True, slots=True)
class TimerSpec:
    """Reminders and escalations for the task of ``state`` (run by the scheduler)."""

    state: str
    remind_before: Duration | None = None
    escalate_after: Duration | None = None
    #: Escalate again after this long at each level, until the top of the tree.
    repeat_escalation: Duration | None = None
    #: Fire ``auto_trigger`` as the system after ``auto_after`` past due.
    auto_trigger: str | None = None
    auto_after: Duration | None = None


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A recurring round, e.g. every April 1 at 08:00 schedule inspections."""

    name: str
    label: Label
    month: int | None
    day: int | None
    hour: int
    minute: int
    trigger: str
    in_state: str
    #: The task created by the round is due this long after the firing time.
    due: Duration | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A measurable target such as ``dues collected >= 100%``."""

    metric: str  # an identifier: the key that names the metric
    op: str  # one of >=, <=, =, >, <
    value: float
    unit: str = ""
    #: What people call the metric, per language (the identifier when None).
    label: Label | None = None

    def metric_label(self, lang: str = "en") -> str:
        return self.label.get(lang) if self.label is not None else self.metric

    def met_by(self, actual: float) -> bool:
        return meets(self.op, actual, self.value)

    def wording(self, lang: str | None = None) -> TargetWording:
        """The target as a phrase code and parameters; with ``lang``, the metric's label in it."""
        metric = self.metric if lang is None else self.metric_label(lang)
        return target_wording(metric, self.op, self.value, self.unit)

    def describe(self, lang: str | None = None) -> str:
        """In English words (``dues at least 100%``); with ``lang``, the metric's label in it."""
        return self.wording(lang).english()


@dataclass(frozen=True, slots=True)
class Criterion:
    code: str
    text: Label
    points: float
    mandatory: bool = False
    target: Target | None = None
    deduction: Label | None = None


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    title: Label
    max_score: float
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True, slots=True)
class Grade:
    name: str
    label: Label
    min_score: float


@dataclass(frozen=True, slots=True)
class ScoringSheet:
    """The federation's acceptance sheet: categories, criteria and grades.

    ``grades`` are ordered best first; a total below the lowest threshold, or a
    failed mandatory criterion, is "not passed".
    """

    title: Label
    categories: tuple[Category, ...]
    grades: tuple[Grade, ...]
    rectification_days: int = 30

    @property
    def max_total(self) -> float:
        return sum(c.max_score for c in self.categories)

    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(cr for cat in self.categories for cr in cat.criteria)

    def criterion_label(self, code: str, lang: str = "en") -> str:
        """A criterion as the sheet shows it ("E1 会费足额按时收缴"), else its bare code."""
        for cr in self.criteria():
            if cr.code == code:
                return f"{code} {cr.text.get(lang)}"
        return code

    def metric_label(self, metric: str, lang: str = "en") -> str:
        """A metric's label in ``lang``: from the first target that labels it, else its name."""
        for cr in self.criteria():
            if cr.target is not None and cr.target.metric == metric and cr.target.label:
                return cr.target.label.get(lang)
        return metric


@dataclass(frozen=True, slots=True)
class WorkflowSpec:
    name: str
    version: int
    title: Label
    initial: str
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    roles: tuple[str, ...] = BUILTIN_ROLES
    #: Who may create a plan under this definition.
    creator: RoleRef = field(default_factory=lambda: RoleRef("drafter"))
    timers: tuple[TimerSpec, ...] = ()
    schedules: tuple[ScheduleSpec, ...] = ()
    inspection: ScoringSheet | None = None
    #: The submitter's side may urge a task's holders at most once per this many
    #: hours (``urge: {every_hours: n}``).
    urge_every_hours: int = DEFAULT_URGE_HOURS
    source: str = ""
    #: SHA-256 of the file's bytes: a version number may be reused by mistake,
    #: the digest tells whether two loads are really the same definition.
    digest: str = ""
    # Derived once from ``states``: every transition asks for them, and a
    # definition never changes after it is loaded.
    _by_name: dict[str, StateSpec] = field(init=False, repr=False, compare=False)
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _final: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {s.name: s for s in self.states})
        object.__setattr__(self, "_names", tuple(s.name for s in self.states))
        object.__setattr__(self, "_final", tuple(s.name for s in self.states if s.final))

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def state(self, name: str) -> StateSpec:
        return self._by_name[name]

    @property
    def state_names(self) -> tuple[str, ...]:
        return self._names

    @property
    def final_states(self) -> tuple[str, ...]:
        return self._final

    def transition_named(self, action: str) -> TransitionSpec | None:
        """The first transition whose trigger, or a former name of it, is ``action``."""
        for t in self.transitions:
            if t.answers_to(action):
                return t
        return None

    def transitions_from(self, state: str) -> tuple[TransitionSpec, ...]:
        return tuple(t for t in self.transitions if state in t.sources)

    def timer_for(self, state: str) -> TimerSpec | None:
        for t in self.timers:
            if t.state == state:
                return t
        return None
