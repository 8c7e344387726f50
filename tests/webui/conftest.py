"""Fixtures for the web UI: ``app``, ``client``, ``auth``, ``plans``.

They build on the suite's ``pf`` and ``org`` fixtures, so every web test
runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from seeds import seeded
from sqlmodel import update
from test_web_admin_support import Admins
from webui_support import (
    CHEAP_HASHER,
    PASSWORD,
    AuthActions,
    Plans,
    WebClient,
    make_app,
    new_client,
)

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.storage.tables import User


@pytest.fixture(scope="session")
def password_hash() -> str:
    """``PASSWORD`` hashed at the lowest Argon2 cost: every sign-in of a web test
    verifies it, and at the product's cost (tests/test_org.py checks it) one check
    takes ~50 ms. Verifying reads the cost from the hash; passwords set through
    the pages and the library still use the product's."""
    return CHEAP_HASHER.hash(PASSWORD)


@pytest.fixture
def app(pf: Planflow, org: Any, password_hash: str) -> Iterator[Flask]:
    with pf.session() as s:
        s.exec(update(User).values(password_hash=password_hash))
    yield make_app(pf)


@pytest.fixture
def admins(request: pytest.FixtureRequest, app: Flask, pf: Planflow, clock: FixedClock) -> Admins:
    """Three administrators and a second union (tests/webui/test_web_admin_support.py),
    copied in with the database (tests/seeds.py) or added here; signed in with
    ``PASSWORD`` like everyone (``app`` set it)."""
    seeded(request, "admins", pf, clock)
    return Admins(pf)


@pytest.fixture
def client(app: Flask) -> WebClient:
    return new_client(app)


@pytest.fixture
def auth(client: WebClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def plans(app: Flask, pf: Planflow) -> Plans:
    return Plans(pf)
