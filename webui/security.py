"""HTTP-level protection that applies to every response: headers, cookies, ids.

- Security headers: a Content-Security-Policy that allows no inline script
  and no framing, nosniff, a strict referrer policy, HSTS over HTTPS, and
  ``no-store`` on pages (they carry one person's data; after sign-out the
  back button must not show them from the cache).
- The session cookie is marked Secure whenever the request came over
  HTTPS, not only when configured to.
- ``<id:...>`` in routes accepts only ids the database can hold, so a huge
  number in a URL is a 404, not a database error.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from planflow.core.ids import MAX_ID

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers without CSP frame-ancestors
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class IdConverter(IntegerConverter):
    """A database id: 1 .. 2**31-1."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


class PlanflowSessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        # Called while saving the session, inside the request.
        return (
            bool(app.config["SESSION_COOKIE_SECURE"])
            or app.config.get("PREFERRED_URL_SCHEME") == "https"
            or request.is_secure
        )


def set_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.session_interface = PlanflowSessionInterface()
    app.url_map.converters["id"] = IdConverter
    app.after_request(set_security_headers)
    proxies = int(app.config.get("PLANFLOW_PROXIES") or 0)
    if proxies:
        # Only behind a proxy we trust: otherwise anyone could pick the
        # address the sign-in rate limit counts by.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
