"""Signed checkpoints of the audit trail, as plain Python: the statement, the tree, the checks.

The idea is RFC 6962's signed tree head. Every few minutes a checkpoint
states, for every plan, where its audit chain ended (``seq`` and the hash of
that record: the chain head), and a key that is not in the database signs
the statement. The statement is also written outside the database (a file,
an auditor's mailbox). Afterwards, whoever holds a published statement can
check the database against it: every plan's records up to the signed head
must hash, record by record, to the signed head. Rewriting a record that a
checkpoint covered then means forging a signature, not just recomputing
hashes and updating the plan row.

One statement (``Statement``), canonical JSON with sorted keys::

    {"at": "2027-01-04T09:00:00.000000+00:00", "changes": 2,
     "changes_root": "...", "format": "planflow-checkpoint-1",
     "heads_root": "...", "key": "...", "plans": 3, "prev": "...",
     "records": 10, "seq": 4}

* ``seq`` numbers the checkpoints 1, 2, 3 ...; ``prev`` is the SHA-256 of
  the previous statement's canonical text (``GENESIS`` for the first), so
  the checkpoints form a chain of their own and none can be left out;
* ``heads_root`` is the RFC 6962 Merkle tree hash (section 2.1) over every
  plan's head, in plan id order; ``plans`` and ``records`` count the plans
  and the records the heads cover (a chain of ``seq`` records ends at ``seq``);
  the organisation's chain of admin actions (``planflow.core.org_audit``) is
  one more leaf, "plan" ``ORG_CHAIN`` (0), signed like the others but not
  counted in ``plans`` and ``records``;
* ``changes`` and ``changes_root``: the heads that changed since the
  previous checkpoint, and their tree hash. The database keeps exactly these
  rows per checkpoint (``audit_signed_head``), so a verifier rebuilds every
  checkpoint's heads from them and checks each against its own statement in
  time proportional to the changes, not plans x checkpoints;
* ``key`` names the signing key: the SHA-256 of its raw public key.

A plan's head stays in every later checkpoint once signed: a plan whose
records vanish is reported, not forgotten. The signature (Ed25519, an
adapter: ``planflow.integrations.signing``) is over the canonical text in
UTF-8; a published line is ``{"checkpoint": {...}, "signature": "<base64>"}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from planflow.core.audit_chain import GENESIS, ChainProblem, canonical_json, sha256_hex
from planflow.core.org_audit import ORG_CHAIN

FORMAT = "planflow-checkpoint-1"

#: A plan's chain head: ``(seq, hash)`` of its last record.
Head = tuple[int, str]
#: The state a checkpoint signs: plan id -> head.
Heads = Mapping[int, Head]

_HEX = frozenset("0123456789abcdef")


# -- the tree (RFC 6962, section 2.1) -----------------------------------------------------


def leaf_hash(plan_id: int, seq: int, head_hash: str) -> bytes:
    """SHA-256(0x00 || "plan_id:seq:hash")."""
    return hashlib.sha256(b"\x00" + f"{plan_id}:{seq}:{head_hash}".encode()).digest()


def _tree(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two below n
    return hashlib.sha256(b"\x01" + _tree(leaves[:k]) + _tree(leaves[k:])).digest()


def merkle_root(heads: Heads) -> str:
    """The Merkle tree hash over ``heads`` in plan id order (SHA-256 of nothing when empty)."""
    if not heads:
        return hashlib.sha256(b"").hexdigest()
    leaves = [leaf_hash(p, *heads[p]) for p in sorted(heads)]
    return _tree(leaves).hex()


# -- the statement ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    seq: int
    at: datetime
    plans: int
    records: int
    heads_root: str
    changes: int
    changes_root: str
    prev: str
    key: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "plans": self.plans,
            "records": self.records,
            "heads_root": self.heads_root,
            "changes": self.changes,
            "changes_root": self.changes_root,
            "prev": self.prev,
            "key": self.key,
        }

    def canonical(self) -> str:
        """What is signed: compact JSON, keys sorted, UTF-8."""
        return canonical_json(self.as_dict())

    def hash(self) -> str:
        """What the next statement's ``prev`` is."""
        return sha256_hex(self.canonical())

    @classmethod
    def from_dict(cls, value: Any) -> Statement:
        """The statement in a parsed published line; ValueError when it is not one."""
        if not isinstance(value, dict) or value.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} statement")
        if set(value) != set(_FIELDS):
            raise ValueError(f"fields {sorted(value)}, expected {sorted(_FIELDS)}")
        for name in ("seq", "plans", "records", "changes"):
            if type(value[name]) is not int or value[name] < 0:
                raise ValueError(f"{name} is not a whole number")
        for name in ("heads_root", "changes_root", "prev", "key"):
            text = value[name]
            if not isinstance(text, str) or len(text) != 64 or not set(text) <= _HEX:
                raise ValueError(f"{name} is not a SHA-256 in hex")
        try:
            at = datetime.fromisoformat(value["at"])
        except (TypeError, ValueError):
            raise ValueError("at is not an ISO 8601 time") from None
        if at.tzinfo is None:
            raise ValueError("at has no time zone")
        return cls(
            seq=value["seq"],
            at=at.astimezone(UTC),
            plans=value["plans"],
            records=value["records"],
            heads_root=value["heads_root"],
            changes=value["changes"],
            changes_root=value["changes_root"],
            prev=value["prev"],
            key=value["key"],
        )


_FIELDS = (
    "format",
    "seq",
    "at",
    "plans",
    "records",
    "heads_root",
    "changes",
    "changes_root",
    "prev",
    "key",
)


def plan_counts(heads: Heads) -> tuple[int, int]:
    """The plans and plan records ``heads`` cover: the organisation's chain is signed
    (its leaf is ``ORG_CHAIN``) but not counted, so ``plans`` stays the plans."""
    plans = [s for p, (s, _) in heads.items() if p != ORG_CHAIN]
    return len(plans), sum(plans)


def changed_heads(signed: Heads, current: Heads) -> dict[int, Head]:
    """The heads in ``current`` that differ from the last signed ones (new plans included)."""
    return {p: h for p, h in current.items() if signed.get(p) != h}


def next_statement(
    *,
    seq: int,
    at: datetime,
    signed: Heads,
    changes: Heads,
    prev: str,
    key: str,
) -> Statement:
    """The statement after the one whose heads were ``signed`` (``prev`` its hash)."""
    heads = {**signed, **changes}
    plans, records = plan_counts(heads)
    return Statement(
        seq=seq,
        at=at,
        plans=plans,
        records=records,
        heads_root=merkle_root(heads),
        changes=len(changes),
        changes_root=merkle_root(changes),
        prev=prev,
        key=key,
    )


# -- the published form -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signed:
    statement: Statement
    signature: bytes

    def line(self) -> str:
        """One line of the publish file (no newline)."""
        return canonical_json(
            {
                "checkpoint": self.statement.as_dict(),
                "signature": base64.b64encode(self.signature).decode("ascii"),
            }
        )


def parse_line(text: str) -> Signed:
    """A published line back; ValueError says what is wrong with it."""
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(value, dict) or set(value) != {"checkpoint", "signature"}:
        raise ValueError('expected {"checkpoint": ..., "signature": ...}')
    statement = Statement.from_dict(value["checkpoint"])
    try:
        signature = base64.b64decode(str(value["signature"]), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the signature is not base64") from None
    return Signed(statement, signature)


#: Checks a signature: the statement's key, the signed bytes and the signature in,
#: None if it holds, otherwise what is wrong ("unknown key", "bad signature").
SignatureCheck = Callable[[str, bytes, bytes], str | None]


def check_published(checkpoints: Sequence[Signed], check: SignatureCheck) -> list[ChainProblem]:
    """Every signature holds and the checkpoints form one unbroken chain, in order."""
    problems: list[ChainProblem] = []
    before: Statement | None = None
    for signed in checkpoints:
        st = signed.statement
        wrong = check(st.key, st.canonical().encode("utf-8"), signed.signature)
        if wrong is not None:
            problems.append(
                ChainProblem(
                    None,
                    None,
                    f"checkpoint #{st.seq}: {wrong}",
                    "signed_invalid",
                    {"checkpoint": st.seq},
                )
            )
        if before is None:
            if st.seq == 1 and st.prev != GENESIS:
                problems.append(
                    ChainProblem(
                        None, None, "checkpoint #1 does not start the chain", "signed_chain_start"
                    )
                )
        elif st.seq != before.seq + 1:
            problems.append(
                ChainProblem(
                    None,
                    None,
                    f"checkpoint #{st.seq} follows #{before.seq}: "
                    f"checkpoints {before.seq + 1}..{st.seq - 1} are missing from the file",
                    "signed_chain_gap",
                    {"first": before.seq + 1, "last": st.seq - 1},
                )
            )
        elif st.prev != before.hash():
            problems.append(
                ChainProblem(
                    None,
                    None,
                    f"checkpoint #{st.seq} does not link to #{before.seq} before it",
                    "signed_chain_link",
                    {"checkpoint": st.seq, "previous": before.seq},
                )
            )
        before = st
    return problems


# -- a plan's records against its signed heads --------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedHead:
    """A plan's head as one checkpoint signed it."""

    checkpoint: int
    at: datetime
    seq: int
    hash: str


def check_signed_heads(
    plan_id: int, computed: Mapping[int, str], signed: Iterable[SignedHead]
) -> ChainProblem | None:
    """The first signed head of the plan its records no longer reach, or None.

    ``computed`` maps each record's seq to the hash its stored fields give
    now; ``signed`` are the plan's heads in checkpoint order. A chain is
    append-only, so every signed head must still be on it. When one is not,
    the rewritten record lies after the last head that still matches (or the
    start) and at or before this one: the problem names that range.
    """
    good = 0
    for head in signed:
        stamp = f"checkpoint #{head.checkpoint} ({head.at.astimezone(UTC).isoformat()})"
        found = computed.get(head.seq)
        if found is None:
            return ChainProblem(
                plan_id,
                head.seq,
                f"signed in {stamp} but the record is gone (deleted)",
                "signed_record_missing",
                {"checkpoint": head.checkpoint},
            )
        if found == head.hash:
            good = max(good, head.seq)
            continue
        first = good + 1 if good < head.seq else 1
        if first == head.seq:
            return ChainProblem(
                plan_id,
                head.seq,
                f"rewritten after {stamp} signed it: it no longer hashes to the signed head",
                "signed_record_altered",
                {"checkpoint": head.checkpoint},
            )
        return ChainProblem(
            plan_id,
            first,
            f"this or a later record up to {head.seq} was rewritten after {stamp} signed"
            f" them: record {head.seq} no longer hashes to the signed head",
            "signed_records_altered",
            {"checkpoint": head.checkpoint, "last": head.seq},
        )
    return None
