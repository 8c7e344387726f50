"""Fixtures for the web UI: ``app``, ``client``, ``auth``, ``plans``.

They build on the suite's ``pf`` and ``org`` fixtures, so every web test
runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select
from webui_support import PASSWORD, AuthActions, Plans, WebClient, make_app, new_client

from planflow.app import Planflow
from planflow.storage.org_repo import hash_password
from planflow.storage.tables import User


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def app(pf: Planflow, org: Any, password_hash: str) -> Iterator[Flask]:
    with pf.session() as s:
        for user in s.exec(select(User)):
            user.password_hash = password_hash
            s.add(user)
    yield make_app(pf)


@pytest.fixture
def client(app: Flask) -> WebClient:
    return new_client(app)


@pytest.fixture
def auth(client: WebClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def plans(app: Flask, pf: Planflow) -> Plans:
    return Plans(pf)
