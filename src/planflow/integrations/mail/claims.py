"""The claim on an outbox row: taking a batch, holding it, letting it go, under a token.

Several scheduler processes may send at the same time; they share the work
through the ``notification`` rows themselves:

1. Claim: one UPDATE takes a batch of due pending rows, writing a fresh token
   into ``email_claim`` and moving ``email_next_at`` one lease ahead. On
   PostgreSQL ``FOR UPDATE SKIP LOCKED`` hands concurrent senders disjoint
   rows; on SQLite the write lock does. A sender that dies leaves its rows
   to be claimed again when the lease runs out — nothing is lost. On SQLite
   new rows have no due time: they are taken first, in id order after the
   outbox watermark, which the same transaction moves past them
   (``storage.tables.OutboxWatermark`` says why that loses nothing).
2. Before each send the row is renewed only if the token is still ours, so
   a sender that stalled past its lease does not send what another sender
   has taken over.
3. After the server accepted the message the row is finished, again only
   under our token; a row to try later is released the same way.

The one window no database can close is between the SMTP server accepting a
message and step 3 committing: if the process dies right there (or the
database stays unreachable longer than the claim or a minute, see
``Outbox._mark_sent``), the row is claimed again after the lease and the
message goes out a second time. Delivery is therefore at-least-once with a
window of one message per crash; the stable ``Message-ID`` of each
notification lets mail systems recognise the duplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planflow.integrations.mail import sql
from planflow.integrations.mail.recipients import payload_of
from planflow.storage.tx import Tx


@dataclass(frozen=True)
class ClaimedRow:
    """A notification this sender holds: what its e-mail needs, and how often it was tried."""

    id: int
    user_id: int
    plan_id: int | None
    kind: str
    payload: dict[str, Any]
    attempts: int


def new_token(worker_id: str) -> str:
    """A claim token, unique per run; the worker id in it tells an operator who holds a row."""
    return f"{worker_id[:31]}/{uuid.uuid4().hex}"


def claim_batch(
    tx: Tx, token: str, *, now: datetime, lease_until: datetime, n: int
) -> list[ClaimedRow]:
    """Take up to ``n`` due pending rows for ``token`` until ``lease_until`` (step 1).

    On SQLite the new rows come first, found after the watermark, which
    moves past them in the same transaction; then rows due for another try.
    """
    params: dict[str, Any] = {"token": token, "lease_until": lease_until, "now": now, "n": n}
    found: list[tuple[Any, ...]] = []
    if tx.dialect == "sqlite":
        found = _claim_new(tx, params)
        params["n"] = n - len(found)
    claim = sql.CLAIM_SQLITE if tx.dialect == "sqlite" else sql.CLAIM_POSTGRESQL
    if params["n"] > 0:
        found += tx.all(claim, params)
    return [ClaimedRow(int(i), int(u), p, k, payload_of(pl), int(a)) for i, u, p, k, pl, a in found]


def _claim_new(tx: Tx, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    row = tx.one(sql.WATERMARK, {})
    after = int(row[0]) if row else 0
    found = tx.all(sql.CLAIM_NEW_SQLITE, {**params, "after": after})
    if len(found) < params["n"]:
        # Every new row is taken: skip whatever else lies past the watermark.
        last = tx.one(sql.LAST_NOTIFICATION, {})
        moved_to = int(last[0]) if last and last[0] is not None else after
    else:
        moved_to = max(int(r[0]) for r in found)
    if moved_to != after:
        tx.run(sql.MOVE_WATERMARK, {"last_id": moved_to})
    return found


def renew(tx: Tx, row: ClaimedRow, token: str, lease_until: datetime) -> bool:
    """Hold the row for another lease if it is still ours (step 2); False: taken over."""
    return bool(tx.run(sql.RENEW, {"lease_until": lease_until, "id": row.id, "token": token}))


def finish(tx: Tx, row: ClaimedRow, token: str, status: str, attempts: int) -> bool:
    """The row's e-mail is done: sent, skipped, failed or left to the digest (step 3).

    False when the claim is no longer ours: someone else holds the row now.
    """
    params = {"status": status, "attempts": attempts, "id": row.id, "token": token}
    return bool(tx.run(sql.FINISH, params))


def release(tx: Tx, row: ClaimedRow, token: str, attempts: int, next_at: datetime) -> None:
    """Back to the queue, due again at ``next_at``, after ``attempts`` tries."""
    params = {"attempts": attempts, "next_at": next_at, "id": row.id, "token": token}
    tx.run(sql.RELEASE, params)
