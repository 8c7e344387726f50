"""Sending one finished e-mail: the SMTP adapter and how its failures are sorted.

Owns the network. ``MailTransport`` is the port the outbox uses; ``SmtpTransport``
is its smtplib implementation. A transport keeps one connection for a batch
(``close`` ends it) and turns every failure into a ``SendError`` that says
what the outbox should do:

* ``permanent``  — this message can never go (the server refused the
  recipient or the message with a 5xx): fail it now, do not retry for hours.
* ``unavailable`` — the server itself is not usable (down, refusing us,
  bad login): every other message would fail the same way, so the outbox
  stops the batch instead of timing out once per message.
* neither — this message failed for now (4xx): retry it later.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from planflow.integrations.mail.settings import SmtpSettings


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, unavailable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unavailable = unavailable


class MailTransport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; raises ``SendError``."""
        ...

    def close(self) -> None:
        """End the connection, if any (the next ``send`` opens a new one)."""
        ...


class SmtpTransport:
    """smtplib over plain SMTP, STARTTLS or implicit TLS, with optional login."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        try:
            conn = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            # Down, refusing us, no STARTTLS, bad login: no message can go.
            raise SendError(
                f"cannot open an SMTP session with {self.settings.host}:{self.settings.port}: "
                f"{exc}",
                unavailable=True,
            ) from exc
        try:
            conn.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{r}: {c} {_text(m)}" for r, (c, m) in exc.recipients.items())
            raise SendError(
                f"recipient refused: {detail}", permanent=all(c >= 500 for c in codes)
            ) from exc
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code == 421:  # the server is closing the connection
                self._drop()
            raise SendError(
                f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # A non-ASCII address and a server without SMTPUTF8: only this
            # message is affected, and it will never go through this server.
            raise SendError(f"not supported by the server: {exc}", permanent=True) from exc
        except smtplib.SMTPSenderRefused as exc:
            # The sender address is refused for every message: a setting to fix.
            self._drop()
            raise SendError(
                f"sender {exc.sender} refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                unavailable=True,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # Another refusal of the session (e.g. on HELO or MAIL FROM), not of this message.
            self._drop()
            raise SendError(
                f"SMTP error {exc.smtp_code} {_text(exc.smtp_error)}", unavailable=True
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Timeout or dropped connection in the middle of the session.
            self._drop()
            raise SendError(
                f"cannot talk to {self.settings.host}:{self.settings.port}: {exc}",
                unavailable=True,
            ) from exc

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        s = self.settings
        conn: smtplib.SMTP
        if s.security == "ssl":
            conn = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
            if s.user is not None and s.password is not None:
                conn.login(s.user, s.password)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
