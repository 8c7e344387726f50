"""The counts a run of the outbox reports (shared by ``outbox`` and ``digest``)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class OutboxReport:
    """What one run did. For ``send_digests``, ``sent`` counts digest e-mails."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    digested: int = 0
    #: Claimed but put back untried because the server was unreachable.
    deferred: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))
