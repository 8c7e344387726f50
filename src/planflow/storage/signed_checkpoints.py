"""Signed checkpoints in the database: made, read back, mailed, checked against a published copy.

The statement and its checks are ``planflow.core.checkpoints``; the key is
an adapter passed in (``SigningKey``: ``planflow.integrations.signing``).

* ``make`` signs the current chain heads in one write transaction: it reads
  every plan's head and the heads the last checkpoint signed, and when any
  differ inserts checkpoint ``n + 1`` with the heads that changed. ``seq`` is
  the primary key, so of two processes making ``n + 1`` at once one fails
  and writes nothing. With a ``slot`` (the scheduler's "every N minutes")
  the slot's key goes into ``applied_effect`` in the same transaction:
  however many schedulers run, one of them does each slot, and a slot in
  which nothing changed is done too (nothing is signed).
* ``verify_published`` checks the database against checkpoints published
  outside it (the file an auditor kept): see its docstring.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from planflow.core.audit_chain import GENESIS, AuditEntry, ChainProblem
from planflow.core.checkpoints import (
    Head,
    SignatureCheck,
    Signed,
    SignedHead,
    Statement,
    changed_heads,
    check_published,
    check_signed_heads,
    merkle_root,
    next_statement,
    plan_counts,
)
from planflow.core.org_audit import ORG_CHAIN, OrgAuditEntry
from planflow.storage import org_audit
from planflow.storage.db import Database
from planflow.storage.tables import (
    AppliedEffect,
    AuditRecord,
    AuditSignedCheckpoint,
    AuditSignedHead,
    Plan,
)

signed_t = AuditSignedCheckpoint.__table__  # type: ignore[attr-defined]
head_t = AuditSignedHead.__table__  # type: ignore[attr-defined]
plan_t = Plan.__table__  # type: ignore[attr-defined]
audit_t = AuditRecord.__table__  # type: ignore[attr-defined]
effect_t = AppliedEffect.__table__  # type: ignore[attr-defined]

#: A record of a chain that a signed head covers: a plan's or the organisation's.
Chainable = AuditEntry | OrgAuditEntry

#: Head rows per INSERT, far below SQLite's bound-parameter limit.
_CHUNK = 500


class SigningKey(Protocol):
    @property
    def key_id(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


Outcome = Literal["made", "unchanged", "slot done", "raced"]


@dataclass(frozen=True)
class MakeResult:
    outcome: Outcome
    #: The new checkpoint ("made"), or the last one ("unchanged"), if any.
    signed: Signed | None = None


# -- making one ---------------------------------------------------------------------------


def _take_key(conn: Connection, key: str, at: datetime) -> bool:
    """Insert ``key`` into ``applied_effect``; False when it is there already."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(effect_t).values(key=key, plan_id=None, at=at)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT here.
    stmt = stmt.on_conflict_do_nothing(index_elements=["key"]).returning(effect_t.c.key)
    return conn.execute(stmt).first() is not None


def signed_heads(conn: Connection) -> dict[int, Head]:
    """Every plan's head as the latest checkpoint that changed it signed it."""
    h = head_t.alias("h")
    latest = (
        select(func.max(head_t.c.checkpoint_seq))
        .where(head_t.c.plan_id == h.c.plan_id)
        .scalar_subquery()
    )
    rows = conn.execute(select(h.c.plan_id, h.c.seq, h.c.hash).where(h.c.checkpoint_seq == latest))
    return {r.plan_id: (r.seq, r.hash) for r in rows}


def current_heads(conn: Connection) -> dict[int, Head]:
    """Every plan's chain head, and the organisation's as "plan" ``ORG_CHAIN`` (0)."""
    rows = conn.execute(
        select(plan_t.c.id, plan_t.c.audit_seq, plan_t.c.audit_hash).where(plan_t.c.audit_seq > 0)
    )
    heads = {r.id: (r.audit_seq, r.audit_hash) for r in rows}
    org_head = org_audit.head(conn)
    if org_head is not None and org_head[0] > 0:
        heads[ORG_CHAIN] = org_head
    return heads


def _signed_of(row: Any) -> Signed:
    statement = Statement.from_dict(json.loads(row.statement))
    return Signed(statement, base64.b64decode(row.signature))


def make(
    db: Database,
    now: datetime,
    key: SigningKey,
    *,
    slot: str | None = None,
    mail: bool = False,
) -> MakeResult:
    """Sign every plan's chain head if any changed since the last checkpoint.

    ``slot``: a key taken in ``applied_effect`` with the checkpoint, so the
    slot is done once across schedulers. ``mail``: the checkpoint waits for
    the auditor's e-mail (``mail_status = 'pending'``).
    """
    try:
        with db.write() as conn:
            if slot is not None and not _take_key(conn, slot, now):
                return MakeResult("slot done")
            last = conn.execute(select(signed_t).order_by(signed_t.c.seq.desc()).limit(1)).first()
            before = signed_heads(conn)
            changes = changed_heads(before, current_heads(conn))
            if not changes:
                return MakeResult("unchanged", _signed_of(last) if last else None)
            statement = next_statement(
                seq=last.seq + 1 if last else 1,
                at=now,
                signed=before,
                changes=changes,
                prev=last.hash if last else GENESIS,
                key=key.key_id,
            )
            text = statement.canonical()
            signed = Signed(statement, key.sign(text.encode("utf-8")))
            conn.execute(
                insert(signed_t),
                {
                    "seq": statement.seq,
                    "at": now,
                    "statement": text,
                    "signature": base64.b64encode(signed.signature).decode("ascii"),
                    "hash": statement.hash(),
                    "mail_status": "pending" if mail else None,
                },
            )
            rows = [
                {"checkpoint_seq": statement.seq, "plan_id": p, "seq": s, "hash": h}
                for p, (s, h) in sorted(changes.items())
            ]
            for start in range(0, len(rows), _CHUNK):
                conn.execute(insert(head_t), rows[start : start + _CHUNK])
            return MakeResult("made", signed)
    except IntegrityError:
        # Another process inserted the same checkpoint number first: its
        # checkpoint covers what this one would have.
        return MakeResult("raced")


# -- reading ------------------------------------------------------------------------------


def stored_after(db: Database, seq: int, limit: int = 1000) -> list[Signed]:
    """The stored checkpoints after ``seq``, in order (for publishing)."""
    with db.read() as conn:
        rows = conn.execute(
            select(signed_t.c.statement, signed_t.c.signature)
            .where(signed_t.c.seq > seq)
            .order_by(signed_t.c.seq)
            .limit(limit)
        )
        return [_signed_of(r) for r in rows]


def last_seq(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.coalesce(func.max(signed_t.c.seq), 0))).scalar_one())


def count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(signed_t)).scalar_one())


# -- the auditor's e-mail -----------------------------------------------------------------


def mail_pending(db: Database, limit: int = 20) -> list[Signed]:
    with db.read() as conn:
        rows = conn.execute(
            select(signed_t.c.statement, signed_t.c.signature)
            .where(signed_t.c.mail_status == "pending")
            .order_by(signed_t.c.seq)
            .limit(limit)
        )
        return [_signed_of(r) for r in rows]


def mail_key(seq: int) -> str:
    return f"checkpoint-mail:{seq}"


def take_mail(db: Database, seq: int, now: datetime, hold: timedelta) -> bool:
    """The checkpoint's e-mail key, in its own transaction: one sender at a time gets it.

    The key's time is a lease: a sender that died with it (or whose server
    said "later") leaves it, and after ``hold`` the next run takes it over
    and sends again. So the e-mail goes out at least once, and twice only
    when a sender dies between the server accepting it and ``mail_done``.
    """
    key = mail_key(seq)
    with db.write() as conn:
        if _take_key(conn, key, now):
            return True
        taken = conn.execute(
            update(effect_t)
            .where(effect_t.c.key == key, effect_t.c.at <= now - hold)
            .values(at=now)
            .returning(effect_t.c.key)
        )
        return taken.first() is not None


def mail_done(db: Database, seq: int, status: Literal["sent", "failed"]) -> None:
    with db.write() as conn:
        conn.execute(
            update(signed_t)
            .where(signed_t.c.seq == seq, signed_t.c.mail_status == "pending")
            .values(mail_status=status)
        )


# -- checking against a published copy ----------------------------------------------------


@dataclass
class PublishedReport:
    #: Signed checkpoints read from the published copy.
    checkpoints: int = 0
    first: Statement | None = None
    last: Statement | None = None
    plans: int = 0
    records: int = 0
    #: Records no published checkpoint covers yet, and the plans they are in.
    uncovered_records: int = 0
    uncovered_plans: int = 0
    #: Checkpoints the database has after the last published one.
    unpublished: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _records_by_plan(conn: Connection) -> Iterator[tuple[int, Sequence[Chainable]]]:
    """Each plan's records in chain order; first the organisation's, as plan ``ORG_CHAIN``."""
    org_entries = org_audit.entries(conn)
    if org_entries:
        yield ORG_CHAIN, org_entries
    rows = conn.execution_options(yield_per=2000).execute(select(audit_t).order_by(audit_t.c.id))
    current: int | None = None
    batch: list[AuditEntry] = []
    for r in rows:
        if r.plan_id != current:
            if current is not None:
                yield current, batch
            current, batch = r.plan_id, []
        batch.append(AuditEntry(*(getattr(r, name) for name in AuditEntry._fields)))
    if current is not None:
        yield current, batch


def recomputed(records: Sequence[Chainable]) -> dict[int, str]:
    """Each record's hash when the chain is recomputed from the records' fields alone.

    The stored ``hash`` and ``prev_hash`` columns are not trusted: record n
    is hashed onto the recomputed hash of the record before it, so only
    what the records say decides whether they reach a signed head.
    """
    out: dict[int, str] = {}
    prev = GENESIS
    for entry in records:
        prev = entry._replace(prev_hash=prev).compute_hash()
        out.setdefault(entry.seq, prev)
    return out


def verify_published(
    db: Database, published: Sequence[Signed], check: SignatureCheck
) -> PublishedReport:
    """Check the database against checkpoints published outside it.

    1. every signature holds and the published checkpoints form one chain;
    2. the database's copy of each is the same statement (none deleted or altered);
    3. the heads the database keeps for them rebuild each signed root: the
       changes of every checkpoint, and all heads at the first and the last;
    4. every plan's records, rehashed from their fields, still reach every
       head signed for the plan (a chain only grows: each signed head stays
       on it), and a plan that was signed still has its records.

    Records after the last published checkpoint are counted, not checked:
    nothing outside the database vouches for them yet.
    """
    report = PublishedReport(checkpoints=len(published))
    if not published:
        return report
    statements = {s.statement.seq: s.statement for s in published}
    first = report.first = published[0].statement
    last = report.last = published[-1].statement
    report.problems.extend(check_published(published, check))
    with db.read(streamed=True) as conn:
        stored = {r.seq: r.hash for r in conn.execute(select(signed_t.c.seq, signed_t.c.hash))}
        for seq, st in statements.items():
            if seq not in stored:
                report.problems.append(
                    ChainProblem(
                        None,
                        None,
                        f"checkpoint #{seq} is published but not in the database (deleted)",
                        "signed_checkpoint_missing",
                        {"checkpoint": seq},
                    )
                )
            elif stored[seq] != st.hash():
                report.problems.append(
                    ChainProblem(
                        None,
                        None,
                        f"the database's checkpoint #{seq} is not the published one (altered)",
                        "signed_checkpoint_altered",
                        {"checkpoint": seq},
                    )
                )
        report.unpublished = sum(1 for seq in stored if seq > last.seq)
        heads, signed = _signed_heads(conn, statements, first, last, report.problems)
        _check_records(conn, heads, signed, report)
    return report


def _signed_heads(
    conn: Connection,
    statements: dict[int, Statement],
    first: Statement,
    last: Statement,
    problems: list[ChainProblem],
) -> tuple[dict[int, Head], dict[int, list[SignedHead]]]:
    """The heads at the last published checkpoint, and each plan's signed heads from the first."""
    changes: dict[int, dict[int, Head]] = defaultdict(dict)
    rows = conn.execute(
        select(head_t.c.checkpoint_seq, head_t.c.plan_id, head_t.c.seq, head_t.c.hash)
        .where(head_t.c.checkpoint_seq <= last.seq)
        .order_by(head_t.c.checkpoint_seq, head_t.c.plan_id)
    )
    for r in rows:
        changes[r.checkpoint_seq][r.plan_id] = (r.seq, r.hash)
    heads: dict[int, Head] = {}
    signed: dict[int, list[SignedHead]] = defaultdict(list)
    for seq in sorted(set(changes) | set(statements)):
        changed = changes.get(seq, {})
        heads.update(changed)
        st = statements.get(seq)
        if st is None:
            continue
        if st.changes != len(changed) or st.changes_root != merkle_root(changed):
            problems.append(
                ChainProblem(
                    None,
                    None,
                    f"the chain heads checkpoint #{seq} signed were altered or deleted"
                    " in the database",
                    "signed_heads_altered",
                    {"checkpoint": seq},
                )
            )
        if seq in (first.seq, last.seq) and not _rebuilds(st, heads):
            problems.append(
                ChainProblem(
                    None,
                    None,
                    f"the database's chain heads do not rebuild checkpoint #{seq}'s root"
                    " (altered or deleted)",
                    "signed_heads_altered",
                    {"checkpoint": seq},
                )
            )
        if seq == first.seq:
            # The published copy starts here: it vouches for all heads at this point.
            for plan_id, (s, h) in heads.items():
                signed[plan_id].append(SignedHead(seq, st.at, s, h))
        elif seq > first.seq:
            for plan_id, (s, h) in changed.items():
                signed[plan_id].append(SignedHead(seq, st.at, s, h))
    return heads, signed


def _rebuilds(st: Statement, heads: dict[int, Head]) -> bool:
    """The heads give the statement's root and counts."""
    return (st.heads_root, st.plans, st.records) == (merkle_root(heads), *plan_counts(heads))


def _check_records(
    conn: Connection,
    heads: dict[int, Head],
    signed: dict[int, list[SignedHead]],
    report: PublishedReport,
) -> None:
    uncovered: dict[int, int] = {}
    for plan_id, records in _records_by_plan(conn):
        if plan_id != ORG_CHAIN:
            report.plans += 1
            report.records += len(records)
        problem = check_signed_heads(plan_id, recomputed(records), signed.pop(plan_id, []))
        if problem is not None:
            report.problems.append(_named(problem))
        covered = heads.get(plan_id, (0, ""))[0]
        after = sum(1 for e in records if e.seq > covered)
        if after:
            uncovered[plan_id] = after
    for plan_id, gone in sorted(signed.items()):
        if not gone:
            continue
        last = gone[-1]
        report.problems.append(
            _named(
                ChainProblem(
                    plan_id,
                    None,
                    f"the plan's whole audit trail is gone (deleted): checkpoint #{last.checkpoint}"
                    f" ({last.at.astimezone(UTC).isoformat()}) signed {last.seq} records of it",
                    "signed_trail_missing",
                    {"checkpoint": last.checkpoint, "records": last.seq},
                )
            )
        )
    report.uncovered_records = sum(uncovered.values())
    report.uncovered_plans = len(uncovered)


def _named(problem: ChainProblem) -> ChainProblem:
    """A problem of "plan" ``ORG_CHAIN`` said as the organisation's chain."""
    if problem.plan_id != ORG_CHAIN:
        return problem
    return replace(problem, plan_id=None, org=True)
