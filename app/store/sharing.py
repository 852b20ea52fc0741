"""Posts and events shared with a partner team (issue 11, phase 2): reading one from the
partner's side, and unsharing everything two teams shared when their partnership ends.

A shared post stays in its owning team; the partner team holds a mirror (``SharedPost``)
that ``app.store.posts`` writes with every write of the original. The mirrors also list the
originals: a partner's mirrors of team A are one Query (``SHARED#A#``), so ending a
partnership finds every shared post of both sides without a Scan. Events go the same way,
their mirrors (``SharedEvent``) written by ``app.store.events``.
"""

import logging
from datetime import datetime, timedelta

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from app.store import Conflict, conditional_failure, connection, keys, kits, people, reminders
from app.store.models import Event, Post, PostBody, Reminder, SharedEvent, SharedPost, Team
from app.store.reminders import finish, pending

log = logging.getLogger(__name__)


def shared_post(viewer: Team, origin_id: str, post_id: str) -> tuple[Post, PostBody, Team] | None:
    """A post of team ``origin_id`` shared with ``viewer``, its body and its team: one
    BatchGetItem. None unless the teams are partners, the post exists, is shared with
    ``viewer`` and is not in the trash: a partner reaches nothing else this way."""
    if origin_id not in viewer.partner_entries():
        return None
    wanted = [Post.key(origin_id, post_id), PostBody.key(origin_id, post_id), Team.key(origin_id)]
    found = {}
    for raw in people.batch_get({Post.Meta.table_name: wanted}):
        kind = raw["sk"]["S"].split("#", 1)[0]
        model = {"POST": Post, "BODY": PostBody, "TEAM": Team}[kind]
        found[model] = model.from_raw_data(raw)
    post = found.get(Post)
    if post is None or Team not in found or post.shared_with != viewer.team_id:
        return None
    if post.deleted_at is not None:
        return None
    return post, found.get(PostBody) or PostBody(*PostBody.key(origin_id, post_id)), found[Team]


def shared_event(viewer: Team, origin_id: str, event_id: str) -> tuple[Event, Team] | None:
    """An event of team ``origin_id`` shared with ``viewer``, and its team (for its owner's
    name): one BatchGetItem. None unless the teams are partners, the event exists and is
    shared with ``viewer``."""
    if origin_id not in viewer.partner_entries():
        return None
    wanted = [Event.key(origin_id, event_id), Team.key(origin_id)]
    found = {}
    for raw in people.batch_get({Event.Meta.table_name: wanted}):
        model = Event if raw["sk"]["S"].startswith("EVENT#") else Team
        found[model] = model.from_raw_data(raw)
    event = found.get(Event)
    if event is None or Team not in found or event.shared_with != viewer.team_id:
        return None
    return event, found[Team]


def mirrors(team_id: str, origin_id: str) -> list[SharedPost]:
    """The mirrors in ``team_id`` of posts team ``origin_id`` shares with it: one Query."""
    return list(
        SharedPost.query(
            keys.team(team_id),
            SharedPost.sk.startswith(SharedPost.prefix(origin_id)),
            consistent_read=True,
        )
    )


def event_mirrors(team_id: str, origin_id: str) -> list[SharedEvent]:
    """The mirrors in ``team_id`` of events team ``origin_id`` shares with it: one Query."""
    return list(
        SharedEvent.query(
            keys.team(team_id),
            SharedEvent.sk.startswith(SharedEvent.prefix(origin_id)),
            consistent_read=True,
        )
    )


# How long the request ending a partnership has to unshare before the nudge job may try.
UNSHARING_GRACE = timedelta(minutes=5)
UNSHARING_KIND = "unshare"


def unsharing_marker(team_id: str, partner_id: str, now: datetime) -> Reminder:
    """The pending reminder that the two teams' shared posts and events are still to be
    unshared, written with the partners maps' end: the nudge job acts on it if the request
    did not finish (``UNSHARE#<team>#<partner>`` / ``UNSHARE``, in the ``due`` index)."""
    return pending(
        Reminder(
            f"UNSHARE#{team_id}#{partner_id}",
            "UNSHARE",
            team_id=team_id,
            kind=UNSHARING_KIND,
            due=now + UNSHARING_GRACE,
        )
    )


def finish_unsharing(marker: Reminder, run_id: str | None = None) -> bool:
    """Unshare what the marker's two teams shared, then close the marker (deleted by the
    request that ended the partnership; ``run_id``: closed by the job run holding it). False,
    and the marker left for the job, if something kept it from finishing."""
    team_id, partner_id = marker.pk.removeprefix("UNSHARE#").split("#")
    try:
        unshare_all(team_id, partner_id)
    except (Conflict, PynamoDBException):
        log.warning(
            "unsharing %s and %s left for the nudge job", team_id, partner_id, exc_info=True
        )
        return False
    if run_id is None:
        marker.delete()
    else:
        finish(marker, run_id, "sent", "unshared", None)
    return True


def unshare_all(team_id: str, partner_id: str) -> int:
    """After a partnership ended: every post either team shared with the other stops being
    shared (owners keep their posts), and the mirrors go. Per post, the original is read and
    then cleared with its mirror deleted in one transaction conditional on its version (which
    moves on, so an edit read before fails rather than sharing it again), its co-owner's
    nudges dropped in it too (one Query of them first); a mirror whose original is gone or
    unshared is deleted alone. Their events the same way (one Query of each side's event
    mirrors), and the share kits' offers nobody took of either team's people. Returns how many
    posts and events were unshared."""
    count = 0
    for shown_in, origin in ((partner_id, team_id), (team_id, partner_id)):
        for mirror in mirrors(shown_in, origin):
            count += _unshare(mirror)
        for event_mirror in event_mirrors(shown_in, origin):
            count += _unshare_event(event_mirror)
        # Share kits offered to the other team's people are no longer theirs (issue 12).
        kits.withdraw_partner_offers(origin, shown_in)
    return count


# An edit landing between reading an original and clearing it: read it again, a few times.
UNSHARE_ATTEMPTS = 3


def _unshare(mirror: SharedPost) -> int:
    return _unshare_original(
        mirror,
        Post,
        Post.key(mirror.origin_team_id, mirror.post_id),
        lambda: [
            Post.shared_with.remove(),
            Post.co_owner_id.remove(),
            Post.co_owner_name.remove(),
            Post.partner_published_url.remove(),
            Post.origin_name.remove(),
        ],
        gone_with=lambda post: reminders.of_co_owner(post.team_id, post.post_id),
    )


def _unshare_event(mirror: SharedEvent) -> int:
    return _unshare_original(
        mirror,
        Event,
        Event.key(mirror.origin_team_id, mirror.event_id),
        lambda: [Event.shared_with.remove(), Event.origin_name.remove()],
    )


def _unshare_original(mirror, model, key, clearing, gone_with=lambda original: ()) -> int:
    """Read the original of ``mirror`` (a ``model`` item at ``key``), then clear it
    (``clearing``: the actions, made anew for each attempt) and delete the mirror and what
    ``gone_with`` it gives in one transaction, conditional on the version read; a mirror whose
    original is gone or no longer shared with its team goes alone. 1 if it unshared one."""
    for _attempt in range(UNSHARE_ATTEMPTS):
        try:
            original = model.get(*key, consistent_read=True)
        except model.DoesNotExist:
            original = None
        if original is None or original.shared_with != mirror.team_id:
            mirror.delete()
            return 0
        also = gone_with(original)
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(original, actions=clearing())
                transaction.delete(mirror)
                for item in also:
                    transaction.delete(item)
        except TransactWriteError as error:
            if not conditional_failure(error):
                raise
            continue
        return 1
    raise Conflict("a shared item keeps changing")
