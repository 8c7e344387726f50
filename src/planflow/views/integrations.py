"""The HTTP API's personal access tokens and the outgoing webhooks, as views.

A token or a webhook secret is shown once, when it is created (``NewApiToken``,
``NewWebhook``); the views read later never hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from planflow.views.plans import UnitRef


@dataclass(frozen=True, slots=True)
class ApiTokenView:
    """A personal access token of the HTTP API, without its secret.

    ``scope``: ``read``, ``write`` or ``admin``, each including the ones
    before it. ``prefix`` is the secret's first characters, to tell tokens
    apart; the secret itself is shown only once (``NewApiToken``).
    """

    id: int
    username: str
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class NewApiToken:
    """A token just made: its view and its secret, which is never shown again."""

    token: ApiTokenView
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class WebhookView:
    """An outgoing webhook, without its secret: the events of ``unit``'s subtree to ``url``.

    ``active`` False: removed (its deliveries stay as a log).
    ``allow_private``: an admin let it reach a private or loopback address.
    ``kind``: ``webhook``, or the group robot's vendor (dingtalk, wecom,
    feishu) posting short messages in ``language``.
    """

    id: int
    unit: UnitRef
    url: str
    events: tuple[str, ...]
    active: bool
    allow_private: bool
    created_by: str | None
    created_at: datetime
    kind: str = "webhook"
    language: str = "en"
    #: A person's own channel: whose (told of what notifies them, not of ``unit``'s subtree).
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class NewWebhook:
    """A webhook just registered: its view and its signing secret, never shown again.

    A robot's secret is its vendor's, so ``secret`` is empty for robots.
    """

    webhook: WebhookView
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One POST of a delivery: when, the HTTP status (None: no answer) and the error."""

    at: str
    status: int | None
    error: str | None
    ms: int | None


@dataclass(frozen=True, slots=True)
class WebhookDeliveryView:
    """One event for one webhook: ``pending``, ``delivered``, ``failed`` or ``cancelled``.

    ``event_id`` is the same on every attempt (``X-Planflow-Event-Id``);
    ``log`` lists the last attempts, oldest first.
    """

    id: int
    webhook_id: int
    event_id: str
    event_type: str
    plan_id: int | None
    created_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    log: tuple[DeliveryAttempt, ...]
