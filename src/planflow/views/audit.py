"""The audit trail as views: a plan's records, a verification's report, admin actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planflow.core.audit_chain import ChainProblem


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One record of a plan's hash-chained audit trail.

    ``actor`` is None for the system (timers, scheduled rounds);
    ``on_behalf_of`` names the colleague the actor stood in for.
    """

    plan_id: int
    seq: int
    at: datetime
    actor: str | None
    on_behalf_of: str | None
    action: str
    from_state: str | None
    to_state: str
    comment: str | None
    revision: int
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The result of verifying every audit chain and checkpoint."""

    ok: bool
    plans: int
    records: int
    checkpoints: int
    #: The first problems found (``str()`` of one names its plan and record).
    problems: tuple[ChainProblem, ...]
    #: Records of the organisation's chain of admin actions.
    org_records: int = 0


@dataclass(frozen=True, slots=True)
class OrgAuditView:
    """One admin action on the organisation's hash-chained trail.

    ``actor`` is None for the system (the command line, a set-up script);
    ``detail`` the action's parameters (``planflow.core.org_audit.ACTIONS``).
    """

    seq: int
    at: datetime
    actor: str | None
    action: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str
