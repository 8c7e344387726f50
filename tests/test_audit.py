"""Tests of the audit trail: the hash chain, verify, checkpoints and export.

The database tests run on SQLite and PostgreSQL (``pf`` + ``org``): a few
plans go through real transitions, then the tables are tampered with
directly in SQL (the way an insider with database access would) and
``verify`` must report the first record that no longer fits — altered,
deleted, inserted, a whole plan's trail erased after a checkpoint, the
checkpoint's anchors deleted, a checkpoint altered. Export to JSON lines and
CSV must round-trip every record. The pure tests pin the canonical form the
hash is computed over.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from stored import stored_plan, stored_records

import planflow
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.audit_chain import (
    GENESIS,
    AuditEntry,
    ChainProblem,
    StoredEntry,
    check_plan_chain,
    checkpoint_hash,
    heads_digest,
    sha256_hex,
)
from planflow.core.content.model import PlanContent
from planflow.storage import audit_repo
from planflow.storage.audit_keys import audit_key
from planflow.storage.audit_repo import EXPORT_FIELDS, anchor_t, audit_t, checkpoint_t, plan_t

T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
CONTENT = PlanContent.from_dict(
    {"sections": [{"title": "Members", "items": [{"text": "Recruit", "due": 3}]}]}, year=2027
)


# -- helpers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plans:
    """Three plans with trails of 6, 3 and 1 records."""

    returned: int  # create, edit, submit, start_review, return (comment), resubmit
    submitted: int  # create, edit, submit
    draft: int  # create


def populate(pf: Planflow, clock: FixedClock) -> Plans:
    def plan(title: str, unit: str, drafter: str) -> int:
        plan_id = pf.create_plan(unit_code=unit, year=2027, title=title, actor=drafter)
        return plan_id

    a = plan("A", "branch_a", "drafter_a")
    b = plan("B", "branch_b", "drafter_b")
    c = plan("C", "branch_a", "drafter_a")
    pf.content.set_content(a, CONTENT, actor="drafter_a", expected_version=None)
    pf.content.set_content(b, CONTENT, actor="drafter_b", expected_version=None)
    clock.advance(timedelta(hours=1, microseconds=123_456))
    pf.fire(a, "submit", "chair_a")
    pf.fire(b, "submit", "chair_b")
    pf.fire(a, "start_review", "reviewer")
    clock.advance(timedelta(minutes=5, microseconds=1))
    pf.fire(a, "return_for_revision", "reviewer", comment="Dates, please — 日期")
    pf.fire(a, "resubmit", "chair_a")
    return Plans(a, b, c)


@pytest.fixture
def plans(pf: Planflow, org: Any, clock: FixedClock) -> Plans:
    return populate(pf, clock)


def execute(pf: Planflow, *statements: Any) -> None:
    """Run SQL the way someone with database access would, outside planflow."""
    with pf.db.write() as conn:
        for statement in statements:
            conn.execute(statement)


def record(pf: Planflow, plan_id: int, seq: int) -> dict[str, Any]:
    with pf.db.read() as conn:
        row = conn.execute(
            select(audit_t).where(audit_t.c.plan_id == plan_id, audit_t.c.seq == seq)
        ).one()
    return dict(row._mapping)


def entry_of(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**{name: row[name] for name in AuditEntry._fields})


def where(plan_id: int, seq: int | None = None) -> Any:
    condition = audit_t.c.plan_id == plan_id
    return condition if seq is None else condition & (audit_t.c.seq == seq)


def verify(pf: Planflow) -> audit_repo.VerifyReport:
    return audit_repo.verify(pf.db)


def problems(pf: Planflow) -> list[tuple[int | None, int | None, str]]:
    return [(p.plan_id, p.seq, p.message) for p in verify(pf).problems]


def codes(pf: Planflow) -> list[tuple[str, dict[str, object]]]:
    """The problems as clients read them: a code and its parameters, never the English."""
    return [(p.code, dict(p.params)) for p in verify(pf).problems]


# -- an untouched trail verifies ---------------------------------------------------------------


def test_empty_database_verifies(pf: Planflow) -> None:
    report = verify(pf)
    assert report.ok
    assert (report.plans, report.records, report.checkpoints) == (0, 0, 0)
    assert report.first_problem is None


def test_untouched_trail_verifies(pf: Planflow, plans: Plans) -> None:
    report = verify(pf)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.plans, report.records, report.checkpoints) == (3, 10, 0)
    assert [len(pf.audit_trail(p)) for p in (plans.returned, plans.submitted, plans.draft)] == [
        6,
        3,
        1,
    ]


def test_stored_hashes_are_recomputable(pf: Planflow, plans: Plans) -> None:
    # Timestamps with microseconds and non-ASCII comments round-trip exactly.
    for seq in range(1, 7):
        row = record(pf, plans.returned, seq)
        assert entry_of(row).compute_hash() == row["hash"]
    assert record(pf, plans.returned, 5)["comment"] == "Dates, please — 日期"
    assert record(pf, plans.returned, 5)["at"] == T0 + timedelta(
        hours=1, minutes=5, microseconds=123_457
    )


# -- tampering with records --------------------------------------------------------------------


def test_altered_comment_names_plan_and_record(pf: Planflow, plans: Plans) -> None:
    execute(pf, update(audit_t).where(where(plans.returned, 5)).values(comment="Looks fine"))
    report = verify(pf)
    assert not report.ok
    assert problems(pf) == [(plans.returned, 5, "content does not match its hash (altered)")]
    assert codes(pf) == [("altered", {})]
    assert str(report.first_problem) == (
        f"plan {plans.returned}, record 5: content does not match its hash (altered)"
    )


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "approve"),
        ("from_state", "draft"),
        ("to_state", "approved"),
        ("actor_id", None),
        ("at", T0 + timedelta(days=3)),
        ("revision", 9),
        ("detail", '{"forged":true}'),
        ("comment", None),
    ],
)
def test_any_altered_column_is_caught(
    pf: Planflow, plans: Plans, column: str, value: object
) -> None:
    execute(pf, update(audit_t).where(where(plans.returned, 5)).values({column: value}))
    first = verify(pf).first_problem
    assert first == ChainProblem(
        plans.returned, 5, "content does not match its hash (altered)", "altered"
    )


def test_altered_record_with_recomputed_hash_breaks_the_next_link(
    pf: Planflow, plans: Plans
) -> None:
    forged = entry_of(record(pf, plans.returned, 3))._replace(comment="approved by phone")
    execute(
        pf,
        update(audit_t)
        .where(where(plans.returned, 3))
        .values(comment=forged.comment, hash=forged.compute_hash()),
    )
    report = verify(pf)
    assert report.first_problem is not None
    assert (report.first_problem.plan_id, report.first_problem.seq) == (plans.returned, 4)
    assert "does not link" in report.first_problem.message
    assert report.first_problem.code == "broken_link"
    assert len(report.problems) == 1


def test_deleted_middle_record_is_reported(pf: Planflow, plans: Plans) -> None:
    execute(pf, delete(audit_t).where(where(plans.returned, 3)))
    found = problems(pf)
    assert found[0] == (plans.returned, 4, "records 3..3 are missing (deleted)")
    assert (plans.returned, 4) == found[1][:2]
    assert "does not link" in found[1][2]
    assert len(found) == 2
    assert codes(pf) == [("records_missing", {"first": 3, "last": 3}), ("broken_link", {})]


def test_deleted_last_record_is_a_head_mismatch(pf: Planflow, plans: Plans) -> None:
    execute(pf, delete(audit_t).where(where(plans.submitted, 3)))
    assert problems(pf) == [
        (plans.submitted, None, "the chain ends at seq 2 but the plan records seq 3 (deleted)")
    ]
    assert codes(pf) == [("head_mismatch", {"ends_at": 2, "plan_records": 3})]


def test_deleted_whole_trail_with_head_left_is_reported(pf: Planflow, plans: Plans) -> None:
    execute(pf, delete(audit_t).where(where(plans.submitted)))
    assert problems(pf) == [(plans.submitted, None, "the plan's whole audit trail is missing")]
    assert codes(pf) == [("trail_missing", {})]


def test_forged_record_inserted_in_the_middle_is_reported(pf: Planflow, plans: Plans) -> None:
    plan_id = plans.returned
    # Make room at seq 3 (one row at a time, highest first, so the key stays unique;
    # the key is plan and seq in one: a forger moves both), then insert a
    # well-formed record that links to record 2.
    moves = [
        update(audit_t)
        .where(where(plan_id, seq))
        .values(seq=seq + 1, id=audit_key(plan_id, seq + 1))
        for seq in range(6, 2, -1)
    ]
    before = entry_of(record(pf, plan_id, 2))
    forged = AuditEntry(
        plan_id=plan_id,
        seq=3,
        actor_id=pf.user_id("reviewer"),
        on_behalf_of_id=None,
        at=before.at,
        action="approve",
        from_state="draft",
        to_state="approved",
        comment=None,
        revision=0,
        detail="{}",
        prev_hash=record(pf, plan_id, 2)["hash"],
    )
    row = forged._asdict()
    forged_row = insert(audit_t).values(**row, id=audit_key(plan_id, 3), hash=forged.compute_hash())
    execute(pf, *moves, forged_row)

    report = verify(pf)
    assert not report.ok
    first = report.first_problem
    assert first is not None
    # The forged record itself is well-formed; the record after it no longer fits.
    assert (first.plan_id, first.seq) == (plan_id, 4)
    assert "does not link" in first.message
    assert any(p.seq is None and "ends at seq 7" in p.message for p in report.problems)


def test_the_pure_chain_check_gives_each_problem_a_code() -> None:
    entry = AuditEntry(1, 1, None, None, T0, "create", None, "draft", None, 0, "{}", GENESIS)
    stored = StoredEntry(entry, entry.compute_hash())

    def found(records: list[StoredEntry], head: tuple[int, str]) -> list[tuple[str, object]]:
        return [(p.code, dict(p.params)) for p in check_plan_chain(1, records, head)]

    assert found([stored, stored], (1, stored.stored_hash)) == [
        ("duplicate_seq", {}),
        ("broken_link", {}),
    ]
    assert found([stored], (1, "0" * 64)) == [("head_mismatch", {"ends_at": 1, "plan_records": 1})]
    assert found([stored], (0, "")) == [("head_mismatch", {"ends_at": 1, "plan_records": 0})]


# -- checkpoints -------------------------------------------------------------------------------


def test_checkpoint_records_every_head(pf: Planflow, plans: Plans, clock: FixedClock) -> None:
    first = audit_repo.checkpoint(pf.db, clock.now())
    assert (first.plan_count, first.record_count, first.prev_hash) == (3, 10, GENESIS)
    heads = [
        (p, stored_plan(pf, p).audit_seq, stored_plan(pf, p).audit_hash)
        for p in (plans.returned, plans.submitted, plans.draft)
    ]
    assert first.digest == heads_digest(heads)
    assert first.hash == checkpoint_hash(clock.now(), 3, 10, first.digest, GENESIS)
    with pf.db.read() as conn:
        anchors = sorted(
            tuple(r)
            for r in conn.execute(
                select(
                    anchor_t.c.plan_id, anchor_t.c.seq, anchor_t.c.hash, anchor_t.c.checkpoint_id
                )
            )
        )
    assert anchors == sorted((*h, first.id) for h in heads)

    clock.advance(timedelta(days=1))
    second = audit_repo.checkpoint(pf.db, clock.now())
    assert second.prev_hash == first.hash
    assert second.id != first.id
    report = verify(pf)
    assert report.ok, [str(p) for p in report.problems]
    assert report.checkpoints == 2


def test_changes_after_a_checkpoint_still_verify(
    pf: Planflow, plans: Plans, clock: FixedClock
) -> None:
    audit_repo.checkpoint(pf.db, clock.now())
    pf.fire(plans.submitted, "start_review", "reviewer")
    pf.fire(plans.returned, "start_review", "reviewer2")
    report = verify(pf)
    assert report.ok, [str(p) for p in report.problems]
    assert report.records == 12


def test_erased_plan_is_caught_by_the_checkpoint_anchor(
    pf: Planflow, plans: Plans, clock: FixedClock
) -> None:
    audit_repo.checkpoint(pf.db, clock.now())
    erased = plans.submitted
    # A clean erase: the records go and the plan row's head is reset as if it had none.
    execute(
        pf,
        delete(audit_t).where(where(erased)),
        update(plan_t).where(plan_t.c.id == erased).values(audit_seq=0, audit_hash=""),
    )
    assert problems(pf) == [
        (erased, 3, "anchored by checkpoint #1 but the record is gone (deleted)")
    ]
    assert codes(pf) == [("anchored_missing", {"checkpoint": 1})]

    # Deleting the anchor too leaves the checkpoint's digest wrong.
    execute(pf, delete(anchor_t).where(anchor_t.c.plan_id == erased))
    assert problems(pf) == [
        (None, None, "the chain heads recorded at checkpoint #1 were altered or deleted")
    ]
    assert codes(pf) == [("checkpoint_heads_altered", {"checkpoint": 1})]


def test_rewritten_chain_with_matching_head_is_caught_by_the_anchor(
    pf: Planflow, plans: Plans, clock: FixedClock
) -> None:
    audit_repo.checkpoint(pf.db, clock.now())
    plan_id = plans.submitted
    # Rewrite record 3 and re-seal it, and move the plan's head along: the chain
    # itself is consistent again, only the checkpoint remembers the old head.
    forged = entry_of(record(pf, plan_id, 3))._replace(comment="nothing to see")
    new_hash = forged.compute_hash()
    execute(
        pf,
        update(audit_t).where(where(plan_id, 3)).values(comment=forged.comment, hash=new_hash),
        update(plan_t).where(plan_t.c.id == plan_id).values(audit_hash=new_hash),
    )
    assert problems(pf) == [
        (plan_id, 3, "differs from the record anchored by checkpoint #1 (altered)")
    ]
    assert codes(pf) == [("anchored_altered", {"checkpoint": 1})]


def test_altered_checkpoint_is_caught(pf: Planflow, plans: Plans, clock: FixedClock) -> None:
    cp = audit_repo.checkpoint(pf.db, clock.now())
    execute(
        pf,
        update(checkpoint_t).where(checkpoint_t.c.id == cp.id).values(record_count=9),
    )
    assert problems(pf) == [(None, None, f"checkpoint #{cp.id} was altered")]
    assert codes(pf) == [("checkpoint_altered", {"checkpoint": cp.id})]


def test_deleted_earlier_checkpoint_breaks_the_checkpoint_chain(
    pf: Planflow, plans: Plans, clock: FixedClock
) -> None:
    first = audit_repo.checkpoint(pf.db, clock.now())
    clock.advance(timedelta(hours=1))
    second = audit_repo.checkpoint(pf.db, clock.now())
    execute(pf, delete(checkpoint_t).where(checkpoint_t.c.id == first.id))
    assert problems(pf) == [
        (None, None, f"checkpoint #{second.id} does not link to the one before it")
    ]
    assert codes(pf) == [("checkpoint_unlinked", {"checkpoint": second.id})]


def test_checkpoint_taken_with_a_non_utc_time_verifies(pf: Planflow, plans: Plans) -> None:
    beijing = timezone(timedelta(hours=8))
    audit_repo.checkpoint(pf.db, datetime(2027, 1, 4, 16, 0, tzinfo=beijing))
    report = verify(pf)
    assert report.ok, [str(p) for p in report.problems]


# -- export ------------------------------------------------------------------------------------


def expected_rows(pf: Planflow, plans: Plans) -> list[dict[str, object]]:
    rows = []
    for plan_id in (plans.returned, plans.submitted, plans.draft):
        for r in stored_records(pf, plan_id):
            data = {name: getattr(r, name) for name in EXPORT_FIELDS}
            data["at"] = r.at.isoformat(timespec="microseconds")
            rows.append(data)
    return sorted(rows, key=lambda d: (d["at"], d["plan_id"], d["seq"]))


def test_export_jsonl_round_trips(pf: Planflow, plans: Plans) -> None:
    out = io.StringIO()
    count = audit_repo.export(audit_repo.iter_records(pf.db), out, "jsonl")
    lines = out.getvalue().splitlines()
    assert count == len(lines) == 10
    exported = [json.loads(line) for line in lines]
    assert all(list(rec) == sorted(EXPORT_FIELDS) for rec in exported)
    assert exported == expected_rows(pf, plans)
    # An exported record can be checked on its own: its hash is recomputable.
    for rec in exported:
        entry = AuditEntry(
            **{name: rec[name] for name in AuditEntry._fields if name != "at"},
            at=datetime.fromisoformat(rec["at"]),
        )
        assert entry.compute_hash() == rec["hash"]


def test_export_csv_round_trips(pf: Planflow, plans: Plans) -> None:
    out = io.StringIO()
    count = audit_repo.export(audit_repo.iter_records(pf.db), out, "csv")
    reader = csv.DictReader(io.StringIO(out.getvalue()))
    assert reader.fieldnames == list(EXPORT_FIELDS)
    exported = list(reader)
    assert count == len(exported) == 10
    as_text = [
        {k: "" if v is None else str(v) for k, v in row.items()} for row in expected_rows(pf, plans)
    ]
    assert exported == as_text
    assert any(row["comment"] == "Dates, please — 日期" for row in exported)


def test_audit_records_are_the_trail_as_frozen_views(pf: Planflow, plans: Plans) -> None:
    records = list(pf.audit_records())
    assert all(isinstance(r, planflow.AuditEntry) for r in records)
    first = records[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.action = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        first.detail["title"] = "changed"  # type: ignore[index]
    # The same records as the export, in its order; people by username, as in audit_trail.
    exported = expected_rows(pf, plans)
    assert [(r.plan_id, r.seq, r.hash) for r in records] == [
        (e["plan_id"], e["seq"], e["hash"]) for e in exported
    ]
    assert [r.at.isoformat(timespec="microseconds") for r in records] == [e["at"] for e in exported]
    assert {r.actor for r in records} == {
        "drafter_a",
        "chair_a",
        "drafter_b",
        "chair_b",
        "reviewer",
    }
    one = list(pf.audit_records(plans.returned))
    assert one == pf.audit_trail(plans.returned)
    assert any(r.comment == "Dates, please — 日期" for r in one)


def test_audit_records_refuse_a_plan_id_no_plan_can_have(pf: Planflow) -> None:
    with pytest.raises(planflow.NotFound):
        pf.audit_records(2**63)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_the_export_in_chunks_is_the_export(pf: Planflow, plans: Plans, fmt: str) -> None:
    whole = io.StringIO()
    assert pf.export_audit(whole, fmt) == 10
    chunks = list(pf.export_audit_chunks(fmt, batch=3))
    assert len(chunks) == 4
    assert "".join(chunks) == whole.getvalue()


def test_an_empty_export_in_chunks(pf: Planflow) -> None:
    assert list(pf.export_audit_chunks("jsonl")) == []
    assert "".join(pf.export_audit_chunks("csv")) == ",".join(EXPORT_FIELDS) + "\n"
    with pytest.raises(ValueError, match="unknown export format"):
        pf.export_audit_chunks("xml")


def test_export_csv_cells_cannot_start_a_formula(pf: Planflow, org: Any) -> None:
    # A comment or title typed into the web UI ends up in a cell a spreadsheet would run.
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title='=HYPERLINK("http://x")', actor="drafter_a"
    )
    pf.content.set_content(plan_id, CONTENT, actor="drafter_a", expected_version=None)
    pf.fire(plan_id, "submit", "chair_a", comment="@SUM(A1:A9)")
    pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="-2+3 and fix the dates")
    out = io.StringIO()
    audit_repo.export(audit_repo.iter_records(pf.db), out, "csv")
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    comments = [r["comment"] for r in rows if r["comment"]]
    assert comments == ["'@SUM(A1:A9)", "'-2+3 and fix the dates"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    # JSON lines stay exact: that is the format a record's hash is checked against.
    out = io.StringIO()
    audit_repo.export(audit_repo.iter_records(pf.db), out, "jsonl")
    assert "-2+3 and fix the dates" in [
        json.loads(line)["comment"] for line in out.getvalue().splitlines()
    ]


def test_export_of_one_plan(pf: Planflow, plans: Plans) -> None:
    out = io.StringIO()
    count = audit_repo.export(audit_repo.iter_records(pf.db, plan_id=plans.submitted), out)
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == 3
    assert [(r["plan_id"], r["seq"], r["action"]) for r in exported] == [
        (plans.submitted, 1, "create"),
        (plans.submitted, 2, "edit_content"),
        (plans.submitted, 3, "submit"),
    ]
    assert audit_repo.export_to_string(pf.db).count("\n") == 10


def test_export_refuses_an_unknown_format(pf: Planflow, plans: Plans) -> None:
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        audit_repo.export(audit_repo.iter_records(pf.db), io.StringIO(), "xml")


def test_record_count_matches_the_table(pf: Planflow, plans: Plans) -> None:
    with pf.db.read() as conn:
        total = conn.execute(select(func.count()).select_from(audit_t)).scalar_one()
    assert total == verify(pf).records == 10


# -- the canonical form (pure) -----------------------------------------------------------------

ENTRY = AuditEntry(
    plan_id=7,
    seq=3,
    actor_id=11,
    on_behalf_of_id=None,
    at=datetime(2027, 1, 4, 8, 0, 0, 250, tzinfo=UTC),
    action="return_for_revision",
    from_state="under_review",
    to_state="returned",
    comment="Zwei Daten fehlen — 缺少日期",
    revision=1,
    detail='{"quorum":[1,2]}',
    prev_hash="ab" * 32,
)

CHANGED = {
    "plan_id": 8,
    "seq": 4,
    "actor_id": 12,
    "on_behalf_of_id": 11,
    "at": ENTRY.at + timedelta(microseconds=1),
    "action": "approve",
    "from_state": "submitted",
    "to_state": "approved",
    "comment": "Zwei Daten fehlen — 缺少日期 ",
    "revision": 2,
    "detail": '{"quorum":[2,2]}',
    "prev_hash": "ac" + "ab" * 31,
}


def test_canonical_form_is_fixed() -> None:
    assert ENTRY.canonical() == (
        '["planflow-audit-1",7,3,11,null,"2027-01-04T08:00:00.000250+00:00",'
        '"return_for_revision","under_review","returned","Zwei Daten fehlen — 缺少日期",1,'
        '"{\\"quorum\\":[1,2]}","' + "ab" * 32 + '"]'
    )
    assert ENTRY.compute_hash() == sha256_hex(ENTRY.canonical())
    assert len(ENTRY.compute_hash()) == 64


def test_identical_entries_hash_equal() -> None:
    twin = AuditEntry(**ENTRY._asdict())
    assert twin is not ENTRY
    assert twin.compute_hash() == ENTRY.compute_hash()


def test_the_same_instant_in_another_zone_hashes_equal() -> None:
    seoul = ENTRY.at.astimezone(timezone(timedelta(hours=9)))
    assert ENTRY._replace(at=seoul).compute_hash() == ENTRY.compute_hash()


def test_changed_fields_cover_every_field() -> None:
    assert set(CHANGED) == set(AuditEntry._fields)


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_changing_any_one_field_changes_the_hash(name: str) -> None:
    changed = ENTRY._replace(**{name: CHANGED[name]})
    assert changed.compute_hash() != ENTRY.compute_hash()


@pytest.mark.parametrize(
    ("name", "value"), [("comment", "null"), ("comment", ""), ("on_behalf_of_id", 0)]
)
def test_null_is_not_confused_with_look_alikes(name: str, value: object) -> None:
    base = ENTRY._replace(comment=None) if name == "comment" else ENTRY
    assert base._replace(**{name: value}).compute_hash() != base.compute_hash()


def test_heads_digest_ignores_input_order_but_not_content() -> None:
    heads = [(1, 3, "a" * 64), (2, 1, "b" * 64), (10, 7, "c" * 64)]
    assert heads_digest(heads) == heads_digest(list(reversed(heads)))
    assert heads_digest(heads) != heads_digest(heads[:2])
    assert heads_digest(heads) != heads_digest(
        [(1, 3, "a" * 64), (2, 2, "b" * 64), (10, 7, "c" * 64)]
    )
