"""Posts: small summaries for the calendar views, bodies for the post panel, their history.

Every change to a post is one transaction: the summary (guarded by its version, so concurrent
edits never overwrite each other silently), the body when it changed, and an activity entry.
A post shared with a partner team also writes its mirror (``SharedPost``) in that transaction:
every writer passes the post to ``_writing``, the one place that adds it.
"""

import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import datetime, timedelta

from pynamodb.expressions.condition import size
from pynamodb.transactions import TransactWrite

from app.store import Conflict, connection, keys, lost_conditions_raise, people, playbook
from app.store.models import (
    Activity,
    Event,
    Playbook,
    Post,
    PostBody,
    SharedEvent,
    SharedPost,
    Team,
)
from app.store.reminders import ReminderWrites
from app.store.teams import MAX_TEAM_TAGS

TRASH_KEPT_FOR = timedelta(days=30)
SUMMARY_FIELDS = ("title", "channels", "owner_id", "due", "zone", "status", "tags", "reviewer_id")
BODY_FIELDS = ("copy", "notes", "published_url", "checked")
# History says a long text was edited but keeps no copy of it: the old and the new text of a
# 350 KB copy would not fit in one 400 KB item (the edit was refused, every time after).
LONG_TEXT = ("copy", "notes", "checked")


class PostConflict(Conflict):
    """Someone saved the post first (its version moved on), or it is gone."""


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
    tags: Iterable[str] | None = (),
    reviewer_id: str | None = None,
    post_id: str | None = None,
    profiles: list | None = None,
) -> Post:
    post_id = post_id or keys.new_id()
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
        tags=set(tags or ()) or None,
        reviewer_id=reviewer_id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        profiles=profiles or None,
    )
    post.place()
    return post


def intro_post(
    team_id: str, person_id: str, *, title: str, due: datetime, zone: str, now: datetime
) -> Post:
    """A new member's first post: a draft they own, due when they should write it."""
    return new_post(
        team_id,
        post_id=playbook.intro_post_id(person_id),
        title=title,
        zone=zone,
        created_by=person_id,
        now=now,
        due=due,
        owner_id=person_id,
        status="draft",
    )


def create(
    post: Post,
    *,
    copy: str = "",
    notes: str = "",
    published_url: str | None = None,
    checked: list[str] | None = None,
    seed: str | None = None,
    activity: str = "created",
    reminders: ReminderWrites | None = None,
    known_tags: Iterable[str] | None = (),
) -> None:
    """Write a new post's summary, body and first history entry together.

    ``known_tags`` are the team's tags as the caller read them: only others are added.
    """
    with _writing(reminders) as transaction:
        transaction.save(post, condition=Post.pk.does_not_exist())
        transaction.save(
            PostBody(
                *PostBody.key(post.team_id, post.post_id),
                copy=copy,
                notes=notes,
                published_url=published_url,
                checked=checked,
                seed=seed,
            )
        )
        transaction.save(_entry(post, post.created_by, activity, post.created_at))
        _remember_tags(transaction, post, known_tags)


def preview(post: Post, summary: dict) -> Post:
    """A copy of the post with changes applied (the post itself is left as it is)."""
    copy = Post.from_raw_data(post.serialize())
    for field, value in summary.items():
        setattr(copy, field, value)
    copy.place()
    return copy


def load(team_id: str, post_id: str) -> tuple[Post, PostBody] | None:
    """A post and its body (one BatchGetItem); None if there is no such post in this team."""
    found = _read(team_id, post_id)
    return (found[Post], found[PostBody]) if found else None


def load_for_writing(team_id: str, post_id: str) -> tuple[Post, PostBody, Playbook] | None:
    """A post, its body and the team's playbook, whose checklists show beside the post form
    (the same one BatchGetItem); None if there is no such post in this team."""
    found = _read(team_id, post_id, Playbook.key(team_id))
    if not found:
        return None
    return found[Post], found[PostBody], found.get(Playbook) or playbook.empty(team_id)


def _read(team_id: str, post_id: str, *more) -> dict | None:
    """A post, its body and ``more`` items of the team, by model: one BatchGetItem."""
    found = {}
    wanted = {
        Post.Meta.table_name: [Post.key(team_id, post_id), PostBody.key(team_id, post_id), *more]
    }
    for raw in people.batch_get(wanted):
        kind = raw["sk"]["S"].split("#", 1)[0]
        model = {"POST": Post, "BODY": PostBody, "PLAYBOOK": Playbook}[kind]
        found[model] = model.from_raw_data(raw)
    if Post not in found:
        return None
    found.setdefault(PostBody, PostBody(*PostBody.key(team_id, post_id)))
    return found


def update(
    post: Post,
    body: PostBody,
    *,
    summary: dict,
    body_fields: dict,
    actor: str,
    now: datetime,
    kind: str = "changed",
    text: str = "",
    reminders: ReminderWrites | None = None,
    known_tags: Iterable[str] | None = (),
    actor_name: str = "",
) -> Post:
    """Apply changes to a loaded post; raise PostConflict if it changed since it was loaded.

    The post's ``version`` is the one the editor saw: PynamoDB makes the write conditional on
    it and increments it. ``actor_name``: an actor who is no member of the post's team (a
    partner team's person), named in its history.
    """
    # Compared as history shows them: channels in another order are the same channels.
    changes = {
        field: [_shown(getattr(post, field)), _shown(value)]
        for field, value in summary.items()
        if _shown(getattr(post, field)) != _shown(value)
    }
    changes.update(
        {
            field: ["", ""] if field in LONG_TEXT else [_shown(getattr(body, field)), _shown(value)]
            for field, value in body_fields.items()
            if (getattr(body, field) or "") != (value or "")
        }
    )
    if not changes and not text:
        return post
    if summary.get("status") == "published" and post.status != "published":
        post.published_at = now
    post.edited_by_hand = True
    # Tags the post had are not new: one an admin took off the team's list stays off.
    known_tags = {*(known_tags or ()), *(post.tags or ())}
    for field, value in summary.items():
        setattr(post, field, value)
    for field, value in body_fields.items():
        setattr(body, field, value)
    post.updated_at = now
    post.place()
    with _writing(reminders, post) as transaction:
        transaction.save(post, condition=Post.deleted_at.does_not_exist())
        if any(field in BODY_FIELDS for field in changes):
            transaction.save(body)
        named = {"actor_name": actor_name} if actor_name else {}
        transaction.save(_entry(post, actor, kind, now, changes=changes, text=text, **named))
        _remember_tags(transaction, post, known_tags)
    return post


def move(
    team_id: str,
    post_id: str,
    *,
    version: int,
    seen_due: datetime | None,
    seen_owner: str | None,
    seen_status: str,
    due: datetime,
    zone: str,
    actor: str,
    now: datetime,
    reminders: ReminderWrites | None = None,
    shared_reminders: Callable[[Post], ReminderWrites] | None = None,
) -> Post:
    """Give a post a new due time without reading it first: one transaction.

    The caller passes what its view showed (version, due, owner); the write is conditional on
    all three, so a post changed meanwhile raises PostConflict instead of being overwritten.
    An idea that gets a date and has no owner is given to the person who dated it, and
    becomes a draft.

    The blind write is also conditional on the post not being shared: a shared post's mirror
    needs the whole post, so when that write fails the post is read and, if it is shared and
    still as the view showed it, moved with its mirror (``_move_shared``). An unshared post
    stays one write. ``shared_reminders`` gives the reminders for a shared post as read (its
    co-owner's too), instead of ``reminders``.
    """
    owner = seen_owner or actor
    status = "draft" if seen_status == "idea" else seen_status
    post = Post(*Post.key(team_id, post_id), team_id=team_id, post_id=post_id, version=version)
    post.due, post.owner_id, post.status, post.deleted_at = due, owner, status, None
    post.zone = zone
    post.place()
    seen = (Post.due == seen_due) if seen_due else Post.due.does_not_exist()
    seen &= (Post.owner_id == seen_owner) if seen_owner else Post.owner_id.does_not_exist()
    seen &= Post.status == seen_status
    actions = [
        Post.due.set(due),
        Post.zone.set(zone),
        Post.owner_id.set(owner),
        Post.due_key.set(post.due_key),
        Post.owner_pk.set(post.owner_pk),
        Post.owner_sk.set(post.owner_sk),
        Post.idea_key.remove(),
        Post.status.set(status),
        Post.updated_at.set(now),
        Post.edited_by_hand.set(True),
    ]
    changes = {"due": [_shown(seen_due), _shown(due)]}
    if owner != seen_owner:
        changes["owner_id"] = [_shown(seen_owner), owner]
    unshared = Post.shared_with.does_not_exist()
    try:
        with _writing(reminders) as transaction:
            transaction.update(
                post,
                actions=actions,
                condition=Post.pk.exists() & Post.deleted_at.does_not_exist() & seen & unshared,
            )
            transaction.save(_entry(post, actor, "moved", now, changes=changes))
    except PostConflict:
        current = _read(team_id, post_id)
        shown = {"version": version, "due": seen_due, "owner_id": seen_owner}
        if not current or not _as_seen(current[Post], {**shown, "status": seen_status}):
            raise
        if shared_reminders is not None:
            reminders = shared_reminders(current[Post])
        return _move_shared(current[Post], post, changes, actor, now, reminders)
    post.version = version + 1
    return post


def _as_seen(post: Post, seen: dict) -> bool:
    """Whether a shared post is still as a view showed it (then a failed blind move failed
    only because it is shared)."""
    kept = post.deleted_at is None and bool(post.shared_with)
    return kept and all(getattr(post, field) == value for field, value in seen.items())


def _move_shared(
    current: Post, moved: Post, changes: dict, actor: str, now: datetime, reminders
) -> Post:
    """Move a shared post as read: the post and its mirror in one transaction, conditional on
    the version read (PostConflict if it changed since)."""
    current.due, current.owner_id, current.status = moved.due, moved.owner_id, moved.status
    current.zone = moved.zone
    current.updated_at, current.edited_by_hand = now, True
    current.place()
    with _writing(reminders, current) as transaction:
        transaction.save(current, condition=Post.deleted_at.does_not_exist())
        transaction.save(_entry(current, actor, "moved", now, changes=changes))
    return current


def share(
    post: Post,
    *,
    partner_id: str | None,
    co_owner: tuple[str, str] | None,
    origin_name: str,
    shown: dict,
    actor: str,
    now: datetime,
    reminders: ReminderWrites | None = None,
) -> Post:
    """Share a post with a partner team (``co_owner``: a member of that team, as (id, name),
    or None), move it to another partner, or stop sharing it (``partner_id`` None): the post,
    its mirror put, moved or deleted, an activity entry (``shown``: the change as history
    shows it, names not ids) and the co-owner's nudges (``reminders``), in one transaction
    conditional on the post's version and on the teams being partners still (PostConflict
    otherwise)."""
    before = post.shared_with
    if partner_id != before:
        post.partner_published_url = None
    post.shared_with = partner_id
    post.co_owner_id, post.co_owner_name = co_owner if co_owner else (None, None)
    post.origin_name = origin_name if partner_id else None
    post.updated_at = now
    with _writing(reminders, post) as transaction:
        transaction.save(post, condition=Post.deleted_at.does_not_exist())
        if before and before != partner_id:
            transaction.delete(SharedPost(*SharedPost.key(before, post.team_id, post.post_id)))
        if partner_id:
            transaction.condition_check(
                Team, keys.team(post.team_id), "TEAM", condition=Team.partners[partner_id].exists()
            )
        transaction.save(_entry(post, actor, "changed", now, changes=shown))
    return post


def trash(
    post: Post,
    body: PostBody,
    *,
    actor: str,
    now: datetime,
    reminders: ReminderWrites | None = None,
) -> None:
    """Move a post to the trash: kept 30 days (restorable), then DynamoDB's TTL removes it."""
    post.deleted_at = now
    post.expires_at = body.expires_at = now + TRASH_KEPT_FOR
    post.place()
    with _writing(reminders, post) as transaction:
        transaction.save(post)
        transaction.save(body)
        transaction.save(_entry(post, actor, "trashed", now))


def restore(
    post: Post,
    body: PostBody,
    *,
    actor: str,
    now: datetime,
    reminders: ReminderWrites | None = None,
) -> None:
    post.deleted_at = post.expires_at = body.expires_at = None
    post.updated_at = now
    post.place()
    with _writing(reminders, post) as transaction:
        transaction.save(post, condition=Post.deleted_at.exists())
        transaction.save(body)
        transaction.save(_entry(post, actor, "restored", now))


def comment(post: Post, *, actor: str, text: str, now: datetime, notes=None) -> Activity:
    """Add a comment, with the notifications it causes (``notes``) in the same transaction."""
    entry = _entry(post, actor, "comment", now, text=text)
    if not post.planned and not notes:
        entry.save()
        return entry
    with _writing(notes) as transaction:
        transaction.save(entry)
        if post.planned:
            # A planned post someone talks about is no longer the schedule's or the event's to
            # move or withdraw: it keeps its comments. Its version moves on (a re-plan that
            # read it before fails), whatever version the commenter's page showed: a comment
            # never conflicts.
            transaction.update(
                post,
                actions=[Post.edited_by_hand.set(True)],
                condition=Post.pk.exists(),
                add_version_condition=False,
            )
    if post.planned:
        post.edited_by_hand = True
    return entry


def plan_new(
    post: Post, *, reminders: ReminderWrites | None, activity: str = "planned", **body
) -> bool:
    """Write a post a schedule, an event or a new membership planned, unless a post with its
    id exists (planned ids are made from what planned them, so planning twice, in two runs or
    two requests at once, writes it once): False then."""
    try:
        create(post, activity=activity, reminders=reminders, **body)
    except PostConflict:
        return False
    return True


def replan(post: Post, *, summary: dict, now: datetime, reminders: ReminderWrites | None) -> Post:
    """Change a planned post as its schedule or event now says: conditional on its version
    and on nobody having changed it by hand (PostConflict otherwise)."""
    changes = {
        field: [_shown(getattr(post, field)), _shown(value)]
        for field, value in summary.items()
        if _shown(getattr(post, field)) != _shown(value)
    }
    for field, value in summary.items():
        setattr(post, field, value)
    post.updated_at = now
    post.place()
    with _writing(reminders, post) as transaction:
        untouched = Post.deleted_at.does_not_exist() & (Post.edited_by_hand == False)  # noqa: E712
        transaction.save(post, condition=untouched)
        transaction.save(_entry(post, post.created_by, "replanned", now, changes=changes))
    return post


def withdraw(post: Post, *, reminders: ReminderWrites | None) -> None:
    """Delete a planned post nobody has changed by hand (its schedule re-planned, paused, ended
    or deleted; its event cancelled), with its body and pending nudges: PostConflict if
    someone changed it meanwhile. Its history entries stay behind unread, as a trashed post's
    do once the trash empties."""
    with _writing(reminders, post, gone=True) as transaction:
        untouched = Post.deleted_at.does_not_exist() & (Post.edited_by_hand == False)  # noqa: E712
        transaction.delete(post, condition=untouched)
        transaction.delete(PostBody(*PostBody.key(post.team_id, post.post_id)))


def history(team_id: str, post_id: str) -> list[Activity]:
    """All comments and changes of a post, newest first (for checks and benchmarks: the
    panel reads a page at a time, ``activity_page``)."""
    return list(
        Activity.query(
            keys.team(team_id),
            Activity.sk.startswith(Activity.prefix(post_id)),
            consistent_read=True,
            scan_index_forward=False,
        )
    )


# Where a page of a post's activity starts: the time and id of the last entry shown before it.
_CURSOR = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9a-z]{8}")


class BadCursor(ValueError):
    """A page cursor that no entry of this post could have given."""


def activity_page(
    team_id: str, post_id: str, *, size: int, before: str | None = None
) -> tuple[list[Activity], str | None]:
    """A page of a post's comments and changes, newest first, and the cursor of the next
    (older) page, or None: one Query reading ``size + 1`` items at most.

    ``before`` is a cursor this function gave; the Query starts after that entry
    (``ExclusiveStartKey``) and stays within this post's entries (``begins_with``).
    """
    start = None
    if before is not None:
        if not _CURSOR.fullmatch(before):
            raise BadCursor(before)
        start = {"pk": {"S": keys.team(team_id)}, "sk": {"S": Activity.prefix(post_id) + before}}
    found = list(
        Activity.query(
            keys.team(team_id),
            Activity.sk.startswith(Activity.prefix(post_id)),
            consistent_read=True,
            scan_index_forward=False,
            limit=size + 1,  # one more than shown: whether there is an older page
            last_evaluated_key=start,
        )
    )
    shown = found[:size]
    older = shown[-1].sk.removeprefix(Activity.prefix(post_id)) if len(found) > size else None
    return shown, older


def calendar_between(
    team_id: str, start: datetime, end: datetime
) -> tuple[list[Post], list[Event]]:
    """Posts of a team due in [start, end) and its events starting then: one strongly
    consistent Query of ``by_due``, which holds both (the sort key says which is which);
    mirrors of partners' shared posts, which it holds too, are left out."""
    found_posts, found_events, _shared = calendar_with_shared(team_id, start, end)
    return found_posts, found_events


def calendar_with_shared(
    team_id: str, start: datetime, end: datetime
) -> tuple[list[Post], list[Event], list[SharedPost]]:
    """``calendar_between`` and the mirrors of partners' posts shared with the team due then,
    from the same one Query (the calendar views show all three; cadence health, exports and
    feeds of the team's own posts read ``calendar_between``)."""
    found = calendar_items(team_id, start, end)
    return found[Post], found[Event], found[SharedPost]


def calendar_items(team_id: str, start: datetime, end: datetime) -> dict[type, list]:
    """Everything the team's ``by_due`` holds in [start, end), by model: its posts and events,
    and the mirrors of partners' shared posts and events (the calendar views show all four):
    one strongly consistent Query."""
    query = Post.by_due.query(
        keys.team(team_id),
        Post.due_key.between(keys.instant(start), keys.instant(end)),
        consistent_read=True,
    )
    # PynamoDB builds every item a Query returns as the queried model; this one returns four.
    query._map_fn = _calendar_item
    found = {Post: [], Event: [], SharedPost: [], SharedEvent: []}
    for item in query:
        found[type(item)].append(item)
    return found


_KINDS = {"EVENT": Event, "SHARED": SharedPost, "SHAREDEVENT": SharedEvent}


def _calendar_item(raw: dict) -> Post | Event | SharedPost | SharedEvent:
    return _KINDS.get(raw["sk"]["S"].split("#", 1)[0], Post).from_raw_data(raw)


def due_between(team_id: str, start: datetime, end: datetime) -> list[Post]:
    """Posts of a team due in [start, end) (the same Query, its events left out)."""
    return calendar_between(team_id, start, end)[0]


def planned_by(team_id: str, planner_id: str) -> list[Post]:
    """The posts a schedule or an event planned (their ids start with its id), trashed ones
    too: one Query of the table, ``sk`` begins_with POST#<id>-."""
    return list(
        Post.query(
            keys.team(team_id),
            Post.sk.startswith(f"POST#{planner_id}-"),
            consistent_read=True,
        )
    )


def ideas(team_id: str) -> list[Post]:
    """Undated posts of a team, oldest first: one Query of ``ideas``."""
    return list(Post.ideas.query(keys.team(team_id), consistent_read=True))


def trashed(team_id: str, now: datetime) -> list[Post]:
    """The team's trash, newest first; TTL deletes within days, so expired ones are skipped."""
    found = Post.trash.query(keys.team(team_id), consistent_read=True, scan_index_forward=False)
    return [post for post in found if post.expires_at is None or post.expires_at > now]


def owned_between(person_id: str, start: datetime, end: datetime) -> list[Post]:
    """Posts a person owns in any team, due in [start, end): one Query of ``by_owner``."""
    return owned_with_shared(person_id, start, end)[0]


def owned_with_shared(
    person_id: str, start: datetime, end: datetime
) -> tuple[list[Post], list[SharedPost]]:
    """``owned_between`` and the mirrors of partners' posts the person co-owns due then, from
    the same one Query (My posts and the person's feed show both; nudges plan from posts)."""
    query = Post.by_owner.query(
        f"OWNER#{person_id}", Post.owner_sk.between(keys.instant(start), keys.instant(end))
    )
    query._map_fn = _calendar_item
    found = {Post: [], SharedPost: []}
    for item in query:
        found[type(item)].append(item)
    return found[Post], found[SharedPost]


@contextmanager
def _writing(reminders: ReminderWrites | None, post: Post | None = None, gone: bool = False):
    """One transaction for a post change, with its reminders and, for a shared ``post``, its
    mirror as the post now is (deleted with a post that is ``gone``); a lost condition is a
    PostConflict."""
    with (
        lost_conditions_raise(PostConflict("the post changed meanwhile")),
        TransactWrite(connection=connection()) as transaction,
    ):
        yield transaction
        if reminders:
            reminders.add_to(transaction)
        if post is not None and post.shared_with:
            if gone:
                transaction.delete(SharedPost.of(post))
            else:
                transaction.save(SharedPost.of(post))


def _entry(post: Post, actor: str, kind: str, now: datetime, **details) -> Activity:
    return Activity.new(post.team_id, post.post_id, person_id=actor, kind=kind, at=now, **details)


def _remember_tags(transaction: TransactWrite, post: Post, known: Iterable[str] | None) -> None:
    """Add the post's tags the team did not know to its list, which keeps at most
    MAX_TEAM_TAGS: a write that would go beyond (a stale page, two saves at once) is refused
    with the whole change, as a PostConflict."""
    new = set(post.tags or ()) - set(known or ())
    if new:
        room = Team.tags.does_not_exist() | (size(Team.tags) <= MAX_TEAM_TAGS - len(new))
        transaction.update(
            Team(*Team.key(post.team_id)),
            actions=[Team.tags.add(new)],
            condition=Team.pk.exists() & room,
        )


def _shown(value) -> str:
    """A value as history shows it (instants in UTC ISO; the view localizes them)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return keys.instant(value)
    if isinstance(value, set | list | tuple):
        return ", ".join(sorted(str(item) for item in value))  # a post's profiles are maps
    return str(value)
