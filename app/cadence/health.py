"""Cadence health, computed from what one calendar Query and one schedules Query return.

Three measures, in a person's zone (the viewer's, or the admin's for the weekly email):

- gaps: for each channel of the team's active schedules, the coming weeks (the current one
  first, weeks starting on the person's first weekday) with no post on that channel. A
  skipped post does not fill a week (nothing goes out); trashed posts are not in the calendar.
  Weeks before the channel's first schedule starts are not gaps.
- load: posts each member owns in the coming 4 weeks (skipped ones left out). Someone owning
  more than twice the average of the people listed, and at least 3, is overloaded; someone
  with none is said so.
  Viewers cannot own posts, so they are listed only if they still own some.
- on time: of each member's posts due in the last 90 days before now (skipped ones left out),
  those published by their due time. A post published before Cadenza recorded when posts are
  published has no ``published_at``: it is counted apart ("time unknown") and left out of the
  rate. Posts are counted for their owner as they are now.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.planner.periods import local_midnight, week_of
from app.store import posts, schedules
from app.store.models import Member, Person, Post, Schedule, Team

WEEKS_AHEAD = 8
LOAD_DAYS = 28
ON_TIME_DAYS = 90
OVERLOADED_OVER = 2  # times the average
OVERLOADED_FROM = 3  # posts: one or two more than a quiet team's average is no overload


@dataclass(frozen=True)
class Gaps:
    channel: str
    weeks: list[date]  # the first days of the weeks with no post on the channel


@dataclass(frozen=True)
class Load:
    member: Member
    count: int
    overloaded: bool


@dataclass(frozen=True)
class OnTime:
    member: Member
    on_time: int
    late: int
    missed: int  # due before now and not published
    unknown: int  # published, time unknown: not in the rate

    @property
    def counted(self) -> int:
        return self.on_time + self.late + self.missed

    @property
    def percent(self) -> int | None:
        return round(100 * self.on_time / self.counted) if self.counted else None


@dataclass(frozen=True)
class Health:
    weeks: list[date]
    gaps: list[Gaps]
    load: list[Load]
    average: float
    unowned: int  # posts of the coming 4 weeks with no owner in the team
    on_time: list[OnTime]


def weeks(now: datetime, zone: ZoneInfo, week_start: int) -> list[date]:
    """The first days of the coming weeks, the current one first."""
    first = week_of(now.astimezone(zone).date(), week_start)
    return [first + timedelta(weeks=n) for n in range(WEEKS_AHEAD)]


def reading_window(now: datetime, zone: ZoneInfo, week_start: int) -> tuple[datetime, datetime]:
    """The one calendar Query's bounds: 90 days back, and 8 weeks ahead or the end of the last
    week shown, whichever is later (a DST switch can put that midnight after now + 8 weeks)."""
    last_week = weeks(now, zone, week_start)[-1]
    end = max(now + timedelta(weeks=WEEKS_AHEAD), local_midnight(last_week + timedelta(7), zone))
    return now - timedelta(days=ON_TIME_DAYS), end


def of_team(team: Team, viewer: Person, now: datetime) -> Health:
    """The team's health for this person (their zone, their first weekday): two Queries, the
    calendar's ``by_due`` over the reading window and the team's schedules."""
    zone, week_start = ZoneInfo(viewer.zone), int(viewer.week_start)
    found, _events = posts.calendar_between(team.team_id, *reading_window(now, zone, week_start))
    return measure(team, found, schedules.of_team(team.team_id), now, zone, week_start)


def measure(
    team: Team,
    found: list[Post],
    found_schedules: list[Schedule],
    now: datetime,
    zone: ZoneInfo,
    week_start: int,
) -> Health:
    counted = [post for post in found if post.status != "skipped"]
    shown = weeks(now, zone, week_start)
    load, average, unowned = _load(team, counted, now)
    return Health(
        weeks=shown,
        gaps=_gaps(team, counted, found_schedules, shown, zone),
        load=load,
        average=average,
        unowned=unowned,
        on_time=_on_time([entry.member for entry in load], counted, now),
    )


def _gaps(team, dated, found_schedules, shown, zone) -> list[Gaps]:
    starts: dict[str, datetime] = {}  # channel -> when its first active schedule starts
    for schedule in found_schedules:
        if schedule.state == "active":
            for channel in schedule.channels or []:
                starts[channel] = min(starts.get(channel, schedule.starts_at), schedule.starts_at)
    order = {channel: n for n, channel in enumerate(team.channels or [])}
    bounds = [
        (local_midnight(day, zone), local_midnight(day + timedelta(7), zone)) for day in shown
    ]
    found = []
    for channel in sorted(starts, key=lambda name: (order.get(name, len(order)), name)):
        on_channel = [post.due for post in dated if channel in (post.channels or [])]
        empty = [
            day
            for day, (start, end) in zip(shown, bounds, strict=True)
            if end > starts[channel] and not any(start <= due < end for due in on_channel)
        ]
        found.append(Gaps(channel, empty))
    return found


def _load(team: Team, dated: list[Post], now: datetime) -> tuple[list[Load], float, int]:
    coming = [post for post in dated if now <= post.due < now + timedelta(days=LOAD_DAYS)]
    owned: dict[str, int] = {}
    for post in coming:
        owned[post.owner_id] = owned.get(post.owner_id, 0) + 1
    people = [m for m in team.member_list() if m.role != "viewer" or m.person_id in owned]
    total = sum(owned.get(member.person_id, 0) for member in people)
    average = total / len(people) if people else 0.0
    load = [
        Load(
            member, count, overloaded=count > OVERLOADED_OVER * average and count >= OVERLOADED_FROM
        )
        for member in people
        for count in [owned.get(member.person_id, 0)]
    ]
    return load, average, len(coming) - total


def _on_time(people: list[Member], dated: list[Post], now: datetime) -> list[OnTime]:
    since = now - timedelta(days=ON_TIME_DAYS)
    past = [post for post in dated if since <= post.due < now]
    found = []
    for member in people:
        mine = [post for post in past if post.owner_id == member.person_id]
        published = [post for post in mine if post.status == "published"]
        timed = [post for post in published if post.published_at is not None]
        on_time = sum(1 for post in timed if post.published_at <= post.due)
        found.append(
            OnTime(
                member,
                on_time=on_time,
                late=len(timed) - on_time,
                missed=len(mine) - len(published),
                unknown=len(published) - len(timed),
            )
        )
    return found
