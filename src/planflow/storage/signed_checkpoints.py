"""Signed checkpoints in the database: made, read back, and mailed to the auditor.

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

Checking the database against checkpoints published outside it (the file
an auditor kept) is ``storage.published_checkpoints``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from planflow.core.audit_chain import GENESIS
from planflow.core.checkpoints import (
    Head,
    Signed,
    Statement,
    changed_heads,
    next_statement,
)
from planflow.core.org_audit import ORG_CHAIN
from planflow.storage import org_audit
from planflow.storage.db import Database
from planflow.storage.tables import (
    AppliedEffect,
    AuditSignedCheckpoint,
    AuditSignedHead,
    Plan,
)

signed_t = AuditSignedCheckpoint.__table__  # type: ignore[attr-defined]
head_t = AuditSignedHead.__table__  # type: ignore[attr-defined]
plan_t = Plan.__table__  # type: ignore[attr-defined]
effect_t = AppliedEffect.__table__  # type: ignore[attr-defined]

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
