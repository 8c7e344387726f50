"""``Planflow.inbox``: what waits for one person, named by username.

Their open tasks (the plans whose open task they hold the role for, where it
waits or where it was escalated to) and their in-app notifications
(``services.inbox``), and how they want notifications e-mailed
(``services.email_preferences``).
"""

from __future__ import annotations

from collections.abc import Callable

from planflow.core.org import OrgSnapshot
from planflow.facade.names import Names
from planflow.services.email_preferences import EmailPreferences
from planflow.services.inbox import Inbox
from planflow.views import NotificationEntry, TaskEntry

#: The tasks a deputy may act on for others (``DelegationsAPI.open_tasks``), given
#: which of them the deputy has anyway.
Delegated = Callable[[str, Callable[[TaskEntry], bool], OrgSnapshot | None], list[TaskEntry]]


def _urgency(t: TaskEntry) -> tuple[int, bool, float, int]:
    """The inbox's order: escalated (highest level) first, then by due date."""
    return (-t.level, t.due_at is None, t.due_at.timestamp() if t.due_at else 0.0, t.plan_id)


class InboxAPI:
    def __init__(
        self,
        inbox: Inbox,
        names: Names,
        preferences: EmailPreferences,
        delegated: Delegated | None = None,
    ) -> None:
        self.inbox = inbox
        self.names = names
        self.preferences = preferences
        #: Set by ``Planflow`` once the delegations exist (None: no deputies' tasks).
        self.delegated = delegated

    def tasks(
        self, username: str, limit: int = 500, *, org: OrgSnapshot | None = None
    ) -> list[TaskEntry]:
        """The user's open tasks, escalated and overdue first, then by due date,
        with those they may act on as someone's deputy (``on_behalf_of`` set; a
        plan they hold the role for themselves is listed once, as theirs). ``org``:
        the organisation as it is now, when the caller has read it already."""
        own = self.inbox.tasks(self.names.user_id(username), limit=limit)
        if self.delegated is None:
            return own
        own_plans = {t.plan_id for t in own}
        extra = self.delegated(username, lambda t: t.plan_id in own_plans, org)
        if not extra:
            return own
        return sorted(own + extra, key=_urgency)[:limit]

    def followed(self, username: str, limit: int = 100) -> list[TaskEntry]:
        """The open plans whose task ``username`` has done their part of and that now
        wait for others: they voted in its round (n-of-m), approved their part of a
        task held by several, or it is someone else's turn first. Not tasks (``tasks``
        never lists them: the library's rule is that these are no longer theirs);
        a list to follow them by, in the tasks' order."""
        return self.inbox.followed(self.names.user_id(username), limit=limit)

    def notifications(
        self,
        username: str,
        *,
        unread_only: bool = False,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[NotificationEntry]:
        """Newest first; ``before_id`` pages backwards."""
        return self.inbox.notifications(
            self.names.user_id(username),
            unread_only=unread_only,
            limit=limit,
            before_id=before_id,
        )

    def unread_count(self, username: str) -> int:
        return self.inbox.unread_count(self.names.user_id(username))

    def mark_read(self, username: str, notification_ids: list[int] | None = None) -> int:
        """Mark the user's notifications read (all when ``notification_ids`` is None);
        an id that is not theirs is ``NotFound``. Returns how many were marked."""
        return self.inbox.mark_read(self.names.user_id(username), notification_ids)

    def email_preference(self, username: str) -> str:
        """``immediately``, ``digest`` (one e-mail a day) or ``off``."""
        return self.preferences.get(self.names.user_id(username))

    def set_email_preference(self, username: str, preference: str) -> str:
        """Choose how notifications are e-mailed; another value is refused
        (``unknown_email_preference``). Returns the stored choice."""
        return self.preferences.set(self.names.user_id(username), preference)
