"""Helpers for the admin pages' tests: administrators, a second union, every admin route.

Not a test module of its own (it has no tests); its name only follows the
admin tests' file pattern. On top of the ``org`` fixture's tree it adds a
second union with a branch and a drafter, and three administrators:

- ``fed_admin``: admin at the federation (manages everything);
- ``union_admin``: admin at ``union`` (union, branch_a, branch_b);
- ``union2_admin``: admin at ``union2`` (union2, branch_c).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from seeds import seed
from webui_support import CHEAP_HASHER, PASSWORD, WebClient

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.storage.tables import User

ROLES = ("drafter", "submitter", "reviewer", "inspector", "officer", "admin", "committee")
ADMINS = {"fed_admin": "fed", "union_admin": "union", "union2_admin": "union2"}
ID_RE = re.compile(r"/admin/users/(\d+)")


@dataclass(frozen=True)
class Admins:
    pf: Planflow

    def user_id(self, username: str) -> int:
        return self.pf.user_id(username)

    def user(self, username: str) -> User:
        with self.pf.session() as s:
            user = self.pf.org_repo.user_by_name(s, username)
            s.expunge(user)
            return user

    def roles(self, username: str) -> set[tuple[str, str]]:
        """(role, unit code) the user holds."""
        org = self.pf.org_snapshot()
        uid = self.user_id(username)
        return {
            (role, org.unit(unit).code)
            for (unit, role), holders in org.holders_by_unit_role.items()
            if uid in holders
        }

    def parent_code(self, code: str) -> str | None:
        org = self.pf.org_snapshot()
        parent = org.parent(self.pf.unit_id(code))
        return org.unit(parent).code if parent is not None else None


def add_admins(pf: Planflow, password_hash: str) -> Admins:
    with pf.session() as s:
        pf.org_repo.add_unit(s, "union2", "Union Two", "fed")
        pf.org_repo.add_unit(s, "branch_c", "Branch C", "union2")
        people = [(name, "admin", unit) for name, unit in ADMINS.items()]
        people.append(("drafter_c", "drafter", "branch_c"))
        for username, role, unit in people:
            user = pf.org_repo.add_user(s, username, username.replace("_", " ").title())
            user.password_hash = password_hash
            pf.org_repo.assign_role(s, username, role, unit, known_roles=ROLES)
    return Admins(pf)


@seed("admins")
def _admins_seed(pf: Planflow, clock: FixedClock) -> None:
    """The ``admins`` fixture's rows (tests/webui/conftest.py), made once per session."""
    add_admins(pf, CHEAP_HASHER.hash(PASSWORD))


def admin_urls(app: Flask, admins: Admins) -> list[tuple[str, str]]:
    """(method, URL) of every route of the admin blueprints, with real ids filled in."""
    values = {
        "code": "branch_a",
        "user_id": admins.user_id("drafter_a"),
        "name": "annual_plan",
        "version": 1,
        "fmt": "csv",
        "webhook_id": 1,
        "delivery_id": 1,
    }
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin"):
            continue
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments})
        assert url is not None
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url[1]))
    return sorted(found)


def call(client: WebClient, method: str, url: str, data: dict[str, str] | None = None) -> int:
    if method == "GET":
        return client.get(url).status_code
    return client.post_form(url, data or {}).status_code
