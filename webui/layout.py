"""What the base layout needs on every page: the language form, the unread count, the menu."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from werkzeug.exceptions import HTTPException

from .access import current_org, current_viewer
from .forms import LanguageForm
from .i18n import current_language
from .users import me, planflow, signed_in


def _here() -> str | None:
    """Where the language switch should come back to: this page, if it can be fetched."""
    if request.method != "GET":
        # A page shown in answer to a form (an error, say) has no address of
        # its own to return to, unless the same path also answers GET.
        try:
            current_app.url_map.bind_to_environ(request.environ).match(method="GET")
        except HTTPException:
            return None
        return request.path
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _menu() -> dict[str, bool]:
    """Which areas the main menu offers: those where the user has something to do."""
    if not signed_in():
        return {}
    pf, username = planflow(), me().username
    viewer = current_viewer(pf, username)
    roles = {role for _unit, role in viewer.roles}
    return {
        # A drafter's queue stays empty (their tasks are in "My work"): no menu entry.
        "reviews": pf.has_review_queue(username, org=current_org(pf)),
        "inspections": "inspector" in roles or bool(viewer.oversight),
        "overview": bool(viewer.oversight),
        "admin": "admin" in roles,
    }


def layout_context() -> dict[str, Any]:
    form = LanguageForm(formdata=None, language=current_language(), next=_here())
    unread = planflow().inbox.unread_count(me().username) if signed_in() else 0
    return {"language_form": form, "unread_count": unread, "menu": _menu()}


def init_app(app: Flask) -> None:
    app.context_processor(layout_context)
