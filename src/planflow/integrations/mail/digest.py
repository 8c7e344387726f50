"""The daily digest: one e-mail per user and local day listing their notifications.

Owns the ``digest`` → ``sent`` step of the outbox. From ``PLANFLOW_DIGEST_HOUR``
(local time in ``PLANFLOW_TIMEZONE``) each user with rows in status
``digest`` gets one e-mail, at most once per (user, local date) however many
scheduler processes run this at once:

1. take the key ``digest:{user_id}:{date}`` in ``applied_effect`` in its own
   transaction (``ON CONFLICT DO NOTHING``: one process gets it, the others
   skip the user for today);
2. read the user's digest rows and send one e-mail;
3. mark exactly those rows ``sent`` (rows that arrived meanwhile wait for
   tomorrow's digest).

If sending fails for now (4xx, server down) the key is given back so a later
run retries today; a 5xx refusal marks the rows ``failed``. If the process
dies between 1 and 2, today's digest is lost but its rows stay in ``digest``
and go out tomorrow. If it dies between the server accepting the e-mail and
3 committing, the rows go out again in tomorrow's digest: SMTP offers no way
to make acceptance and our commit one step, so that window is unavoidable.

Finding the users reads the partial index ``ix_notification_digest`` (only
rows waiting for a digest are in it), not the whole notification table.
"""

from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from planflow.integrations.mail import sql
from planflow.integrations.mail.messages import DigestItem, compose, render_digest
from planflow.integrations.mail.recipients import (
    Recipient,
    actor_of,
    as_utc,
    domain_of,
    load_users,
    log,
    payload_of,
    route,
)
from planflow.integrations.mail.report import OutboxReport
from planflow.integrations.mail.transport import SendError
from planflow.storage.tx import read_tx, write_tx

if TYPE_CHECKING:
    from planflow.integrations.mail.outbox import Outbox

#: Rows marked per UPDATE, far below SQLite's bound-parameter limit.
_CHUNK = 500


def send_digests(outbox: Outbox, now: datetime) -> OutboxReport:
    report = OutboxReport()
    settings = outbox.settings
    assert settings is not None, "checked by Outbox.configured()"
    local = now.astimezone(settings.timezone)
    if local.hour < settings.digest_hour:
        return report
    day = local.date()
    with read_tx(outbox.db) as tx:
        user_ids = [int(u) for u in tx.scalars(sql.DIGEST_USERS, {})]
        users = load_users(tx, set(user_ids)) if user_ids else {}
    try:
        for user_id in user_ids:
            if outbox.stopping():
                break  # the scheduler stops: the rest wait for the next run, claimed by no one
            user = users.get(user_id)
            if route(user, f"digest for user {user_id}") == "skipped":
                # Switched off or deactivated since the rows were set aside.
                _finish(outbox, _row_ids(outbox, user_id), "skipped", tried=0)
                report.skipped += 1
                continue
            assert user is not None
            if not _send_one(outbox, user, day, now, report):
                break  # the server is unusable: the rest wait for the next run
    finally:
        if outbox.transport is not None:
            outbox.transport.close()
    return report


_Item = tuple[int, int | None, str, dict[str, Any], datetime]


def _send_one(
    outbox: Outbox, user: Recipient, day: date, now: datetime, report: OutboxReport
) -> bool:
    """Digest of one user; False when the server is unusable."""
    key = f"digest:{user.id}:{day.isoformat()}"
    with write_tx(outbox.db) as tx:
        taken = tx.run(sql.TAKE_KEY, {"key": key, "at": now}) == 1
    if not taken:
        return True  # sent today already, or being sent by another process
    try:
        items, names = _read(outbox, user.id)
    except BaseException:
        _drop_key(outbox, key)  # nothing was sent: a later run tries today
        raise
    if not items:
        _drop_key(outbox, key)
        return True
    ids = [item[0] for item in items]
    try:
        message = _message(outbox, user, day, now, items, names)
    except Exception as exc:  # one that cannot be built never will be: no retries
        return _not_sent(outbox, key, ids, user, SendError(repr(exc), permanent=True), report)
    assert outbox.transport is not None
    try:
        outbox.transport.send(message)
    except SendError as exc:
        return _not_sent(outbox, key, ids, user, exc, report)
    _finish(outbox, ids, "sent", tried=1)
    report.sent += 1
    return True


def _read(outbox: Outbox, user_id: int) -> tuple[list[_Item], dict[int, str]]:
    """The user's digest rows, oldest first, and the names of who acted in them."""
    with read_tx(outbox.db) as tx:
        items: list[_Item] = [
            (int(i), plan_id, kind, payload_of(text), as_utc(at))
            for i, plan_id, kind, text, at in tx.all(sql.DIGEST_ROWS, {"user_id": user_id})
        ]
        actors = {a for *_, p, _ in items if (a := actor_of(p)) is not None}
        users = load_users(tx, actors) if actors else {}
    return items, {u.id: u.name for u in users.values()}


def _message(
    outbox: Outbox,
    user: Recipient,
    day: date,
    now: datetime,
    items: list[_Item],
    names: dict[int, str],
) -> EmailMessage:
    settings = outbox.settings
    assert settings is not None and user.address is not None
    shown = [
        DigestItem(kind, payload, plan_id, at, names.get(actor_of(payload) or -1))
        for _, plan_id, kind, payload, at in items[: outbox.digest_limit]
    ]
    rendered = render_digest(shown, outbox.context(user), day=day, more=len(items) - len(shown))
    domain = domain_of(settings.mail_from)
    return compose(
        rendered,
        sender=settings.mail_from,
        to=user.address,
        language=user.language,
        message_id=f"<planflow.digest.{user.id}.{day.isoformat()}@{domain}>",
        at=now,
    )


def _not_sent(
    outbox: Outbox, key: str, ids: list[int], user: Recipient, exc: SendError, report: OutboxReport
) -> bool:
    if exc.permanent:
        _finish(outbox, ids, "failed", tried=1)
        report.failed += 1
        log.error("digest for user %s: failed for good (%s)", user.id, exc)
        return True
    _drop_key(outbox, key)  # a later run tries again today
    report.retried += 1
    log.warning("digest for user %s: not sent (%s); will try again", user.id, exc)
    return not exc.unavailable


def _row_ids(outbox: Outbox, user_id: int) -> list[int]:
    with read_tx(outbox.db) as tx:
        return [int(r[0]) for r in tx.all(sql.DIGEST_ROWS, {"user_id": user_id})]


def _finish(outbox: Outbox, ids: list[int], status: str, *, tried: int) -> None:
    with write_tx(outbox.db) as tx:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            params = {"status": status, "tried": tried, **sql.numbered("i", chunk)}
            tx.run(sql.digest_finish(len(chunk)), params)


def _drop_key(outbox: Outbox, key: str) -> None:
    with write_tx(outbox.db) as tx:
        tx.run(sql.DROP_KEY, {"key": key})
