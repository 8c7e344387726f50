"""Seeds: the rows a fixture writes into a test's database, written once per session.

A fixture such as ``org`` or ``admins`` builds the same rows for every test
that asks for it, at the same fixed clock. Registered as a seed, they are
built once per session and database kind, in a template (a SQLite file, a
PostgreSQL schema), and ``database_url`` copies the template in for a test
whose fixtures include the seed's name: the fixture then finds its rows there
(``Seeds.use`` in conftest.py) and builds nothing. A test whose ``pf`` uses
another database gets them built as before.

A seed builds on another (``base``, "org" unless said) or on an empty migrated
database (``base=None``). What its builder returns (ids, names: a value
``copy.deepcopy`` can copy) is given to each test, and the clock is left
where the builder left it. A builder must write the same rows whenever it is
run on the same rows at the same clock: it is a fixture's body, moved here.

This module is imported by both conftest.py files and the modules that
register seeds, under one name, so there is one registry per process.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.storage.db import normalise_url

#: builder(pf, clock) -> the fixture's value
Builder = Callable[[Planflow, FixedClock], Any]


@dataclass(frozen=True)
class Seed:
    name: str
    build: Builder
    base: str | None


SEEDS: dict[str, Seed] = {}


def seed(name: str, *, base: str | None = "org") -> Callable[[Builder], Builder]:
    """Register ``build`` as the seed of the fixture ``name`` (a decorator)."""

    def register(build: Builder) -> Builder:
        known = SEEDS.get(name)
        # A module imported twice (under two names) registers the same function again.
        if known is not None and known.build.__qualname__ != build.__qualname__:
            raise ValueError(f"two seeds named {name!r}")
        SEEDS[name] = Seed(name, build, base)
        return build

    return register


def chain(name: str) -> list[str]:
    """``name``'s seed and the seeds it builds on, the first one first."""
    names = [name]
    while (base := SEEDS[names[0]].base) is not None:
        names.insert(0, base)
    return names


def best(requested: list[str]) -> str | None:
    """The seed to copy for a test asking for the fixtures ``requested``: the one whose
    chain holds most of them (the longer chain on a tie); None when none is a seed."""
    wanted = [name for name in requested if name in SEEDS]
    if not wanted:
        return None
    return max(wanted, key=lambda n: (len(set(chain(n)) & set(wanted)), len(chain(n))))


@dataclass(frozen=True)
class Built:
    """What a seed's builder returned, and the clock before and after it ran."""

    value: Any
    before: datetime
    after: datetime


@dataclass
class Seeded:
    """Set by ``database_url`` on a test whose database was copied from a seed's template;
    ``claimed``: the seeds whose fixture asked for its rows (``seeded``)."""

    url: str
    built: dict[str, Built]
    claimed: set[str]

    def unclaimed(self) -> list[str]:
        """Seeds copied in that no fixture took: a fixture of the same name that is not
        the seed's (another module's ``admins``, say) would find rows it did not expect."""
        return sorted(set(self.built) - self.claimed)


SEEDED = pytest.StashKey[Seeded]()


def seeded(request: pytest.FixtureRequest, name: str, pf: Planflow, clock: FixedClock) -> Any:
    """The value of the seed ``name`` for this test: its rows were copied in with the
    database when ``pf`` uses it, else they are built now on ``pf`` (at ``clock``)."""
    found = request.node.stash.get(SEEDED, None)
    if found is not None:
        found.claimed.add(name)
    if found is None or name not in found.built or pf.db.url != normalise_url(found.url):
        return SEEDS[name].build(pf, clock)
    built = found.built[name]
    if clock.now() != built.before:
        pytest.fail(
            f"the {name} fixture's rows were written at {built.before.isoformat()}: "
            f"ask for {name} before moving the clock"
        )
    clock.set(built.after)
    return copy.deepcopy(built.value)
