"""Posts: summaries for the calendar views, bodies for the post panel."""

from collections.abc import Iterable
from datetime import datetime

from pynamodb.transactions import TransactWrite

from app.store import connection, keys
from app.store.models import Post, PostBody


def new_post(
    team_id: str,
    *,
    title: str,
    zone: str,
    created_by: str,
    now: datetime,
    due: datetime | None = None,
    owner_id: str | None = None,
    channels: Iterable[str] = (),
    status: str = "idea",
    tags: Iterable[str] = (),
) -> Post:
    post_id = keys.new_id()
    post = Post(
        *Post.key(team_id, post_id),
        team_id=team_id,
        post_id=post_id,
        title=title,
        zone=zone,
        due=due,
        owner_id=owner_id,
        channels=list(channels),
        status=status,
        tags=set(tags) or None,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    post.place()
    return post


def create(post: Post, *, copy: str = "", notes: str = "") -> None:
    """Write a new post's summary and body together."""
    with TransactWrite(connection=connection()) as transaction:
        transaction.save(post, condition=Post.pk.does_not_exist())
        transaction.save(
            PostBody(*PostBody.key(post.team_id, post.post_id), copy=copy, notes=notes)
        )


def due_between(team_id: str, start: datetime, end: datetime) -> list[Post]:
    """Posts of a team due in [start, end): one strongly consistent Query of ``by_due``."""
    return list(
        Post.by_due.query(
            keys.team(team_id),
            Post.due_key.between(keys.instant(start), keys.instant(end)),
            consistent_read=True,
        )
    )


def ideas(team_id: str) -> list[Post]:
    """Undated posts of a team, oldest first: one Query of ``ideas``."""
    return list(Post.ideas.query(keys.team(team_id), consistent_read=True))


def owned_between(person_id: str, start: datetime, end: datetime) -> list[Post]:
    """Posts a person owns in any team, due in [start, end): one Query of ``by_owner``."""
    return list(
        Post.by_owner.query(
            f"OWNER#{person_id}", Post.owner_sk.between(keys.instant(start), keys.instant(end))
        )
    )
