"""The audit trail in the database: verify, checkpoint, export.

Records are appended by ``planflow.services.changes.write_audit`` inside each change's
transaction. This module reads them back:

* ``verify`` walks every plan's chain (streaming, plan by plan), compares each
  chain's end with the head stored on the plan row, checks the
  organisation's chain of admin actions the same way, checks every anchor left
  by the latest checkpoint, and checks the checkpoint chain itself. It names
  the first record that was altered, deleted or inserted.
* ``checkpoint`` hashes all chain heads together and chains that digest to
  the previous checkpoint. A plan whose whole history (and plan row) was
  deleted is still caught: its anchor points at records that are gone, and
  deleting the anchor too changes the digest of the latest checkpoint.
  Whoever can rewrite the whole database can rewrite any trail that lives
  only inside it, these checkpoints included: the signed checkpoints
  (``planflow.storage.signed_checkpoints``), published outside the
  database, are what holds against that.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Connection, delete, func, insert, select

from planflow.core.audit_chain import (
    GENESIS,
    AuditEntry,
    ChainProblem,
    StoredEntry,
    check_plan_chain,
    checkpoint_hash,
    heads_digest,
)
from planflow.core.text import csv_cell
from planflow.storage import org_audit
from planflow.storage.audit_keys import key_of, of_plan
from planflow.storage.db import Database
from planflow.storage.tables import AuditAnchor, AuditCheckpoint, AuditRecord, Plan

audit_t = AuditRecord.__table__  # type: ignore[attr-defined]
plan_t = Plan.__table__  # type: ignore[attr-defined]
anchor_t = AuditAnchor.__table__  # type: ignore[attr-defined]
checkpoint_t = AuditCheckpoint.__table__  # type: ignore[attr-defined]

#: The formats ``export`` writes.
EXPORT_FORMATS = ("jsonl", "csv")

EXPORT_FIELDS = (
    "plan_id",
    "seq",
    "actor_id",
    "on_behalf_of_id",
    "at",
    "action",
    "from_state",
    "to_state",
    "comment",
    "revision",
    "detail",
    "prev_hash",
    "hash",
)


@dataclass
class VerifyReport:
    plans: int = 0
    records: int = 0
    #: Records of the organisation's chain of admin actions (``planflow.storage.org_audit``).
    org_records: int = 0
    checkpoints: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> ChainProblem | None:
        return self.problems[0] if self.problems else None


def _stored(row: Any) -> StoredEntry:
    r = row
    return StoredEntry(
        entry=AuditEntry(
            plan_id=r.plan_id,
            seq=r.seq,
            actor_id=r.actor_id,
            on_behalf_of_id=r.on_behalf_of_id,
            at=r.at,
            action=r.action,
            from_state=r.from_state,
            to_state=r.to_state,
            comment=r.comment,
            revision=r.revision,
            detail=r.detail,
            prev_hash=r.prev_hash,
        ),
        stored_hash=r.hash,
    )


def _records_by_plan(conn: Connection) -> Iterator[tuple[int, list[StoredEntry]]]:
    rows = conn.execution_options(yield_per=2000).execute(
        select(audit_t).order_by(audit_t.c.id)  # plan by plan, each in chain order
    )
    current: int | None = None
    batch: list[StoredEntry] = []
    for row in rows:
        if row.plan_id != current:
            if current is not None:
                yield current, batch
            current, batch = row.plan_id, []
        batch.append(_stored(row))
    if current is not None:
        yield current, batch


def verify(db: Database, *, max_problems: int = 100) -> VerifyReport:
    report = VerifyReport()
    with db.read(streamed=True) as conn:
        heads = {
            r.id: (r.audit_seq, r.audit_hash)
            for r in conn.execute(select(plan_t.c.id, plan_t.c.audit_seq, plan_t.c.audit_hash))
        }
        report.plans = len(heads)
        seen: set[int] = set()
        for plan_id, records in _records_by_plan(conn):
            seen.add(plan_id)
            report.records += len(records)
            head = heads.get(plan_id)
            if head is None:
                report.problems.append(
                    ChainProblem(
                        plan_id,
                        None,
                        "audit records exist for a plan that does not",
                        "orphan_records",
                    )
                )
            report.problems.extend(check_plan_chain(plan_id, records, head))
            if len(report.problems) >= max_problems:
                return report
        for plan_id, head in heads.items():
            if plan_id not in seen and head[0] > 0:
                report.problems.append(
                    ChainProblem(
                        plan_id, None, "the plan's whole audit trail is missing", "trail_missing"
                    )
                )
        report.org_records, org_problems = org_audit.verify(conn)
        report.problems.extend(org_problems)
        _verify_checkpoints(conn, report)
    return report


def _verify_checkpoints(conn: Connection, report: VerifyReport) -> None:
    checkpoints = list(conn.execute(select(checkpoint_t).order_by(checkpoint_t.c.id)))
    report.checkpoints = len(checkpoints)
    prev = GENESIS
    for cp in checkpoints:
        expected = checkpoint_hash(cp.at, cp.plan_count, cp.record_count, cp.digest, cp.prev_hash)
        which = {"checkpoint": cp.id}
        if cp.prev_hash != prev:
            message = f"checkpoint #{cp.id} does not link to the one before it"
            report.problems.append(ChainProblem(None, None, message, "checkpoint_unlinked", which))
        if expected != cp.hash:
            message = f"checkpoint #{cp.id} was altered"
            report.problems.append(ChainProblem(None, None, message, "checkpoint_altered", which))
        prev = cp.hash
    if not checkpoints:
        return
    latest = checkpoints[-1]
    anchors = list(conn.execute(select(anchor_t.c.plan_id, anchor_t.c.seq, anchor_t.c.hash)))
    if heads_digest((a.plan_id, a.seq, a.hash) for a in anchors) != latest.digest:
        report.problems.append(
            ChainProblem(
                None,
                None,
                f"the chain heads recorded at checkpoint #{latest.id} were altered or deleted",
                "checkpoint_heads_altered",
                {"checkpoint": latest.id},
            )
        )
    anchored = {
        (r.plan_id, r.seq): r.hash
        for r in conn.execute(
            select(audit_t.c.plan_id, audit_t.c.seq, audit_t.c.hash).join(
                anchor_t,
                audit_t.c.id == key_of(anchor_t.c.plan_id, anchor_t.c.seq),
            )
        )
    }
    for a in anchors:
        found = anchored.get((a.plan_id, a.seq))
        if found is None:
            report.problems.append(
                ChainProblem(
                    a.plan_id,
                    a.seq,
                    f"anchored by checkpoint #{latest.id} but the record is gone (deleted)",
                    "anchored_missing",
                    {"checkpoint": latest.id},
                )
            )
        elif found != a.hash:
            report.problems.append(
                ChainProblem(
                    a.plan_id,
                    a.seq,
                    f"differs from the record anchored by checkpoint #{latest.id} (altered)",
                    "anchored_altered",
                    {"checkpoint": latest.id},
                )
            )


def checkpoint(db: Database, now: datetime) -> AuditCheckpoint:
    """Anchor every plan's current chain head; returns the new checkpoint."""
    with db.write() as conn:
        heads = [
            (r.id, r.audit_seq, r.audit_hash)
            for r in conn.execute(
                select(plan_t.c.id, plan_t.c.audit_seq, plan_t.c.audit_hash).where(
                    plan_t.c.audit_seq > 0
                )
            )
        ]
        records = int(conn.execute(select(func.count()).select_from(audit_t)).scalar_one())
        prev_row = conn.execute(
            select(checkpoint_t.c.hash).order_by(checkpoint_t.c.id.desc()).limit(1)
        ).first()
        prev = prev_row.hash if prev_row else GENESIS
        digest = heads_digest(heads)
        cp_hash = checkpoint_hash(now, len(heads), records, digest, prev)
        inserted = conn.execute(
            insert(checkpoint_t),
            {
                "at": now,
                "plan_count": len(heads),
                "record_count": records,
                "digest": digest,
                "prev_hash": prev,
                "hash": cp_hash,
            },
        ).inserted_primary_key
        assert inserted is not None
        cp_id = int(inserted[0])
        conn.execute(delete(anchor_t))
        if heads:
            conn.execute(
                insert(anchor_t),
                [{"plan_id": p, "seq": s, "hash": h, "checkpoint_id": cp_id} for p, s, h in heads],
            )
        return AuditCheckpoint(
            id=cp_id,
            at=now,
            plan_count=len(heads),
            record_count=records,
            digest=digest,
            prev_hash=prev,
            hash=cp_hash,
        )


def iter_rows(db: Database, plan_id: int | None = None) -> Iterator[Any]:
    """The stored records (of one plan, or all) as rows, oldest first, streamed."""
    with db.read(streamed=True) as conn:
        query = select(audit_t).order_by(audit_t.c.at, audit_t.c.plan_id, audit_t.c.seq)
        if plan_id is not None:
            query = query.where(of_plan(audit_t.c.id, plan_id))
        yield from conn.execution_options(yield_per=2000).execute(query)


def iter_records(db: Database, plan_id: int | None = None) -> Iterator[dict[str, object]]:
    """The records in the export's form (``EXPORT_FIELDS``; the time as ISO text)."""
    for row in iter_rows(db, plan_id):
        data = {name: getattr(row, name) for name in EXPORT_FIELDS}
        data["at"] = row.at.isoformat(timespec="microseconds")
        yield data


def export(records: Iterable[dict[str, object]], out: IO[str], fmt: str = "jsonl") -> int:
    """Write records as JSON lines or CSV; returns how many were written.

    JSON lines are exact (a record's hash can be checked from them); CSV is for
    reading in a spreadsheet, so its cells are escaped against formulas (``csv_cell``).
    """
    count = 0
    if fmt == "jsonl":
        for rec in records:
            out.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(EXPORT_FIELDS), lineterminator="\n")
        writer.writeheader()
        for rec in records:
            # People's comments and titles are in the records: a spreadsheet must not run them.
            writer.writerow({k: csv_cell(v) for k, v in rec.items()})
            count += 1
    else:
        raise ValueError(f"unknown export format {fmt!r}; use jsonl or csv")
    return count


def export_to_string(db: Database, fmt: str = "jsonl") -> str:
    buf = io.StringIO()
    export(iter_records(db), buf, fmt)
    return buf.getvalue()
