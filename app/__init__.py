"""Cadenza: a content calendar where every post belongs to a person."""

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask

from app.config import Config, ConfigError

ROOT = Path(__file__).resolve().parent.parent
# How often an unusable configuration is tried again. Each try is one SSM GetParameter: every
# 30 s keeps even 100 warm containers under 4 calls a second (SSM allows 40 by default, shared
# by the account), and an operator who has just stored the parameter waits half a minute.
RETRY_SECONDS = 30

log = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app for the given configuration (by default, from the environment)."""
    from app import (
        auth,
        aws,
        cadence,
        dev,
        errors,
        events,
        feeds,
        health,
        i18n,
        kits,
        mail,
        nudges,
        partners,
        planner,
        playbook,
        profiles,
        schedules,
        sharing,
        spreadsheets,
        store,
        teams,
        web,
    )

    config = config or Config.from_env(read_secret=aws.secret_key)
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
    app.register_blueprint(partners.bp)
    planner.init_app(app)
    events.init_app(app)
    nudges.init_app(app)
    cadence.init_app(app)
    playbook.init_app(app)
    schedules.init_app(app)
    spreadsheets.init_app(app)
    feeds.init_app(app)
    profiles.init_app(app)
    kits.init_app(app)
    sharing.init_app(app)
    if config.emulated:
        app.register_blueprint(dev.bp)
    return app


class OneApp:
    """The one Flask app of a process (a Lambda container): web requests and the job share it.

    While the configuration is unusable (a first deploy, before the secret key is in SSM),
    ``wsgi()`` is a stand-in that answers 503 saying what is missing, and the app is built
    again at most every RETRY_SECONDS: storing the parameter fixes it without a redeploy.
    """

    def __init__(self, build: Callable[[], Flask] = create_app, clock=time.monotonic):
        self._build = build
        self._clock = clock
        self._app: Flask | None = None
        self._problem: str | None = None
        self._tried_at = 0.0
        self._lock = threading.Lock()  # local servers are threaded; Lambda is one at a time

    def get(self) -> Flask:
        """The app, built on first use; ConfigError while the configuration is unusable."""
        with self._lock:
            due = self._problem is None or self._clock() - self._tried_at >= RETRY_SECONDS
            if self._app is None and due:
                self._tried_at = self._clock()
                try:
                    self._app = self._build()
                except ConfigError as problem:
                    if str(problem) != self._problem:  # once per reason, not per request
                        log.error("Cadenza cannot start: %s", problem)
                    self._problem = str(problem)
            if self._app is None:
                raise ConfigError(self._problem)
            return self._app

    def wsgi(self):
        """The Flask app itself if it builds, else the stand-in."""
        try:
            return self.get()
        except ConfigError:
            return self._stand_in

    def _stand_in(self, environ, start_response):
        try:
            app = self.get()
        except ConfigError as problem:
            page = (
                f"Cadenza cannot start: {problem}.\n\n"
                "infra/README.md says how to set this up. Cadenza tries again every "
                f"{RETRY_SECONDS} seconds: no redeploy is needed.\n"
            ).encode()
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(page))),
                    ("Retry-After", str(RETRY_SECONDS)),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [page]
        return app(environ, start_response)
