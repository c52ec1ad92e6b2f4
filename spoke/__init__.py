"""spoke: peer-to-peer texting with assignment that gets it right."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

from spoke import config as cfg
from spoke.extensions import csrf, db, htmx, limiter, login_manager, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then env vars, then test_config."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(cfg.defaults(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_mapping(cfg.from_env())
    else:
        app.config.from_mapping(test_config)
    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = cfg.database_uri(app.config["DATABASE_URL"])
    cfg.secure_cookies(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = cfg.instance_secret_key(app.instance_path)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    # Login throttling counts in Redis when there is one (shared by every process), else here.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    from spoke import transactions  # noqa: F401  (registers the SQLite transaction listeners)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)

    from spoke.views import _params
    from spoke.views import _web as web

    web.init_upload_limits(app)  # before CSRF, which reads the body
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    web.init_app(app)
    app.url_map.converters["int"] = _params.IdConverter  # before any route is added
    register_blueprints(app)

    from spoke.runtime import cli

    cli.init_app(app)
    return app


def register_blueprints(app: Flask) -> None:
    from spoke.views import assignment as assignment_views
    from spoke.views import (
        auth,
        campaigns,
        contacts,
        health,
        messages,
        people,
        reports,
        review,
        texting,
        webhooks,
    )
    from spoke.views import invite as invite_views

    for module in (auth, people, campaigns, contacts, texting, assignment_views, review, webhooks):
        app.register_blueprint(module.bp)
    app.register_blueprint(messages.bp)
    from spoke.views import canned, questions, survey

    for module in (canned, questions, survey):
        app.register_blueprint(module.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(invite_views.bp)
    csrf.exempt(webhooks.bp)  # Twilio signs its requests instead.
