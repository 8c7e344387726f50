"""The caller's own lists through the API: notifications, the review queue, settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from flask import Blueprint
from pydantic import BaseModel, Field
from spectree import Response as Responses

from planflow.core.ids import MAX_ID

from ..users import planflow
from .auth import caller, require_scope
from .schemas import MyTask, PlanItem, Problem, Strict, Task, View
from .spec import validate

ERRORS = {"HTTP_403": Problem, "HTTP_404": Problem, "HTTP_422": Problem}


class Notification(View):
    id: int
    plan_id: int | None
    kind: str = Field(description="An action (approve …), remind, escalate, reroute …")
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class Notifications(BaseModel):
    items: list[Notification]
    unread: int


class NotificationQuery(Strict):
    unread: bool = False
    limit: int = Field(50, ge=1, le=500)
    before_id: int | None = Field(None, ge=1, le=2**31 - 1)


class MarkRead(Strict):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None, max_length=500, description="The notifications to mark; none given: all."
    )


class Marked(BaseModel):
    marked: int


class QueueItem(View):
    plan: PlanItem
    task: Task
    escalated_to_you: bool


class ReviewQueue(BaseModel):
    """``mine``: what waits for the caller; ``others``: what waits for others below."""

    mine: list[QueueItem]
    mine_has_more: bool
    others: list[QueueItem]
    others_has_more: bool
    oversees: bool
    #: What the caller may act on as the deputy of someone away, each ``on_behalf_of``.
    for_others: list[MyTask] = []


class QueueQuery(Strict):
    mine_page: int = Field(1, ge=1, le=10_000)
    others_page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(50, ge=1, le=200)


class Settings(BaseModel):
    email_preference: str = Field(
        description="How notifications are e-mailed: immediately, digest (daily) or off."
    )


class SettingsChange(Strict):
    # A plain string, so that an unknown value gets the library's own refusal
    # (``unknown_email_preference``) like every other client.
    email_preference: str = Field(max_length=40)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/me/settings", "settings", settings, methods=["GET"])
    bp.add_url_rule("/me/settings", "change_settings", change_settings, methods=["PUT"])
    bp.add_url_rule("/me/notifications", "notifications", notifications, methods=["GET"])
    bp.add_url_rule("/me/notifications/read", "mark_read", mark_read, methods=["POST"])
    bp.add_url_rule("/me/review-queue", "review_queue", review_queue, methods=["GET"])


@validate(query=NotificationQuery, resp=Responses(HTTP_200=Notifications, **ERRORS), tags=["me"])
def notifications(query: NotificationQuery) -> Notifications:
    """The caller's in-app notifications, newest first (``before_id`` pages back)."""
    pf = planflow()
    entries = pf.inbox.notifications(
        caller(), unread_only=query.unread, limit=query.limit, before_id=query.before_id
    )
    return Notifications(
        items=[Notification.model_validate(n) for n in entries],
        unread=pf.inbox.unread_count(caller()),
    )


@validate(json=MarkRead, resp=Responses(HTTP_200=Marked, **ERRORS), tags=["me"])
def mark_read(json: MarkRead) -> Marked:
    """Mark notifications read; an id that is not the caller's is 404. Scope ``write``."""
    require_scope("write")
    json = json or MarkRead()
    return Marked(marked=planflow().inbox.mark_read(caller(), json.ids))


@validate(query=QueueQuery, resp=Responses(HTTP_200=ReviewQueue, **ERRORS), tags=["me"])
def review_queue(query: QueueQuery) -> ReviewQueue:
    """The caller's review queue: escalated first, then overdue, then the longest waiting."""
    queue = planflow().review_queue(
        caller(),
        mine_page=query.mine_page,
        others_page=query.others_page,
        page_size=query.page_size,
    )
    return ReviewQueue(
        mine=[QueueItem.model_validate(e) for e in queue.mine.items],
        mine_has_more=queue.mine.more,
        others=[QueueItem.model_validate(e) for e in queue.others.items],
        others_has_more=queue.others.more,
        oversees=queue.oversees,
        for_others=[MyTask.of(t) for t in queue.for_others],
    )


@validate(resp=Responses(HTTP_200=Settings, **ERRORS), tags=["me"])
def settings() -> Settings:
    """The caller's own settings."""
    return Settings(email_preference=planflow().inbox.email_preference(caller()))


@validate(json=SettingsChange, resp=Responses(HTTP_200=Settings, **ERRORS), tags=["me"])
def change_settings(json: SettingsChange) -> Settings:
    """Change the caller's settings; an unknown choice is 422
    ``unknown_email_preference``. Scope ``write``."""
    require_scope("write")
    chosen = planflow().inbox.set_email_preference(caller(), json.email_preference)
    return Settings(email_preference=chosen)
