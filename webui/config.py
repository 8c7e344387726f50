"""Configuration of the web UI: safe defaults, the environment, the secret key.

The environment variables are the library's (``PLANFLOW_DATABASE_URL``,
``PLANFLOW_INSTANCE``, ...) plus the few only the web needs, all named
``PLANFLOW_*``. The secret key signs the session cookie: it comes from
``PLANFLOW_SECRET_KEY`` or from a random key kept in the instance folder, so
sessions survive a restart and every worker of one host shares the key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

SECRET_KEY_FILE = "secret_key"


def default_config() -> dict[str, Any]:
    return {
        "SESSION_COOKIE_NAME": "planflow_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure is also set per request when the request came over HTTPS
        # (see security.PlanflowSessionInterface); this forces it always.
        "SESSION_COOKIE_SECURE": False,
        # A session cookie is refused this long after it was last written,
        # whatever the browser does (Flask checks the signature's age).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        # A reviewer may keep a plan open for hours while writing a reason; the
        # token lives as long as the session instead of expiring after an hour.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        # Sign-in rate limits (failures within the window).
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "LOGIN_WINDOW": timedelta(minutes=15),
        # Requests a minute one API token may make (services.api_limits).
        "API_REQUESTS_PER_MINUTE": 600,
        # How many reverse proxies in front set X-Forwarded-For/-Proto (0: none).
        "PLANFLOW_PROXIES": 0,
    }


def config_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    if env.get("PLANFLOW_SECRET_KEY"):
        config["SECRET_KEY"] = env["PLANFLOW_SECRET_KEY"]
    if env.get("PLANFLOW_SECURE_COOKIES", "").lower() in ("1", "true", "yes"):
        config["SESSION_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
    if env.get("PLANFLOW_TIMEZONE"):
        config["BABEL_DEFAULT_TIMEZONE"] = env["PLANFLOW_TIMEZONE"]
    rate = env.get("PLANFLOW_API_REQUESTS_PER_MINUTE", "")
    if rate.isdigit() and int(rate) > 0:
        config["API_REQUESTS_PER_MINUTE"] = int(rate)
    proxies = env.get("PLANFLOW_PROXIES", "")
    if proxies.isdigit():
        config["PLANFLOW_PROXIES"] = int(proxies)
    return config


def load_or_create_secret_key(folder: Path) -> str:
    """The key kept in ``folder``, created (readable by the owner only) on first use.

    Several workers may start at once: the key is written to a private
    temporary file and hard-linked into place, which fails if another worker
    got there first; then everyone reads the one file that won.
    """
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{SECRET_KEY_FILE}.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable secret key; delete it to make a new one")
    return key
