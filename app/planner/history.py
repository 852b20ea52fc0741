"""How a post's history reads: one sentence per entry, one line per changed field."""

import re
from datetime import datetime, timedelta

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from app.i18n import STATUS_LABELS
from app.nudges import plan
from app.store.posts import LONG_TEXT
from app.web import linkify

SENTENCES = {
    "created": _l("%(name)s created the post"),
    "duplicated": _l("%(name)s created this copy"),
    "changed": _l("%(name)s changed the post"),
    "moved": _l("%(name)s moved the post"),
    "trashed": _l("%(name)s moved the post to the trash"),
    "restored": _l("%(name)s restored the post"),
    "approved": _l("%(name)s approved the post"),
    "changes": _l("%(name)s asked for changes"),
    "comment": _l("%(name)s commented"),
    # A schedule or an event's series wrote it; the name is who set that up.
    "planned": _l("Planned by a schedule or an event that %(name)s set up"),
    "replanned": _l("Re-planned by its schedule or event (set up by %(name)s)"),
    "introduced": _l("Planned for %(name)s on joining the team"),
    "imported": _l("%(name)s imported the post from a CSV file"),
    "kit": _l("%(name)s took the post from a share kit"),
    "nudged": _l("Cadenza nudged %(name)s"),
    "escalated": _l("Cadenza told the team's admins"),
    "nudge_failed": _l("A nudge to %(name)s could not be delivered"),
}
NUDGES = {
    "overdue": _l("Overdue nudge"),
    "escalate": _l("Escalation to admins"),
    "review": _l("Review request"),
    "handover": _l("Handover"),
}

COMMENT_LIMIT = 2000
# Comments are counted in DynamoDB like sign-in links and invitations, per person and team: a
# person in a hurry is not stopped, a script is.
COMMENT_LIMITS = (
    # (scope, hits allowed in the window, the window)
    ("comment-minute", 20, timedelta(minutes=1)),
    ("comment-day", 300, timedelta(days=1)),
)
# The post panel shows the newest comments and changes; "Show older" reads the next ones.
HISTORY_PAGE = 20


NOTES = {
    "storage_unavailable": _l("storage unavailable, retrying"),
    "nobody": _l("nobody to nudge (turned off, away or gone)"),
    "mail_bounce": _l("mail to their address bounced"),
    "mail_complaint": _l("they reported Cadenza's mail as spam"),
    "quiet_hours": _l("waiting for the end of quiet hours"),
    "post_gone": _l("the post is gone"),
    "post_trashed": _l("the post is in the trash"),
    "review_over": _l("the review is over"),
    "post_done": _l("the post is done"),
    "post_moved": _l("the post was moved"),
    "other_owner": _l("the post has another owner"),
    "left_team": _l("they are no longer in the team"),
    "not_shared": _l("the post is no longer shared with their team"),
    "past_due": _l("past due: the overdue nudge went instead"),
    "superseded": _l("superseded by a more relevant nudge sent at the same time"),
    "one_a_day": _l("moved: overdue nudges come one a day"),
    "waiting_for_nudges": _l("waiting for the overdue nudges to go out first"),
    "no_other_admin": _l("the owner is the team's only admin"),
    "digest_off": _l("digest turned off"),
    "next_digest": _l("next digest"),
    "MessageRejected": _l("the address refused the email"),
    "InvalidParameterValue": _l("the address is not valid"),
    "Throttling": _l("the mail service was busy, retrying"),
}


def note_label(code: str | None) -> str:
    """A reminder's note in words (mail service codes without a text are shown as they are)."""
    return str(NOTES.get(code, code)) if code else ""


def nudge_label(kind: str) -> str:
    """ "1 day before", "Overdue nudge 2", "Review request"… for a reminder's kind."""
    if plan.for_co_owner(kind):
        return str(_l("%(label)s (co-owner)", label=nudge_label(plan.base_kind(kind))))
    name, _dash, number = kind.partition("-")
    if name == "before":
        return str(plan.LEAD_LABELS.get(int(number), kind))
    label = str(NUDGES.get(name, kind))
    return str(_l("%(label)s %(number)s", label=label, number=number)) if number else label


FIELDS = {
    "title": _l("Title"),
    "channels": _l("Channels"),
    "profiles": _l("Own profiles"),
    "owner_id": _l("Owner"),
    "due": _l("Date"),
    "status": _l("Status"),
    "tags": _l("Tags"),
    "reviewer_id": _l("Reviewer"),
    "copy": _l("Copy"),
    "notes": _l("Notes"),
    "published_url": _l("Published link"),
    "checked": _l("Checklist"),
    "zone": _l("Time zone"),
    "schedule_id": _l("Schedule"),
    "shared_with": _l("Shared with"),
    "co_owner_name": _l("Co-owner"),
    "partner_published_url": _l("Partner's published link"),
}
# What re-planning records for its own bookkeeping (the rotation's turn, the occurrence the
# slot stands for): the date and owner lines already say what changed for people.
BOOKKEEPING = ("turn", "occurrence")


def activity_sentence(kind: str, name: str) -> Markup:
    """One translated sentence with the person's name in bold (the name is escaped)."""
    sentence = escape(str(SENTENCES.get(kind, "%(name)s")))  # Markup: "%" escapes the name
    return sentence % {"name": Markup("<strong>%s</strong>") % name}


def _value(field: str, value: str, members) -> str:
    if not value:
        return "—"
    if field in ("owner_id", "reviewer_id"):
        member = members.get(value)
        return member.name if member else "—"
    if field == "status":
        return str(STATUS_LABELS.get(value, value))
    if field == "due":
        return format_datetime(datetime.fromisoformat(value), "d MMM yyyy HH:mm")
    return value


def change_line(field: str, before: str, after: str, members) -> str:
    label = FIELDS.get(field, field)
    if field in LONG_TEXT:
        return str(_l("%(field)s edited", field=label))
    return str(
        _l(
            "%(field)s: %(before)s → %(after)s",
            field=label,
            before=_value(field, before, members),
            after=_value(field, after, members),
        )
    )


def comment_html(text: str, members) -> Markup:
    """Escape a comment, make links clickable and highlight @mentions of teammates."""
    html = str(linkify(text))
    names = sorted(
        {
            str(escape(part))
            for m in members.values()
            for part in (m.name, *m.name.split()[:1])  # a new member may have no name yet
            if part
        },
        key=len,
        reverse=True,
    )
    if names:
        pattern = re.compile("@(" + "|".join(re.escape(name) for name in names) + r")\b")
        # Only between links: an @Name inside an address (its href) is part of the address.
        pieces = _LINKS.split(html)
        html = "".join(
            piece if index % 2 else pattern.sub(_mention, piece)
            for index, piece in enumerate(pieces)
        )
    return Markup(html)  # noqa: S704  (built from escaped text only)


_LINKS = re.compile(r"(<a [^>]*>.*?</a>)")  # what linkify makes, kept whole by split()


def _mention(found: re.Match) -> str:
    return f'<strong class="mention">{found.group(0)}</strong>'
