"""Developer tools of the emulated modes: the local outbox and the ``seed`` command.

The outbox is registered only when AWS is emulated, so in ``aws`` mode its URLs are 404;
``seed`` refuses to run there.
"""

from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

import click
from flask import Blueprint, jsonify
from flask.cli import with_appcontext

from app.web import render, settings

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _raw_messages() -> list[bytes]:
    from app.local.emulator import fetch_raw_messages, sent_raw_messages

    endpoint = settings().aws_endpoint
    # Local mode asks the emulator (it may live in another process); tests read moto in-process.
    return fetch_raw_messages(endpoint) if endpoint else sent_raw_messages()


def _part(message, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None and part.get_content_subtype() == subtype else ""


def outbox_messages() -> list[dict]:
    """Every email sent through the SES stand-in, newest first."""
    messages = []
    for raw in _raw_messages():
        message = message_from_bytes(raw, policy=policy.default)
        sent = parsedate_to_datetime(message["Date"]) if message["Date"] else None
        messages.append(
            {
                "to": str(message["To"] or ""),
                "from": str(message["From"] or ""),
                "subject": str(message["Subject"] or ""),
                "text": _part(message, "plain"),
                "html": _part(message, "html"),
                "headers": {name: str(value) for name, value in message.items()},
                "sent_at": sent.isoformat() if sent else None,
            }
        )
    messages.reverse()
    return messages


@bp.get("/outbox")
def outbox():
    body, status = render("dev/outbox.html", messages=outbox_messages())
    # The HTML parts are shown in sandboxed frames; they carry their own inline styles.
    policy_header = (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "frame-src 'self'; form-action 'self'; base-uri 'none'"
    )
    return body, status, {"Content-Security-Policy": policy_header}


@bp.get("/outbox.json")
def outbox_json():
    return jsonify(outbox_messages())


# A Flask plugin command (an entry point in pyproject.toml): `seed --help` builds no app.
@click.command("seed")
@with_appcontext
def seed_command():
    """Add the demo team (a winery planning a tasting) unless it is there already."""
    from app.local import demo

    if not settings().emulated:
        raise click.UsageError("seed adds demo data where AWS is emulated, never on real AWS")
    created = demo.seed(settings().clock())
    click.echo("Seeded the demo team." if created else "The demo team is already there.")
    click.echo(f"Sign in as the demo admin: {demo.sign_in_link(settings().clock())}")
