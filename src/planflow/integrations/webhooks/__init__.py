"""Outgoing webhooks: the sender of the ``webhook_delivery`` outbox and its HTTP transport.

Events are enqueued by the change that causes them (``services.webhook_events``);
this package sends them. Module by module:

* ``transport``  one signed POST with ``http.client``, the address checked where the
                 socket connects (SSRF), and what an answer means (``HttpTransport``)
* ``sender``     claim each batch under a token and a lease and POST it (one at a
                 time, or pooled on PostgreSQL), at-least-once with a stable event
                 id (``WebhookSender``)
* ``outcome``    what an attempt leaves in the outbox: delivered, failed, or due
                 again after the backoff (``WebhookReport``)

What a receiver must reproduce (the signature, the event id) is in
``planflow.core.webhooks``.
"""

from __future__ import annotations

from planflow.integrations.webhooks.outcome import WebhookReport
from planflow.integrations.webhooks.sender import WebhookSender
from planflow.integrations.webhooks.transport import Answer, HttpTransport, Transport, resolve

__all__ = ["Answer", "HttpTransport", "Transport", "WebhookReport", "WebhookSender", "resolve"]
