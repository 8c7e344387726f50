"""The fixed SQL of the e-mail outbox, for both databases.

Owns every statement the outbox runs on ``notification``, ``app_user`` and
``applied_effect``; the column names must match ``storage/tables.py``.
Written as ``storage.tx.Sql`` (``:name`` parameters, one text per dialect)
like the transition path, because the claim needs dialect-specific SQL that
the ORM does not express: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL.

Every change to a claimed row checks ``email_claim = :token``: a sender whose
lease ran out (it stalled, or died and came back) must not overwrite the
outcome of the sender that took the row over.
"""

from __future__ import annotations

from collections.abc import Sequence

from planflow.storage.tx import Sql

_CLAIM = (
    "UPDATE notification SET email_claim = :token, email_next_at = :lease_until"
    " WHERE id IN (SELECT id FROM notification"
    " WHERE email_status = 'pending' AND email_next_at IS NOT NULL AND email_next_at <= :now"
    " ORDER BY email_next_at LIMIT :n{lock})"
    " RETURNING id, user_id, plan_id, kind, payload, email_attempts"
)
#: SQLite only: new rows (no due time yet) after the watermark, in id order,
#: a range of the table's own B-tree (see ``tables.OutboxWatermark``).
CLAIM_NEW_SQLITE = Sql(
    "mail_claim_new",
    "UPDATE notification SET email_claim = :token, email_next_at = :lease_until"
    " WHERE id IN (SELECT id FROM notification"
    " WHERE id > :after AND email_status = 'pending' AND email_next_at IS NULL"
    " ORDER BY id LIMIT :n)"
    " RETURNING id, user_id, plan_id, kind, payload, email_attempts",
)
WATERMARK = Sql("mail_watermark", "SELECT last_id FROM outbox_watermark WHERE id = 1")
LAST_NOTIFICATION = Sql("mail_last_notification", "SELECT max(id) FROM notification")
MOVE_WATERMARK = Sql(
    "mail_move_watermark",
    "INSERT INTO outbox_watermark (id, last_id) VALUES (1, :last_id)"
    " ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id",
)
#: SQLite: the whole UPDATE runs under the BEGIN IMMEDIATE write lock, so two
#: senders cannot pick the same row. PostgreSQL: SKIP LOCKED lets a second
#: sender take the next rows instead of waiting for (and then re-checking)
#: the first one's.
CLAIM_SQLITE = Sql("mail_claim", _CLAIM.format(lock=""))
CLAIM_POSTGRESQL = Sql("mail_claim", _CLAIM.format(lock=" FOR UPDATE SKIP LOCKED"))

#: Before each send: still ours? Then hold it for another lease.
RENEW = Sql(
    "mail_renew",
    "UPDATE notification SET email_next_at = :lease_until"
    " WHERE id = :id AND email_claim = :token AND email_status = 'pending'",
)
#: sent | skipped | failed | digest: the row leaves the pending index.
FINISH = Sql(
    "mail_finish",
    "UPDATE notification SET email_status = :status, email_attempts = :attempts,"
    " email_claim = NULL, email_next_at = NULL"
    " WHERE id = :id AND email_claim = :token AND email_status = 'pending'",
)
#: Back to the queue, due again at ``next_at``.
RELEASE = Sql(
    "mail_release",
    "UPDATE notification SET email_attempts = :attempts, email_next_at = :next_at,"
    " email_claim = NULL"
    " WHERE id = :id AND email_claim = :token AND email_status = 'pending'",
)

# The partial index ix_notification_digest holds exactly these rows.
DIGEST_USERS = Sql(
    "mail_digest_users",
    "SELECT DISTINCT user_id FROM notification WHERE email_status = 'digest' ORDER BY user_id",
)
DIGEST_ROWS = Sql(
    "mail_digest_rows",
    "SELECT id, plan_id, kind, payload, created_at FROM notification"
    " WHERE user_id = :user_id AND email_status = 'digest' ORDER BY id",
)
#: The once-per-(user, day) key: inserted alone in its own transaction, so
#: of several senders exactly one gets rowcount 1.
TAKE_KEY = Sql(
    "mail_take_key",
    "INSERT INTO applied_effect (key, plan_id, at) VALUES (:key, NULL, :at)"
    " ON CONFLICT (key) DO NOTHING",
)
DROP_KEY = Sql("mail_drop_key", "DELETE FROM applied_effect WHERE key = :key")


def user_query(count: int) -> Sql:
    """The recipients' (and actors') details for ``count`` user ids ``:u0``..."""
    marks = ", ".join(f":u{i}" for i in range(count))
    return Sql(
        "mail_users",
        "SELECT id, email, language, active, email_preference, display_name"
        f" FROM app_user WHERE id IN ({marks})",
    )


def digest_finish(count: int) -> Sql:
    """Mark ``count`` digest rows ``:i0``... with ``:status``; ``:tried`` is 1 if mailed."""
    marks = ", ".join(f":i{i}" for i in range(count))
    return Sql(
        "mail_digest_finish",
        "UPDATE notification SET email_status = :status,"
        " email_attempts = email_attempts + :tried, email_next_at = NULL"
        f" WHERE id IN ({marks}) AND email_status = 'digest'",
    )


def numbered(prefix: str, values: Sequence[int]) -> dict[str, int]:
    return {f"{prefix}{i}": v for i, v in enumerate(values)}
