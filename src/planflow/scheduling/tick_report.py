"""What one scheduler tick did, part by part, and its summary for the log and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field

from planflow.integrations.mail import OutboxReport
from planflow.integrations.webhooks import WebhookReport
from planflow.scheduling.checkpoints import CheckpointReport
from planflow.scheduling.deadline_processor import DeadlineReport
from planflow.scheduling.delegations import DelegationReport
from planflow.scheduling.rounds import RoundReport


@dataclass
class TickReport:
    rounds: RoundReport = field(default_factory=RoundReport)
    deadlines: DeadlineReport = field(default_factory=DeadlineReport)
    outbox: OutboxReport = field(default_factory=OutboxReport)
    webhooks: WebhookReport = field(default_factory=WebhookReport)
    checkpoints: CheckpointReport = field(default_factory=CheckpointReport)
    delegations: DelegationReport = field(default_factory=DelegationReport)
    errors: list[str] = field(default_factory=list)
    #: Workflow files the registry left out (the rest run on without them).
    left_out: list[str] = field(default_factory=list)
    #: The pass was cut short by ``Scheduler.request_stop`` (a signal).
    stopped: bool = False

    def describe(self) -> str:
        d, r = self.deadlines, self.rounds
        parts = [
            f"rounds fired: {len(r.fired)} ({r.plans} plan(s)), missed: {len(r.missed)}",
            f"reminders: {d.reminded}, late reminders (recorded, nobody told): "
            f"{d.late_reminders}, escalations: {d.escalated}, at the top: {d.at_top}, "
            f"auto-actions: {d.auto_actions}, skipped: {d.skipped}",
        ]
        o = self.outbox
        parts.append(
            f"e-mail sent: {o.sent}, retried: {o.retried}, failed: {o.failed}, "
            f"skipped: {o.skipped}, to digests: {o.digested}"
        )
        w = self.webhooks
        if w.total:
            parts.append(
                f"webhooks delivered: {w.delivered}, retried: {w.retried}, failed: {w.failed}, "
                f"cancelled: {w.cancelled}"
                + (f", taken over from a stopped sender: {w.resumed}" if w.resumed else "")
            )
        c = self.checkpoints
        if c.made is not None or c.published or c.mail.total:
            made = f"#{c.made}" if c.made is not None else "none"
            parts.append(
                f"signed audit checkpoint: {made}, published: {c.published}, mailed: {c.mail.sent}"
            )
        if self.stopped:
            parts.append(
                "stopped before the end: what was claimed and not done is given back "
                "(another scheduler takes it at once)"
            )
        if d.failed or self.errors:
            parts.append("problems: " + "; ".join([*d.failed, *self.errors]))
        if self.left_out:
            parts.append("workflow files: " + "; ".join(self.left_out))
        return "\n".join(parts)
