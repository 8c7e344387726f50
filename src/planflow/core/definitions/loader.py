"""Loading workflow definition files (YAML) into ``WorkflowSpec``.

Owns the entry points and the top level of the format: the top-level keys,
``roles``, ``states``, ``timers`` and ``schedules``. Reading the file and its
YAML within limits is ``source``'s; transitions and role references are read
by ``actions``, the inspection sheet by ``sheet``; how the pieces fit together
is checked by ``validate``. Every problem is collected (with its dotted path
and line) and raised together as one ``DefinitionError``.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import threading
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from planflow.core.definitions.actions import ActionReader, KnownGuards
from planflow.core.definitions.allows import read_allows
from planflow.core.definitions.nodes import (
    DOCUMENT,
    Problems,
    Reader,
    TooManyProblems,
    is_name,
    join,
    quote,
)
from planflow.core.definitions.sheet import read_sheet
from planflow.core.definitions.source import (
    MAX_BYTES,
    SourceProblem,
    compose,
    read_bytes,
    too_large,
)
from planflow.core.definitions.spec import (
    BUILTIN_ROLES,
    MAX_URGE_HOURS,
    Allows,
    Duration,
    Label,
    RoleRef,
    ScheduleSpec,
    StateSpec,
    TaskSpec,
    TimerSpec,
    Where,
    WorkflowSpec,
)
from planflow.core.definitions.validate import Draft, validate
from planflow.core.ids import MAX_ID
from planflow.errors import DefinitionError, DefinitionProblem

TOP = ("name", "version", "initial", "states", "transitions")
STATE_KEYS = ("label", "task", "final", "allows")
TOP_OPTIONAL = ("title", "creator", "roles", "timers", "schedules", "inspection", "urge")
TIMER_OPTIONAL = ("remind_before", "escalate_after", "repeat_escalation", "auto_action")
SCHEDULE = ("name", "at", "trigger", "in_state")
CLOCK = {"month": (1, 12), "day": (1, 31), "hour": (0, 23), "minute": (0, 59)}
_LEAP_YEAR = 2024  # February 29 is a valid yearly date; only a leap year allows it


def load_definition(
    path: str | os.PathLike[str],
    *,
    guards: KnownGuards | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> WorkflowSpec:
    """Read, parse and validate one definition file; ``digest`` hashes its bytes.

    ``guards`` are the guards it may name (the built-ins when None). With
    ``folder``, a file that is a symbolic link out of that folder is refused
    unread. A file over ``MAX_BYTES`` is refused unparsed.
    """
    source = os.fspath(path)
    try:
        data = read_bytes(Path(path), None if folder is None else Path(folder))
    except SourceProblem as exc:
        raise DefinitionError(source, [exc.problem]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = DefinitionProblem(DOCUMENT, None, f"not UTF-8 text (byte {exc.start})")
        raise DefinitionError(source, [problem]) from None
    return _parse(text, source, hashlib.sha256(data).hexdigest(), guards)


def parse_definition(
    text: str, source: str = "<string>", *, guards: KnownGuards | None = None
) -> WorkflowSpec:
    """Parse and validate a definition held in memory (e.g. from the database)."""
    data = text.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise DefinitionError(source, [too_large(len(data)).problem])
    return _parse(text, source, hashlib.sha256(data).hexdigest(), guards)


#: Definitions parsed in this process, by what the result depends on: the text (its
#: digest), where it came from, and the guards known with the facts each needs. A
#: spec is immutable, so every ``Planflow`` of a process shares one parse of a file
#: (a test suite makes thousands). Failures are not kept; the oldest entry goes
#: when there are ``_PARSED_LIMIT``.
_PARSED: dict[tuple[str, str, tuple[tuple[str, frozenset[str]], ...]], WorkflowSpec] = {}
_PARSED_LIMIT = 64
_PARSED_LOCK = threading.Lock()


def _parse(text: str, source: str, digest: str, guards: KnownGuards | None) -> WorkflowSpec:
    if guards is None:
        # Imported here: the registry imports the definitions package.
        from planflow.core.guard_registry import BUILTIN_REGISTRY

        guards = BUILTIN_REGISTRY
    known = tuple(sorted((name, guards.needs(name)) for name in guards.names))
    key = (digest, source, known)
    spec = _PARSED.get(key)
    if spec is None:
        spec = _parse_text(text, source, digest, guards)
        with _PARSED_LOCK:
            if len(_PARSED) >= _PARSED_LIMIT:
                del _PARSED[next(iter(_PARSED))]
            _PARSED[key] = spec
    return spec


def _parse_text(text: str, source: str, digest: str, guards: KnownGuards) -> WorkflowSpec:
    try:
        loader, root = compose(text)
    except SourceProblem as exc:
        raise DefinitionError(source, [exc.problem]) from None
    problems = Problems()
    builder = _Builder(Reader(loader, problems), guards)
    try:
        draft = builder.build(root)
        validate(draft, problems, guards)
    except TooManyProblems:
        name = builder.draft.name
        raise DefinitionError(source, problems.sorted(), stopped=True, workflow=name) from None
    finally:
        loader.dispose()
    if problems.items:
        raise DefinitionError(source, problems.sorted(), workflow=draft.name)
    return draft.to_spec(source, digest)


class _Builder:
    """Reads the top level and the workflow sections into a ``Draft``."""

    def __init__(self, reader: Reader, guards: KnownGuards) -> None:
        self.r = reader
        self.draft = Draft()
        self.actions = ActionReader(reader, BUILTIN_ROLES, guards)

    def build(self, root: Node | None) -> Draft:
        d, r = self.draft, self.r
        if not isinstance(root, MappingNode):
            kind = "an empty file" if root is None else r.describe(root)
            line = 1 if root is None else None
            message = f"the top level must be a mapping with keys {', '.join(TOP)}, not {kind}"
            if root is None:
                r.problems.add("", message, line)
            else:
                r.fail("", root, message)
            d.complete = False
            return d
        top = r.mapping(root, "", TOP, TOP_OPTIONAL) or {}
        if "roles" in top:  # first: every role reference is checked against it
            self._roles(top["roles"])
        d.name = r.get(top, "", "name", r.name)
        # Stored in an INTEGER column (PostgreSQL: at most 2**31 - 1).
        d.version = r.get(top, "", "version", lambda n, p: r.integer(n, p, low=1, cap=MAX_ID))
        d.title = r.get(top, "", "title", r.label)
        d.initial = r.get(top, "", "initial", r.name)
        d.creator = r.get(top, "", "creator", self.actions.role_ref) or d.creator
        if "states" in top:
            self._states(top["states"])
        else:
            d.complete = False
        if "transitions" in top:
            self._transitions(top["transitions"])
        else:
            d.complete = False
        for path, node in r.items(top["timers"], "timers") if "timers" in top else ():
            self._timer(node, path)
        for path, node in r.items(top["schedules"], "schedules") if "schedules" in top else ():
            self._schedule(node, path)
        d.inspection = r.get(top, "", "inspection", lambda n, p: read_sheet(r, n, p))
        d.urge_every_hours = r.get(top, "", "urge", self._urge) or d.urge_every_hours
        return d

    def _urge(self, node: Node, path: str) -> int | None:
        """``urge: {every_hours: n}``: the least time between two urges of one task."""
        fields = self.r.mapping(node, path, ("every_hours",))
        if fields is None:
            return None
        return self.r.get(
            fields,
            path,
            "every_hours",
            lambda n, p: self.r.integer(n, p, low=1, high=MAX_URGE_HOURS),
        )

    # -- roles and states ---------------------------------------------------

    def _roles(self, node: Node) -> None:
        extra: list[str] = []
        for path, item in self.r.items(node, "roles"):
            role = self.r.name(item, path)
            if role in BUILTIN_ROLES:
                message = f"{quote(role)} is a built-in role; declare only extra roles"
                self.r.fail(path, item, message)
            elif role in extra:
                self.r.fail(path, item, f"role {quote(role)} is declared twice")
            elif role is not None:
                extra.append(role)
        self.draft.roles = (*BUILTIN_ROLES, *extra)
        self.actions.roles = self.draft.roles

    def _states(self, node: Node) -> None:
        d, r = self.draft, self.r
        entries = r.mapping(node, "states", any_keys=True, what="state")
        if entries is None:
            d.complete = False
            return
        if not entries:
            r.fail("states", node, "must define at least one state")
        for name, value in entries.items():
            path = join("states", name)
            before = len(r.problems.items)
            if not is_name(name):
                r.problems.add(
                    path, f"state name {quote(name)} must be lower-case letters, digits and _"
                )
            is_null = isinstance(value, ScalarNode) and r.value(value) is None
            fields = {} if is_null else r.mapping(value, path, (), STATE_KEYS)
            final = r.get(fields or {}, path, "final", r.boolean)
            if fields is None or len(r.problems.items) > before:
                d.complete = False  # a misspelt "final" changes the graph checks
                continue
            label = r.get(fields, path, "label", r.label) or Label.of(en=name)
            task = r.get(fields, path, "task", self._task)
            allows = r.get(fields, path, "allows", lambda n, p: read_allows(r, n, p)) or Allows()
            if task is None and allows != Allows():
                r.problems.add(join(path, "allows"), "only a state with a task: may allow these")
            d.states.append((path, StateSpec(name, label, task, bool(final), allows)))

    def _task(self, node: Node, path: str) -> TaskSpec | None:
        fields = self.r.mapping(node, path, ("role",), ("at", "due"))
        if fields is None:
            return None
        role = self.r.get(fields, path, "role", self.actions.role)
        at = self.r.get(fields, path, "at", self.actions.at)
        due = self.r.get(fields, path, "due", self.r.duration)
        return None if role is None else TaskSpec(RoleRef(role, at or Where.SAME), due)

    # -- transitions --------------------------------------------------------

    def _transitions(self, node: Node) -> None:
        if not isinstance(node, SequenceNode):
            self.draft.complete = False  # reported by items() below
        for path, item in self.r.items(node, "transitions", allow_empty=False):
            transition = self.actions.transition(item, path)
            if transition is None:
                self.draft.complete = False
            else:
                self.draft.transitions.append((path, transition))

    # -- timers and schedules -----------------------------------------------

    def _timer(self, node: Node, path: str) -> None:
        r = self.r
        fields = r.mapping(node, path, ("state",), TIMER_OPTIONAL)
        if fields is None:
            return
        state = r.get(fields, path, "state", r.name)
        auto = r.get(fields, path, "auto_action", self._auto_action) or (None, None)
        timer = TimerSpec(
            state=state or "",
            remind_before=r.get(fields, path, "remind_before", r.duration),
            escalate_after=r.get(fields, path, "escalate_after", r.duration),
            repeat_escalation=r.get(fields, path, "repeat_escalation", r.duration),
            auto_trigger=auto[0],
            auto_after=auto[1],
        )
        if state is not None:
            self.draft.timers.append((path, timer))

    def _auto_action(self, node: Node, path: str) -> tuple[str | None, Duration | None] | None:
        fields = self.r.mapping(node, path, ("trigger", "after"))
        if fields is None:
            return None
        trigger = self.r.get(fields, path, "trigger", self.r.name)
        return trigger, self.r.get(fields, path, "after", self.r.duration)

    def _schedule(self, node: Node, path: str) -> None:
        r = self.r
        fields = r.mapping(node, path, SCHEDULE, ("label", "due"))
        if fields is None:
            return
        name = r.get(fields, path, "name", r.name)
        clock = r.get(fields, path, "at", self._clock)
        trigger = r.get(fields, path, "trigger", r.name)
        in_state = r.get(fields, path, "in_state", r.name)
        label = r.get(fields, path, "label", r.label)
        due = r.get(fields, path, "due", r.duration)
        if name is None or clock is None or trigger is None or in_state is None:
            return
        month, day, hour, minute = (clock.get(k) for k in CLOCK)
        schedule = ScheduleSpec(
            name,
            label or Label.of(en=name),
            month,
            day,
            hour or 0,
            minute or 0,
            trigger,
            in_state,
            due,
        )
        self.draft.schedules.append((path, schedule))

    def _clock(self, node: Node, path: str) -> dict[str, int] | None:
        """``{month, day, hour, minute}``; a missing month or day means every one."""
        r = self.r
        fields = r.mapping(node, path, (), tuple(CLOCK))
        if fields is None:
            return None
        values: dict[str, int] = {}
        for key, (low, high) in CLOCK.items():
            if key in fields:
                value = r.integer(fields[key], join(path, key), low, high)
                if value is None:
                    return None
                values[key] = value
        month, day = values.get("month"), values.get("day")
        if month is not None and day is not None:
            days = calendar.monthrange(_LEAP_YEAR, month)[1]
            if day > days:
                r.fail(join(path, "day"), fields["day"], f"month {month} has only {days} days")
                return None
        return values
