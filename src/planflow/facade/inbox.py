"""``Planflow.inbox``: what waits for one person, named by username.

Their open tasks (the plans whose open task they hold the role for, where it
waits or where it was escalated to) and their in-app notifications
(``services.inbox``), and how they want notifications e-mailed
(``services.email_preferences``).
"""

from __future__ import annotations

from planflow.facade.names import Names
from planflow.services.email_preferences import EmailPreferences
from planflow.services.inbox import Inbox
from planflow.views import NotificationEntry, TaskEntry


class InboxAPI:
    def __init__(self, inbox: Inbox, names: Names, preferences: EmailPreferences) -> None:
        self.inbox = inbox
        self.names = names
        self.preferences = preferences

    def tasks(self, username: str, limit: int = 500) -> list[TaskEntry]:
        """The user's open tasks, escalated and overdue first, then by due date."""
        return self.inbox.tasks(self.names.user_id(username), limit=limit)

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
