"""The error types planflow users see.

Every error a caller can provoke with bad input is a ``PlanflowError`` with a
message meant for a person. Callers (CLI, web UI) show ``str(error)``; they
never need a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class PlanflowError(Exception):
    """Base class of every error planflow raises on purpose."""

    code = "error"


class NotFound(PlanflowError):
    """A plan, unit, user or definition with that id or name does not exist."""

    code = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"unknown {kind}: {ident!r}")
        self.kind = kind
        self.ident = ident


class ActionNotAllowed(PlanflowError):
    """The action is not defined for the plan's current state."""

    code = "action_not_allowed"

    def __init__(self, action: str, state: str, available: Sequence[str]) -> None:
        names = ", ".join(available) if available else "none"
        super().__init__(
            f"action {action!r} is not allowed in state {state!r}; allowed here: {names}"
        )
        self.action = action
        self.state = state
        self.available = tuple(available)


class PermissionDenied(PlanflowError):
    """The actor does not hold the role the transition requires."""

    code = "permission_denied"

    def __init__(self, action: str, role: str, where: str) -> None:
        super().__init__(f"action {action!r} needs the role {role!r} {where}")
        self.action = action
        self.role = role
        self.where = where


class GuardFailed(PlanflowError):
    """A guard of the transition refused it; ``reasons`` says why."""

    code = "guard_failed"

    def __init__(self, action: str, reasons: Sequence[str]) -> None:
        super().__init__(f"action {action!r} refused: " + "; ".join(reasons))
        self.action = action
        self.reasons = tuple(reasons)


class StaleVersion(PlanflowError):
    """Someone else changed the plan first; nothing was written."""

    code = "stale_version"

    def __init__(self, plan_id: int, expected: int, current: int) -> None:
        super().__init__(
            f"plan {plan_id} was changed by someone else (you had version {expected}, "
            f"it is now at version {current}); reload it and try again"
        )
        self.plan_id = plan_id
        self.expected = expected
        self.current = current


class ValidationError(PlanflowError):
    """Input that does not make sense (a bad date, an empty title, ...)."""

    code = "invalid"


class DefinitionError(PlanflowError):
    """A workflow definition file is invalid; ``problems`` lists every error."""

    code = "invalid_definition"

    def __init__(self, source: str, problems: Sequence[DefinitionProblem]) -> None:
        lines = [str(p) for p in problems]
        super().__init__(
            f"{source}: {len(lines)} problem(s)\n" + "\n".join("  " + ln for ln in lines)
        )
        self.source = source
        self.problems = tuple(problems)


class DefinitionProblem:
    """One error in a definition file, with its location."""

    __slots__ = ("line", "message", "path")

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"DefinitionProblem({self.path!r}, {self.line!r}, {self.message!r})"


class ConfigurationError(PlanflowError):
    """A setting that cannot work: a malformed database URL, a folder that does not exist."""

    code = "configuration"


class DatabaseUnavailable(PlanflowError):
    """The database cannot be reached (down, restarting, refused); nothing was saved."""

    code = "database_unavailable"
