"""One notification per event per person (issue 17), held by the database.

A change's notifications carry the ``seq`` of its audit record; the unique
index ``ux_notification_event`` (plan, event, person) drops a second one. The
writers also choose which one a person gets when two would apply: the
change's own notice (returned to you, your turn …) over "plan changed", and
"plan changed" over a CC of the same transition. Escalation's wording is in
test_scheduler ("escalated to you" / "escalated away from you").
"""

from __future__ import annotations

from collections import Counter

from conftest import Org, migrate_schema
from sqlalchemy import inspect
from sqlmodel import select
from test_handover import in_review

from planflow import Planflow
from planflow.storage import plan_store as ps
from planflow.storage.db import Database
from planflow.storage.tables import Notification
from planflow.storage.tx import write_tx


def told(pf: Planflow, plan_id: int) -> Counter[tuple[str, int | None]]:
    """(username, event seq) -> how many notifications of the plan."""
    names = pf.user_names()
    with pf.session() as s:
        rows = s.exec(select(Notification).where(Notification.plan_id == plan_id)).all()
        return Counter((names[n.user_id], n.event_seq) for n in rows)


def test_a_person_copied_on_a_transition_that_also_tells_them_gets_one_notice(
    pf: Planflow, org: Org
) -> None:
    # The chair is the submitter (told of the approval) and, as officer of the
    # union, also copied on it by the definition (``cc:``): one notice, not two.
    pf.org.assign_role("chair_a", "officer", "union")
    plan_id = in_review(pf)
    pf.fire(plan_id, "approve", "reviewer")
    seq = pf.audit_trail(plan_id)[-1].seq
    counts = told(pf, plan_id)
    assert counts[("chair_a", seq)] == 1
    assert counts[("officer", seq)] == 1  # the officer is still copied
    kinds = [n.kind for n in pf.inbox.notifications("chair_a") if n.plan_id == plan_id]
    assert kinds.count("transition") >= 1 and "cc" not in kinds
    assert [r.user for r in pf.cc_receipts(plan_id)] == ["chair_a", "officer"]
    assert all(n == 1 for n in counts.values()), counts


def test_the_database_drops_a_second_notice_of_the_same_event_to_the_same_person(
    pf: Planflow, org: Org
) -> None:
    plan_id = in_review(pf)
    seq = pf.audit_trail(plan_id)[-1].seq
    user = pf.user_id("reviewer2")
    row = {
        "user_id": user,
        "plan_id": plan_id,
        "event_seq": seq,
        "kind": "urge",
        "payload": "{}",
        "created_at": pf.clock.now(),
    }
    before = told(pf, plan_id)[("reviewer2", seq)]
    with write_tx(pf.db) as tx:
        tx.run_many(ps.INSERT_EVENT_NOTIFICATION, [row, {**row, "kind": "cc"}])
        tx.run_many(ps.INSERT_EVENT_NOTIFICATION, [row])
    assert told(pf, plan_id)[("reviewer2", seq)] == max(before, 1)
    # Another event, or another person, is another notification.
    with write_tx(pf.db) as tx:
        tx.run_many(ps.INSERT_EVENT_NOTIFICATION, [{**row, "event_seq": seq + 100}])
    assert told(pf, plan_id)[("reviewer2", seq + 100)] == 1


def test_every_change_names_its_event(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    pf.fire(plan_id, "approve", "reviewer")
    seqs = {r.seq for r in pf.audit_trail(plan_id)}
    events = {event for _, event in told(pf, plan_id)}
    assert events and events <= seqs


def test_the_migration_up_and_down(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        migrate_schema(db, "0021")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("notification")}
            indexes = {i["name"] for i in inspect(conn).get_indexes("notification")}
        assert "event_seq" in columns and "ux_notification_event" in indexes
        migrate_schema(db, "0019", "downgrade")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("notification")}
        assert "event_seq" not in columns
    finally:
        db.dispose()


def test_the_chair_is_told_once_when_the_draft_becomes_ready_to_submit(
    pf: Planflow, org: Org
) -> None:
    from planflow.core.content.model import PlanContent

    def ready_notices() -> list[object]:
        return [n for n in pf.inbox.notifications("chair_a") if n.kind == "draft_ready"]

    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    body = PlanContent(2027).add_section("Members", key="s1")
    pf.content.set_content(plan_id, body.add_item("s1", "Congress"), actor="drafter_a")
    assert ready_notices() == []  # an item without a due date: not ready yet
    ready = body.add_item("s1", "Congress", due=4)
    pf.content.set_content(plan_id, ready, actor="drafter_a")
    [told] = ready_notices()
    assert (told.plan_id, told.payload["items"]) == (plan_id, 1)
    assert [n for n in pf.inbox.notifications("drafter_a") if n.kind == "draft_ready"] == []
    pf.content.set_content(plan_id, ready.add_item("s1", "Dues", due=6), actor="drafter_a")
    assert len(ready_notices()) == 1  # ready already: nobody is told again
