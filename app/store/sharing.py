"""Posts shared with a partner team (issue 11, phase 2): reading one from the partner's side,
and unsharing everything two teams shared when their partnership ends.

A shared post stays in its owning team; the partner team holds a mirror (``SharedPost``)
that ``app.store.posts`` writes with every write of the original. The mirrors also list the
originals: a partner's mirrors of team A are one Query (``SHARED#A#``), so ending a
partnership finds every shared post of both sides without a Scan.
"""

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from app.store import Conflict, conditional_failure, connection, keys, people, reminders
from app.store.models import Post, PostBody, SharedPost, Team


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


def mirrors(team_id: str, origin_id: str) -> list[SharedPost]:
    """The mirrors in ``team_id`` of posts team ``origin_id`` shares with it: one Query."""
    return list(
        SharedPost.query(
            keys.team(team_id),
            SharedPost.sk.startswith(SharedPost.prefix(origin_id)),
            consistent_read=True,
        )
    )


def unshare_all(team_id: str, partner_id: str) -> int:
    """After a partnership ended: every post either team shared with the other stops being
    shared (owners keep their posts), and the mirrors go. Per post, the original is read and
    then cleared with its mirror deleted in one transaction conditional on its version (which
    moves on, so an edit read before fails rather than sharing it again), its co-owner's
    nudges dropped in it too (one Query of them first); a mirror whose original is gone or
    unshared is deleted alone. Returns how many posts were unshared."""
    count = 0
    for shown_in, origin in ((partner_id, team_id), (team_id, partner_id)):
        for mirror in mirrors(shown_in, origin):
            count += _unshare(mirror)
    return count


# An edit landing between reading an original and clearing it: read it again, a few times.
UNSHARE_ATTEMPTS = 3


def _unshare(mirror: SharedPost) -> int:
    for _attempt in range(UNSHARE_ATTEMPTS):
        try:
            original = Post.get(
                *Post.key(mirror.origin_team_id, mirror.post_id), consistent_read=True
            )
        except Post.DoesNotExist:
            original = None
        if original is None or original.shared_with != mirror.team_id:
            mirror.delete()
            return 0
        co_owner_nudges = reminders.of_co_owner(original.team_id, original.post_id)
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(
                    original,
                    actions=[
                        Post.shared_with.remove(),
                        Post.co_owner_id.remove(),
                        Post.co_owner_name.remove(),
                        Post.partner_published_url.remove(),
                        Post.origin_name.remove(),
                    ],
                )
                transaction.delete(mirror)
                for nudge in co_owner_nudges:
                    transaction.delete(nudge)
        except TransactWriteError as error:
            if not conditional_failure(error):
                raise
            continue
        return 1
    raise Conflict("a shared post keeps changing")
