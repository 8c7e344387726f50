"""Signing in and access: failed attempts, trusted devices, API tokens, feed tokens, limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
)
from sqlmodel import Field, SQLModel


class LoginAttempt(SQLModel, table=True):
    """A sign-in attempt, for rate limiting per account and per address.

    Kept in the database, not in a worker's memory, so the limit holds across
    every web worker and host.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username", "username", "at"),
        Index("ix_login_attempt_address", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80)
    address: str = Field(max_length=64)
    at: datetime
    success: bool = False
    #: Made with a trusted device's token of the account (counted apart: ``services.sign_in``).
    trusted: bool = False


class TrustedDevice(SQLModel, table=True):
    """A browser (or other client) someone signed in with: its token, kept hashed.

    Attempts that present it are exempt from the limits others' failures set.
    """

    __tablename__ = "trusted_device"
    __table_args__ = (Index("ix_trusted_device_user", "user_id", "last_used_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime
    last_used_at: datetime


class ApiToken(SQLModel, table=True):
    """A personal access token for the HTTP API (``services.api_tokens``), kept hashed.

    The secret is shown once, when the token is made; ``prefix`` is its first
    characters, so that a person can tell their tokens apart in a list.
    """

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    #: ``read``, ``write`` or ``admin``; each includes the ones before it.
    scope: str = Field(max_length=10)
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class FeedToken(SQLModel, table=True):
    """A secret calendar-feed address (``services.feed_tokens``), kept hashed like API tokens.

    ``unit_id`` None: the user's own feed; else the feed of that unit's plans,
    read with the user's visibility. A feed token is no API token: it opens
    one read-only .ics address and nothing else.
    """

    __tablename__ = "feed_token"
    __table_args__ = (Index("ix_feed_token_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    unit_id: int | None = Field(default=None, foreign_key="unit.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime
    revoked_at: datetime | None = None


class ApiRateWindow(SQLModel, table=True):
    """Requests a token has been granted in one minute (``services.api_limits``).

    Kept in the database so that the limit holds across worker processes and
    hosts; each process claims slots a few at a time, not one per request.
    """

    __tablename__ = "api_rate_window"

    token_id: int = Field(foreign_key="api_token.id", ondelete="CASCADE", primary_key=True)
    window_start: datetime = Field(primary_key=True)
    granted: int
