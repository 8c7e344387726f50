"""The audit hash chain, as plain Python: canonical form, hashing, checking.

Each plan has its own chain: record ``seq`` carries the hash of record
``seq - 1`` of the same plan, so writers on different plans never wait for
each other. Checkpoints (``planflow.storage.audit_repo``) periodically hash
every chain head together and chain those digests, so that deleting a whole
plan's history is detected too.

The hash is SHA-256 over a canonical JSON array of the record's fields in a
fixed order (no insignificant whitespace, UTF-8, timestamps in ISO 8601 UTC
with microseconds). ``AuditEntry.canonical`` is the specification: field
order never changes; a new field would be appended, with a format version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from planflow.core.compact_json import compact_json_array, sorted_json

GENESIS = "0" * 64


_last_iso: tuple[datetime | None, str] = (None, "")


@lru_cache(maxsize=8)
def iso_day(day: date) -> str:
    """``day.isoformat()``, remembered: the timestamps a process writes fall on a
    few days (today, and due dates), and the date is a fifth of their formatting."""
    return day.isoformat()


def utc_isoformat(at: datetime) -> str:
    """``at`` in UTC, ISO 8601 with microseconds (``2027-04-01T08:00:00.000000+00:00``).

    The last value is remembered: a transition formats its one timestamp for
    the hash and again for the database, and ``isoformat`` is not free.
    """
    global _last_iso
    last = _last_iso  # one read: another thread may replace it meanwhile
    if last[0] is at:
        return last[1]
    utc = at if at.tzinfo is UTC else at.astimezone(UTC)
    # ``isoformat`` of an aware value formats its offset through the tzinfo,
    # which costs more than the rest (measured: 1.7 µs against 1.0 µs for
    # date and time apart). ``time().isoformat()`` leaves out the fraction
    # only when there is none.
    text = (
        iso_day(utc.date()) + "T" + utc.time().isoformat() + "+00:00"
        if utc.microsecond
        else utc.isoformat(timespec="microseconds")
    )
    _last_iso = (at, text)
    return text


def last_isoformat(at: datetime) -> str | None:
    """``utc_isoformat(at)`` if ``at`` itself was the last value formatted, else None."""
    last = _last_iso
    return last[1] if last[0] is at else None


def canonical_json(value: Any) -> str:
    """Compact, keys sorted, UTF-8 as is: ``json.dumps(value, sort_keys=True, ...)``."""
    return sorted_json(value)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AuditEntry(NamedTuple):
    """One audit record's hashed fields."""

    plan_id: int
    seq: int
    actor_id: int | None
    on_behalf_of_id: int | None
    at: datetime
    action: str
    from_state: str | None
    to_state: str
    comment: str | None
    revision: int
    detail: str  # canonical JSON text
    prev_hash: str

    def canonical(self) -> str:
        return compact_json_array(
            (
                "planflow-audit-1",
                self.plan_id,
                self.seq,
                self.actor_id,
                self.on_behalf_of_id,
                utc_isoformat(self.at),
                self.action,
                self.from_state,
                self.to_state,
                self.comment,
                self.revision,
                self.detail,
                self.prev_hash,
            )
        )

    def compute_hash(self) -> str:
        return sha256_hex(self.canonical())


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as read back, with its database id and stored hash."""

    entry: AuditEntry
    stored_hash: str


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """Something wrong with the audit trail: where, a stable code and its parameters.

    ``message`` is the English for logs and the command line; clients say
    the problem by ``code`` (listed in ``docs/codes.md``).
    """

    plan_id: int | None
    seq: int | None
    message: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: On the organisation's chain of admin actions (``planflow.core.org_audit``), not a plan's.
    org: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        where = []
        if self.org:
            where.append("organisation audit")
        if self.plan_id is not None:
            where.append(f"plan {self.plan_id}")
        if self.seq is not None:
            where.append(f"record {self.seq}")
        return (", ".join(where) + ": " if where else "") + self.message


class Chained(Protocol):
    """What the chain check needs of a record: plan records and organisation records alike."""

    @property
    def seq(self) -> int: ...

    @property
    def prev_hash(self) -> str: ...

    def compute_hash(self) -> str: ...


def check_plan_chain(
    plan_id: int, records: Iterable[StoredEntry], head: tuple[int, str] | None
) -> Iterator[ChainProblem]:
    """Check one plan's records (ordered by seq) against each other and the head.

    ``head`` is the (seq, hash) the plan row says its chain ends at.
    """
    return check_chain(((s.entry, s.stored_hash) for s in records), head, plan_id=plan_id)


def check_chain(
    records: Iterable[tuple[Chained, str]],
    head: tuple[int, str] | None,
    *,
    plan_id: int | None = None,
    org: bool = False,
) -> Iterator[ChainProblem]:
    """Check one chain's ``(record, stored hash)`` pairs, ordered by seq, and its head.

    ``plan_id`` names the plan whose chain it is; ``org``: the organisation's.
    """
    owner = "the organisation's head" if org else "the plan"

    def problem(seq: int | None, message: str, code: str, **params: Any) -> ChainProblem:
        return ChainProblem(plan_id, seq, message, code, params, org=org)

    expected_seq = 1
    prev = GENESIS
    last: tuple[int, str] = (0, "")
    for e, stored_hash in records:
        if e.seq != expected_seq:
            if e.seq > expected_seq:
                yield problem(
                    e.seq,
                    f"records {expected_seq}..{e.seq - 1} are missing (deleted)",
                    "records_missing",
                    first=expected_seq,
                    last=e.seq - 1,
                )
            else:
                yield problem(e.seq, "duplicate sequence number", "duplicate_seq")
        if e.prev_hash != prev:
            yield problem(
                e.seq,
                "does not link to the previous record (a record was inserted, deleted or altered)",
                "broken_link",
            )
        if e.compute_hash() != stored_hash:
            yield problem(e.seq, "content does not match its hash (altered)", "altered")
        prev = stored_hash
        expected_seq = e.seq + 1
        last = (e.seq, stored_hash)
    if head is not None and head != last:
        if head[0] > last[0]:
            msg = f"the chain ends at seq {last[0]} but {owner} records seq {head[0]} (deleted)"
        elif head[0] == last[0]:
            msg = f"the last record (seq {last[0]}) is not the one {owner} points to (altered)"
        else:
            msg = f"the chain ends at seq {last[0]} but {owner} records seq {head[0]}"
        yield problem(None, msg, "head_mismatch", ends_at=last[0], plan_records=head[0])


def heads_digest(heads: Iterable[tuple[int, int, str]]) -> str:
    """Digest over ``(plan_id, seq, hash)`` chain heads, in plan id order."""
    h = hashlib.sha256()
    for plan_id, seq, head_hash in sorted(heads):
        h.update(f"{plan_id}:{seq}:{head_hash}\n".encode())
    return h.hexdigest()


def checkpoint_hash(
    at: datetime, plan_count: int, record_count: int, digest: str, prev: str
) -> str:
    return sha256_hex(
        canonical_json(
            {
                "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
                "plans": plan_count,
                "records": record_count,
                "digest": digest,
                "prev": prev,
            }
        )
    )
