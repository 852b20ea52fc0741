"""Sending an invitation, to a team or to a partnership: the limits on how many, and what
happens when its email cannot go (both said on the form's field)."""

from datetime import timedelta

from flask import abort, g
from flask_babel import gettext as _

from app import mail
from app.errors import error_page
from app.store import people
from app.web import now

# Invitations go out through Cadenza's own mail, to any address, with text people chose (the
# team's and the inviter's names): limited like sign-in links, counted in DynamoDB, so that
# no one can use Cadenza to mail strangers in bulk.
INVITATION_LIMITS = (
    # (scope, what the key is, hits allowed in the window, the window)
    ("invite-team", "team", 20, timedelta(days=1)),
    ("invite-inviter", "inviter", 10, timedelta(hours=1)),
    ("invite-address", "address", 3, timedelta(days=1)),
)


def too_many_invitations(team, address: str, field) -> bool:
    """Whether this invitation goes over a limit (said on ``field``: the caller answers 429)."""
    keys = {"team": team.team_id, "inviter": g.person.person_id, "address": address}
    over = people.over_a_limit(
        ((scope, keys[key], allowed, window) for scope, key, allowed, window in INVITATION_LIMITS),
        now(),
    )
    if over:
        field.errors.append(
            _(
                "Too many invitations were sent from this team or to this address. "
                "Please try again later."
            )
        )
    return over


def mail_or_withdraw(send, withdraw, field) -> bool:
    """Mail a new invitation (``send``); if it cannot go, ``withdraw`` it. False when the
    team's mail for the day is used up (said on ``field``: the caller answers 429); any other
    mail error is a 503 page."""
    try:
        send()
    except mail.TeamLimitReached:
        withdraw()
        field.errors.append(
            _("This team has sent all the email it can for today. Please try tomorrow.")
        )
        return False
    except mail.MailError:
        withdraw()
        abort(
            error_page(
                503, _("The invitation email could not be sent. Please try again in a minute.")
            )
        )
    return True


def mail_invitation(template: str, team, *, to: str, language: str, link: str, days: int) -> None:
    """An invitation's email, from the person inviting on the team's behalf (counted in the
    team's mail for the day)."""
    moment = now()
    message = mail.compose(
        template,
        to=to,
        language=language,
        now=moment,
        team=team.name,
        inviter=g.person.name,
        link=link,
        days=days,
    )
    mail.send(message, team_id=team.team_id, now=moment)
