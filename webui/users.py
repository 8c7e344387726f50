"""Flask-Login glue: the login manager, the current user, the sign-in requirement.

Blueprints that are for signed-in people call ``require_login(bp)``: the
check then guards every route of the blueprint, so a new route cannot be
left open by forgetting a decorator.
"""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Flask, current_app
from flask_babel import lazy_gettext  # type: ignore[import-untyped]
from flask_login import LoginManager, current_user  # type: ignore[import-untyped]
from werkzeug.wrappers import Response

from planflow.app import Planflow

from .accounts import WebUser, load_session_user

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = lazy_gettext("Please sign in to see this page.")
login_manager.login_message_category = "info"
# "strong": a session used from another address or browser is dropped. We
# issue no remember-me cookies, so this never fights with one (flask-login #685).
login_manager.session_protection = "strong"


def planflow() -> Planflow:
    return cast(Planflow, current_app.extensions["planflow"])


def _load_user(token: str) -> WebUser | None:
    return load_session_user(planflow(), token)


login_manager.user_loader(_load_user)


def me() -> WebUser:
    """The signed-in user (only call it behind ``require_login``)."""
    user = current_user._get_current_object()
    assert isinstance(user, WebUser)
    return user


def signed_in() -> bool:
    return bool(current_user.is_authenticated)


def _guard() -> Response | None:
    if not signed_in():
        return cast(Response, login_manager.unauthorized())
    return None


def require_login(bp: Blueprint) -> None:
    bp.before_request(_guard)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
