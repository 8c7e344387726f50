"""The registry of workflow definitions a process knows, by name and version.

Owns finding definition files (``*.yaml``/``*.yml`` in one directory), loading
them once, and answering look-ups from a cache. Look-ups sit on the hot path of
every plan action, so they read an immutable snapshot without taking a lock;
loading and ``register`` build a new snapshot under a lock and swap it in.
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

    @classmethod
    def of(cls, specs: Iterable[WorkflowSpec]) -> _Snapshot:
        ordered = sorted(specs, key=lambda s: (s.name, s.version))
        # Sorted by version, so the last one written per name is the latest.
        return cls({(s.name, s.version): s for s in ordered}, {s.name: s for s in ordered})


class DefinitionRegistry:
    """Workflow definitions keyed by ``(name, version)``; files are read once.

    ``directory`` defaults to ``$PLANFLOW_WORKFLOWS_DIR`` or the repository's
    ``workflows/``. With ``load_files=False`` the registry starts empty and
    holds only what is ``register``-ed (e.g. definitions from the database).
    Files are loaded on first use; a broken file raises one ``DefinitionError``
    listing the problems of every file, and the next call tries again.
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
        if version is None or name not in snapshot.latest:
            raise NotFound("workflow definition", name)
        raise NotFound("workflow definition", f"{name}@{version}")

    def latest(self, name: str) -> WorkflowSpec:
        return self.get(name)

    def all(self) -> tuple[WorkflowSpec, ...]:
        """Every definition, ordered by name then version."""
        return tuple(self._current().by_key.values())

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
            self._snapshot = _Snapshot.of([*snapshot.by_key.values(), spec])

    def reload(self) -> None:
        """Read the files again (after they were edited); registered specs stay."""
        with self._lock:
            # On failure the previous snapshot keeps serving: a typo in one
            # file must not take every running plan's definition away.
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
        problems: list[DefinitionProblem] = []
        for path in self._files(problems):
            try:
                spec = load_definition(path, guards=self.guards)
            except DefinitionError as exc:
                # Name the file in each path: one error now covers many files.
                problems += [_in_file(path.name, p) for p in exc.problems]
                continue
            known = specs.get((spec.name, spec.version))
            if known is not None and known.digest != spec.digest:
                problems.append(_in_file(path.name, _reused(spec, known)))
            else:
                specs[(spec.name, spec.version)] = spec
        if problems:
            raise DefinitionError(str(self.directory), problems)
        return _Snapshot.of(specs.values())

    def _files(self, problems: list[DefinitionProblem]) -> list[Path]:
        if not self.directory.is_dir():
            message = f"no such directory (set {ENV_VAR} to the workflows folder)"
            problems.append(DefinitionProblem(str(self.directory), None, message))
            return []
        found = [*self.directory.glob("*.yaml"), *self.directory.glob("*.yml")]
        return sorted(p for p in found if p.is_file())


def _in_file(filename: str, problem: DefinitionProblem) -> DefinitionProblem:
    return DefinitionProblem(f"{filename}: {problem.path}", problem.line, problem.message)


def _reused(spec: WorkflowSpec, known: WorkflowSpec) -> DefinitionProblem:
    where = f" in {Path(known.source).name}" if known.source else ""
    message = (
        f"{spec.key} is already defined{where} with different content; "
        "give the changed definition a new version number"
    )
    return DefinitionProblem("version", None, message)
