"""Blueprint ``about``: what this planflow is, for anyone signed in.

The page shows the version and where to get help. It is also the W3
benchmark's "trivial page of the same app": a page like every other (signed
in, the base layout with its language form and unread count) with nothing
of its own to compute, so the ratio of a real page to it is what the real
page's own work costs (``python -m bench w3``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, render_template

from .users import require_login

bp = Blueprint("about", __name__, url_prefix="/about")
require_login(bp)


def _version() -> str:
    try:
        return version("planflow")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "unknown"


VERSION = _version()


@bp.route("/")
def index() -> str:
    return render_template("about/index.html", version=VERSION)
