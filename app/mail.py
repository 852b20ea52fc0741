"""Email through SES: real multipart MIME (text and HTML parts), sent raw.

Composers live with their feature; they call ``compose`` with a template pair
``templates/email/<name>.txt`` (blocks ``subject`` and ``body``) and ``<name>.html``.
"""

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from botocore.exceptions import BotoCoreError, ClientError
from flask import render_template
from flask_babel import force_locale
from jinja2_fragments.flask import render_block
from pynamodb.exceptions import PynamoDBException

from app import aws
from app.store import people
from app.web import settings

log = logging.getLogger(__name__)

# SES answers these when the message itself can never be sent (a bad address, say).
PERMANENT_ERRORS = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "InvalidParameterValue",
}


# What one team's people can make Cadenza send in a day (nudges, escalations, invitations,
# notices), far above what a small team needs: a team used to mail strangers stops here.
TEAM_DAILY_MAIL_LIMIT = 500


class MailError(Exception):
    def __init__(self, code: str, permanent: bool):
        super().__init__(code)
        self.code = code
        self.permanent = permanent


class TeamLimitReached(MailError):
    """The team's mail for today is used up: trying again tomorrow will work."""

    def __init__(self):
        super().__init__("TeamDailyMailLimit", permanent=False)


def verify_sender(sender: str) -> None:
    """Let the SES stand-in accept our sender (moto rejects unverified ones, as SES does)."""
    aws.client("ses").verify_email_identity(EmailAddress=parseaddr(sender)[1])


def compose(
    template: str,
    *,
    to: str,
    language: str,
    now: datetime,
    headers: dict[str, str] | None = None,
    **context,
) -> EmailMessage:
    """Render a localized multipart message from ``templates/email/<template>.*``."""
    with force_locale(language):
        subject = render_block(f"email/{template}.txt", "subject", **context).strip()
        text = render_block(f"email/{template}.txt", "body", **context).strip() + "\n"
        html = render_template(f"email/{template}.html", **{**context, "subject": subject})
    sender = settings().sender
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2])
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(message: EmailMessage, *, team_id: str | None = None, now: datetime | None = None) -> str:
    """Send through SES; return its message id or raise MailError.

    Mail a team's activity causes names the team (and when it is sent): it counts towards the
    team's daily limit. Sign-in links and digests are a person's own, limited where asked for.
    """
    if team_id is not None:
        _count_towards_team_limit(team_id, now, message)
    # Source, the bare address of the From header, is what IAM's ses:FromAddress condition is
    # checked against; without it the policy's condition has nothing to hold on.
    request = {
        "Source": parseaddr(settings().sender)[1],
        "RawMessage": {"Data": message.as_bytes()},
    }
    configuration_set = settings().mail_configuration_set
    if configuration_set:
        # The set publishes the message's bounces and complaints to SNS (app.bounces).
        request["ConfigurationSetName"] = configuration_set
    try:
        response = aws.client("ses").send_raw_email(**request)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        # The Message-ID, not the address: logs keep no one's address.
        log.warning("SES refused message %s: %s", message["Message-ID"], code)
        raise MailError(code, permanent=code in PERMANENT_ERRORS) from error
    except BotoCoreError as error:
        log.warning("SES unreachable: %s", error)
        raise MailError(type(error).__name__, permanent=False) from error
    return response["MessageId"]


def _count_towards_team_limit(team_id: str, now: datetime, message: EmailMessage) -> None:
    try:
        sent_today = people.count_hit("mail-team", team_id, now, timedelta(days=1))
    except (PynamoDBException, BotoCoreError) as error:  # not sent: as if SES were unreachable
        raise MailError(type(error).__name__, permanent=False) from error
    if sent_today > TEAM_DAILY_MAIL_LIMIT:
        log.warning("team %s is over its daily mail limit: %s held", team_id, message["Message-ID"])
        raise TeamLimitReached
