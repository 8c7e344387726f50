"""What a webhook is, as plain Python: its events, its URL rules, its signature.

The rest of the channel is I/O: registering and enqueuing
(``planflow.services.webhooks``, ``planflow.services.webhook_events``),
resolving and POSTing (``planflow.integrations.webhooks``). What they share,
and what a receiver must be able to reproduce exactly, is here:

* the event types a webhook may subscribe to;
* the URL rules: http or https, a host, no credentials in it; and which
  addresses are refused unless the admin allowed private ones (SSRF);
* the event id, a UUID derived from the audit record the event tells of, so
  every retry of an event carries the same id and a receiver can dedupe;
* the signature: ``sha256=`` and the hex HMAC-SHA256, keyed with the
  webhook's secret, of ``"<timestamp>.<body>"`` (the timestamp as sent in
  ``X-Planflow-Timestamp``, the body as sent, both as UTF-8).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from planflow.errors import ValidationError

#: What a webhook may subscribe to.
EVENT_TYPES = (
    "plan.state_changed",  # a workflow transition moved the plan (a person's or an auto-action)
    "plan.comment",  # someone commented on the plan
    "task.created",  # the plan's new state waits for someone (a task with a role and unit)
    "task.overdue",  # the scheduler found a task past its due date (its first escalation)
    "task.escalated",  # the scheduler escalated an overdue task (or found nobody above)
    "inspection.finished",  # an inspection round's verdict: accepted or rectification required
    "audit.verification_failed",  # a verification of the audit trail found it altered
)

#: The audit actions of an escalation (``core.escalation``).
ESCALATIONS = frozenset({"escalate", "escalation_at_top"})
#: The transitions that give an inspection round's verdict (``services.inspections.rounds``).
VERDICTS = frozenset({"accept", "require_rectification"})


def is_first_overdue(action: str, level: object) -> bool:
    """Is this escalation effect the first one past the task's due date?

    Escalations run only once a task is overdue; the first one (level 0 to 1,
    or finding nobody above at level 0) is the moment it became overdue, so
    ``task.overdue`` is told once per task, by the same transaction.
    """
    return (action == "escalate" and level == 1) or (action == "escalation_at_top" and level == 0)


def audit_event_id(fingerprint: str) -> str:
    """The id of the ``audit.verification_failed`` event of a set of problems."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"audit/{fingerprint}"))


#: Every event id is a UUID 5 in this namespace (fixed forever: receivers may store ids).
EVENT_NAMESPACE = uuid.UUID("6f1f3c0e-5b0a-4d4e-9c39-0a8e8f1d7b52")

MAX_URL = 2000
SIGNATURE_PREFIX = "sha256="


class WebhookRefused(ValidationError):
    """A webhook's URL, events or address is refused; ``code`` says which rule."""


def check_events(events: list[str] | tuple[str, ...]) -> list[str]:
    """The events, de-duplicated in the canonical order; each must be known."""
    if not events:
        raise WebhookRefused(
            "a webhook needs at least one event",
            code="webhook_events_required",
            params={"allowed": list(EVENT_TYPES)},
        )
    for event in events:
        if event not in EVENT_TYPES:
            raise WebhookRefused(
                f"unknown webhook event {event[:40]!r}; known: {', '.join(EVENT_TYPES)}",
                code="webhook_event_unknown",
                params={"event": event[:40], "allowed": list(EVENT_TYPES)},
            )
    return [e for e in EVENT_TYPES if e in events]


def check_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an acceptable webhook URL, else ``WebhookRefused``."""

    def refuse(reason: str) -> WebhookRefused:
        return WebhookRefused(
            f"not a usable webhook URL ({reason}): {url[:100]!r}",
            code="webhook_url_invalid",
            params={"url": url[:200], "reason": reason},
        )

    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise refuse("length")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise refuse("whitespace")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refuse("syntax") from None
    if parts.scheme not in ("http", "https"):
        raise refuse("scheme")
    if not parts.hostname:
        raise refuse("host")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs; the secret signs instead.
        raise refuse("credentials")
    if parts.fragment:
        raise refuse("fragment")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port if port is not None else default


def address_refusal(address: str) -> str | None:
    """Why a webhook may not reach ``address`` (an IP), or None if it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for reason, bad in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link_local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),  # before private: Python counts 240/4 as both
        ("private", ip.is_private),
        # Shared (100.64/10), documentation and other special ranges.
        ("not_global", not ip.is_global),
    ):
        if bad:
            return reason
    return None


class PrivateAddress(WebhookRefused):
    """The URL's host is (or resolves to) an address webhooks may not reach by default."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(
            f"the webhook host {host!r} is a {reason.replace('_', '-')} address ({address}); "
            "an admin may allow private addresses for this webhook",
            code="webhook_url_private",
            params={"host": host, "address": address, "reason": reason},
        )


def check_addresses(host: str, addresses: list[str]) -> None:
    """Refuse if any address ``host`` resolves to is not public (``PrivateAddress``).

    Any, not all: a name that resolves to a public and a private address
    could be connected to either.
    """
    for address in addresses:
        reason = address_refusal(address)
        if reason is not None:
            raise PrivateAddress(host, address, reason)


def event_id(audit_hash: str, event_type: str) -> str:
    """The id of the ``event_type`` event of the audit record with ``audit_hash``."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{audit_hash}/{event_type}"))


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` of ``b"<timestamp>." + body``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def signature_matches(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver checks (constant-time), for tests and Python receivers."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def iso_z(moment: datetime) -> str:
    """A moment as RFC 3339 UTC with a ``Z`` (``2027-01-04T08:00:00Z``), as events carry it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
