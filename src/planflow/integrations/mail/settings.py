"""E-mail configuration, read from environment variables.

Owns turning ``PLANFLOW_SMTP_*`` (``_TIMEOUT`` included) / ``PLANFLOW_MAIL_*`` /
``PLANFLOW_DIGEST_HOUR`` / ``PLANFLOW_TIMEZONE`` into one validated, immutable ``SmtpSettings``. No
host means "e-mail is not configured": ``from_env`` returns None and the
outbox keeps every message until it is. A value that is set but wrong is a
``ValidationError`` naming the variable, raised at start-up rather than at
the first send hours later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from email.headerregistry import Address, HeaderRegistry
from typing import Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from planflow.errors import ValidationError

Security = Literal["none", "starttls", "ssl"]
SECURITIES: tuple[Security, ...] = ("none", "starttls", "ssl")
DEFAULT_PORTS: dict[Security, int] = {"none": 25, "starttls": 25, "ssl": 465}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    mail_from: str
    port: int = 25
    security: Security = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    #: The web UI's address; mails link to ``{base_url}/plans/{id}`` when set.
    base_url: str | None = None
    #: Local hour (0-23) from which the daily digest goes out.
    digest_hour: int = 7
    #: The zone of ``digest_hour`` and of the times shown in mails.
    timezone: tzinfo = UTC
    #: Seconds to wait for the server; it bounds how long a claim is held.
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """The settings in ``env`` (default ``os.environ``); None without a host."""
        values = os.environ if env is None else env

        def get(name: str) -> str | None:
            # An empty variable counts as unset: `FOO=` in a unit file or
            # compose file is the usual way of switching a setting off.
            value = values.get(name, "").strip()
            return value or None

        host = get("PLANFLOW_SMTP_HOST")
        if host is None:
            return None
        security_text = (get("PLANFLOW_SMTP_SECURITY") or "none").lower()
        if security_text not in SECURITIES:
            raise ValidationError(
                f"PLANFLOW_SMTP_SECURITY must be one of {', '.join(SECURITIES)}, "
                f"not {security_text!r}"
            )
        security: Security = security_text
        port = _int(get("PLANFLOW_SMTP_PORT"), "PLANFLOW_SMTP_PORT", DEFAULT_PORTS[security])
        if not 1 <= port <= 65535:
            raise ValidationError(f"PLANFLOW_SMTP_PORT must be between 1 and 65535, not {port}")
        user, password = get("PLANFLOW_SMTP_USER"), values.get("PLANFLOW_SMTP_PASSWORD") or None
        if (user is None) != (password is None):
            raise ValidationError(
                "PLANFLOW_SMTP_USER and PLANFLOW_SMTP_PASSWORD must be set together"
            )
        mail_from = get("PLANFLOW_MAIL_FROM")
        if mail_from is None:
            raise ValidationError(
                "PLANFLOW_MAIL_FROM (the sender address) is required when PLANFLOW_SMTP_HOST is set"
            )
        _check_address(mail_from)
        base_url = get("PLANFLOW_MAIL_BASE_URL")
        if base_url is not None:
            if not base_url.startswith(("http://", "https://")):
                raise ValidationError(
                    f"PLANFLOW_MAIL_BASE_URL must start with http:// or https://, not {base_url!r}"
                )
            base_url = base_url.rstrip("/")
        timeout = _int(get("PLANFLOW_SMTP_TIMEOUT"), "PLANFLOW_SMTP_TIMEOUT", 30)
        if not 1 <= timeout <= 300:
            raise ValidationError(
                f"PLANFLOW_SMTP_TIMEOUT must be between 1 and 300 seconds, not {timeout}"
            )
        hour = _int(get("PLANFLOW_DIGEST_HOUR"), "PLANFLOW_DIGEST_HOUR", 7)
        if not 0 <= hour <= 23:
            raise ValidationError(f"PLANFLOW_DIGEST_HOUR must be between 0 and 23, not {hour}")
        return cls(
            host=host,
            mail_from=mail_from,
            port=port,
            security=security,
            user=user,
            password=password,
            base_url=base_url,
            digest_hour=hour,
            timezone=timezone_from_env(values),
            timeout=float(timeout),
        )


def timezone_from_env(env: Mapping[str, str] | None = None) -> tzinfo:
    """``PLANFLOW_TIMEZONE`` (an IANA name such as Asia/Shanghai), default UTC."""
    values = os.environ if env is None else env
    name = values.get("PLANFLOW_TIMEZONE", "").strip()
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"PLANFLOW_TIMEZONE: unknown time zone {name!r} (use an IANA name like Asia/Seoul)"
        ) from None


def _int(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number, not {text!r}") from None


def parse_address(text: str) -> Address | None:
    """One mailbox ("addr" or "Name <addr>"), or None if it is not one.

    Anything the e-mail package cannot turn into a header without defects
    would fail every send later, so it is refused up front.
    """
    try:
        header = _HEADERS("To", text)
    except Exception:  # the parser raises IndexError and friends on some junk
        return None
    addresses = cast(tuple[Address, ...], getattr(header, "addresses", ()))
    if len(addresses) != 1 or header.defects:
        return None
    address = addresses[0]
    return address if address.username and address.domain else None


_HEADERS = HeaderRegistry()


def _check_address(text: str) -> None:
    if parse_address(text) is None:
        raise ValidationError(
            f"PLANFLOW_MAIL_FROM is not an e-mail address: {text!r} "
            "(use planflow@example.org or 'Planflow <planflow@example.org>')"
        )
