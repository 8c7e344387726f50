"""The organisation's audit chain: who changed the organisation, what and with what.

Plans each have their own chain (``planflow.core.audit_chain``); the admin
actions that shape who may do what to them (roles given and taken, people
created, changed, (de)activated, units added, moved and renamed, plans moved
to a new definition version, API tokens and webhooks added and removed) go
on one more chain: the organisation's. The same canonical form and hashing
as a plan's record: SHA-256 over a compact JSON array of the fields in a
fixed order, each record carrying the hash of the one before it (the first
``GENESIS``), the head (seq, hash) kept in one row beside the chain.

``detail`` holds the action's parameters, as canonical JSON: names, codes and
ids, never a secret (a password is "set", a token's or webhook's secret is
not there at all).

In the signed checkpoints (``planflow.core.checkpoints``) the organisation's
head is the leaf of "plan" ``ORG_CHAIN`` (0: no plan has that id), so a key
outside the database vouches for it as for every plan's head.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from planflow.core.audit_chain import (
    ChainProblem,
    canonical_json,
    check_chain,
    sha256_hex,
    utc_isoformat,
)
from planflow.core.compact_json import compact_json_array

FORMAT = "planflow-org-audit-1"
#: The organisation chain's place among the plans' chains in a signed checkpoint.
ORG_CHAIN = 0

#: Every action the chain records, with the parameters its ``detail`` holds.
ACTIONS: Mapping[str, str] = {
    "role_granted": "user, role, unit",
    "role_revoked": "user, role, unit",
    "user_created": "user, display_name, email, language, password_set",
    "user_changed": "user, and what changed: display_name, email, language",
    "user_password_set": "user",
    "user_activated": "user",
    "user_deactivated": "user",
    "unit_created": "unit, name, parent",
    "unit_moved": "unit, from, to",
    "unit_renamed": "unit, from, to",
    "definition_migrated": "plan, from, to, from_state, to_state",
    "token_created": "token, user, name, scope, expires_at",
    "token_revoked": "token, user, name",
    "webhook_added": "webhook, unit, url, events, allow_private",
    "webhook_removed": "webhook, url",
    "user_channels_switched": "on (people may register their own webhook or robot)",
}


class OrgAuditEntry(NamedTuple):
    """One record of the organisation's chain: its hashed fields."""

    seq: int
    actor_id: int | None  # None: the system (the command line, a set-up script)
    at: datetime
    action: str
    detail: str  # canonical JSON text of the parameters
    prev_hash: str

    def canonical(self) -> str:
        return compact_json_array(
            (
                FORMAT,
                self.seq,
                self.actor_id,
                utc_isoformat(self.at),
                self.action,
                self.detail,
                self.prev_hash,
            )
        )

    def compute_hash(self) -> str:
        return sha256_hex(self.canonical())


def detail_text(params: Mapping[str, Any]) -> str:
    """The parameters as the record keeps them (canonical JSON)."""
    if unknown := {"password", "secret", "token_hash", "password_hash"} & set(params):
        # A guard against a careless caller: secrets never reach the trail.
        raise ValueError(f"secrets are not audited: {sorted(unknown)}")
    return canonical_json(dict(params))


def check_org_chain(
    records: Iterable[tuple[OrgAuditEntry, str]], head: tuple[int, str] | None
) -> Iterator[ChainProblem]:
    """Check the organisation's records (by seq, each with its stored hash) and its head."""
    return check_chain(records, head, org=True)
