"""A new member's start in a team: the playbook in their welcome, and a first post,
"Introduce yourself", planned for them."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort
from flask_babel import force_locale, gettext

from app.planner import changes, periods
from app.store import posts, teams
from app.store.models import Person, Post, Team

# Time to read the playbook and look around first; on a working day, mid-morning.
INTRO_AFTER_DAYS = 3
INTRO_AT = time(10, 0)


def intro_due(joined_at: datetime, zone: ZoneInfo) -> datetime:
    """10:00 in the member's zone, three days after they joined; a Saturday or Sunday moves
    to the Monday (a day without 10:00, in a DST gap, moves it forward, as ever)."""
    day = joined_at.astimezone(zone).date() + timedelta(days=INTRO_AFTER_DAYS)
    if day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    return periods.local_instant(day, INTRO_AT, zone)


def plan_introduction(team: Team, someone: Person, role: str, now: datetime) -> Post | None:
    """Plan "Introduce yourself" for someone about to join ``team`` as ``role``, if that role
    posts (editor, admin): a draft they own, with a suggested copy in their language, nudged
    as any post. Planned once, however often they join (its id is theirs).

    Called before the join is written: if planning fails, nothing is written and following the
    invitation again does both; if the join then fails, ``withdraw_introduction``."""
    if role not in changes.EDITING_ROLES:
        return None
    # The team as it will be: their nudges are planned from their member entry.
    joined = Team.from_raw_data(team.serialize())
    joined.members[someone.person_id] = teams.member_entry(someone, role, now)
    with force_locale(someone.language):
        title = gettext("Introduce yourself")
        copy = gettext(
            "Hello! I have just joined %(team)s. Who I am, what I do here, and what I look "
            "forward to sharing with you: …",
            team=team.name,
        )
    post = posts.intro_post(
        team.team_id,
        someone.person_id,
        title=title,
        due=intro_due(now, ZoneInfo(someone.zone)),
        zone=someone.zone,
        now=now,
    )
    if changes.plan_post(post, joined, now, activity="introduced", copy=copy):
        return post
    # Refused: planned already (they were in the team before; not this join's to take back),
    # or the write lost to another at the same moment, and then they follow the link again.
    if posts.load(team.team_id, post.post_id) is None:
        abort(503)
    return None


def plan_introduction_of_newcomer(team_id: str, someone: Person, now: datetime) -> None:
    """Plan the first post of someone new to Cadenza whom an invitation brought into the team,
    once they have named themselves and chosen their zone (the welcome page); planned once."""
    team = teams.team(team_id)
    member = team.member(someone.person_id) if team else None
    if member is not None:
        plan_introduction(team, someone, member.role, now)


def withdraw_introduction(post: Post | None, team: Team, now: datetime) -> None:
    """Take back the post of someone whose join was refused (the team filled up, the
    invitation was revoked meanwhile), with its nudges."""
    if post is not None:
        changes.withdraw_post(post, team, now)
