"""The error types planflow users see, and the refusals they carry.

Every error a caller can provoke with bad input is a ``PlanflowError``. It
has a stable ``code`` and a ``params`` dict: the protocol between the
library and its clients (the web UI translates by code, the planned HTTP
API sends both). ``str(error)`` stays a good English sentence for logs and
the command line; no client ever parses it. A guard's refusal is a
``Refusal`` (``code``, ``params`` and an English ``message``);
``GuardFailed`` carries every refusal of one attempt, and
``ActionOption.blocked_by`` lists the refusals that would stop an action.

The codes are documented in ``docs/codes.md`` (errors, their params, guard
refusals and the texts the system writes into the record).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why something may not happen: a stable ``code`` and its ``params``.

    ``template`` is the English sentence, a ``str.format`` pattern filled
    from ``params``; it is not part of the refusal's identity (two refusals
    with the same code and params are equal), only its rendering for logs
    and the command line. Clients translate by ``code``.
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    template: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # A private copy: a caller's dict changed later must not change the refusal.
        object.__setattr__(self, "params", dict(self.params))

    def __hash__(self) -> int:
        return hash((self.code, repr(sorted(self.params.items()))))

    @property
    def message(self) -> str:
        """The refusal as an English sentence (its code, when it has no template)."""
        if self.template:
            try:
                return self.template.format(**self.params)
            except (KeyError, IndexError, ValueError):
                pass
        if not self.params:
            return self.code
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.code} ({args})"

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """``{"code": ..., "params": {...}}``, as stored and sent."""
        return {"code": self.code, "params": dict(self.params)}


class PlanflowError(Exception):
    """Base class of every error planflow raises on purpose.

    ``code`` names the kind of refusal (a class attribute, or given per
    raise where one class covers several refusals); ``params`` are the
    values a client needs to say it in its own words.
    """

    code = "error"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params: dict[str, Any] = dict(params or {})


class NotFound(PlanflowError):
    """A plan, unit, user or definition with that id or name does not exist."""

    code = "not_found"

    def __init__(self, kind: str, ident: object, *, hint: str = "") -> None:
        # ``hint``: why it is missing, when that is known (a definition file left out
        # for its problems); English, for logs and the command line.
        message = f"unknown {kind}: {ident!r}" + (f" ({hint})" if hint else "")
        super().__init__(message, params={"kind": kind, "ident": ident})
        self.kind = kind
        self.ident = ident


class ActionNotAllowed(PlanflowError):
    """The action is not defined for the plan's current state."""

    code = "action_not_allowed"

    def __init__(self, action: str, state: str, available: Sequence[str]) -> None:
        names = ", ".join(available) if available else "none"
        super().__init__(
            f"action {action!r} is not allowed in state {state!r}; allowed here: {names}",
            params={"action": action, "state": state, "available": list(available)},
        )
        self.action = action
        self.state = state
        self.available = tuple(available)


class PermissionDenied(PlanflowError):
    """The actor does not hold the role the transition requires."""

    code = "permission_denied"

    def __init__(self, action: str, role: str, where: str) -> None:
        super().__init__(
            f"action {action!r} needs the role {role!r} {where}",
            params={"action": action, "role": role, "where": where},
        )
        self.action = action
        self.role = role
        self.where = where


class GuardFailed(PlanflowError):
    """Guards of the transition refused it; ``refusals`` says why, every one of them."""

    code = "guard_failed"

    def __init__(self, action: str, refusals: Sequence[Refusal]) -> None:
        super().__init__(
            f"action {action!r} refused: " + "; ".join(r.message for r in refusals),
            params={"action": action, "refusals": [r.to_dict() for r in refusals]},
        )
        self.action = action
        self.refusals = tuple(refusals)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The refusals as English sentences (for logs; clients use ``refusals``)."""
        return tuple(r.message for r in self.refusals)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.refusals)


class StaleVersion(PlanflowError):
    """Someone else changed the plan first; nothing was written."""

    code = "stale_version"

    def __init__(self, plan_id: int, expected: int, current: int) -> None:
        super().__init__(
            f"plan {plan_id} was changed by someone else (you had version {expected}, "
            f"it is now at version {current}); reload it and try again",
            params={"plan_id": plan_id, "expected": expected, "current": current},
        )
        self.plan_id = plan_id
        self.expected = expected
        self.current = current


class ValidationError(PlanflowError):
    """Input that does not make sense (a bad date, an empty title, ...).

    ``code`` tells which rule refused it (``invalid`` when no client needs
    to tell it apart: configuration and command-line input).
    """

    code = "invalid"


class DefinitionError(PlanflowError):
    """A workflow definition file is invalid; ``problems`` lists every error found.

    The message and ``params["problems"]`` list the first ``MAX_LISTED``
    problems, then say how many more there are (``params["more"]``).
    ``stopped`` is True when checking gave up after too many problems (there
    may be more than were counted). ``workflow`` is the definition's name
    when the file got far enough to say it.
    """

    code = "invalid_definition"
    #: How many problems the message lists; the rest are counted.
    MAX_LISTED = 100

    def __init__(
        self,
        source: str,
        problems: Sequence[DefinitionProblem],
        *,
        stopped: bool = False,
        workflow: str | None = None,
    ) -> None:
        lines = [str(p) for p in problems[: self.MAX_LISTED]]
        more = len(problems) - len(lines)
        tail = [f"… and {more} more"] if more else []
        if stopped:
            tail.append(f"checking stopped after {len(problems)} problems")
        body = [*lines, "; ".join(tail)] if tail else lines
        count = f"{len(problems)}{'+' if stopped else ''}"
        super().__init__(
            f"{source}: {count} problem(s)\n" + "\n".join("  " + ln for ln in body),
            params={"source": source, "problems": lines, "more": more},
        )
        self.source = source
        self.problems = tuple(problems)
        self.stopped = stopped
        self.workflow = workflow


class DefinitionProblem:
    """One error in a definition file, with its location (1-based line and column)."""

    __slots__ = ("column", "line", "message", "path")

    def __init__(
        self, path: str, line: int | None, message: str, column: int | None = None
    ) -> None:
        self.path = path
        self.line = line
        self.message = message
        self.column = column

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}"

    def __repr__(self) -> str:
        column = f", column={self.column!r}" if self.column else ""
        return f"DefinitionProblem({self.path!r}, {self.line!r}, {self.message!r}{column})"


class ConfigurationError(PlanflowError):
    """A setting that cannot work: a malformed database URL, a folder that does not exist."""

    code = "configuration"


class DatabaseUnavailable(PlanflowError):
    """The database cannot be used now (down, restarting, refusing us, locked).

    ``params["saved"]``: ``"no"`` (nothing was written: the operation may simply
    be tried again), or ``"unknown"`` when the connection died during the
    COMMIT (look before trying again).
    """

    code = "database_unavailable"

    def __init__(self, message: str = "", *, saved: str = "no") -> None:
        super().__init__(message, params={"saved": saved})
        self.saved = saved


class DatabaseNotInitialised(PlanflowError):
    """The database has no planflow tables (or lacks some): ``Planflow.init()`` (the
    command ``planflow init``) was not run on it, or not since an upgrade.

    Not ``DatabaseUnavailable``: trying again does not help, setting it up does.
    """

    code = "database_not_initialised"

    def __init__(self, answered: str = "") -> None:
        said = f" ({answered})" if answered else ""
        super().__init__(
            f"the database has no planflow tables yet{said}: "
            "call Planflow.init() or run 'planflow init' first"
        )
