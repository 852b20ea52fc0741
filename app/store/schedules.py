"""Schedules: a team's recurring cadences, their slots, and the index the job extends them by.

A schedule is one item; every change to it is conditional on its version (a stale edit is a
ScheduleConflict, never an overwrite). While active it sits in the ``due`` index under bucket
EXTEND, sorted by when its slots need extending, so the job finds the few that need something
with one Query whatever the number of schedules. Its slots are posts whose id is
``<schedule>-<local date of the occurrence>`` (a schedule has at most one occurrence a day):
planning one twice writes it once, and the slots from a day on are one range of the table.
"""

import re
from datetime import date, datetime

from app.store import Conflict, keys, lost_conditions_raise, posts
from app.store.models import EXTEND_BUCKET, Post, Schedule


class ScheduleConflict(Conflict):
    """Someone changed or deleted the schedule first (its version moved on)."""


ID_LENGTH = 10


def new_id() -> str:
    return keys.new_id(ID_LENGTH)


def well_formed(schedule_id: str) -> bool:
    """Whether a schedule id a form sent back is one ``new_id`` could have made."""
    return re.fullmatch(f"[0-9a-z]{{{ID_LENGTH}}}", schedule_id) is not None


def new_schedule(
    team_id: str,
    *,
    created_by: str,
    now: datetime,
    schedule_id: str | None = None,
    **attributes,
) -> Schedule:
    schedule_id = schedule_id or new_id()
    return Schedule(
        *Schedule.key(team_id, schedule_id),
        team_id=team_id,
        schedule_id=schedule_id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        **attributes,
    )


def of_team(team_id: str) -> list[Schedule]:
    """The team's schedules: one Query, ``sk`` begins_with SCHEDULE#."""
    return list(
        Schedule.query(
            keys.team(team_id), Schedule.sk.startswith("SCHEDULE#"), consistent_read=True
        )
    )


def load(team_id: str, schedule_id: str) -> Schedule | None:
    try:
        return Schedule.get(*Schedule.key(team_id, schedule_id), consistent_read=True)
    except Schedule.DoesNotExist:
        return None


def save(schedule: Schedule, *, now: datetime, extend_at: datetime | None) -> Schedule:
    """Write the schedule, conditional on the version it was read at (ScheduleConflict).

    ``extend_at``: when the job should next extend its slots (None: it is out of the index).
    """
    schedule.updated_at = now
    index_for_extension(schedule, extend_at)
    with lost_conditions_raise(ScheduleConflict("the schedule changed meanwhile")):
        schedule.save()
    return schedule


def index_for_extension(schedule: Schedule, extend_at: datetime | None) -> None:
    """Put the schedule in the ``due`` index (bucket EXTEND) at ``extend_at``, or out of it."""
    if extend_at is None:
        schedule.due_bucket = schedule.due_sk = None
    else:
        schedule.due_bucket = EXTEND_BUCKET
        schedule.due_sk = f"{keys.instant(extend_at)}#{schedule.team_id}#{schedule.schedule_id}"


def delete(schedule: Schedule) -> None:
    """Delete the schedule as it was read (ScheduleConflict if it changed or went)."""
    with lost_conditions_raise(ScheduleConflict("the schedule changed meanwhile")):
        schedule.delete(condition=Schedule.pk.exists())


def due_for_extension(now: datetime) -> list[Schedule]:
    """Active schedules of every team whose slots need extending at ``now``: one Query of the
    ``due`` index, bucket EXTEND, ``due_sk`` up to now (eventually consistent: re-read each)."""
    return list(
        Schedule.extending.query(EXTEND_BUCKET, Schedule.due_sk <= f"{keys.instant(now)}#~")
    )


def extend_at(schedule: Schedule) -> datetime | None:
    """When the schedule is next due for extension, as its index key says."""
    if not schedule.due_sk:
        return None
    return datetime.fromisoformat(schedule.due_sk.split("#", 1)[0].replace("Z", "+00:00"))


def slot_id(schedule_id: str, day: date) -> str:
    return f"{schedule_id}-{day:%Y%m%d}"


def slot_day(post: Post) -> date:
    """The local date of the occurrence a slot was planned for (its id says it)."""
    compact = post.post_id.rsplit("-", 1)[1]
    return date(int(compact[:4]), int(compact[4:6]), int(compact[6:8]))


def slots_from(team_id: str, schedule_id: str, first_day: date) -> list[Post]:
    """The schedule's slots for occurrences on or after ``first_day`` (trashed ones too): one
    Query, ``sk`` BETWEEN POST#<schedule>-<day> AND POST#<schedule>-~."""
    return list(
        Post.query(
            keys.team(team_id),
            Post.sk.between(f"POST#{slot_id(schedule_id, first_day)}", f"POST#{schedule_id}-~"),
            consistent_read=True,
        )
    )


def new_slot(
    schedule: Schedule,
    *,
    day: date,
    due: datetime,
    owner_id: str | None,
    turn: int,
    title: str,
    occurrence: str,
    now: datetime,
) -> Post:
    """A draft post for one occurrence, with the id that makes planning it idempotent."""
    post = posts.new_post(
        schedule.team_id,
        title=title,
        zone=schedule.zone,
        created_by=schedule.created_by,
        now=now,
        due=due,
        owner_id=owner_id,
        channels=list(schedule.channels or []),
        status="draft",
        post_id=slot_id(schedule.schedule_id, day),
    )
    post.schedule_id, post.occurrence, post.turn = schedule.schedule_id, occurrence, turn
    return post
