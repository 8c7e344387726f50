"""The guards a process knows: the built-ins and a library user's own.

A guard is a name, a function ``(gate, ref) -> Refusal | None`` and the
facts it needs beyond the plan row (the built-in inspection guards need
``inspection``, the current round's verdict). Each fact has one provider,
a function the service calls with ``(tx, row, spec)`` when a decision in
that state needs the fact; its value reaches the guard as
``gate.facts.fact(name)``.

One ``GuardRegistry`` is owned by the ``Planflow`` facade and handed to
everything that must agree on the guards: the definition loader (a
definition naming a guard that is not registered is refused), the engine
(which guard function runs, which facts a state's decisions need) and the
service (which provider computes a fact). Nothing registers itself from
another object's constructor: the facade wires the providers it has.

Names are registered once: replacing a guard under a running definition
would change what its transitions mean without a new version.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from planflow.core.definitions.spec import GuardRef
from planflow.core.guards import BUILTIN_GUARDS, Gate, Guard, GuardFunction

#: ``(tx, row, spec) -> value``; typed loosely here because the core knows no storage.
FactProvider = Callable[[Any, Any, Any], object]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class _Table:
    guards: Mapping[str, Guard]
    providers: Mapping[str, FactProvider]


class GuardRegistry:
    """Guards by name, and a provider per fact; look-ups read an immutable snapshot."""

    def __init__(self, guards: Iterable[Guard] = BUILTIN_GUARDS, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._frozen = frozen
        table = {g.name: g for g in guards}
        self._table = _Table(MappingProxyType(table), MappingProxyType({}))

    # -- registering ---------------------------------------------------------

    def register(self, name: str, function: GuardFunction, needs: Iterable[str] = ()) -> Guard:
        """Add a guard. ``needs`` names facts that must have a provider already."""
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(
                f"guard name {name!r}: use 1-64 lower-case letters, digits and _, "
                "starting with a letter"
            )
        if not callable(function):
            raise TypeError(f"guard {name!r}: the function is not callable")
        facts = frozenset(needs)
        self._check_open()
        with self._lock:
            table = self._table
            if name in table.guards:
                raise ValueError(f"a guard named {name!r} is already registered")
            missing = sorted(facts - set(table.providers))
            if missing:
                raise ValueError(
                    f"guard {name!r} needs the fact(s) {', '.join(missing)}, which nothing "
                    "provides; register a provider for each first (provide)"
                )
            guard = Guard(name, function, facts)
            guards = MappingProxyType({**table.guards, name: guard})
            self._table = _Table(guards, table.providers)
        return guard

    def provide(self, fact: str, provider: FactProvider) -> None:
        """Name the function that computes ``fact`` for a plan; once per fact."""
        if not callable(provider):
            raise TypeError(f"fact {fact!r}: the provider is not callable")
        self._check_open()
        with self._lock:
            table = self._table
            if fact in table.providers:
                raise ValueError(f"the fact {fact!r} already has a provider")
            providers = MappingProxyType({**table.providers, fact: provider})
            self._table = _Table(table.guards, providers)

    def _check_open(self) -> None:
        if self._frozen:
            raise ValueError("this guard registry is shared and read-only; make your own")

    # -- look-ups ------------------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return name in self._table.guards

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._table.guards)

    def get(self, name: str) -> Guard:
        return self._table.guards[name]

    def needs(self, name: str) -> frozenset[str]:
        """The facts guard ``name`` needs (none for a name not registered)."""
        guard = self._table.guards.get(name)
        return guard.needs if guard is not None else frozenset()

    def provider(self, fact: str) -> FactProvider | None:
        return self._table.providers.get(fact)

    def check_all(self, gate: Gate, refs: tuple[GuardRef, ...]) -> bool:
        """Run every guard (not just up to the first failure) so all refusals show."""
        ok = True
        guards = self._table.guards
        for ref in refs:
            refusal = guards[ref.name].function(gate, ref)
            if refusal is not None:
                ok = gate.refuse(refusal)
        return ok


#: The built-ins alone: for callers that build an engine or load a definition
#: outside a ``Planflow`` (tests, tools). Nothing may be registered into it.
BUILTIN_REGISTRY = GuardRegistry(frozen=True)
