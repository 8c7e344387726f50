"""Signed audit checkpoints: made, published, mailed, and checked against the published copy.

The pure tests pin the statement, the RFC 6962 tree and the checks. The
database tests (SQLite and PostgreSQL) play the insider the checkpoints are
for: with write access to the database, they rewrite a plan's records,
recompute every hash and move the plan's stored head, so that plain
``audit verify`` passes; the published, signed checkpoints must still catch
it, naming the plan and the record. Then the scheduler: a checkpoint per
slot, once across schedulers, only when something changed, published to the
file and mailed to the auditor once; and the command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun, Org
from sqlalchemy import delete, select, update

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.audit_chain import GENESIS, AuditEntry, ChainProblem
from planflow.core.checkpoints import (
    Signed,
    SignedHead,
    Statement,
    changed_heads,
    check_published,
    check_signed_heads,
    leaf_hash,
    merkle_root,
    next_statement,
    parse_line,
)
from planflow.core.content.model import PlanContent
from planflow.integrations.checkpoints import (
    MAIL_HOLD,
    CheckpointSettings,
    PublishError,
    publish_to_file,
    read_last,
)
from planflow.integrations.mail import Outbox, SendError, SmtpSettings
from planflow.integrations.mail.settings import parse_address
from planflow.integrations.signing import Signer, Verifier, generate, load_signer, load_verifier
from planflow.scheduling.checkpoints import CheckpointRunner, slot_start
from planflow.scheduling.scheduler import Scheduler
from planflow.storage import audit_repo, published_checkpoints
from planflow.storage import signed_checkpoints as sc
from planflow.storage.audit_repo import audit_t, plan_t

T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
CONTENT = PlanContent.from_dict(
    {"sections": [{"title": "Members", "items": [{"text": "Recruit", "due": 3}]}]}, year=2027
)
AUDITOR = "Auditor <auditor@example.org>"


# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def key(tmp_path: Path) -> Signer:
    return generate(tmp_path / "audit-key.pem")


def make_plans(pf: Planflow) -> tuple[int, int]:
    """Plan A with 4 records (create, edit, submit, start_review), plan B with 1."""
    a = pf.create_plan(unit_code="branch_a", year=2027, title="A", actor="drafter_a")
    pf.content.set_content(a, CONTENT, actor="drafter_a", expected_version=None)
    pf.fire(a, "submit", "chair_a")
    pf.fire(a, "start_review", "reviewer")
    b = pf.create_plan(unit_code="branch_b", year=2027, title="B", actor="drafter_b")
    return a, b


def records_of(pf: Planflow, plan_id: int) -> list[dict[str, Any]]:
    with pf.db.read() as conn:
        rows = conn.execute(
            select(audit_t).where(audit_t.c.plan_id == plan_id).order_by(audit_t.c.seq)
        )
        return [dict(r._mapping) for r in rows]


def rewrite(pf: Planflow, plan_id: int, seq: int, **changes: Any) -> None:
    """What a database administrator can do: change a record, reseal the chain, move the head."""
    prev = GENESIS
    rows = records_of(pf, plan_id)
    with pf.db.write() as conn:
        for row in rows:
            fields = {name: row[name] for name in AuditEntry._fields}
            if row["seq"] == seq:
                fields.update(changes)
            entry = AuditEntry(**{**fields, "prev_hash": prev})
            prev = entry.compute_hash()
            conn.execute(
                update(audit_t)
                .where(audit_t.c.plan_id == plan_id, audit_t.c.seq == row["seq"])
                .values(
                    **{k: v for k, v in fields.items() if k in changes},
                    prev_hash=entry.prev_hash,
                    hash=prev,
                )
            )
        conn.execute(update(plan_t).where(plan_t.c.id == plan_id).values(audit_hash=prev))


def checker(*verifiers: Verifier) -> Any:
    keys = {v.key_id: v for v in verifiers}

    def check(key_id: str, data: bytes, signature: bytes) -> str | None:
        v = keys.get(key_id)
        if v is None:
            return "unknown key"
        return None if v.verify(data, signature) else "bad signature"

    return check


def published(path: Path) -> list[Signed]:
    return [parse_line(line) for line in path.read_text().splitlines() if line.strip()]


def verify_file(pf: Planflow, path: Path, key: Signer) -> published_checkpoints.PublishedReport:
    return published_checkpoints.verify_published(pf.db, published(path), checker(key.verifier()))


def messages(
    report: published_checkpoints.PublishedReport,
) -> list[tuple[int | None, int | None, str]]:
    return [(p.plan_id, p.seq, p.message) for p in report.problems]


# -- the pure parts ----------------------------------------------------------------------------


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_merkle_root_is_rfc_6962() -> None:
    assert merkle_root({}) == hashlib.sha256(b"").hexdigest()
    heads = {3: (1, h("c")), 1: (2, h("a")), 2: (5, h("b"))}
    l1, l2, l3 = (leaf_hash(p, *heads[p]) for p in (1, 2, 3))
    node = hashlib.sha256(b"\x01" + l1 + l2).digest()
    assert merkle_root(heads) == hashlib.sha256(b"\x01" + node + l3).hexdigest()
    assert merkle_root({1: (2, h("a"))}) == l1.hex()
    assert leaf_hash(1, 2, h("a")) == hashlib.sha256(b"\x00" + f"1:2:{h('a')}".encode()).digest()


def test_merkle_root_changes_with_any_head() -> None:
    heads = {p: (p, h(str(p))) for p in range(1, 8)}
    root = merkle_root(heads)
    assert merkle_root(dict(reversed(heads.items()))) == root
    for p in heads:
        assert merkle_root({**heads, p: (p + 1, h(str(p)))}) != root
        assert merkle_root({**heads, p: (p, h("x"))}) != root
        assert merkle_root({q: v for q, v in heads.items() if q != p}) != root


def statement(seq: int = 1, prev: str = GENESIS, **kw: Any) -> Statement:
    signed = {1: (3, h("a"))}
    changes = kw.pop("changes", {2: (1, h("b"))})
    return next_statement(
        seq=seq, at=T0, signed=signed, changes=changes, prev=prev, key=h("key"), **kw
    )


def test_statement_counts_and_canonical_form() -> None:
    st = statement()
    assert (st.plans, st.records, st.changes) == (2, 4, 1)
    assert st.heads_root == merkle_root({1: (3, h("a")), 2: (1, h("b"))})
    assert st.changes_root == merkle_root({2: (1, h("b"))})
    text = st.canonical()
    assert text.startswith('{"at":"2027-01-04T08:00:00.000000+00:00","changes":1,')
    assert " " not in text and list(json.loads(text)) == sorted(json.loads(text))
    assert st.hash() == h(text)


def test_published_line_round_trips() -> None:
    signed = Signed(statement(), b"\x01" * 64)
    line = signed.line()
    assert "\n" not in line
    assert parse_line(line) == signed
    # A reformatted line (spaces, other key order) is the same statement.
    value = json.loads(line)
    assert parse_line(json.dumps(value, indent=2)) == signed


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"format": "planflow-checkpoint-0"}, "not a planflow-checkpoint-1"),
        ({"seq": "1"}, "seq is not a whole number"),
        ({"records": -1}, "records is not a whole number"),
        ({"prev": "0" * 63}, "prev is not a SHA-256"),
        ({"key": "G" * 64}, "key is not a SHA-256"),
        ({"at": "2027-01-04T08:00:00"}, "at has no time zone"),
        ({"extra": 1}, "fields"),
    ],
)
def test_a_statement_that_is_not_one_is_refused(change: dict[str, Any], why: str) -> None:
    value = json.loads(Signed(statement(), b"x").line())
    value["checkpoint"].update(change)
    with pytest.raises(ValueError, match=why):
        parse_line(json.dumps(value))


def chain(n: int) -> list[Signed]:
    out: list[Signed] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        st = statement(seq, prev, changes={seq: (seq, h(str(seq)))})
        out.append(Signed(st, b"good"))
        prev = st.hash()
    return out


def sig_ok(_key: str, _data: bytes, signature: bytes) -> str | None:
    return None if signature == b"good" else "bad signature"


def test_check_published_accepts_an_unbroken_chain() -> None:
    assert check_published(chain(4), sig_ok) == []
    assert check_published(chain(4)[2:], sig_ok) == []  # a copy may start later


def test_check_published_finds_gaps_breaks_and_bad_signatures() -> None:
    c = chain(5)
    assert [str(p) for p in check_published([c[0], c[1], c[3], c[4]], sig_ok)] == [
        "checkpoint #4 follows #2: checkpoints 3..3 are missing from the file"
    ]
    other = statement(3, h("elsewhere"), changes={3: (3, h("3"))})
    assert [str(p) for p in check_published([c[0], c[1], Signed(other, b"good")], sig_ok)] == [
        "checkpoint #3 does not link to #2 before it"
    ]
    assert [str(p) for p in check_published([c[0], Signed(c[1].statement, b"bad")], sig_ok)] == [
        "checkpoint #2: bad signature"
    ]


def test_changed_heads() -> None:
    assert changed_heads({1: (2, "a"), 2: (1, "b")}, {1: (2, "a"), 2: (2, "c"), 3: (1, "d")}) == {
        2: (2, "c"),
        3: (1, "d"),
    }


def test_check_signed_heads_names_the_rewritten_records() -> None:
    computed = {1: "h1", 2: "h2", 3: "h3", 4: "h4", 5: "h5"}
    heads = [SignedHead(1, T0, 2, "h2"), SignedHead(2, T0, 5, "h5")]
    assert check_signed_heads(7, computed, heads) is None
    # Records 3..5 no longer reach the head signed at 5; 2 still matches.
    problem = check_signed_heads(7, {**computed, 3: "x3", 4: "x4", 5: "x5"}, heads)
    assert problem is not None and (problem.plan_id, problem.seq) == (7, 3)
    assert "this or a later record up to 5 was rewritten after checkpoint #2" in problem.message
    # A head at the rewritten record, right after one that matches, names it alone.
    heads = [SignedHead(1, T0, 1, "h1"), SignedHead(2, T0, 2, "h2"), SignedHead(3, T0, 5, "h5")]
    problem = check_signed_heads(7, {**computed, 2: "x2"}, heads)
    assert problem is not None and (problem.plan_id, problem.seq) == (7, 2)
    assert problem.message.startswith("rewritten after checkpoint #2")
    problem = check_signed_heads(7, {1: "h1", 2: "h2", 3: "h3"}, heads)
    assert problem == ChainProblem(
        7,
        5,
        "signed in checkpoint #3 (2027-01-04T08:00:00+00:00) but the record is gone (deleted)",
        "signed_record_missing",
    )
    assert problem.params == {"checkpoint": 3}


# -- the key -----------------------------------------------------------------------------------


def test_keygen_writes_a_private_file_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    signer = generate(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    with pytest.raises(Exception, match="never overwritten"):
        generate(path)
    loaded = load_signer(path)
    assert loaded.key_id == signer.key_id
    verifier = load_verifier(signer.verifier().public_b64)
    assert verifier.key_id == signer.key_id and len(signer.key_id) == 64
    assert verifier.verify(b"data", loaded.sign(b"data"))
    assert not verifier.verify(b"other", loaded.sign(b"data"))
    (tmp_path / "pub.txt").write_text(signer.verifier().public_b64 + "\n")
    assert load_verifier(str(tmp_path / "pub.txt")).key_id == signer.key_id
    with pytest.raises(Exception, match="is not a public key"):
        load_verifier("not a key")


# -- making checkpoints ------------------------------------------------------------------------


def test_first_checkpoint_signs_every_head(pf: Planflow, org: Org, key: Signer) -> None:
    _a, _b = make_plans(pf)
    result = sc.make(pf.db, T0, key)
    assert result.outcome == "made" and result.signed is not None
    st = result.signed.statement
    # Three heads changed: the two plans' and the organisation's (its admin actions).
    assert (st.seq, st.plans, st.records, st.changes, st.prev) == (1, 2, 5, 3, GENESIS)
    assert st.key == key.key_id
    assert key.verifier().verify(st.canonical().encode(), result.signed.signature)
    with pf.db.read() as conn:
        assert sc.signed_heads(conn) == sc.current_heads(conn)
    # Nothing moved: nothing to sign.
    again = sc.make(pf.db, T0 + timedelta(hours=1), key)
    assert again.outcome == "unchanged" and again.signed == result.signed


def test_next_checkpoint_keeps_only_the_changes(
    pf: Planflow, org: Org, key: Signer, clock: FixedClock
) -> None:
    a, _b = make_plans(pf)
    first = sc.make(pf.db, T0, key).signed
    assert first is not None
    pf.fire(a, "return_for_revision", "reviewer", comment="Dates, please")
    second = sc.make(pf.db, T0 + timedelta(hours=1), key).signed
    assert second is not None
    st = second.statement
    assert (st.seq, st.plans, st.records, st.changes) == (2, 2, 6, 1)
    assert st.prev == first.statement.hash()
    with pf.db.read() as conn:
        rows = conn.execute(select(sc.head_t.c.plan_id).where(sc.head_t.c.checkpoint_seq == 2))
        assert [r.plan_id for r in rows] == [a]
    assert sc.stored_after(pf.db, 0) == [first, second]


def test_a_slot_is_done_once(pf: Planflow, org: Org, key: Signer) -> None:
    make_plans(pf)
    assert sc.make(pf.db, T0, key, slot="s1").outcome == "made"
    assert sc.make(pf.db, T0, key, slot="s1").outcome == "slot done"


def test_two_processes_in_one_slot_make_one_checkpoint(pf: Planflow, org: Org, key: Signer) -> None:
    make_plans(pf)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        outcomes.append(sc.make(pf.db, T0, key, slot="slot-x").outcome)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["made", "slot done", "slot done", "slot done"]
    assert sc.last_seq(pf.db) == 1


# -- the insider: plain verify passes, the signed checkpoints do not ---------------------------


def test_rewritten_history_passes_plain_verify_but_not_the_signed_checkpoints(
    pf: Planflow, org: Org, key: Signer, clock: FixedClock, tmp_path: Path
) -> None:
    out = tmp_path / "checkpoints.jsonl"
    a = pf.create_plan(unit_code="branch_a", year=2027, title="A", actor="drafter_a")
    pf.content.set_content(a, CONTENT, actor="drafter_a", expected_version=None)
    sc.make(pf.db, clock.now(), key)  # #1: records 1-2
    clock.advance(timedelta(hours=1))
    pf.fire(a, "submit", "chair_a")
    sc.make(pf.db, clock.now(), key)  # #2: record 3
    clock.advance(timedelta(hours=1))
    pf.fire(a, "start_review", "reviewer")
    pf.fire(a, "return_for_revision", "reviewer", comment="Dates, please")
    sc.make(pf.db, clock.now(), key)  # #3: records 4-5
    assert publish_to_file(pf.db, out, key.verifier()) == 3
    assert verify_file(pf, out, key).ok

    # The DBA rewrites record 3 of plan A (who submitted it), reseals records
    # 3..5 and moves the plan's stored head along.
    rewrite(pf, a, 3, actor_id=None, comment="submitted by the system")
    assert audit_repo.verify(pf.db).ok  # the database agrees with itself
    assert messages(verify_file(pf, out, key)) == [
        (
            a,
            3,
            "rewritten after checkpoint #2 (2027-01-04T09:00:00+00:00) signed it: "
            "it no longer hashes to the signed head",
        )
    ]


def test_a_rewrite_between_signed_heads_is_named_as_a_range(
    pf: Planflow, org: Org, key: Signer, tmp_path: Path
) -> None:
    a, _ = make_plans(pf)
    sc.make(pf.db, T0, key)  # plan A's head: record 4
    out = tmp_path / "c.jsonl"
    publish_to_file(pf.db, out, key.verifier())
    rewrite(pf, a, 3, comment="submitted late, on purpose")
    assert audit_repo.verify(pf.db).ok
    assert messages(verify_file(pf, out, key)) == [
        (
            a,
            1,
            "this or a later record up to 4 was rewritten after checkpoint #1 "
            "(2027-01-04T08:00:00+00:00) signed them: record 4 no longer hashes to the signed head",
        )
    ]


def test_a_rewrite_at_a_signed_head_is_named_exactly(
    pf: Planflow, org: Org, key: Signer, tmp_path: Path
) -> None:
    _a, b = make_plans(pf)
    sc.make(pf.db, T0, key)
    out = tmp_path / "c.jsonl"
    publish_to_file(pf.db, out, key.verifier())
    rewrite(pf, b, 1, action="forged")
    assert audit_repo.verify(pf.db).ok
    assert [(p.plan_id, p.seq) for p in verify_file(pf, out, key).problems] == [(b, 1)]
    assert messages(verify_file(pf, out, key))[0][2].startswith("rewritten after checkpoint #1")


def test_erased_plan_and_its_signed_heads_are_caught(
    pf: Planflow, org: Org, key: Signer, tmp_path: Path
) -> None:
    _a, b = make_plans(pf)
    sc.make(pf.db, T0, key)
    out = tmp_path / "c.jsonl"
    publish_to_file(pf.db, out, key.verifier())
    with pf.db.write() as conn:
        conn.execute(delete(audit_t).where(audit_t.c.plan_id == b))
        conn.execute(update(plan_t).where(plan_t.c.id == b).values(audit_seq=0, audit_hash=""))
    assert audit_repo.verify(pf.db).ok
    assert messages(verify_file(pf, out, key)) == [
        (
            b,
            None,
            "the plan's whole audit trail is gone (deleted): checkpoint #1 "
            "(2027-01-04T08:00:00+00:00) signed 1 records of it",
        )
    ]
    # Deleting its signed head too leaves the signed roots wrong.
    with pf.db.write() as conn:
        conn.execute(delete(sc.head_t).where(sc.head_t.c.plan_id == b))
    assert [m for _, _, m in messages(verify_file(pf, out, key))] == [
        "the chain heads checkpoint #1 signed were altered or deleted in the database",
        "the database's chain heads do not rebuild checkpoint #1's root (altered or deleted)",
    ]


def test_deleted_or_altered_stored_checkpoints_are_caught(
    pf: Planflow, org: Org, key: Signer, tmp_path: Path
) -> None:
    a, _b = make_plans(pf)
    sc.make(pf.db, T0, key)
    pf.fire(a, "return_for_revision", "reviewer", comment="Dates")
    sc.make(pf.db, T0 + timedelta(hours=1), key)
    out = tmp_path / "c.jsonl"
    publish_to_file(pf.db, out, key.verifier())
    with pf.db.write() as conn:
        conn.execute(update(sc.signed_t).where(sc.signed_t.c.seq == 1).values(hash=h("x")))
        conn.execute(delete(sc.head_t).where(sc.head_t.c.checkpoint_seq == 2))
        conn.execute(delete(sc.signed_t).where(sc.signed_t.c.seq == 2))
    assert [m for _, _, m in messages(verify_file(pf, out, key))] == [
        "the database's checkpoint #1 is not the published one (altered)",
        "checkpoint #2 is published but not in the database (deleted)",
        "the chain heads checkpoint #2 signed were altered or deleted in the database",
        "the database's chain heads do not rebuild checkpoint #2's root (altered or deleted)",
    ]


def test_a_forged_file_is_caught(pf: Planflow, org: Org, key: Signer, tmp_path: Path) -> None:
    make_plans(pf)
    sc.make(pf.db, T0, key)
    out = tmp_path / "c.jsonl"
    publish_to_file(pf.db, out, key.verifier())
    value = json.loads(out.read_text())
    value["checkpoint"]["records"] += 1
    out.write_text(json.dumps(value) + "\n")
    assert "checkpoint #1: bad signature" in [str(p) for p in verify_file(pf, out, key).problems]
    stranger = generate(tmp_path / "other.pem")
    report = published_checkpoints.verify_published(
        pf.db, published(out), checker(stranger.verifier())
    )
    assert "checkpoint #1: unknown key" in [str(p) for p in report.problems]


def test_records_after_the_last_checkpoint_are_counted_not_covered(
    pf: Planflow, org: Org, key: Signer, tmp_path: Path
) -> None:
    a, _b = make_plans(pf)
    sc.make(pf.db, T0, key)
    out = tmp_path / "c.jsonl"
    publish_to_file(pf.db, out, key.verifier())
    pf.fire(a, "return_for_revision", "reviewer", comment="Dates")
    pf.create_plan(unit_code="branch_b", year=2028, title="C", actor="drafter_b")
    sc.make(pf.db, T0 + timedelta(hours=1), key)  # made, not yet in the file
    report = verify_file(pf, out, key)
    assert report.ok
    assert (report.uncovered_records, report.uncovered_plans, report.unpublished) == (2, 2, 1)
    assert (report.records, report.plans) == (7, 3)
    # ... and a rewrite there is only the chain's own business, not the signature's.
    rewrite(pf, a, 5, comment="changed before the next checkpoint")
    assert verify_file(pf, out, key).ok


# -- the publish file --------------------------------------------------------------------------


def test_publish_appends_only_what_is_new(
    pf: Planflow, org: Org, key: Signer, tmp_path: Path
) -> None:
    a, _ = make_plans(pf)
    out = tmp_path / "c.jsonl"
    assert publish_to_file(pf.db, out, key.verifier()) == 0
    sc.make(pf.db, T0, key)
    assert publish_to_file(pf.db, out, key.verifier()) == 1
    assert publish_to_file(pf.db, out, key.verifier()) == 0
    pf.fire(a, "return_for_revision", "reviewer", comment="Dates")
    sc.make(pf.db, T0 + timedelta(hours=1), key)
    assert publish_to_file(pf.db, out, key.verifier()) == 1
    lines = out.read_text().splitlines()
    assert [parse_line(x).statement.seq for x in lines] == [1, 2]
    last = read_last(out)
    assert last is not None and last.statement.seq == 2


def test_publish_refuses_what_does_not_continue_the_file(
    pf: Planflow, org: Org, key: Signer, tmp_path: Path
) -> None:
    a, _ = make_plans(pf)
    out = tmp_path / "c.jsonl"
    sc.make(pf.db, T0, key)
    publish_to_file(pf.db, out, key.verifier())
    # Someone re-signs history with another key in the database: not published.
    other = generate(tmp_path / "other.pem")
    pf.fire(a, "return_for_revision", "reviewer", comment="Dates")
    sc.make(pf.db, T0 + timedelta(hours=1), other)
    with pytest.raises(PublishError, match="not signed by the key"):
        publish_to_file(pf.db, out, key.verifier())
    assert len(out.read_text().splitlines()) == 1
    # The database lost checkpoints the file has (a restore, or a cover-up).
    with pf.db.write() as conn:
        conn.execute(delete(sc.head_t))
        conn.execute(delete(sc.signed_t))
    with pytest.raises(PublishError, match="ends at checkpoint #1 but the database only has #0"):
        publish_to_file(pf.db, out, key.verifier())
    out.write_text(out.read_text() + "garbage\n")
    with pytest.raises(PublishError, match="last line is not a checkpoint"):
        publish_to_file(pf.db, out, key.verifier())


# -- the scheduler -----------------------------------------------------------------------------


class Transport:
    """A mail transport that keeps what it was given, and refuses on request."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail: SendError | None = None

    def send(self, message: EmailMessage) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)

    def close(self) -> None:
        pass


def runner(
    pf: Planflow,
    key: Signer,
    tmp_path: Path,
    transport: Transport | None = None,
    file: str = "published.jsonl",
) -> CheckpointRunner:
    smtp = SmtpSettings(host="127.0.0.1", mail_from="planflow@example.org")
    outbox = Outbox(pf.db, pf.clock, smtp, pf.registry, "w", transport=transport or Transport())
    settings = CheckpointSettings(
        key_path=key.path,
        minutes=60,
        file=tmp_path / file,
        email=parse_address(AUDITOR),
    )
    return CheckpointRunner(pf.db, pf.clock, outbox, settings)


def test_slots_are_cut_from_the_epoch() -> None:
    at = datetime(2027, 1, 4, 8, 59, 59, tzinfo=UTC)
    assert slot_start(at, 60) == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    assert slot_start(at, 15) == datetime(2027, 1, 4, 8, 45, tzinfo=UTC)
    assert slot_start(at, 1440) == datetime(2027, 1, 4, tzinfo=UTC)


def test_runner_makes_publishes_and_mails_once_per_slot(
    pf: Planflow, org: Org, key: Signer, clock: FixedClock, tmp_path: Path
) -> None:
    a, _ = make_plans(pf)
    transport = Transport()
    # Two schedulers on two hosts, each with its own publish file.
    one = runner(pf, key, tmp_path, transport, "one.jsonl")
    two = runner(pf, key, tmp_path, transport, "two.jsonl")
    first = one.run()
    assert (first.made, first.published, first.mail.sent) == (1, 1, 1)
    second = two.run()  # the same slot: only its file catches up
    assert (second.made, second.published, second.mail.sent) == (None, 1, 0)
    clock.advance(timedelta(hours=1))
    assert one.run().made is None  # next slot, nothing changed
    pf.fire(a, "return_for_revision", "reviewer", comment="Dates")
    assert two.run().made is None  # still the slot that was done
    clock.advance(timedelta(hours=1))
    made = two.run()
    assert (made.made, made.published, made.mail.sent) == (2, 1, 1)
    assert one.run().published == 1
    assert (tmp_path / "one.jsonl").read_text() == (tmp_path / "two.jsonl").read_text()
    assert [m["Subject"] for m in transport.sent] == [
        "planflow audit checkpoint #1 (2027-01-04 08:00:00 UTC)",
        "planflow audit checkpoint #2 (2027-01-04 10:00:00 UTC)",
    ]
    body = transport.sent[1].get_content()
    assert (tmp_path / "two.jsonl").read_text().splitlines()[1] in body
    assert key.verifier().public_b64 in body
    assert transport.sent[0]["To"] == AUDITOR
    assert transport.sent[0]["Message-ID"] == "<planflow.checkpoint.1@example.org>"


def test_a_refused_mail_is_tried_again_after_the_hold(
    pf: Planflow, org: Org, key: Signer, clock: FixedClock, tmp_path: Path
) -> None:
    make_plans(pf)
    transport = Transport()
    transport.fail = SendError("451 later")
    r = runner(pf, key, tmp_path, transport)
    assert r.run().mail.retried == 1
    transport.fail = None
    assert r.run().mail.total == 0  # held
    clock.advance(MAIL_HOLD)
    assert r.run().mail.sent == 1
    clock.advance(MAIL_HOLD)
    assert r.run().mail.total == 0
    assert len(transport.sent) == 1
    # A permanent refusal is final.
    transport.fail = SendError("550 no such user", permanent=True)
    pf.create_plan(unit_code="branch_b", year=2028, title="C", actor="drafter_b")
    clock.advance(timedelta(hours=1))
    assert r.run().mail.failed == 1
    clock.advance(MAIL_HOLD)
    assert r.run().mail.total == 0


def test_without_a_key_the_scheduler_says_so_and_signs_nothing(
    pf: Planflow, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANFLOW_AUDIT_KEY", raising=False)
    make_plans(pf)
    s = Scheduler(pf)
    assert (
        s.checkpoints.describe() == "signed audit checkpoints: off (PLANFLOW_AUDIT_KEY is not set)"
    )
    report = s.tick()
    assert report.errors == [] and report.checkpoints.made is None
    assert sc.last_seq(pf.db) == 0


def test_scheduler_tick_makes_a_checkpoint(
    pf: Planflow,
    org: Org,
    key: Signer,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "published.jsonl"
    monkeypatch.setenv("PLANFLOW_AUDIT_KEY", str(key.path))
    monkeypatch.setenv("PLANFLOW_CHECKPOINT_MINUTES", "30")
    monkeypatch.setenv("PLANFLOW_CHECKPOINT_FILE", str(out))
    monkeypatch.delenv("PLANFLOW_SMTP_HOST", raising=False)
    monkeypatch.delenv("PLANFLOW_CHECKPOINT_EMAIL", raising=False)
    make_plans(pf)
    s = Scheduler(pf)
    assert s.checkpoints.describe().startswith("signed audit checkpoints every 30 min, key ")
    report = s.tick()
    assert report.errors == [] and report.checkpoints.made == 1
    assert "signed audit checkpoint: #1, published: 1" in report.describe()
    assert verify_file(pf, out, key).ok
    # A publish file that cannot be continued is an error of the tick, said once in the log.
    out.write_text("garbage\n")
    pf.create_plan(unit_code="branch_b", year=2028, title="C", actor="drafter_b")
    clock.advance(timedelta(minutes=30))
    report = s.tick()
    assert report.checkpoints.made == 2
    assert len(report.errors) == 1 and "last line is not a checkpoint" in report.errors[0]


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"PLANFLOW_CHECKPOINT_MINUTES": "-5"}, "give minutes"),
        ({"PLANFLOW_CHECKPOINT_MINUTES": "soon"}, "give minutes"),
        ({"PLANFLOW_CHECKPOINT_EMAIL": "not an address"}, "not an e-mail address"),
    ],
)
def test_bad_settings_are_refused(env: dict[str, str], why: str) -> None:
    with pytest.raises(Exception, match=why):
        CheckpointSettings.from_env(env)


def test_settings_defaults() -> None:
    s = CheckpointSettings.from_env({})
    assert (s.key_path, s.minutes, s.file, s.email) == (None, 60, None, None)
    s = CheckpointSettings.from_env(
        {"PLANFLOW_AUDIT_KEY": "/k.pem", "PLANFLOW_CHECKPOINT_MINUTES": "0"}
    )
    assert (s.key_path, s.minutes) == (Path("/k.pem"), 0)


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli: CliRun) -> CliRun:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    for name in ("PLANFLOW_AUDIT_KEY", "PLANFLOW_CHECKPOINT_FILE", "PLANFLOW_CHECKPOINT_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    return cli


def test_cli_keygen(run: CliRun, tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.pem"
    path.parent.mkdir()
    code, out, err = run("audit", "keygen", "--out", str(path))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"private key written to {path} (mode 600); set PLANFLOW_AUDIT_KEY={path}"
    public = lines[1].removeprefix("public key: ")
    assert load_verifier(public).key_id == load_signer(path).key_id
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    code, _, err = run("audit", "keygen", "--out", str(path))
    assert code == 1 and "exists; a signing key is never overwritten" in err
    code, _, err = run("audit", "keygen")
    assert code == 2 and "give --out PATH" in err


def test_cli_checkpoint_verify_and_the_insider(
    run: CliRun,
    pf: Planflow,
    org: Org,
    key: Signer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, _ = make_plans(pf)
    out = tmp_path / "published.jsonl"
    code, _, err = run("audit", "checkpoint")
    assert code == 0 and "not signed: PLANFLOW_AUDIT_KEY is not set" in err
    monkeypatch.setenv("PLANFLOW_AUDIT_KEY", str(key.path))
    monkeypatch.setenv("PLANFLOW_CHECKPOINT_FILE", str(out))
    code, text, err = run("audit", "checkpoint")
    assert code == 0, err
    assert text.splitlines()[1].startswith("signed checkpoint #1 over 2 plans, 5 records")
    assert text.splitlines()[2] == f"1 signed checkpoints appended to {out}"
    code, text, _ = run("audit", "checkpoint")
    assert "nothing new to sign" in text

    public = key.verifier().public_b64
    at = published(out)[0].statement.at.isoformat(timespec="seconds")  # the real clock's
    monkeypatch.delenv("PLANFLOW_AUDIT_KEY")
    code, text, err = run("audit", "verify", "--checkpoints", str(out), "--public-key", public)
    assert code == 0, err
    assert text.splitlines()[1:] == [
        f"checked 1 signed checkpoints (#1..#1) from {out} against 5 records of 2 plans",
        f"checkpoint #1 ({at}) covers 5 records in 2 plans",
        f"records after {at} are not yet covered: 0 records in 0 plans",
        "audit trail OK",
    ]
    code, text, _ = run("audit", "verify")
    assert "1 signed checkpoints in the database: check the trail against the published" in text

    pf.fire(a, "return_for_revision", "reviewer", comment="Dates")
    rewrite(pf, a, 2, comment="rewritten")
    # The checkpoints kept only in the database go too: nothing inside it remembers.
    with pf.db.write() as conn:
        conn.execute(delete(audit_repo.anchor_t))
        conn.execute(delete(audit_repo.checkpoint_t))
    code, text, err = run("audit", "verify")
    assert code == 0 and text.endswith("audit trail OK\n")
    code, text, err = run("audit", "verify", "--checkpoints", str(out), "--public-key", public)
    assert code == 1
    assert f"records after {at} are not yet covered: 1 records in 1 plans" in text
    assert err.startswith(f"audit trail BROKEN: plan {a}, record 1: this or a later record up to 4")

    code, _, err = run("audit", "verify", "--checkpoints", str(out))
    assert code == 2 and "--checkpoints needs --public-key KEY" in err


def test_cli_publish(
    run: CliRun,
    pf: Planflow,
    org: Org,
    key: Signer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_plans(pf)
    sc.make(pf.db, T0, key)
    copy = tmp_path / "copy.jsonl"
    code, _, err = run("audit", "publish", "--file", str(copy))
    assert code == 2 and "PLANFLOW_AUDIT_KEY is not set" in err
    monkeypatch.setenv("PLANFLOW_AUDIT_KEY", str(key.path))
    code, text, err = run("audit", "publish", "--file", str(copy))
    assert (code, text) == (0, f"1 signed checkpoints appended to {copy}\n"), err
