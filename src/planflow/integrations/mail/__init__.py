"""E-mail for notifications: settings, rendering, the SMTP adapter and the outbox.

The outbox is the ``notification`` table itself (``email_*`` columns); the
scheduler calls ``Outbox.run_once`` and ``Outbox.send_digests`` every minute
or so, from as many processes as it likes. Module by module:

* ``settings``   ``SmtpSettings.from_env()``: ``PLANFLOW_SMTP_*`` and friends
* ``texts``      the phrases in en / zh / ko
* ``messages``   pure rendering: notification → subject and body → MIME
* ``labels``     state and action names from the workflow definitions
* ``transport``  ``MailTransport`` port and its smtplib ``SmtpTransport``
* ``recipients`` who gets what: send now, digest, or skip
* ``outbox``     send, skip or set aside each row, retry with backoff (``Outbox``)
* ``claims``     the claim on a row: taken, renewed, finished under a token
* ``digest``     one daily digest per user and local day
* ``sql``        the statements of the three above
"""

from __future__ import annotations

from planflow.integrations.mail.messages import (
    DigestItem,
    Labels,
    MailContext,
    RawLabels,
    Rendered,
    render,
    render_digest,
)
from planflow.integrations.mail.outbox import NOT_CONFIGURED, Outbox
from planflow.integrations.mail.report import OutboxReport
from planflow.integrations.mail.settings import SmtpSettings
from planflow.integrations.mail.transport import MailTransport, SendError, SmtpTransport

__all__ = [
    "NOT_CONFIGURED",
    "DigestItem",
    "Labels",
    "MailContext",
    "MailTransport",
    "Outbox",
    "OutboxReport",
    "RawLabels",
    "Rendered",
    "SendError",
    "SmtpSettings",
    "SmtpTransport",
    "render",
    "render_digest",
]
