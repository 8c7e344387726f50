"""Registering webhooks, and what an admin sees of their deliveries.

A webhook covers a unit's subtree: the events of every plan of that unit or
below it (``services.webhook_events`` enqueues them; the scheduler sends
them, ``integrations.webhooks``). Registering checks the URL
(``core.webhooks.check_url``), the events, and where the host resolves:
a private, loopback, link-local, multicast or reserved address is refused
(``webhook_url_private``) unless the admin says ``allow_private`` — the
sender checks the address it actually connects to again, every time, since
DNS may answer differently later.

The secret (``whsec_`` and 43 URL-safe characters) is made here and shown
once; it is stored as it is, because every delivery is signed with it.

A group robot (``kind`` dingtalk, wecom or feishu, ``core.robots``) is
registered the same way, with its language; its secret is the one the
vendor issued (DingTalk, Feishu), given by the admin and never shown again.

A person's own channel (``user_id``) is a webhook or robot told of the
changes that notify that person; people may register one only while an
admin allows it (the ``user_channels`` database setting), and never to a
private address.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from planflow.clock import Clock
from planflow.core.robots import WEBHOOK, check_kind
from planflow.core.webhooks import check_addresses, check_events, check_url
from planflow.errors import NotFound
from planflow.storage import org_audit, settings
from planflow.storage import webhook_store as ws
from planflow.storage.db import Database
from planflow.views import WebhookDeliveryView

#: ``resolve(host, port)``: the addresses a host name resolves to (an IP gives itself);
#: refuses with ``webhook_url_unresolvable`` (``integrations.webhooks.addresses``).
Resolver = Callable[[str, int], list[str]]

SECRET_PREFIX = "whsec_"
#: Deliveries a log shows at most.
MAX_LOG_ROWS = 1000


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class Webhooks:
    def __init__(self, db: Database, clock: Clock, resolve: Resolver) -> None:
        self.db = db
        self.clock = clock
        self.resolve = resolve

    def check_target(self, url: str, *, allow_private: bool) -> None:
        """Refuse a URL that is malformed, or whose host resolves to a private address."""
        _scheme, host, port = check_url(url)
        addresses = self.resolve(host, port)
        if not allow_private:
            check_addresses(host, addresses)

    def add(
        self,
        unit_id: int,
        url: str,
        events: Sequence[str],
        *,
        allow_private: bool = False,
        created_by: int | None = None,
        kind: str = WEBHOOK,
        secret: str | None = None,
        language: str = "en",
        user_id: int | None = None,
    ) -> tuple[ws.HookRow, str]:
        """A new webhook and its secret (shown once; "" for a robot).

        The caller has checked the unit. A robot's ``secret`` is its vendor's.
        """
        chosen = check_events(list(events))
        robot_secret = check_kind(kind, url, secret, language)
        self.check_target(url, allow_private=allow_private)
        secret = new_secret() if kind == WEBHOOK else robot_secret
        with self.db.write() as conn:
            row = ws.insert_hook(
                conn,
                unit_id=unit_id,
                url=url,
                events=chosen,
                secret=secret,
                allow_private=allow_private,
                created_by=created_by,
                at=self.clock.now(),
                kind=kind,
                language=language,
                user_id=user_id,
            )
            org_audit.record_in(
                conn,
                created_by,
                row.created_at,
                "webhook_added",
                webhook=row.id,
                unit=unit_id,
                # A robot's URL carries its credential (access_token=, key=): the
                # permanent trail keeps the address without its query.
                url=urlsplit(url)._replace(query="", fragment="").geturl(),
                events=list(chosen),
                allow_private=allow_private,
                kind=kind,
                language=language,
                owner=user_id,
            )
        return row, secret if kind == WEBHOOK else ""

    def user_channels(self) -> bool:
        """Has an admin let people register their own webhook or robot?"""
        return settings.get(self.db, settings.USER_CHANNELS) == "on"

    def set_user_channels(self, on: bool, *, actor_id: int | None = None) -> bool:
        """Allow (or stop allowing) new own channels; existing ones stay until removed.

        On the organisation's audit trail, by ``actor_id`` (None: the command line),
        in the switch's own transaction; setting it to what it is changes and records
        nothing. True when it changed.
        """
        with self.db.write() as conn:
            was_on = settings.get_in(conn, settings.USER_CHANNELS) == "on"
            if was_on == on:
                return False
            at = self.clock.now()
            settings.put_in(conn, settings.USER_CHANNELS, "on" if on else None, at)
            org_audit.record_in(conn, actor_id, at, "user_channels_switched", on=on)
        return True

    def all(self, *, with_removed: bool = False) -> list[ws.HookRow]:
        with self.db.read() as conn:
            return ws.hooks(conn, with_removed=with_removed)

    def get(self, hook_id: int) -> ws.HookRow:
        with self.db.read() as conn:
            found = ws.hook(conn, hook_id)
        if found is None:
            raise NotFound("webhook", hook_id)
        return found

    def remove(self, hook_id: int, *, actor_id: int | None = None) -> ws.HookRow:
        """No more events for it; deliveries not yet sent are cancelled. Its log stays.

        On the organisation's audit trail, by ``actor_id`` (None: the command line).
        """
        with self.db.write() as conn:
            before = ws.hook(conn, hook_id)
            if before is None:
                raise NotFound("webhook", hook_id)
            ws.deactivate(conn, hook_id)
            found = ws.hook(conn, hook_id)
            if before.active:
                org_audit.record_in(
                    conn,
                    actor_id,
                    self.clock.now(),
                    "webhook_removed",
                    webhook=hook_id,
                    url=before.url,
                )
        assert found is not None
        return found

    def deliveries(
        self, *, hook_id: int | None = None, failed_only: bool = False, limit: int = 100
    ) -> list[WebhookDeliveryView]:
        """The newest deliveries first (of one webhook, or only the failed ones)."""
        limit = max(1, min(limit, MAX_LOG_ROWS))
        with self.db.read() as conn:
            if hook_id is not None and ws.hook(conn, hook_id) is None:
                raise NotFound("webhook", hook_id)
            return ws.deliveries(conn, hook_id=hook_id, failed_only=failed_only, limit=limit)

    def delivery(self, delivery_id: int) -> WebhookDeliveryView:
        with self.db.read() as conn:
            found = ws.delivery(conn, delivery_id)
        if found is None:
            raise NotFound("webhook delivery", delivery_id)
        return found

    def redeliver(self, delivery_id: int) -> WebhookDeliveryView:
        """Send the event again, with the same id and body, at the next delivery pass."""
        with self.db.write() as conn:
            if not ws.redeliver(conn, delivery_id, self.clock.now()):
                raise NotFound("webhook delivery", delivery_id)
            found = ws.delivery(conn, delivery_id)
        assert found is not None
        return found
