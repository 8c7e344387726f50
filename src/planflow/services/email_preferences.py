"""How a person's notifications reach them by e-mail: at once, in a daily digest, or not.

Owns ``app_user.email_preference``, the one setting the mail outbox routes by
(``integrations.mail.recipients.route``). The person chooses it themselves
(settings page, ``/api/v1/me/settings``, ``planflow email-preference``); every
client calls this module, so an unknown choice is refused once, here, with
the code ``unknown_email_preference``.

Changing the choice does not move notifications already set aside: rows
waiting for a digest still go out in the next digest unless the person
switched e-mail off, in which case the digest sender skips them (it re-reads
the preference before sending).
"""

from __future__ import annotations

from sqlalchemy import select, update

from planflow.errors import NotFound, ValidationError
from planflow.storage.db import Database
from planflow.storage.tables import User

#: The choices, in the order a settings page offers them.
EMAIL_PREFERENCES = ("immediately", "digest", "off")

_users = User.__table__  # type: ignore[attr-defined]


class UnknownEmailPreference(ValidationError):
    def __init__(self, given: str) -> None:
        super().__init__(
            f"e-mail preference must be one of {', '.join(EMAIL_PREFERENCES)}, not {given!r}",
            code="unknown_email_preference",
            params={"given": given[:40], "choices": list(EMAIL_PREFERENCES)},
        )


def check_email_preference(value: object) -> str:
    """``value`` if it is one of ``EMAIL_PREFERENCES``; else ``UnknownEmailPreference``."""
    if not isinstance(value, str) or value not in EMAIL_PREFERENCES:
        raise UnknownEmailPreference(str(value))
    return value


class EmailPreferences:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, user_id: int) -> str:
        """The user's choice; a value the database holds that is not a known choice
        reads as ``immediately``, which is also how the outbox treats it."""
        with self.db.read() as conn:
            found = conn.execute(
                select(_users.c.email_preference).where(_users.c.id == user_id)
            ).first()
        if found is None:
            raise NotFound("user", user_id)
        value = found[0]
        return value if value in EMAIL_PREFERENCES else "immediately"

    def set(self, user_id: int, preference: str) -> str:
        """Store the user's choice; returns it."""
        choice = check_email_preference(preference)
        with self.db.write() as conn:
            changed = conn.execute(
                update(_users).where(_users.c.id == user_id).values(email_preference=choice)
            )
        if changed.rowcount != 1:
            raise NotFound("user", user_id)
        return choice
