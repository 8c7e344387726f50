"""The planflow web UI: ``create_app`` builds a Flask application around a ``Planflow``.

This module owns the wiring only: configuration, the ``Planflow`` instance
(``app.extensions["planflow"]``), the extensions (login, CSRF, Babel), the
security layer, the error pages and one blueprint per area. Views never
touch plan rows directly: every change goes through the library.

Run it with ``flask --app webui run`` (the schema must exist: ``planflow init``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect  # type: ignore[import-untyped]

from planflow.app import Planflow
from planflow.storage.db import instance_path

from . import errors, i18n, layout, security, users, webhook_texts
from .config import config_from_env, default_config, load_or_create_secret_key

csrf = CSRFProtect()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    ``test_config`` overrides the configuration read from the environment;
    tests pass their own ``Planflow`` (with a fixed clock) as ``PLANFLOW``.
    """
    app = Flask(__name__, instance_path=str(instance_path()))
    app.config.from_mapping(default_config())
    app.config.from_mapping(config_from_env())
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(Path(app.instance_path))
    # The Planflow instance is an object, not a setting: keep it out of app.config.
    pf = app.config.pop("PLANFLOW", None)
    app.extensions["planflow"] = pf if pf is not None else Planflow()

    security.init_app(app)
    i18n.init_app(app)
    users.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    layout.init_app(app)
    webhook_texts.init_app(app)

    from . import (
        about,
        admin,
        admin_org,
        admin_users,
        admin_webhooks,
        admin_workflows,
        api,
        auth,
        dashboard,
        delegations,
        documents,
        editor,
        email_settings,
        feeds,
        handover,  # noqa: F401  (its routes join the plans blueprint)
        health,
        inspections,
        notifications,
        overview,
        own_channel,
        plan_import,
        plans,
        progress,
        reviews,
        self_assessment,
        steps,
        tokens,
    )

    app.register_blueprint(health.bp)
    app.register_blueprint(about.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(plans.bp)
    app.register_blueprint(plan_import.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(steps.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(email_settings.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(reviews.bp)
    app.register_blueprint(overview.bp)
    app.register_blueprint(inspections.bp)
    app.register_blueprint(progress.bp)
    app.register_blueprint(self_assessment.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_org.bp)
    app.register_blueprint(admin_users.bp)
    app.register_blueprint(admin_workflows.bp)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(admin_webhooks.bp)
    app.register_blueprint(own_channel.bp)
    app.register_blueprint(delegations.bp)
    # The HTTP API authenticates by token, never by cookie: no CSRF token to check.
    csrf.exempt(api.bp)
    api.init_app(app)
    return app
