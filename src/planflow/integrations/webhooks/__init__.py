"""Outgoing webhooks: the sender of the ``webhook_delivery`` outbox and its HTTP transport.

Events are enqueued by the change that causes them (``services.webhook_events``);
this package sends them. Module by module:

* ``transport``  one signed POST with ``http.client``, the address checked where the
                 socket connects (SSRF), and what an answer means (``HttpTransport``)
* ``sender``     claim, renew, finish or retry each delivery under a token and a
                 lease, at-least-once with a stable event id (``WebhookSender``)

What a receiver must reproduce (the signature, the event id) is in
``planflow.core.webhooks``.
"""

from __future__ import annotations

from planflow.integrations.webhooks.sender import WebhookReport, WebhookSender
from planflow.integrations.webhooks.transport import Answer, HttpTransport, Transport, resolve

__all__ = ["Answer", "HttpTransport", "Transport", "WebhookReport", "WebhookSender", "resolve"]
