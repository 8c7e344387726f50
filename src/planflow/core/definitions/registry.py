"""The registry of workflow definitions a process knows, by name and version.

Owns finding definition files (``*.yaml``/``*.yml`` in one directory), loading
them once, and answering look-ups from a cache. Look-ups sit on the hot path of
every plan action, so they read an immutable snapshot without taking a lock;
loading and ``register`` build a new snapshot under a lock and swap it in.

One broken file never takes the others down: it is left out, and ``broken()``
says which and why (the command line names it, the scheduler logs it, a
look-up of the definition it holds says it was left out).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from planflow.core.definitions.loader import load_definition
from planflow.core.definitions.spec import WorkflowSpec
from planflow.errors import DefinitionError, DefinitionProblem, NotFound

#: Environment variable naming the directory to load definitions from.
ENV_VAR = "PLANFLOW_WORKFLOWS_DIR"
#: Where the shipped definitions are: ``planflow/workflows`` in an installed package
#: (package data), the checkout's ``workflows/`` when running from the source tree.
PACKAGED_DIRECTORY = Path(__file__).resolve().parents[2] / "workflows"
CHECKOUT_DIRECTORY = Path(__file__).resolve().parents[4] / "workflows"

if TYPE_CHECKING:  # the guard registry imports this package
    from planflow.core.guard_registry import GuardRegistry

Key = tuple[str, int]


def default_directory() -> Path:
    """``$PLANFLOW_WORKFLOWS_DIR``, else the shipped definitions."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    return PACKAGED_DIRECTORY if PACKAGED_DIRECTORY.is_dir() else CHECKOUT_DIRECTORY


@dataclass(frozen=True)
class _Snapshot:
    by_key: dict[Key, WorkflowSpec]
    latest: dict[str, WorkflowSpec]
    #: The files left out, one error each (its ``source`` is the file).
    broken: tuple[DefinitionError, ...] = ()

    @classmethod
    def of(cls, specs: Iterable[WorkflowSpec], broken: Iterable[DefinitionError] = ()) -> _Snapshot:
        ordered = sorted(specs, key=lambda s: (s.name, s.version))
        # Sorted by version, so the last one written per name is the latest.
        return cls(
            {(s.name, s.version): s for s in ordered},
            {s.name: s for s in ordered},
            tuple(broken),
        )

    def left_out(self, name: str) -> DefinitionError | None:
        """The broken file that holds (or, by its file name, seems to hold) ``name``."""
        for error in self.broken:
            if (error.workflow or Path(error.source).stem) == name:
                return error
        return None


class DefinitionRegistry:
    """Workflow definitions keyed by ``(name, version)``; files are read once.

    ``directory`` defaults to ``$PLANFLOW_WORKFLOWS_DIR`` or the repository's
    ``workflows/``. With ``load_files=False`` the registry starts empty and
    holds only what is ``register``-ed (e.g. definitions from the database).
    Files are loaded on first use. A broken file (invalid, too large, a link
    out of the folder, a version already taken with other content) is left
    out and listed by ``broken()``; only a missing directory raises.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        load_files: bool = True,
        guards: GuardRegistry | None = None,
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        #: The guards a definition may name (shared with the engines and the service).
        if guards is None:
            from planflow.core.guard_registry import GuardRegistry

            guards = GuardRegistry()
        self.guards: GuardRegistry = guards
        self._load_files = load_files
        self._lock = threading.Lock()
        self._registered: dict[Key, WorkflowSpec] = {}
        self._snapshot: _Snapshot | None = None

    # -- look-ups (lock-free) -----------------------------------------------

    def get(self, name: str, version: int | None = None) -> WorkflowSpec:
        """The definition ``name@version``; the latest version when ``version`` is None."""
        snapshot = self._current()
        if version is None:
            spec = snapshot.latest.get(name)
        else:
            spec = snapshot.by_key.get((name, version))
        if spec is not None:
            return spec
        ident = name if version is None or name not in snapshot.latest else f"{name}@{version}"
        error = snapshot.left_out(name)
        raise NotFound("workflow definition", ident, hint=why_left_out(error) if error else "")

    def latest(self, name: str) -> WorkflowSpec:
        return self.get(name)

    def all(self) -> tuple[WorkflowSpec, ...]:
        """Every definition, ordered by name then version."""
        return tuple(self._current().by_key.values())

    def state_names(self) -> frozenset[str]:
        """The name of every state of every definition (a filter by state names one of these)."""
        return frozenset(s.name for spec in self.all() for s in spec.states)

    def broken(self) -> tuple[DefinitionError, ...]:
        """The files left out at the last load, one error each (``source`` names the file)."""
        return self._current().broken

    def problems(self) -> tuple[DefinitionProblem, ...]:
        """The problems of the files left out, each path prefixed with its file's name."""
        return tuple(
            _in_file(Path(e.source).name, p) for e in self._current().broken for p in e.problems
        )

    # -- changes ------------------------------------------------------------

    def register(self, spec: WorkflowSpec) -> None:
        """Add a spec loaded elsewhere. Registering the same content twice is a no-op;
        the same name and version with a different digest is refused."""
        with self._lock:
            snapshot = self._snapshot or self._load()
            known = snapshot.by_key.get((spec.name, spec.version))
            if known is not None and known.digest != spec.digest:
                raise DefinitionError(spec.source or spec.key, [_reused(spec, known)])
            self._registered[(spec.name, spec.version)] = spec
            self._snapshot = _Snapshot.of([*snapshot.by_key.values(), spec], snapshot.broken)

    def reload(self) -> None:
        """Read the files again (after they were edited); registered specs stay.

        A file broken now is left out (``broken()``); plans that started under
        its definition keep reading the text stored when they started. A
        missing directory raises, and the previous snapshot keeps serving.
        """
        with self._lock:
            self._snapshot = self._load()

    # -- loading ------------------------------------------------------------

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                # Another thread may have loaded while this one waited.
                snapshot = self._snapshot or self._load()
                self._snapshot = snapshot
        return snapshot

    def _load(self) -> _Snapshot:
        specs = dict(self._registered)
        if not self._load_files:
            return _Snapshot.of(specs.values())
        broken: list[DefinitionError] = []
        for path in self._files():
            try:
                spec = load_definition(path, guards=self.guards, folder=self.directory)
            except DefinitionError as exc:
                broken.append(exc)
                continue
            known = specs.get((spec.name, spec.version))
            if known is not None and known.digest != spec.digest:
                # The first file (by name) keeps the version; this one is left out.
                broken.append(
                    DefinitionError(str(path), [_reused(spec, known)], workflow=spec.name)
                )
            else:
                specs[(spec.name, spec.version)] = spec
        return _Snapshot.of(specs.values(), broken)

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            message = f"no such directory (set {ENV_VAR} to the workflows folder)"
            problem = DefinitionProblem(str(self.directory), None, message)
            raise DefinitionError(str(self.directory), [problem])
        return definition_files(self.directory)


def definition_files(directory: Path) -> list[Path]:
    """The definition files of a folder (``*.yaml``, ``*.yml``), in name order."""
    found = [*directory.glob("*.yaml"), *directory.glob("*.yml")]
    # is_file() follows links: a link out of the folder is kept, to be refused
    # (and named) by load_definition; a directory named x.yaml is not a file.
    return sorted(p for p in found if p.is_file() or p.is_symlink())


def _in_file(filename: str, problem: DefinitionProblem) -> DefinitionProblem:
    return DefinitionProblem(
        f"{filename}: {problem.path}", problem.line, problem.message, problem.column
    )


def why_left_out(error: DefinitionError) -> str:
    """One line about a file ``broken()`` lists: its name, first problem, how many more."""
    first = error.problems[0] if error.problems else "?"
    more = len(error.problems) - 1
    rest = f" (and {more} more)" if more > 0 else ""
    return f"{Path(error.source).name} was left out: {first}{rest}"


def _reused(spec: WorkflowSpec, known: WorkflowSpec) -> DefinitionProblem:
    where = f" in {Path(known.source).name}" if known.source else ""
    message = (
        f"{spec.key} is already defined{where} with different content; "
        "give the changed definition a new version number"
    )
    return DefinitionProblem("version", None, message)
