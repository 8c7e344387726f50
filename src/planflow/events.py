"""Domain events, emitted after a change is committed.

In-transaction effects (audit, tasks, notifications) are the writers in
``planflow.services.changes``; this bus is for what must happen only once the change
is durable: waking the e-mail sender, refreshing caches, metrics. A failing
subscriber is logged and never undoes a committed change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlanChanged:
    plan_id: int
    action: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    version: int
    at: datetime
    notified: tuple[int, ...] = ()


Subscriber = Callable[[PlanChanged], None]


class EventBus:
    def __init__(self) -> None:
        # Replaced, never changed in place: ``emit`` iterates without a lock.
        self._subscribers: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()

    @property
    def has_subscribers(self) -> bool:
        """Whether anyone listens (so an emitter can skip building the event)."""
        return bool(self._subscribers)

    def subscribe(self, fn: Subscriber) -> Subscriber:
        with self._lock:
            self._subscribers = (*self._subscribers, fn)
        return fn

    def unsubscribe(self, fn: Subscriber) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
            subscribers.remove(fn)
            self._subscribers = tuple(subscribers)

    def emit(self, event: PlanChanged) -> None:
        for fn in self._subscribers:
            try:
                fn(event)
            except Exception:  # a subscriber must not break a committed change
                log.exception("event subscriber %r failed on %r", fn, event)
