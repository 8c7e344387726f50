"""Webhooks and group robots through the API, for administrators.

Needs a token with scope ``admin``; the caller sees and manages the webhooks
and robots of the units they administer (``facade.webhooks``: the admin role
at the webhook's unit or above), like ``planflow webhooks`` on the command
line. A webhook's signing secret is in the answer to its creation only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, Field
from spectree import Response as Responses

from planflow.core.robots import KINDS, LANGUAGES
from planflow.core.webhooks import EVENT_TYPES, MAX_URL
from planflow.views import WebhookDeliveryView

from ..users import planflow
from .auth import caller, require_scope
from .schemas import Problem, Strict, Unit, View
from .spec import validate

ERRORS = {"HTTP_403": Problem, "HTTP_404": Problem, "HTTP_422": Problem}
ID = "<int(max=2147483647):{}>"

Event = Literal[EVENT_TYPES]  # type: ignore[valid-type]
Kind = Literal[KINDS]  # type: ignore[valid-type]
Language = Literal[LANGUAGES]  # type: ignore[valid-type]


class Webhook(View):
    """A webhook or group robot, without its secret. ``active`` false: removed."""

    id: int
    unit: Unit
    url: str
    events: list[str]
    kind: str
    language: str
    active: bool
    allow_private: bool
    created_by: str | None
    created_at: datetime
    owner: str | None = Field(None, description="A person's own channel: whose.")


class Webhooks(BaseModel):
    items: list[Webhook]


class WebhookQuery(Strict):
    all: bool = Field(False, description="Removed webhooks too.")


class NewWebhook(Strict):
    unit: str = Field(min_length=1, max_length=64, description="Its plans and those below.")
    url: str = Field(min_length=1, max_length=MAX_URL)
    events: list[Event] = Field(min_length=1, max_length=len(EVENT_TYPES))
    kind: Kind = "webhook"
    secret: str | None = Field(
        None, max_length=100, description="A DingTalk or Feishu robot's signing secret."
    )
    language: Language = "en"
    allow_private: bool = False


class Created(BaseModel):
    webhook: Webhook
    secret: str = Field(description="A webhook's signing secret, shown this once; '' for robots.")


class Attempt(View):
    at: str
    status: int | None
    error: str | None
    ms: int | None


class Delivery(View):
    id: int
    webhook_id: int
    event_id: str
    event_type: str
    plan_id: int | None
    created_at: datetime
    status: str = Field(description="pending, delivered, failed or cancelled")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    log: list[Attempt]


class Deliveries(BaseModel):
    items: list[Delivery]


class DeliveryQuery(Strict):
    webhook: int | None = Field(None, ge=1, le=2147483647)
    failed: bool = False
    limit: int = Field(50, ge=1, le=1000)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/admin/webhooks", "admin_webhooks", webhooks, methods=["GET"])
    bp.add_url_rule("/admin/webhooks", "admin_add_webhook", add_webhook, methods=["POST"])
    one = f"/admin/webhooks/{ID.format('webhook_id')}"
    bp.add_url_rule(one, "admin_remove_webhook", remove_webhook, methods=["DELETE"])
    bp.add_url_rule("/admin/deliveries", "admin_deliveries", deliveries, methods=["GET"])
    again = f"/admin/deliveries/{ID.format('delivery_id')}/redeliver"
    bp.add_url_rule(again, "admin_redeliver", redeliver, methods=["POST"])


def _admin() -> str:
    require_scope("admin")
    return caller()


def _delivery(d: WebhookDeliveryView) -> Delivery:
    return Delivery.model_validate(d)


@validate(query=WebhookQuery, resp=Responses(HTTP_200=Webhooks, **ERRORS), tags=["admin"])
def webhooks(query: WebhookQuery) -> Webhooks:
    """The webhooks and robots of the caller's units. Scope ``admin``."""
    found = planflow().webhooks.list(with_removed=query.all, actor=_admin())
    return Webhooks(items=[Webhook.model_validate(w) for w in found])


@validate(json=NewWebhook, resp=Responses(HTTP_201=Created, **ERRORS), tags=["admin"])
def add_webhook(json: NewWebhook) -> tuple[Created, int]:
    """Register a webhook or group robot for one of the caller's units. Scope ``admin``.

    The URL's host must resolve to a public address unless ``allow_private``.
    """
    new = planflow().webhooks.add(
        json.unit,
        json.url,
        list(json.events),
        allow_private=json.allow_private,
        actor=_admin(),
        kind=json.kind,
        secret=json.secret,
        language=json.language,
    )
    return Created(webhook=Webhook.model_validate(new.webhook), secret=new.secret), 201


@validate(resp=Responses(HTTP_200=Webhook, **ERRORS), tags=["admin"])
def remove_webhook(webhook_id: int) -> Webhook:
    """Remove a webhook: no new events; what was not sent is cancelled. Scope ``admin``."""
    actor = _admin()
    pf = planflow()
    pf.webhooks.get(webhook_id, actor=actor)
    return Webhook.model_validate(pf.webhooks.remove(webhook_id, actor=actor))


@validate(query=DeliveryQuery, resp=Responses(HTTP_200=Deliveries, **ERRORS), tags=["admin"])
def deliveries(query: DeliveryQuery) -> Deliveries:
    """The delivery log, newest first, of the caller's webhooks. Scope ``admin``."""
    found = planflow().webhooks.deliveries(
        webhook_id=query.webhook, failed=query.failed, limit=query.limit, actor=_admin()
    )
    return Deliveries(items=[_delivery(d) for d in found])


@validate(resp=Responses(HTTP_200=Delivery, **ERRORS), tags=["admin"])
def redeliver(delivery_id: int) -> Delivery:
    """Send a delivery again (same event id and body) at the next pass. Scope ``admin``."""
    actor = _admin()
    pf = planflow()
    found = pf.webhooks.delivery(delivery_id)
    pf.webhooks.get(found.webhook_id, actor=actor)  # another's: not found
    return _delivery(pf.webhooks.redeliver(delivery_id, actor=actor))
