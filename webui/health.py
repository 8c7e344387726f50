"""Blueprint ``health``: ``/healthz``, the page a load balancer (and W3) asks.

It answers without signing in and without touching the database: it says
this worker is alive and serving, which is what a liveness probe needs, and
it is the "trivial page of the same app" that the W3 benchmark compares
the real pages with (``python -m bench w3``).
"""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> Response:
    return Response("ok\n", mimetype="text/plain")
