"""Post changes with their nudges re-planned in the same transaction.

Every change that can move a post's deadline or review (saving, moving, trashing, restoring,
reviewing, handing over from an email) goes through here, so a moved post is nudged at its new
time, a new owner gets the nudges, and a published or deleted post gets no more.
"""

from datetime import datetime

from app.nudges import plan
from app.store import posts
from app.store.models import Post, PostBody, Team


def create(post: Post, team: Team, now: datetime, **body) -> None:
    posts.create(post, reminders=plan.reminder_writes(None, post, team, now), **body)


def update(
    post: Post,
    body: PostBody,
    team: Team,
    *,
    summary: dict,
    body_fields: dict,
    actor: str,
    now: datetime,
    extra_reminders: tuple = (),
    **details,
) -> Post:
    after = posts.preview(post, summary)
    writes = plan.reminder_writes(post, after, team, now)
    writes.put.extend(extra_reminders)
    return posts.update(
        post,
        body,
        summary=summary,
        body_fields=body_fields,
        actor=actor,
        now=now,
        reminders=writes,
        **details,
    )


def move(
    team: Team,
    post_id: str,
    *,
    seen_due,
    seen_owner,
    seen_status: str,
    due,
    zone: str,
    actor: str,
    now: datetime,
    version: int,
) -> Post:
    before = Post(
        *Post.key(team.team_id, post_id),
        team_id=team.team_id,
        post_id=post_id,
        due=seen_due,
        owner_id=seen_owner,
        status=seen_status,
    )
    after = Post(
        *Post.key(team.team_id, post_id),
        team_id=team.team_id,
        post_id=post_id,
        due=due,
        owner_id=seen_owner or actor,
        status="draft" if seen_status == "idea" else seen_status,
    )
    return posts.move(
        team.team_id,
        post_id,
        version=version,
        seen_due=seen_due,
        seen_owner=seen_owner,
        seen_status=seen_status,
        due=due,
        zone=zone,
        actor=actor,
        now=now,
        reminders=plan.reminder_writes(before, after, team, now),
    )


def trash(post: Post, body: PostBody, team: Team, *, actor: str, now: datetime) -> None:
    after = posts.preview(post, {"deleted_at": now})
    writes = plan.reminder_writes(post, after, team, now)
    posts.trash(post, body, actor=actor, now=now, reminders=writes)


def restore(post: Post, body: PostBody, team: Team, *, actor: str, now: datetime) -> None:
    after = posts.preview(post, {"deleted_at": None})
    writes = plan.reminder_writes(post, after, team, now)
    posts.restore(post, body, actor=actor, now=now, reminders=writes)
