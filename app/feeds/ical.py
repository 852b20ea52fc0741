"""A feed's iCalendar (RFC 5545) text: one VEVENT per post or event, in the reader's zone.

Times carry their zone (``DTSTART;TZID=Europe/Rome:...``) and the calendar holds that zone's
VTIMEZONE, so Google, Outlook and Apple Calendar place them alike across a DST switch. A
post's UID is made of ids that never change, and its SEQUENCE is its version: an edit or a
move updates the event in the subscriber's calendar instead of adding a second one.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from flask_babel import gettext as _

from app.i18n import STATUS_LABELS
from app.store.models import Event, Post, SharedPost
from app.web import link_to

PRODID = "-//Cadenza//Calendar feed//EN"
POST_LENGTH = timedelta(minutes=30)  # a post happens at an instant: a short slot shows it
REFRESH = timedelta(hours=1)  # how often clients that honour it fetch the feed again
DONE = ("published", "skipped")
# Posts a calendar shows as settled, planned, or called off.
ICAL_STATUS = {"approved": "CONFIRMED", "published": "CONFIRMED", "skipped": "CANCELLED"}


@dataclass(frozen=True)
class Reader:
    """Who the feed is for: their zone, their first nudge lead time, and the clock."""

    person_id: str
    zone: ZoneInfo
    lead_minutes: int
    now: datetime


@dataclass(frozen=True)
class Names:
    """How a feed names a team and a post's owner (the ids on the items are all it has)."""

    team: Callable[[str], str]
    owner: Callable[[str, str | None], str]


def calendar(
    name: str,
    reader: Reader,
    items: Iterable[Post | Event],
    names: Names,
    window: tuple[datetime, datetime],
) -> bytes:
    """The feed's text: its items (posts and events) as VEVENTs, with their VTIMEZONE."""
    feed = icalendar.Calendar()
    feed.add("prodid", PRODID)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", name)
    feed.add("x-wr-timezone", str(reader.zone.key))
    feed.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", icalendar.vDuration(REFRESH))  # Outlook's refresh hint
    for item in sorted(items, key=_start):
        feed.add_component(component(item, reader, names))
    start, end = window
    feed.add_missing_timezones(first_date=start.date(), last_date=end.date())
    return feed.to_ical()


def _start(item: Post | Event) -> datetime:
    return item.starts_at if isinstance(item, Event) else item.due


def component(item: Post | Event, reader: Reader, names: Names) -> icalendar.Event:
    """The VEVENT of anything the feed's Query yields: an event, or a post. A shared post's
    copy in a partner team (a ``SharedPost``, which the ``by_owner`` and ``by_due`` Queries
    return with the posts) is rendered here too: its ``team_id`` is the team it is shown in,
    its ``post_id`` the original's, so its UID stays put when the original is edited."""
    if isinstance(item, Event):
        return _event(item, reader, names)
    return _post(item, reader, names)


def _post(post: Post | SharedPost, reader: Reader, names: Names) -> icalendar.Event:
    link = link_to("planner.show", team_id=post.team_id, post_id=post.post_id)
    uid = f"{post.post_id}@{post.team_id}.cadenza"
    if isinstance(post, SharedPost):  # the partner side's page of it, the original's UID
        origin = post.origin_team_id
        link = link_to("sharing.show", team_id=post.team_id, origin_id=origin, post_id=post.post_id)
        uid = f"{post.post_id}@{origin}.cadenza"
    lines = [
        _("Status: %(status)s", status=STATUS_LABELS.get(post.status, post.status)),
        _("Channels: %(channels)s", channels=", ".join(post.channels or ()) or "–"),
        _("Owner: %(name)s", name=names.owner(post.team_id, post.owner_id)),
    ]
    if names.team(post.team_id):  # a shared post's copy may name a team the reader is not in
        lines.append(_("Team: %(team)s", team=names.team(post.team_id)))
    if post.tags:
        lines.append(" ".join(f"#{tag}" for tag in sorted(post.tags)))
    entry = _common(post, uid, post.due, lines, link, reader)
    entry.add("duration", POST_LENGTH)
    entry.add("status", ICAL_STATUS.get(post.status, "TENTATIVE"))
    if post.channels:
        entry.add("categories", list(post.channels))
    # A reminder for the reader's own posts still to do, at their first nudge lead time (a team
    # feed does not ring for everyone's posts).
    if post.owner_id == reader.person_id and post.status not in DONE:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", post.title)
        alarm.add("trigger", -timedelta(minutes=reader.lead_minutes))
        entry.add_component(alarm)
    return entry


def _event(event: Event, reader: Reader, names: Names) -> icalendar.Event:
    link = link_to("events.show", team_id=event.team_id, event_id=event.event_id)
    lines = [_("Team: %(team)s", team=names.team(event.team_id))]
    if event.partner:
        lines.append(_("With %(partner)s", partner=event.partner))
    if event.notes:
        lines += ["", event.notes]
    uid = f"event-{event.event_id}@{event.team_id}.cadenza"
    entry = _common(event, uid, event.starts_at, lines, link, reader)
    entry.add("dtend", event.ends_at.astimezone(reader.zone))
    entry.add("status", "CANCELLED" if event.state == "cancelled" else "CONFIRMED")
    if event.place:
        entry.add("location", event.place)
    return entry


def _common(
    item: Post | Event, uid: str, start: datetime, lines: list[str], link: str, reader: Reader
) -> icalendar.Event:
    """What every VEVENT has: its UID, title, start in the reader's zone, description (the
    lines, then the link), link, and what tells a client it changed."""
    entry = icalendar.Event()
    entry.add("uid", uid)
    entry.add("dtstamp", reader.now)
    entry.add("summary", item.title)
    entry.add("dtstart", start.astimezone(reader.zone))
    entry.add("description", "\n".join([*lines, "", link]))
    entry.add("url", link)
    entry.add("last-modified", item.updated_at)
    # Each save moves the version on: a client replaces the event it has with a newer one.
    entry.add("sequence", int(item.version or 0))
    entry.add("transp", "TRANSPARENT")  # a post to write does not make anyone busy
    return entry
