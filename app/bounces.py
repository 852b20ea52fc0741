"""Bounces and complaints: SES feedback about the mail Cadenza sent, delivered through SNS.

Every email goes through the SES configuration set ``CADENZA_SES_CONFIGURATION_SET``, whose
event destination publishes Bounce and Complaint events to an SNS topic; Zappa subscribes this
function to it. A permanent bounce or a complaint marks the person with that address (a
complaint also turns their nudges off): the nudge job then sends them nothing, and their page
says why, with a button to resume. A transient bounce is only logged; addresses nobody has are
ignored. The same feedback delivered twice, or late, changes nothing (see
``people.mark_mail_problem``). Logs name people by id, never by address.

Cheap to import, like ``app.nudges``: the web app is only built when an event comes, and it is
the one Zappa's handler built for the requests.
"""

import json
import logging
from collections import Counter
from datetime import UTC, datetime
from email.utils import parseaddr

log = logging.getLogger(__name__)

REASON_LENGTH = 160  # enough for an SMTP reply line; the page shows it in a sentence


def handle(event, context):
    """Record the bounces and complaints of one SNS delivery; return what was done.

    Strictly two arguments, no defaults: Zappa's handler chooses how to call it from its
    signature. A real error is logged before it is raised (SNS then retries the delivery).
    """
    try:
        counts = Counter(marked=0, unchanged=0, transient=0, unknown=0)
        with _app().app_context():
            for record in (event or {}).get("Records") or []:
                if record.get("EventSource") != "aws:sns":
                    log.warning("ignored a record from %s", record.get("EventSource"))
                    continue
                try:
                    message = json.loads(record["Sns"]["Message"])
                except (KeyError, TypeError, ValueError):
                    # Someone published by hand: sending it again would not make it feedback.
                    log.warning("ignored an SNS message that is not JSON")
                    continue
                counts.update(_feedback(message))
        log.info("SES feedback: %s", dict(counts))
        return dict(counts)
    except Exception:
        log.exception("handling SES feedback failed")
        raise


def _app():
    # Zappa imported app.wsgi (building the web app) before calling this: share that one.
    from app.wsgi import one_app

    return one_app.get()


def _feedback(message: dict) -> Counter:
    """Act on one SES event (event publishing names its type ``eventType``; the identity's
    own notifications, ``notificationType``: both carry the same objects)."""
    kind = message.get("eventType") or message.get("notificationType")
    if kind == "Bounce":
        bounce = message.get("bounce") or {}
        permanent = bounce.get("bounceType") == "Permanent"
        return Counter(
            _record(
                recipient.get("emailAddress", ""),
                "bounce" if permanent else None,
                recipient.get("diagnosticCode") or bounce.get("bounceSubType") or "",
                _instant(bounce.get("timestamp"), message),
            )
            for recipient in bounce.get("bouncedRecipients") or []
        )
    if kind == "Complaint":
        complaint = message.get("complaint") or {}
        return Counter(
            _record(
                recipient.get("emailAddress", ""),
                "complaint",
                complaint.get("complaintFeedbackType") or complaint.get("complaintSubType") or "",
                _instant(complaint.get("timestamp"), message),
            )
            for recipient in complaint.get("complainedRecipients") or []
        )
    return Counter()  # deliveries and the like: the destination should not even send them


def _record(address: str, kind: str | None, reason: str, at: datetime) -> str:
    """Mark the person with this address (``kind`` None: a transient bounce, logged only)."""
    from app.store import people

    someone = people.person_by_email(parseaddr(address)[1])
    if someone is None:
        return "unknown"
    if kind is None:
        # Not the reason: SMTP replies often quote the address.
        log.info("transient bounce for person %s", someone.person_id)
        return "transient"
    if not people.mark_mail_problem(someone.person_id, kind, _short(reason), at):
        log.info("%s for person %s already recorded", kind, someone.person_id)
        return "unchanged"
    log.warning("%s for person %s: mail to them stops", kind, someone.person_id)
    return "marked"


def _instant(stamp: str | None, message: dict) -> datetime:
    """When SES saw the feedback (else when the mail was sent): ISO 8601, ``Z`` for UTC."""
    moment = datetime.fromisoformat(stamp or message["mail"]["timestamp"])
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _short(reason: str) -> str:
    """The reason on one line, without the "smtp;" type prefix, cut to REASON_LENGTH."""
    text = " ".join(reason.split())
    kind, separator, rest = text.partition("; ")
    if separator and kind.lower() in ("smtp", "x-postfix", "x-unix"):
        text = rest
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 1].rstrip() + "…"
