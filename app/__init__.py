"""Cadenza: a content calendar where every post belongs to a person."""

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask

from app.config import Config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app for the given configuration (by default, from the environment)."""
    from app import auth, dev, errors, health, i18n, mail, nudges, planner, store, teams, web

    config = config or Config.from_env()
    if config.mode == "local" and not config.aws_endpoint:
        from app.local.emulator import attach

        config = config.replace(aws_endpoint=attach(config))

    app = Flask(__name__, template_folder=str(ROOT / "templates"))
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="cadenza",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(days=config.session_days),
        # The token lives as long as the session: a tab left open overnight still saves.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=config.secure_cookies,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["cadenza"] = config
    logging.basicConfig(level=logging.INFO)

    store.configure(config)
    if config.emulated:
        store.create_tables()
        mail.verify_sender(config.sender)

    web.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(teams.bp)
    planner.init_app(app)
    nudges.init_app(app)
    if config.emulated:
        app.register_blueprint(dev.bp)
    return app
