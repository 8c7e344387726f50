"""Signed audit checkpoints every N minutes, once across all schedulers.

Time is cut into slots of ``PLANFLOW_CHECKPOINT_MINUTES`` (default 60)
counted from the Unix epoch, so every scheduler agrees on them: with 60,
one slot per hour, on the hour (UTC). The first tick in a slot makes the
slot's checkpoint (``storage.signed_checkpoints.make`` with the slot's key):
one scheduler inserts the key together with the checkpoint in one
transaction, the others find it and leave the slot. A slot in which no
chain head moved signs nothing.

Every tick also brings the publish file up to the database and sends the
auditor's e-mails still waiting (``integrations.checkpoints``), whichever
process made the checkpoints, by hand or on schedule.

Without a key (``PLANFLOW_AUDIT_KEY``) nothing is signed; the scheduler
says so once when it starts, and goes on with everything else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from planflow.clock import Clock
from planflow.integrations.checkpoints import (
    CheckpointSettings,
    PublishError,
    publish_to_file,
    send_mail,
)
from planflow.integrations.mail import Outbox, OutboxReport
from planflow.integrations.signing import KEY_ENV, Signer, load_signer
from planflow.storage import signed_checkpoints as sc
from planflow.storage.db import Database

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_start(now: datetime, minutes: int) -> datetime:
    """The start of the ``minutes``-long slot ``now`` falls in."""
    size = timedelta(minutes=minutes)
    return EPOCH + ((now - EPOCH) // size) * size


@dataclass
class CheckpointReport:
    #: The checkpoint this tick made, if it did.
    made: int | None = None
    #: Lines appended to the publish file.
    published: int = 0
    mail: OutboxReport = field(default_factory=OutboxReport)
    #: Why the publish file could not be brought up to date (logged once, not every tick).
    error: str | None = None


class CheckpointRunner:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        settings: CheckpointSettings | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.settings = settings or CheckpointSettings.from_env()
        path = self.settings.key_path
        # A key that is configured but unusable is a mistake to hear about at start.
        self.signer: Signer | None = load_signer(path) if path is not None else None
        self._slot: datetime | None = None
        self._published = -1  # the last checkpoint known to be in the file
        self._last_error: str | None = None

    def describe(self) -> str:
        s = self.settings
        if self.signer is None:
            return f"signed audit checkpoints: off ({KEY_ENV} is not set)"
        when = f"every {s.minutes} min" if s.minutes else "by hand only"
        parts = [f"signed audit checkpoints {when}, key {self.signer.key_id[:16]}"]
        parts.append(f"published to {s.file}" if s.file else "not published to a file")
        if s.email is not None:
            smtp = "" if self.outbox.settings is not None else " (once SMTP is configured)"
            parts.append(f"mailed to {s.email.addr_spec}{smtp}")
        return ", ".join(parts)

    def run(self, report: CheckpointReport | None = None) -> CheckpointReport:
        report = report if report is not None else CheckpointReport()
        if self.signer is None:
            return report
        s = self.settings
        now = self.clock.now()
        if s.minutes:
            start = slot_start(now, s.minutes)
            if start != self._slot:
                key = f"audit-checkpoint:{s.minutes}m:{start.isoformat()}"
                result = sc.make(self.db, now, self.signer, slot=key, mail=s.email is not None)
                self._slot = start
                if result.outcome == "made" and result.signed is not None:
                    report.made = result.signed.statement.seq
                    log.info(
                        "signed audit checkpoint #%s over %s records",
                        report.made,
                        result.signed.statement.records,
                    )
        if s.file is not None:
            try:
                report.published = self._publish()
            except (PublishError, OSError) as exc:
                report.error = f"not published to {s.file}: {exc}"
                if report.error != self._last_error:
                    log.error("signed audit checkpoints %s", report.error)
                    self._last_error = report.error
        if s.email is not None and self.outbox.configured():
            assert self.outbox.settings is not None and self.outbox.transport is not None
            report.mail = send_mail(
                self.db,
                self.outbox.settings,
                self.outbox.transport,
                s.email,
                self.signer.verifier(),
                now,
            )
        return report

    def _publish(self) -> int:
        assert self.signer is not None and self.settings.file is not None
        stored = sc.last_seq(self.db)
        if stored == self._published:
            return 0  # one cheap query a tick while nothing new is signed
        appended = publish_to_file(self.db, self.settings.file, self.signer.verifier())
        self._last_error = None
        self._published = stored
        return appended
