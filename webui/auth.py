"""Blueprint ``auth``: signing in and out, the password, the language.

Signing in clears the old session first (no state carries across the
sign-in) and is rate limited per account and per address. Signing out ends
the session for good: it bumps the user's session version, so even a copy
of the cookie stops working (which also signs the user out on their other
devices; a per-device sign-out needs server-side sessions). A password
change ends every other session and renews the current one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_login import login_user, logout_user  # type: ignore[import-untyped]
from werkzeug.wrappers import Response

from planflow.errors import ValidationError
from planflow.services.accounts import LoginLimited, WrongPassword

from . import accounts
from .errors import describe
from .forms import LanguageForm, LoginForm, PasswordForm
from .i18n import format_when
from .ratelimit import LoginPolicy
from .users import me, planflow, signed_in

bp = Blueprint("auth", __name__, url_prefix="/auth")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def login_policy() -> LoginPolicy:
    return LoginPolicy.from_config(current_app.config)


def _start_session(user: accounts.WebUser) -> None:
    # A fresh session: nothing set before signing in (a planted CSRF secret,
    # say) survives into the signed-in one. The language chosen is kept.
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    # Not a permanent session: flask-login's "strong" protection only acts on
    # non-permanent ones. The cookie ends with the browser, and the server
    # refuses it PERMANENT_SESSION_LIFETIME after it was last written anyway.
    login_user(user)


#: The browser's device token (``planflow.services.sign_in``): a browser someone
#: signed in with before is not held back by others' failed attempts.
DEVICE_COOKIE = "planflow_device"
DEVICE_COOKIE_DAYS = 180


def _remember_device(response: Response, token: str | None) -> None:
    if not token:
        return
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_COOKIE_DAYS * 86_400,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
        path=url_for("auth.login"),
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if signed_in():
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = accounts.sign_in(
            planflow(),
            login_policy(),
            form.username.data,
            form.password.data,
            request.remote_addr,
            device=request.cookies.get(DEVICE_COOKIE),
        )
        if result.outcome is accounts.SignIn.BLOCKED:
            form.form_errors.append(
                gettext(
                    "Too many failed sign-ins. Try again after %(time)s.",
                    time=format_when(result.retry_at),
                )
            )
            return render_template("auth/login.html", form=form), 429
        if result.outcome is accounts.SignIn.OK and result.user is not None:
            _start_session(result.user)
            response = redirect(safe_next(request.args.get("next")) or url_for("dashboard.index"))
            _remember_device(response, result.device)
            return response
        # One message for an unknown name and a wrong password: names stay secret.
        form.form_errors.append(gettext("The user name or password is not right."))
        return render_template("auth/login.html", form=form), 401
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if signed_in():
        accounts.end_sessions(planflow(), me().id)
    language = session.get("language")
    logout_user()
    session.clear()
    if language:
        session["language"] = language
    flash(gettext("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> Response | str | tuple[str, int]:
    if not signed_in():
        return redirect(url_for("auth.login", next=request.path))
    pf, user, policy = planflow(), me(), login_policy()
    form = PasswordForm()
    if form.validate_on_submit():
        # Guessing the current password from a stolen session is rate limited too.
        try:
            renewed = accounts.change_password(
                pf, policy, user.id, form.current.data, form.new.data, request.remote_addr
            )
        except LoginLimited:
            form.current.errors.append(gettext("Too many wrong passwords. Try again later."))
            return render_template("auth/password.html", form=form), 429
        except WrongPassword:
            form.current.errors.append(gettext("This is not your current password."))
            return render_template("auth/password.html", form=form), 422
        except ValidationError as error:
            form.new.errors.append(describe(error))
            return render_template("auth/password.html", form=form), 422
        _start_session(renewed)
        flash(gettext("Your password was changed. You were signed out everywhere else."), "info")
        return redirect(url_for("dashboard.index"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/language", methods=["POST"])
def language() -> Response:
    form = LanguageForm()
    target = safe_next(form.next.data) or url_for("dashboard.index")
    if form.validate_on_submit():
        choice = form.language.data
        session["language"] = choice
        if signed_in():
            accounts.set_language(planflow(), me().id, choice)
    return redirect(target)
