"""The nudge emails: localized to the recipient, with signed one-click actions."""

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from flask_babel import force_locale, gettext, ngettext

from app import mail
from app.nudges import plan, tokens
from app.store.models import Person, Playbook, Post, PostBody, Reminder, SharedPost, Team
from app.web import link_to


def when(moment: datetime, person: Person, now: datetime) -> str:
    """ "Today 10:00", "Tomorrow 10:00" or "Mon 8 Dec 10:00", in the person's zone and language."""
    zone = ZoneInfo(person.zone)
    days = (moment.astimezone(zone).date() - now.astimezone(zone).date()).days
    clock = format_time(moment, "HH:mm", tzinfo=zone, locale=person.language)
    if days == 0:
        return gettext("Today %(time)s", time=clock)
    if days == 1:
        return gettext("Tomorrow %(time)s", time=clock)
    if days == -1:
        return gettext("Yesterday %(time)s", time=clock)
    return format_datetime(moment, "EEE d MMM HH:mm", tzinfo=zone, locale=person.language)


def to_person(template: str, person: Person, now: datetime, subject: str, **context):
    """An email to one person about all their posts (a digest, a batch of notifications): in
    their language, with the one-click unsubscribe and a link to their preferences."""
    return mail.compose(
        template,
        to=person.email,
        language=person.language,
        now=now,
        headers=unsubscribe_headers(person),
        subject=subject,
        person=person,
        preferences=link_to("nudges.preferences"),
        **context,
    )


def unsubscribe_headers(person: Person) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: the POST to this link needs no cookie or form token."""
    token = tokens.sign_unsubscribe(person)
    return {
        "List-Unsubscribe": f"<{link_to('nudges.unsubscribe', token=token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# The one-click actions each kind of nudge offers: a review request the reviewer's decision,
# an escalation taking the post over, the others the owner's.
ACTIONS_OF = {"review": ("approve", "changes"), "escalate": ("takeover",)}
OWNER_ACTIONS = ("published", "snooze", "handover")


def action_link(action: str, **signed) -> str:
    """The one-click link of ``action``, its token signed with ``signed`` (``tokens.sign``)."""
    return link_to("nudges.act", token=tokens.sign(action, **signed))


def _actions(reminder: Reminder, post: Post, person: Person, shared: bool) -> dict[str, str]:
    """Signed links for ``person``; none in an email ``shared`` by several admins (a link acts
    as the one person it names)."""
    expires = (post.due or reminder.due) + tokens.VALID_AFTER_DUE
    if plan.for_co_owner(reminder.kind):
        # A co-owner marks it published for their team (``b``), their team's link asked on
        # the confirm page; the post opens on their team's page of it.
        return {
            "published": action_link(
                "published",
                person_id=person.person_id,
                team_id=post.team_id,
                post_id=post.post_id,
                kind=reminder.kind,
                expires=expires,
                partner=post.shared_with,
            ),
            "open": link_to(
                "sharing.show",
                team_id=post.shared_with,
                origin_id=post.team_id,
                post_id=post.post_id,
            ),
        }
    actions = () if shared else ACTIONS_OF.get(reminder.kind.split("-")[0], OWNER_ACTIONS)
    signed = {
        action: action_link(
            action,
            person_id=person.person_id,
            team_id=post.team_id,
            post_id=post.post_id,
            kind=reminder.kind,
            expires=expires,
            # Approving is approving what the email showed: a later version needs a look.
            version=post.version if action in ACTIONS_OF["review"] else None,
        )
        for action in actions
    }
    signed["open"] = link_to("planner.show", team_id=post.team_id, post_id=post.post_id)
    return signed


@dataclass(frozen=True)
class Escalation:
    """Why the admins are told about a post: the owner's nudges are "off", they are "away"
    (until ``away_until``), ``reminded`` overdue nudges went "unanswered", or none reached
    them ("unreached": refused by their address, or sent while they were away)."""

    reason: str
    reminded: int = 0
    away_until: str | None = None


def _escalation_text(escalation: Escalation, owner: str, reader: Person) -> str:
    if escalation.reason == "off":
        return gettext(
            "%(owner)s has nudges switched off, so Cadenza could not remind them. "
            "Could someone take this post over?",
            owner=owner,
        )
    if escalation.reason == "away":
        return gettext(
            "%(owner)s is away until %(day)s. Could someone take this post over?",
            owner=owner,
            day=_day(escalation.away_until, reader),
        )
    if escalation.reason == "unanswered":
        return ngettext(
            "%(owner)s has not published this post: %(num)d reminder went unanswered. "
            "Could someone take it over?",
            "%(owner)s has not published this post: %(num)d reminders went unanswered. "
            "Could someone take it over?",
            escalation.reminded,
            owner=owner,
        )
    return gettext(
        "Cadenza's reminders did not reach %(owner)s. Could someone take this post over?",
        owner=owner,
    )


def nudge(
    reminder: Reminder,
    post: Post,
    body: PostBody | None,
    team: Team,
    recipients: list[Person],
    now: datetime,
    escalation: Escalation | None = None,
    playbook: Playbook | None = None,
) -> EmailMessage:
    """The email for a post's reminder, in the (first) recipient's language and zone, with
    the playbook's checklists of its channels (the items ticked so far marked)."""
    person = recipients[0]
    if plan.for_co_owner(reminder.kind):
        # A partner team's co-owner reads what their team's page of the post shows, its copy:
        # the owning team's notes and playbook stay in the owning team.
        body = PostBody(*PostBody.key(post.team_id, post.post_id), copy=body.copy if body else "")
        playbook = None
    with force_locale(person.language):
        owner = team.member(post.owner_id) if post.owner_id else None
        giver = team.member(reminder.handed_by) if reminder.handed_by else None
        due = when(post.due, person, now) if post.due else ""
        channels = post.reach_line() or gettext("no channel")
        kind = plan.base_kind(reminder.kind).split("-")[0]
        values = {
            "due": due,
            "channels": channels,
            "title": post.title,
            "owner": owner.name if owner else "",
            "giver": giver.name if giver else "",
        }
        subjects = {
            "before": gettext("%(due)s · %(channels)s · %(title)s", **values),
            "overdue": gettext("Overdue · %(due)s · %(channels)s · %(title)s", **values),
            "escalate": gettext("Still not published · %(title)s · %(owner)s", **values),
            "review": gettext("Please review · %(title)s · %(due)s", **values),
            "handover": (
                gettext("Handed over to you by %(giver)s · %(due)s · %(title)s", **values)
                if giver
                else gettext("Handed over to you · %(due)s · %(title)s", **values)
            ),
        }
        subject = subjects[kind]
        message = mail.compose(
            "nudge",
            to=", ".join(recipient.email for recipient in recipients),
            language=person.language,
            now=now,
            headers=unsubscribe_headers(person) if len(recipients) == 1 else None,
            subject=subject,
            kind=kind,
            reminder=reminder,
            post=post,
            body=body,
            team=team,
            due=due,
            channels=channels,
            owner=owner,
            giver=giver,
            escalation=(
                _escalation_text(escalation, owner.name if owner else "?", person)
                if escalation
                else ""
            ),
            person=person,
            checklist=playbook.checklist(post.channel_names()) if playbook else [],
            ticked=(body.checked if body else None) or [],
            # An event's recap, after the event: its owner is asked how it went.
            recap=post.series_step == "recap" and bool(post.event_id),
            links=_actions(reminder, post, person, shared=len(recipients) > 1),
            preferences=link_to("nudges.preferences"),
        )
    return message


def _digest_line(post: Post | SharedPost, person: Person, now: datetime) -> tuple:
    """(when, post, link, shared by): a co-owned partner's post (its mirror) links to the
    co-owner's team's page of it, and names the team that shares it."""
    if isinstance(post, SharedPost):
        link = link_to(
            "sharing.show",
            team_id=post.team_id,
            origin_id=post.origin_team_id,
            post_id=post.post_id,
        )
        return when(post.due, person, now), post, link, post.origin_name
    link = link_to("planner.show", team_id=post.team_id, post_id=post.post_id)
    return when(post.due, person, now), post, link, ""


def digest(person: Person, overdue: list, upcoming: list, now: datetime):
    """The daily digest of the posts ``person`` owns, and the partners' posts they co-own."""
    with force_locale(person.language):
        subject = ngettext(
            "Your week: %(num)d post to publish",
            "Your week: %(num)d posts to publish",
            len(overdue) + len(upcoming),
        )
        if overdue:
            subject = ngettext(
                "%(subject)s · %(num)d overdue",
                "%(subject)s · %(num)d overdue",
                len(overdue),
                subject=subject,
            )

        def lines(found):
            return [_digest_line(post, person, now) for post in found]

        return to_person(
            "digest",
            person,
            now,
            subject,
            overdue=lines(overdue),
            upcoming=lines(upcoming),
            teams={team_id: entry["name"] for team_id, entry in person.team_entries().items()},
        )


def _day(iso: str, reader: Person) -> str:
    return format_date(date.fromisoformat(iso), "d MMM", locale=reader.language)


def away_notice(admin: Person, away: Person, team: Team, due: list[Post], now: datetime):
    """Tell a team's admin that someone will be away while posts of theirs are due."""
    with force_locale(admin.language):
        return mail.compose(
            "away",
            to=admin.email,
            language=admin.language,
            now=now,
            away=away,
            first=_day(away.away_from, admin),
            last=_day(away.away_until, admin),
            team=team,
            posts=[
                (
                    when(post.due, admin, now),
                    post,
                    link_to("planner.show", team_id=post.team_id, post_id=post.post_id),
                )
                for post in due
            ],
            subject=ngettext(
                "%(name)s is away %(first)s–%(last)s: %(num)d post needs someone",
                "%(name)s is away %(first)s–%(last)s: %(num)d posts need someone",
                len(due),
                name=away.name,
                first=_day(away.away_from, admin),
                last=_day(away.away_until, admin),
            ),
        )
