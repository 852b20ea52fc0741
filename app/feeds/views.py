"""Calendar feeds: the secret ``.ics`` address calendars fetch, and the page that makes,
regenerates and revokes them."""

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, Response, abort, flash, g, request, session, url_for
from flask_babel import gettext as _
from pynamodb.exceptions import PynamoDBException

from app.auth import login_required, speaking, team_member
from app.errors import error_page
from app.feeds import ical
from app.i18n import STATUS_LABELS
from app.nudges.plan import DEFAULT_LEADS
from app.planner.filters import Filters
from app.store import Conflict, NotFound, posts
from app.store import feeds as stored
from app.store.models import Person, Team
from app.web import go, link_to, now, render

bp = Blueprint("feeds", __name__)
log = logging.getLogger(__name__)

# What a feed holds: the last two months (a calendar keeps what it was sent, so a post moved
# into the past stays right) and the coming 400 days.
WINDOW_BEFORE, WINDOW_AFTER = timedelta(days=60), timedelta(days=400)
# Calendars fetch every few hours: a short private cache is enough, and no shared one.
FEED_HEADERS = {
    "Content-Type": "text/calendar; charset=utf-8",
    "Content-Disposition": 'inline; filename="cadenza.ics"',
    "Cache-Control": "private, max-age=300",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
# The one answer for any address that is not a live feed: which part was wrong is not told.
NOT_FOUND = ("Not found\n", 404, {"Content-Type": "text/plain; charset=utf-8"})
UNAVAILABLE = (
    "Unavailable, try again later\n",
    503,
    {"Content-Type": "text/plain; charset=utf-8", "Retry-After": "300"},
)
FAILED = (
    "Something went wrong, try again later\n",
    500,
    {"Content-Type": "text/plain; charset=utf-8"},
)
STORE_ERRORS = (PynamoDBException, BotoCoreError, ClientError)
NEW_FEED = "new_feed"  # the session key of a secret shown once, on the page after the POST


# The feed itself ---------------------------------------------------------------------------


@bp.get("/feeds/<person_id>/<feed_id>/<token>.ics")
def feed(person_id: str, feed_id: str, token: str):
    """The calendar of a feed: no session, no cookie; the address is the key."""
    try:
        return _feed(person_id, feed_id, token)
    # Failures are answered here, in plain text: the app's error page would start a session
    # (its form token) for a calendar server that keeps no cookies.
    except STORE_ERRORS:
        log.error("storage unavailable", exc_info=True)
        return Response(*UNAVAILABLE)
    except Exception:
        log.exception("the feed %s failed", request.path)  # the secret is redacted (logs.py)
        return Response(*FAILED)


def _feed(person_id: str, feed_id: str, token: str):
    found = stored.opened(person_id, feed_id, token)
    if found is None:
        return Response(*NOT_FOUND)
    someone, chosen, team = found
    if chosen.kind == "team" and (team is None or someone.role_in(team.team_id) is None):
        return Response(*NOT_FOUND)  # the team is gone, or the person left it
    moment = now()
    window = (moment - WINDOW_BEFORE, moment + WINDOW_AFTER)
    leads = someone.lead_minutes or (team.lead_minutes if team else None) or DEFAULT_LEADS
    reader = ical.Reader(someone.person_id, ZoneInfo(someone.zone), int(leads[0]), moment)
    with speaking(someone.language):
        if team is None:
            body = _person_calendar(someone, reader, window)
        else:
            body = _team_calendar(chosen, team, reader, window)
    return Response(body, 200, FEED_HEADERS)


def _person_calendar(someone: Person, reader: ical.Reader, window) -> bytes:
    """The person's posts in every team they are in: one Query of ``by_owner``."""
    mine = someone.team_entries()
    names = ical.Names(
        team=lambda team_id: mine.get(team_id, {}).get("name", ""),
        owner=lambda team_id, owner: someone.name,
    )
    found = stored.posts_of(someone, *window)
    return ical.calendar(_("Cadenza — my posts"), reader, found, names, window)


def _team_calendar(chosen: stored.Feed, team: Team, reader: ical.Reader, window) -> bytes:
    """The team's posts the feed's filters keep, the partners' posts shared with it (their
    mirrors, under the originals' UIDs, as the co-owner's feed has them; only while still
    partners, as the calendar views show them) and its events: one Query of ``by_due``."""
    filters = Filters(**chosen.filters)
    found_posts, found_events, mirrors = posts.calendar_with_shared(team.team_id, *window)
    partners = team.partner_entries()
    shared = [mirror for mirror in mirrors if mirror.origin_team_id in partners]
    kept = [post for post in [*found_posts, *shared] if filters.keep(post)]

    def owner(team_id: str, owner_id: str | None) -> str:
        member = team.member(owner_id) if owner_id else None
        return member.name if member else "–"

    names = ical.Names(team=lambda team_id: team.name, owner=owner)
    name = " — ".join([team.name, *_filter_words(chosen.filters, team)])
    return ical.calendar(name, reader, [*kept, *found_events], names, window)


def _filter_words(filters: dict, team: Team | None, owner_name: str = "") -> list[str]:
    """A feed's filters as a person reads them: an owner's name, a channel, a status, #tag."""
    words = []
    if filters.get("owner"):
        member = team.member(filters["owner"]) if team is not None else None
        words.append(member.name if member else owner_name)
    if filters.get("channel"):
        words.append(filters["channel"])
    if filters.get("status"):
        words.append(str(STATUS_LABELS.get(filters["status"], filters["status"])))
    if filters.get("tag"):
        words.append(f"#{filters['tag']}")
    if filters.get("reach"):
        words.append(_("People's profiles") if filters["reach"] == "people" else _("Team channels"))
    return [word for word in words if word]


# The page ----------------------------------------------------------------------------------


@bp.get("/me/feeds")
@login_required
def index():
    return _page()


def _page(status: int = 200, problem: str = ""):
    shown = session.pop(NEW_FEED, None) if NEW_FEED in session else None
    mine = stored.feeds_of(g.person)
    made = stored.feed_of(g.person, shown["feed"]) if shown else None
    new = None
    if made is not None:  # not revoked meanwhile (in another tab)
        url = _address(g.person, made.feed_id, shown["secret"])
        new = {"name": _feed_name(made), "url": url, "webcal": "webcal://" + url.split("://", 1)[1]}
    return render(
        "feeds/index.html",
        status=status,
        feeds=[(feed, _feed_name(feed)) for feed in mine],
        new=new,
        problem=problem,
        room=len(mine) < stored.MAX_FEEDS,
        max_feeds=stored.MAX_FEEDS,
    )


def _feed_name(feed: stored.Feed) -> str:
    if feed.kind == "person":
        return _("My posts, in all my teams")
    entry = g.person.team_entries().get(feed.team_id)
    team = entry["name"] if entry else _("A team you left (this feed shows nothing)")
    return " — ".join([team, *_filter_words(feed.filters, None, feed.owner_name)])


def _address(someone: Person, feed_id: str, secret: str) -> str:
    return link_to("feeds.feed", person_id=someone.person_id, feed_id=feed_id, token=secret)


def _made(feed: stored.Feed, secret: str, message: str):
    """Show the new secret address once, on the page the POST sends the person to."""
    session[NEW_FEED] = {"feed": feed.feed_id, "secret": secret}
    flash(message, "success")
    return go(url_for("feeds.index") + "#new-feed")


def _too_many() -> str:
    return _(
        "You have %(count)d feeds, the most one person can have. Revoke one first.",
        count=stored.MAX_FEEDS,
    )


@bp.post("/me/feeds")
@login_required
def create():
    """A feed of the person's own posts, across their teams."""
    try:
        feed, secret = stored.create(g.person, now=now())
    except stored.TooManyFeeds:
        return _page(422, _too_many())
    except Conflict:
        return error_page(409)
    return _made(feed, secret, _("Your feed is ready. Copy its address now."))


def _own_feed(feed_id: str) -> stored.Feed:
    found = stored.feed_of(g.person, feed_id)
    if found is None:
        abort(404)
    return found


@bp.post("/me/feeds/<feed_id>/regenerate")
@login_required
def regenerate(feed_id: str):
    """A new secret address; the old one answers 404 from now on."""
    feed = _own_feed(feed_id)
    try:
        secret = stored.regenerate(g.person, feed)
    except Conflict:
        return error_page(409)
    return _made(feed, secret, _("The feed has a new address; the old one no longer works."))


@bp.post("/me/feeds/<feed_id>/revoke")
@login_required
def revoke(feed_id: str):
    try:
        stored.revoke(g.person, _own_feed(feed_id))
    except NotFound:
        abort(404)
    flash(_("The feed is revoked: its address no longer works."), "success")
    return go(url_for("feeds.index"))


# A team's feed, from its calendar ----------------------------------------------------------


def _chosen_filters(team: Team) -> tuple[Filters, str]:
    """The calendar's filters from the address, and what is wrong with them (a subscription
    must not quietly show more than was asked: an unknown value is refused, not dropped)."""
    filters = Filters.from_request(team)
    asked = {name: request.args.get(name, "") for name in stored.FILTERS}
    unknown = [name for name, value in asked.items() if value != getattr(filters, name)]
    if filters.tag and filters.tag not in (team.tags or set()):
        unknown.append("tag")
    if unknown:
        labels = {
            "owner": _("Owner"),
            "channel": _("Channel"),
            "status": _("Status"),
            "tag": _("Tag"),
            "reach": _("Team channels or people's profiles"),
        }
        names = ", ".join(labels[name] for name in unknown)
        return filters, _("These filters are not the team's: %(names)s.", names=names)
    return filters, ""


def _confirm_page(team: Team, filters: Filters, problem: str = "", status: int = 200):
    return render(
        "feeds/new_team.html",
        status=status,
        team=team,
        filters=filters,
        words=_filter_words(filters.args(), team),
        problem=problem,
    )


@bp.get("/t/<team_id>/feeds/new")
@team_member()
def new_team_feed(team_id: str):
    """Confirm a feed of this team's calendar, with the filters it shows now."""
    filters, problem = _chosen_filters(g.team)
    return _confirm_page(g.team, filters, problem, 422 if problem else 200)


@bp.post("/t/<team_id>/feeds")
@team_member()
def create_team_feed(team_id: str):
    filters, problem = _chosen_filters(g.team)
    if problem:
        return _confirm_page(g.team, filters, problem, 422)
    owner = g.team.member(filters.owner) if filters.owner else None
    try:
        feed, secret = stored.create(
            g.person,
            now=now(),
            team_id=team_id,
            filters=filters.args(),
            owner_name=owner.name if owner else "",
        )
    except stored.TooManyFeeds:
        return _confirm_page(g.team, filters, _too_many(), 422)
    except Conflict:
        return error_page(409)
    return _made(
        feed, secret, _("Your feed of %(team)s is ready. Copy its address now.", team=g.team.name)
    )
