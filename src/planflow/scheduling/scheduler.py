"""The scheduler process: wakes up, does everything that is due, sleeps.

Each tick runs, in order: the scheduled rounds, the deadline processor
(reminders, escalations, auto-actions), the signed audit checkpoints
(every ``PLANFLOW_CHECKPOINT_MINUTES``, published and mailed), the
e-mail outbox and the webhook outbox. All of their
state is in the database, so any number of scheduler processes may run at
once, on any hosts, and a tick can be repeated at any time: the database's
claims and effect keys, not this process, decide what happens once.

APScheduler (3.x) only provides the wake-up: an interval job in this
process with ``max_instances=1`` and ``coalesce=True``, its job store in
memory. It is never asked to remember anything (APScheduler 3 cannot share
a job store between processes, and does not need to here).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import fields
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from planflow.core.definitions.registry import why_left_out
from planflow.errors import DatabaseNotInitialised, DefinitionError, ValidationError
from planflow.integrations.mail import Outbox, OutboxReport, SmtpSettings
from planflow.integrations.webhooks import WebhookReport, WebhookSender
from planflow.integrations.webhooks.sender_settings import shortest_lease, timeout_from_env
from planflow.scheduling.checkpoints import CheckpointRunner
from planflow.scheduling.deadline_processor import (
    DEFAULT_BATCH,
    DEFAULT_GROUP,
    DeadlineProcessor,
)
from planflow.scheduling.delegations import DelegationNotices
from planflow.scheduling.rounds import RoundRunner
from planflow.scheduling.scheduler_settings import (
    count_from_env,
    interval_from_env,
    lease_from_env,
    new_worker_id,
)
from planflow.scheduling.tick_report import TickReport
from planflow.storage.db_errors import describe_driver_error, unavailable

if TYPE_CHECKING:
    from planflow.app import Planflow

log = logging.getLogger(__name__)

#: E-mail batches per tick; the rest waits for the next tick.
MAX_MAIL_BATCHES = 20
#: Webhook batches per tick (each POST waits at most its timeout).
MAX_WEBHOOK_BATCHES = 10
#: Seconds between the log's reminders that the database is still unavailable.
AWAY_REPEAT = 60.0


def _add(total: OutboxReport, part: OutboxReport) -> None:
    for f in fields(total):
        setattr(total, f.name, getattr(total, f.name) + getattr(part, f.name))


def _outbox(pf: Planflow, worker_id: str, lease: timedelta) -> Outbox:
    """The e-mail outbox, holding what it claimed for the scheduler's lease: a
    scheduler that died hands its e-mails on as soon as its timers and rounds."""
    settings = SmtpSettings.from_env()
    if settings is not None and lease <= timedelta(seconds=3 * settings.timeout):
        raise ValidationError(
            f"PLANFLOW_SCHEDULER_LEASE={lease.total_seconds():.0f} is too short for "
            f"PLANFLOW_SMTP_TIMEOUT={settings.timeout:.0f}: an e-mail's claim must outlast "
            "one SMTP exchange (connect and send, three timeouts); raise the lease or "
            "lower the timeout"
        )
    return Outbox(pf.db, pf.clock, settings, pf.registry, worker_id, lease=lease)


def _webhooks(pf: Planflow, worker_id: str, lease: timedelta) -> WebhookSender:
    """The webhook sender, holding what it claimed for the scheduler's lease too."""
    timeout = timeout_from_env(lease)
    if lease <= shortest_lease(timeout):
        raise ValidationError(
            f"PLANFLOW_SCHEDULER_LEASE={lease.total_seconds():.0f} is too short for "
            f"PLANFLOW_WEBHOOK_TIMEOUT={timeout:g}: a webhook's claim must outlast one POST "
            f"(connect, send and answer, three timeouts) and the write of its outcome "
            f"(more than {shortest_lease(timeout).total_seconds():g} s); raise the lease or "
            "lower the timeout"
        )
    return WebhookSender(pf.db, pf.clock, worker_id, lease=lease, timeout=timeout)


class Scheduler:
    def __init__(
        self,
        pf: Planflow,
        *,
        worker_id: str | None = None,
        interval: timedelta | None = None,
        outbox: Outbox | None = None,
        webhooks: WebhookSender | None = None,
    ) -> None:
        self.pf = pf
        self.worker_id = worker_id or new_worker_id()
        self.interval = interval or interval_from_env()
        lease = lease_from_env()
        self.rounds = RoundRunner(pf.service, self.worker_id, lease=lease)
        self.deadlines = DeadlineProcessor(
            pf.service,
            self.worker_id,
            batch=count_from_env("PLANFLOW_SCHEDULER_BATCH", DEFAULT_BATCH),
            group=count_from_env("PLANFLOW_SCHEDULER_GROUP", DEFAULT_GROUP),
            lease=lease,
        )
        # Without SMTP settings the outbox only says so, once, in the log.
        self.outbox = outbox or _outbox(pf, self.worker_id, lease)
        self.checkpoints = CheckpointRunner(pf.db, pf.clock, self.outbox)
        self.delegations = DelegationNotices(pf.db, pf.clock, pf.service.org_cache)
        self.webhooks = webhooks or _webhooks(pf, self.worker_id, lease)
        self._stop = threading.Event()
        self._apscheduler: Any = None
        #: The registry's broken files as last logged (logged again when they change).
        self._logged_left_out: tuple[DefinitionError, ...] = ()
        #: Since when (time.monotonic()) the database is unavailable, and when that
        #: was last logged; None while it answers.
        self._away_since: float | None = None
        self._away_said = 0.0

    def tick(self) -> TickReport:
        """Do everything due now; each part's failure is logged, not fatal.

        The first part that finds the database unavailable ends the pass (the
        others would fail the same way; the next tick tries again), and the
        outage is logged once, not as a traceback per part and tick.
        """
        report = TickReport()
        if self._stop.is_set():
            report.stopped = True
            return report
        report.left_out = self._left_out()
        # The parts fill the report as they commit: a failure mid-way still
        # reports what was done before it.
        try:
            self.rounds.run(report.rounds)
        except Exception as exc:  # the next tick retries; the lease protects the round
            self.rounds.release()
            if self._failed("scheduled rounds", "rounds", exc, report):
                return report
        if self._stopped(report):
            return report
        try:
            self.deadlines.run(report=report.deadlines)
        except Exception as exc:
            if self._failed("deadline processing", "deadlines", exc, report):
                return report
        if self._stopped(report):
            return report
        try:
            # Before the outbox: a delegation's notices go out in the same tick.
            self.delegations.run(report.delegations)
        except Exception as exc:  # the marks are in the notices' transaction: retried next tick
            if self._failed("delegation notices", "delegations", exc, report):
                return report
        if self._stopped(report):
            return report
        try:
            self.checkpoints.run(report.checkpoints)
            if report.checkpoints.error is not None:
                report.errors.append(f"audit checkpoints: {report.checkpoints.error}")
        except Exception as exc:
            if self._failed("signed audit checkpoints", "audit checkpoints", exc, report):
                return report
        if self._stopped(report):
            return report
        try:
            report.outbox = self._send_mail()
        except Exception as exc:
            if self._failed("the e-mail outbox", "e-mail", exc, report):
                return report
        if self._stopped(report):
            return report
        try:
            self._send_webhooks(report.webhooks)
        except Exception as exc:  # the claims' lease hands the rows to the next pass
            if self._failed("the webhook outbox", "webhooks", exc, report):
                return report
        if self._stopped(report):
            return report
        if self._away_since is not None:
            log.info("the database is back after %.0f s", time.monotonic() - self._away_since)
            self._away_since = None
        if (
            report.deadlines.applied
            or report.rounds.fired
            or report.rounds.missed
            or report.checkpoints.made is not None
            or report.webhooks.total
        ):
            log.info("%s", report.describe().replace("\n", "; "))
        return report

    def _stopped(self, report: TickReport) -> bool:
        """True (and said in the report) once a stop was requested: the pass ends here."""
        if self._stop.is_set():
            report.stopped = True
            log.info(
                "scheduler %s stopping: the pass ends here; %s",
                self.worker_id,
                report.describe().replace("\n", "; "),
            )
        return report.stopped

    def _failed(self, part: str, label: str, exc: Exception, report: TickReport) -> bool:
        """Log and report a part's failure (called in its ``except``); True when the
        database is unavailable, which ends the pass."""
        report.errors.append(f"{label}: {exc}")
        if isinstance(exc, DatabaseNotInitialised):  # said in one line, not as a bug
            log.error("%s: %s; the pass stops here", part, exc)
            return True
        if unavailable(exc) is None:  # not the database's absence: a bug, say
            log.exception("%s failed", part)
            return False
        now = time.monotonic()
        said = describe_driver_error(exc)
        if self._away_since is None:
            self._away_since = self._away_said = now
            log.warning(
                "the database is unavailable (%s, in %s); the pass stops here and the "
                "scheduler tries again every %s",
                said, part, self.interval,
            )  # fmt: skip
        elif now - self._away_said >= AWAY_REPEAT:
            self._away_said = now
            log.warning(
                "the database is still unavailable after %.0f s (%s)", now - self._away_since, said
            )
        return True

    def _left_out(self) -> list[str]:
        """The workflow files left out, logged once per load of the registry."""
        try:
            broken = self.pf.registry.broken()
        except Exception:  # no workflows folder, say: the rounds fail on it and report it
            return []
        if broken != self._logged_left_out:
            for error in broken:
                log.warning("workflow file %s", why_left_out(error))
            self._logged_left_out = broken
        return [why_left_out(e) for e in broken]

    def _send_mail(self) -> OutboxReport:
        total = OutboxReport()
        for _ in range(MAX_MAIL_BATCHES):
            batch = self.outbox.run_once()
            _add(total, batch)
            # An empty batch, or a server that cannot be reached: next tick.
            if batch.total == 0 or batch.deferred:
                break
        _add(total, self.outbox.send_digests())
        return total

    def _send_webhooks(self, total: WebhookReport) -> None:
        for _ in range(MAX_WEBHOOK_BATCHES):
            batch = self.webhooks.run_once()
            total.add(batch)
            if batch.total == 0:
                break

    # -- running ---------------------------------------------------------------

    def start(self) -> None:
        """Tick every ``interval`` in a background thread (embedded mode)."""
        from apscheduler.schedulers.background import BackgroundScheduler

        # Its per-run INFO lines would drown what the ticks themselves report.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.interval.total_seconds(),
            id="planflow-tick",
            max_instances=1,
            coalesce=True,
            next_run_time=self.pf.clock.now(),
        )
        scheduler.start()
        self._apscheduler = scheduler
        log.info("scheduler %s started, ticking every %s", self.worker_id, self.interval)
        log.info("%s", self.checkpoints.describe())

    def request_stop(self) -> None:
        """End the pass under way at its next safe point and start no other: the timers,
        e-mails and webhooks in hand are finished, every other claim of this process is
        given back at once (another scheduler takes them without waiting for the lease).
        Only sets flags, so a signal handler may call it while a pass runs on its thread."""
        self._stop.set()
        self.deadlines.stop()
        self.outbox.stop()
        self.webhooks.stop()

    def stop(self) -> None:
        """``request_stop``, then wait for the pass under way and let go of the rounds."""
        self.request_stop()
        if self._apscheduler is not None:
            self._apscheduler.shutdown(wait=True)
            self._apscheduler = None
        self.rounds.release()  # a round stopped mid-way is another scheduler's at once

    def run_forever(self) -> None:
        """Tick until ``stop`` is called or the process is signalled."""
        if self._apscheduler is None:
            self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()
