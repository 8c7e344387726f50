"""Outgoing webhooks through the front door: by unit code and username, as views.

See ``services.webhooks`` for what registering checks, ``services.webhook_events``
for which events a change enqueues, and ``integrations.webhooks`` for how the
scheduler sends them. An admin registers webhooks for the units they administer
(the admin role at the unit or above); ``actor=None`` is the command line.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from planflow.core.webhooks import WebhookRefused
from planflow.errors import NotFound, PermissionDenied
from planflow.facade.names import Names
from planflow.services.webhooks import Webhooks
from planflow.storage.webhook_store import HookRow
from planflow.views import (
    NewWebhook,
    UnitRef,
    WebhookDeliveryView,
    WebhookView,
)


class WebhooksAPI:
    def __init__(self, webhooks: Webhooks, names: Names) -> None:
        self.service = webhooks
        self.names = names

    def add(
        self,
        unit: str,
        url: str,
        events: Sequence[str],
        *,
        allow_private: bool = False,
        actor: str | None = None,
        kind: str = "webhook",
        secret: str | None = None,
        language: str = "en",
    ) -> NewWebhook:
        """Register a webhook for ``unit``'s subtree; keep ``secret``: it is not shown again.

        ``kind`` dingtalk, wecom or feishu registers a group robot posting in
        ``language`` (en, zh, ko), signed with the vendor's ``secret``.
        """
        unit_id = self.names.unit_id(unit)
        actor_id = self._admin(actor, unit_id, "add_webhook")
        row, made = self.service.add(
            unit_id,
            url,
            list(events),
            allow_private=allow_private,
            created_by=actor_id,
            kind=kind,
            secret=secret,
            language=language,
        )
        return NewWebhook(self._view(row), made)

    def list(
        self, *, with_removed: bool = False, actor: str | None = None
    ) -> builtins.list[WebhookView]:
        """Every webhook and robot; with ``actor``, those of the units they administer."""
        rows = self.service.all(with_removed=with_removed)
        if actor is not None:
            mine = self._administered(actor)
            rows = [r for r in rows if r.unit_id in mine]
        return [self._view(r) for r in rows]

    def get(self, webhook_id: int, *, actor: str | None = None) -> WebhookView:
        """One webhook; one outside ``actor``'s units is ``NotFound`` to them."""
        row = self.service.get(webhook_id)
        if actor is not None and row.unit_id not in self._administered(actor):
            raise NotFound("webhook", webhook_id)
        return self._view(row)

    def remove(self, webhook_id: int, *, actor: str | None = None) -> WebhookView:
        """No more events for it; deliveries not yet sent are cancelled."""
        actor_id = self._admin(actor, self.service.get(webhook_id).unit_id, "remove_webhook")
        return self._view(self.service.remove(webhook_id, actor_id=actor_id))

    def deliveries(
        self,
        *,
        webhook_id: int | None = None,
        failed: bool = False,
        limit: int = 100,
        actor: str | None = None,
    ) -> builtins.list[WebhookDeliveryView]:
        """The newest deliveries first: of one webhook, or only the failed ones.

        With ``actor``: only those of webhooks of the units they administer
        (another's webhook is ``NotFound``), among the newest ``limit``.
        """
        if actor is not None and webhook_id is not None:
            self.get(webhook_id, actor=actor)
        rows = self.service.deliveries(hook_id=webhook_id, failed_only=failed, limit=limit)
        if actor is not None and webhook_id is None:
            units = self._administered(actor)
            mine = {h.id for h in self.service.all(with_removed=True) if h.unit_id in units}
            rows = [r for r in rows if r.webhook_id in mine]
        return rows

    def delivery(self, delivery_id: int) -> WebhookDeliveryView:
        return self.service.delivery(delivery_id)

    def redeliver(self, delivery_id: int, *, actor: str | None = None) -> WebhookDeliveryView:
        """Send the event again (same id, same body) at the next delivery pass."""
        found = self.service.delivery(delivery_id)
        self._admin(actor, self.service.get(found.webhook_id).unit_id, "redeliver_webhook")
        return self.service.redeliver(delivery_id)

    # -- a person's own channel ----------------------------------------------------------

    def user_channels(self) -> bool:
        """May people register their own webhook or robot?"""
        return self.service.user_channels()

    def set_user_channels(self, on: bool, *, actor: str | None = None) -> None:
        """Let people register their own channel (an admin of the whole tree decides)."""
        org = self.names.current()
        actor_id = None
        for root in (u for u, info in org.units.items() if info.parent_id is None):
            actor_id = self._admin(actor, root, "set_user_channels")
        self.service.set_user_channels(on, actor_id=actor_id)

    def add_own(
        self,
        username: str,
        url: str,
        events: Sequence[str],
        *,
        kind: str = "webhook",
        secret: str | None = None,
        language: str = "en",
    ) -> NewWebhook:
        """``username``'s own channel: told of the changes that notify them.

        Refused (``user_channels_off``) unless an admin allows own channels;
        a private or loopback address is always refused here.
        """
        if not self.service.user_channels():
            raise WebhookRefused(
                "an administrator has not allowed people their own webhooks or robots",
                code="user_channels_off",
                params={},
            )
        user_id = self.names.user_id(username)
        org = self.names.current()
        # Where the channel is listed for admins: a unit where the person holds a role
        # (else the top), so an admin there can see and remove it.
        held = sorted(u for (u, _role), who in org.holders_by_unit_role.items() if user_id in who)
        unit_id = held[0] if held else min(u for u, i in org.units.items() if i.parent_id is None)
        row, made = self.service.add(
            unit_id,
            url,
            list(events),
            allow_private=False,
            created_by=user_id,
            kind=kind,
            secret=secret,
            language=language,
            user_id=user_id,
        )
        return NewWebhook(self._view(row), made)

    def own(self, username: str) -> builtins.list[WebhookView]:
        """``username``'s own active channels."""
        user_id = self.names.user_id(username)
        return [self._view(r) for r in self.service.all() if r.user_id == user_id]

    def remove_own(self, username: str, webhook_id: int) -> WebhookView:
        """Remove one of ``username``'s own channels (another's is ``NotFound``)."""
        if self.service.get(webhook_id).user_id != self.names.user_id(username):
            raise NotFound("webhook", webhook_id)
        return self._view(self.service.remove(webhook_id))

    def _administered(self, actor: str) -> set[int]:
        """The units ``actor`` administers: where they hold admin, and all below."""
        actor_id = self.names.user_id(actor)
        org = self.names.current()
        return {
            u
            for u in org.units
            if any(actor_id in org.holders("admin", a) for a in (u, *org.ancestors(u)))
        }

    def _admin(self, actor: str | None, unit_id: int, action: str) -> int | None:
        """The actor's id if they hold the admin role at the unit or above (None: the CLI)."""
        if actor is None:
            return None
        actor_id = self.names.user_id(actor)
        org = self.names.current()
        if not any(actor_id in org.holders("admin", u) for u in (unit_id, *org.ancestors(unit_id))):
            raise PermissionDenied(action, "admin", "at the webhook's unit or above")
        return actor_id

    def _view(self, row: HookRow) -> WebhookView:
        org = self.names.org()
        unit = org.units.get(row.unit_id) or self.names.current().units[row.unit_id]
        return WebhookView(
            id=row.id,
            unit=UnitRef(unit.code, unit.name),
            url=row.url,
            events=row.events,
            active=row.active,
            allow_private=row.allow_private,
            created_by=self.names.username(row.created_by),
            created_at=row.created_at,
            kind=row.kind,
            language=row.language,
            owner=self.names.username(row.user_id) if row.user_id is not None else None,
        )
