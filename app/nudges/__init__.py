"""Nudges: the emails that tell a post's owner it is due.

``run(event, context)`` is the scheduled function (Zappa calls it every 5 minutes); it imports
the web app only when it runs, and shares the one Zappa built for the requests.
``flask --app app.wsgi nudge [--now ISO]`` runs the same job.
"""

import logging
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)
_application = None


def run(event, context):
    """Send the nudges that are due. Zappa passes the scheduled event and the Lambda context.

    Strictly two arguments, no defaults: Zappa calls a scheduled function again with fewer
    arguments after any TypeError, which would hide the real one.
    """
    try:
        kwargs = (event or {}).get("kwargs") or {}
        now = datetime.fromisoformat(kwargs["now"]) if kwargs.get("now") else None
        outcome = run_once(_app(), now)
        counts = {
            "sent": outcome.sent,
            "deferred": outcome.deferred,
            "failed": outcome.failed,
            "cancelled": outcome.cancelled,
            "left": outcome.left,
            "schedules_extended": outcome.extended,
        }
        log.info("nudge run: %s", counts)  # counts only: the outcome lists addresses
        return counts
    except Exception:
        log.exception("the nudge run failed")
        raise


def _app():
    global _application
    if _application is None:
        # Zappa imported app.wsgi (building the web app) before calling run(): share that one.
        from app.wsgi import one_app

        _application = one_app.get()
    return _application


def run_once(app, now: datetime | None = None):
    """One run of the job inside ``app`` (links in the emails are built on its base URL)."""
    from app.nudges.job import Job

    config = app.extensions["cadenza"]
    with app.test_request_context(base_url=config.base_url):
        job = Job(
            now or config.clock(),
            budget_seconds=config.nudge_budget_seconds,
            send_rate=config.ses_rate,
            lease=timedelta(seconds=config.nudge_lease_seconds),
        )
        return job.run()


def init_app(app) -> None:
    from app.nudges.views import bp

    app.register_blueprint(bp)
    from app.nudges.plan import LEAD_LABELS

    app.jinja_env.globals["lead_labels"] = LEAD_LABELS


# A Flask plugin command (an entry point in pyproject.toml), not one of app.cli's: Flask finds
# it without building the app, so `nudge --help` has no side effects (in local mode building
# the app opens the data folder and starts the AWS emulator).
@click.command("nudge")
@click.option("--now", help="Act as if it were this instant (ISO 8601, with offset).")
@with_appcontext
def nudge_command(now):
    """Send the nudges that are due (as the scheduled function does)."""
    moment = datetime.fromisoformat(now) if now else None
    if moment is not None and moment.tzinfo is None:
        raise click.BadParameter("give an offset, e.g. 2026-12-01T09:00:00+01:00")
    outcome = run_once(current_app, moment)
    click.echo(
        f"sent {outcome.sent}, deferred {outcome.deferred}, failed {outcome.failed}, "
        f"cancelled {outcome.cancelled}, left for the next run {outcome.left}"
    )
