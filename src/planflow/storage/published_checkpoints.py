"""Checking the database against signed checkpoints published outside it.

An auditor keeps the published checkpoints (a file, the e-mails): signed
statements the database cannot change. ``verify_published`` checks that the
database still agrees with them: the signatures and their chain, the
database's copies of the statements, the heads that rebuild each signed
root, and every plan's records rehashed from their fields. The checkpoints
themselves are made and read by ``storage.signed_checkpoints``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC

from sqlalchemy import Connection, select

from planflow.core.audit_chain import GENESIS, AuditEntry, ChainProblem
from planflow.core.checkpoints import (
    Head,
    SignatureCheck,
    Signed,
    SignedHead,
    Statement,
    check_published,
    check_signed_heads,
    merkle_root,
    plan_counts,
)
from planflow.core.org_audit import ORG_CHAIN, OrgAuditEntry
from planflow.storage import org_audit
from planflow.storage.db import Database
from planflow.storage.signed_checkpoints import head_t, signed_t
from planflow.storage.tables import AuditRecord

audit_t = AuditRecord.__table__  # type: ignore[attr-defined]

#: A record of a chain that a signed head covers: a plan's or the organisation's.
Chainable = AuditEntry | OrgAuditEntry


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
