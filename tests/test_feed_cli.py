"""``planflow feeds``: calendar feed addresses from the command line, on both databases.

The commands are the web page's library calls (``pf.feeds``): an address
made here is listed by the library, opens its feed, and is refused once
revoked; a unit the person may not see is refused like a missing one.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Org

from planflow.app import Planflow
from planflow.errors import NotFound


def test_create_list_and_revoke_a_persons_feed(
    cli: Any, pf: Planflow, org: Org, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--database-url", database_url)
    monkeypatch.setenv("PLANFLOW_BASE_URL", "https://plans.example.org/")
    code, out, err = cli(*db, "feeds", "create", "chair_a")
    assert code == 0, err
    [address] = out.splitlines()  # the address alone on stdout, for $(...)
    assert address.startswith("https://plans.example.org/feeds/pfc_")
    assert address.endswith(".ics")
    assert "not shown again" in err and "their own" in err
    secret = address.removeprefix("https://plans.example.org/feeds/").removesuffix(".ics")
    assert pf.feeds.feed(secret).events is not None  # the address opens its feed
    [made] = pf.feeds.of_user("chair_a")  # what the web page lists
    assert secret.startswith(made.prefix) and made.unit is None

    code, out, _ = cli(*db, "feeds", "list", "chair_a")
    assert code == 0 and f"{made.id:6}  {made.prefix}…  own" in out and "active" in out
    code, out, _ = cli(*db, "feeds", "revoke", str(made.id))
    assert code == 0 and f"feed {made.id} of chair_a revoked at" in out
    with pytest.raises(NotFound):
        pf.feeds.feed(secret)
    code, out, _ = cli(*db, "feeds", "list", "chair_a")
    assert out.strip() == "chair_a has no calendar feeds"
    code, out, _ = cli(*db, "feeds", "list", "chair_a", "--all")
    assert "revoked" in out


def test_a_unit_feed_only_of_a_unit_the_person_sees(
    cli: Any, pf: Planflow, org: Org, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--database-url", database_url)
    monkeypatch.delenv("PLANFLOW_BASE_URL", raising=False)
    monkeypatch.delenv("PLANFLOW_MAIL_BASE_URL", raising=False)
    code, out, _ = cli(*db, "feeds", "units", "reviewer")
    assert code == 0 and "branch_b" in out
    code, out, err = cli(*db, "feeds", "create", "reviewer", "--unit", "branch_b")
    assert code == 0, err
    assert out.startswith("/feeds/pfc_")  # no base URL known: the path to put after it
    assert "unit branch_b's plans" in err
    [made] = pf.feeds.of_user("reviewer")
    assert made.unit is not None and made.unit.code == "branch_b"
    code, out, err = cli(*db, "feeds", "create", "drafter_b", "--unit", "branch_a")
    assert code != 0 and out == ""
    assert "not_found" in err or "branch_a" in err
    assert pf.feeds.of_user("drafter_b") == []
    code, _, err = cli(*db, "feeds", "revoke", "999999")
    assert code != 0
