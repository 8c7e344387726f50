"""The organisation's audit chain of admin actions (issue 19, item 10), on both databases.

* Each kind of admin action writes exactly one record, in its own
  transaction, naming who did it and its parameters, never a secret.
* A refused action writes none.
* ``audit verify`` (library and command line) names a rewritten record; a
  rewrite that recomputes the hashes and the head passes the database's own
  check but not the signed checkpoints, which cover the organisation's head.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import WORKFLOWS, CliRun, Org
from sqlalchemy import update

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.audit_chain import GENESIS
from planflow.core.checkpoints import check_published
from planflow.core.org_audit import ACTIONS, OrgAuditEntry
from planflow.errors import PlanflowError
from planflow.integrations.signing import Signer, generate
from planflow.services.admin_directory import profile_stamp
from planflow.services.definition_migration import apply_migration, plan_migration
from planflow.storage import audit_repo, org_audit, published_checkpoints
from planflow.storage import signed_checkpoints as sc

record_t = org_audit.record_t
head_t = org_audit.head_t
SECRET_WORDS = ("pft_", "whsec", "password-", "$argon2")


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli: CliRun) -> CliRun:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    monkeypatch.delenv("PLANFLOW_AUDIT_KEY", raising=False)
    return cli


def records(pf: Planflow) -> list[org_audit.OrgRecord]:
    with pf.db.read() as conn:
        return org_audit.records(conn)


@pytest.fixture
def boss(pf: Planflow, org: Org) -> int:
    """An administrator of the whole federation (made by the system: two records)."""
    pf.org.add_user("boss", "The Boss")
    pf.org.assign_role("boss", "admin", "fed")
    return pf.user_id("boss")


def _migrate(pf: Planflow, boss: int, tmp_path: Path) -> None:
    """A plan of annual_plan@5 moved to @6 by ``boss``."""
    plan = pf.create_plan(unit_code="branch_a", year=2027, title="A", actor="drafter_a")
    folder = tmp_path / "wf"
    folder.mkdir()
    text = (WORKFLOWS / "annual_plan.yaml").read_text(encoding="utf-8")
    (folder / "annual_plan.yaml").write_text(text, encoding="utf-8")
    (folder / "annual_plan_v6.yaml").write_text(
        text.replace("version: 5\n", "version: 6\n", 1), encoding="utf-8"
    )
    later = Planflow(pf.db.url, clock=pf.clock, workflows_dir=folder)
    try:
        migration = plan_migration(later.service, "annual_plan", 5, 6, {})
        assert [m.plan_id for m in migration.moves] == [plan]
        assert apply_migration(later.service, migration, boss) == 1
    finally:
        later.close()


def _webhook_removed(pf: Planflow) -> None:
    hook = pf.webhooks.add("union", "http://127.0.0.1:9/hook", ["plan.comment"], allow_private=True)
    pf.webhooks.remove(hook.webhook.id, actor="boss")


#: (kind, what does it, the records it must add (action, by the boss?), facts in the detail)
ACTS: list[tuple[str, Callable[..., Any], list[tuple[str, bool]], dict[str, Any]]] = [
    (
        "role_granted",
        lambda pf, a, _t: a.assign_role(
            pf.user_id("boss"), pf.user_id("officer"), "reviewer", "union"
        ),
        [("role_granted", True)],
        {"user": "officer", "role": "reviewer", "unit": "union"},
    ),
    (
        "role_revoked",
        lambda pf, a, _t: a.revoke_role(
            pf.user_id("boss"), pf.user_id("reviewer2"), "reviewer", "union"
        ),
        [("role_revoked", True)],
        {"user": "reviewer2", "role": "reviewer", "unit": "union"},
    ),
    (
        "user_created",
        lambda pf, _a, _t: pf.org.add_user("newbie", "New Bie", password="password-123456"),
        [("user_created", False)],
        {"user": "newbie", "display_name": "New Bie", "password_set": True},
    ),
    (
        "user_changed",
        lambda pf, a, _t: a.update_profile(
            pf.user_id("boss"),
            pf.user_id("chair_a"),
            display_name="Chair Ahn",
            email="chair_a@example.org",
            language="ko",
            expected=profile_stamp("Chair A", "chair_a@example.org", "en"),
        ),
        [("user_changed", True)],
        {
            "user": "chair_a",
            "display_name": {"from": "Chair A", "to": "Chair Ahn"},
            "language": {"from": "en", "to": "ko"},
        },
    ),
    (
        "user_password_set",
        lambda pf, a, _t: a.set_password(
            pf.user_id("boss"), pf.user_id("chair_b"), "password-7890"
        ),
        [("user_password_set", True)],
        {"user": "chair_b"},
    ),
    (
        "user_deactivated",
        lambda pf, a, _t: a.set_active(pf.user_id("boss"), pf.user_id("member3"), False),
        [("user_deactivated", True)],
        {"user": "member3"},
    ),
    (
        "user_activated",
        lambda pf, _a, _t: pf.org.set_active("member3", True),
        [("user_activated", False)],
        {"user": "member3"},
    ),
    (
        "unit_created",
        lambda pf, a, _t: a.add_unit(pf.user_id("boss"), "branch_c", "Branch C", "union"),
        [("unit_created", True)],
        {"unit": "branch_c", "name": "Branch C", "parent": "union"},
    ),
    (
        "unit_moved",
        lambda pf, _a, _t: pf.org.move_unit("branch_b", "fed", actor="boss"),
        [("unit_moved", True)],
        {"unit": "branch_b", "from": "union", "to": "fed"},
    ),
    (
        "unit_renamed",
        lambda pf, a, _t: a.rename_unit(pf.user_id("boss"), "branch_b", "Branch Bee", "Branch B"),
        [("unit_renamed", True)],
        {"unit": "branch_b", "from": "Branch B", "to": "Branch Bee"},
    ),
    (
        "definition_migrated",
        lambda pf, _a, tmp: _migrate(pf, pf.user_id("boss"), tmp),
        [("definition_migrated", True)],
        {"from": "annual_plan@5", "to": "annual_plan@6", "from_state": "draft"},
    ),
    (
        "token_created",
        lambda pf, _a, _t: pf.tokens.create(
            "drafter_a", scope="write", name="laptop", actor="boss"
        ),
        [("token_created", True)],
        {"user": "drafter_a", "name": "laptop", "scope": "write"},
    ),
    (
        "token_revoked",
        lambda pf, _a, _t: pf.tokens.revoke(pf.tokens.create("drafter_a").token.id, actor="boss"),
        [("token_created", False), ("token_revoked", True)],
        {"user": "drafter_a", "name": "API token"},
    ),
    (
        "webhook_added",
        lambda pf, _a, _t: pf.webhooks.add(
            "union", "http://127.0.0.1:9/hook", ["plan.comment"], allow_private=True, actor="boss"
        ),
        [("webhook_added", True)],
        {"url": "http://127.0.0.1:9/hook", "events": ["plan.comment"], "allow_private": True},
    ),
    (
        "webhook_removed",
        lambda pf, _a, _t: _webhook_removed(pf),
        [("webhook_added", False), ("webhook_removed", True)],
        {"url": "http://127.0.0.1:9/hook"},
    ),
    (
        "user_channels_switched",
        lambda pf, _a, _t: (
            pf.webhooks.set_user_channels(True, actor="boss"),
            pf.webhooks.set_user_channels(False, actor="boss"),
        ),
        [("user_channels_switched", True), ("user_channels_switched", True)],
        {"on": False},
    ),
]


def test_every_kind_of_admin_action_is_tested() -> None:
    assert sorted(kind for kind, *_ in ACTS) == sorted(ACTIONS)


@pytest.mark.parametrize(("kind", "act", "expected", "facts"), ACTS, ids=[a[0] for a in ACTS])
def test_each_admin_action_writes_one_record(
    pf: Planflow,
    boss: int,
    tmp_path: Path,
    kind: str,
    act: Callable[..., Any],
    expected: list[tuple[str, bool]],
    facts: dict[str, Any],
) -> None:
    before = records(pf)
    act(pf, pf.org_admin(), tmp_path)
    new = records(pf)[len(before) :]
    assert [(r.action, r.actor_id == boss) for r in new] == expected
    last = new[-1]
    assert last.action == kind
    detail = json.loads(last.detail)
    assert facts.items() <= detail.items()
    for r in new:
        assert not any(word in r.detail for word in SECRET_WORDS), r.detail
    # Chained on from the record before, and the head moved with it.
    assert new[0].prev_hash == (before[-1].hash if before else GENESIS)
    with pf.db.read() as conn:
        assert org_audit.head(conn) == (last.seq, last.hash)
    report = audit_repo.verify(pf.db)
    assert report.ok, report.problems
    assert report.org_records == len(before) + len(new)


def test_a_refused_or_idle_admin_action_writes_nothing(pf: Planflow, boss: int) -> None:
    admin = pf.org_admin()
    before = records(pf)
    with pytest.raises(PlanflowError):
        admin.add_unit(pf.user_id("drafter_a"), "branch_z", "Z", "union")  # not an admin
    with pytest.raises(PlanflowError):
        admin.rename_unit(pf.user_id("boss"), "branch_a", "New", "not what it is called")
    # Granting a role already held changes nothing: nothing to record.
    assert not admin.assign_role(pf.user_id("boss"), pf.user_id("reviewer"), "reviewer", "union")
    # Own channels: only an admin of the whole tree may switch them; off when off is idle.
    with pytest.raises(PlanflowError):
        pf.webhooks.set_user_channels(True, actor="drafter_a")
    pf.webhooks.set_user_channels(False, actor="boss")
    assert not pf.webhooks.user_channels()
    assert records(pf) == before


def test_the_org_fixture_is_on_the_chain_by_the_system(pf: Planflow, org: Org) -> None:
    found = records(pf)
    assert [r.seq for r in found] == list(range(1, len(found) + 1))
    assert {r.actor_id for r in found} == {None}
    assert found[0].action == "unit_created"
    assert OrgAuditEntry(*(getattr(found[0], f) for f in OrgAuditEntry._fields)).compute_hash() == (
        found[0].hash
    )


def test_verify_names_a_rewritten_record(pf: Planflow, boss: int, run: CliRun) -> None:
    with pf.db.write() as conn:
        conn.execute(
            update(record_t)
            .where(record_t.c.seq == 3)
            .values(detail='{"name":"Branch A","parent":"fed","unit":"branch_a"}')
        )
    report = audit_repo.verify(pf.db)
    assert [(p.seq, p.code, p.org) for p in report.problems] == [(3, "altered", True)]
    assert str(report.problems[0]).startswith("organisation audit, record 3: ")
    code, _out, err = run("audit", "verify")
    assert code == 1
    assert "audit trail BROKEN: organisation audit, record 3: content does not match" in err


def test_a_deleted_last_record_is_caught_by_the_head(pf: Planflow, boss: int) -> None:
    last = records(pf)[-1]
    with pf.db.write() as conn:
        conn.execute(record_t.delete().where(record_t.c.seq == last.seq))
    problems = audit_repo.verify(pf.db).problems
    assert [(p.code, p.org) for p in problems] == [("head_mismatch", True)]


def test_signed_checkpoints_cover_the_organisation_head(
    pf: Planflow, boss: int, tmp_path: Path, clock: FixedClock
) -> None:
    """An insider rewrites the last record, recomputes its hash and the head: the
    database's own check passes, the published signed checkpoint does not."""
    key: Signer = generate(tmp_path / "key.pem")
    made = sc.make(pf.db, clock.now(), key)
    assert made.outcome == "made" and made.signed is not None
    with pf.db.read() as conn:
        assert sc.current_heads(conn)[0] == org_audit.head(conn)
    last = records(pf)[-1]
    forged = last.entry._replace(detail='{"role":"admin","unit":"union","user":"boss"}')
    with pf.db.write() as conn:
        conn.execute(
            update(record_t)
            .where(record_t.c.seq == last.seq)
            .values(detail=forged.detail, hash=forged.compute_hash())
        )
        conn.execute(update(head_t).values(hash=forged.compute_hash()))
    assert audit_repo.verify(pf.db).ok  # consistent inside the database

    verifier = key.verifier()

    def check(_key: str, data: bytes, signature: bytes) -> str | None:
        return None if verifier.verify(data, signature) else "bad signature"

    assert check_published([made.signed], check) == []
    report = published_checkpoints.verify_published(pf.db, [made.signed], check)
    # One signed head: the rewrite is somewhere in records 1..last (RFC 6962 says no more).
    assert [(p.seq, p.code, p.org, p.params["last"]) for p in report.problems] == [
        (1, "signed_records_altered", True, last.seq)
    ]
    assert str(report.problems[0]).startswith("organisation audit, record 1: ")
    assert report.plans == 0  # the organisation's chain is not a plan


def test_cli_audit_org_lists_the_chain(pf: Planflow, boss: int, run: CliRun) -> None:
    code, out, err = run("audit", "org")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[-1].split()[:2] == [str(len(records(pf))), "role_granted"]
    assert "boss" in lines[-1] and "(system)" in lines[-1]
    code, out, err = run("audit", "org", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[-1]["action"] == "role_granted" and rows[-1]["actor"] is None
    assert rows[-1]["detail"] == {"role": "admin", "unit": "fed", "user": "boss"}
    assert rows[-1]["hash"] == records(pf)[-1].hash


def test_admin_actions_at_the_same_moment_form_one_chain(pf: Planflow, org: Org) -> None:
    """Four people created at once (threads, each its own transaction): the head row's lock
    puts them in one order, no seq twice, no link broken."""
    before = len(records(pf))
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def create(i: int) -> None:
        barrier.wait()
        try:
            pf.org.add_user(f"racer{i}", f"Racer {i}")
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    found = records(pf)
    assert [r.seq for r in found] == list(range(1, before + 5))
    assert sorted(json.loads(r.detail)["user"] for r in found[before:]) == [
        f"racer{i}" for i in range(4)
    ]
    assert audit_repo.verify(pf.db).ok
