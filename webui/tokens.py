"""Blueprint ``tokens``: a person's personal access tokens (and calendar feeds) on one page.

Thin over the library's ``pf.tokens``: listing, making and revoking are its
functions, with its rules (the scopes offered, the name, the expiry). A new
token's secret is shown on the page the POST redirects to, and never
again: it rides in the (signed, HttpOnly) session cookie for that one
redirect and is taken out by the page that shows it, as a flash message
would be. So a reload shows the list, not a second token made by the form
sent again; and the page is never cached.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response

from planflow.errors import NotFound, ValidationError

from .errors import describe
from .feeds import feed_url, unit_choices
from .personal_forms import FeedForm, RevokeForm, TokenForm
from .token_texts import scope_choices, scope_label
from .users import me, planflow, require_login

bp = Blueprint("tokens", __name__, url_prefix="/settings")
require_login(bp)


def _token_form(*, filled: bool = True) -> TokenForm:
    """The new-token form, from the request (``filled``) or empty, with this user's scopes."""
    form = TokenForm() if filled else TokenForm(formdata=None)
    form.scope.choices = scope_choices(planflow().tokens.scopes_for(me().username))
    return form


def _feed_form(*, filled: bool = True) -> FeedForm:
    form = FeedForm() if filled else FeedForm(formdata=None)
    form.unit.choices = unit_choices()
    return form


def _page(
    form: TokenForm,
    *,
    secret: str | None = None,
    feed_form: FeedForm | None = None,
    status: int = 200,
) -> Response:
    pf, user = planflow(), me()
    feed_form = feed_form or _feed_form(filled=False)
    new_feed = session.pop(NEW_FEED, None)
    html = render_template(
        "tokens/index.html",
        tokens=pf.tokens.of_user(user.username),
        now=pf.clock.now(),
        form=form,
        revoke_form=RevokeForm(formdata=None),
        secret=secret,
        feeds=pf.feeds.of_user(user.username),
        feed_form=feed_form,
        new_feed=feed_url(new_feed) if new_feed else None,
        scope_label=scope_label,
    )
    response = Response(html, status=status, mimetype="text/html")
    # The page may carry a secret: no cache, no copy in the browser's history store.
    response.headers["Cache-Control"] = "no-store"
    return response


#: The session keys that carry a new secret across the one redirect.
NEW_SECRET = "new_token_secret"
NEW_FEED = "new_feed_secret"


@bp.route("/tokens/")
def index() -> Response:
    return _page(_token_form(filled=False), secret=session.pop(NEW_SECRET, None))


@bp.route("/tokens/", methods=["POST"])
def create() -> Response:
    pf, user = planflow(), me()
    form = _token_form()
    if not form.validate_on_submit():
        return _page(form, status=422)
    now = pf.clock.now()
    lives = form.expires.data
    expires_at = None if lives == "never" else now + timedelta(days=int(lives))
    try:
        new = pf.tokens.create(
            user.username,
            scope=form.scope.data,
            name=form.name.data,
            expires_at=expires_at,
            actor=user.username,
        )
    except ValidationError as error:
        form.name.errors.append(describe(error))
        return _page(form, status=422)
    session[NEW_SECRET] = new.secret
    return redirect(url_for("tokens.index"))


@bp.route("/tokens/revoke", methods=["POST"])
def revoke() -> Response:
    form = RevokeForm()
    if not form.validate():
        abort(400)
    try:
        planflow().tokens.revoke(form.token.data, actor=me().username)
    except NotFound:
        abort(404)
    flash(gettext("The token was revoked: it no longer works."), "info")
    return redirect(url_for("tokens.index"))


@bp.route("/feeds/", methods=["POST"])
def create_feed() -> Response:
    form = _feed_form()
    if not form.validate_on_submit():
        return _page(_token_form(filled=False), feed_form=form, status=422)
    try:
        new = planflow().feeds.create(me().username, form.unit.data or None)
    except NotFound:
        abort(404)
    session[NEW_FEED] = new.secret
    return redirect(url_for("tokens.index", _anchor="feeds"))


@bp.route("/feeds/revoke", methods=["POST"])
def revoke_feed() -> Response:
    form = RevokeForm()
    if not form.validate():
        abort(400)
    try:
        planflow().feeds.revoke(form.token.data, actor=me().username)
    except NotFound:
        abort(404)
    flash(gettext("The feed address was revoked: it no longer works."), "info")
    return redirect(url_for("tokens.index", _anchor="feeds"))
