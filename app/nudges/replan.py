"""Plan a person's nudges again after their zone, lead times or quiet hours changed.

Nudge times are computed once, when a post is saved, in its owner's zone and preferences; a
person who changes them gets their posts' pending nudges planned again at once. A nudge that
already had its moment for a deadline (sent, closed, or due now) is left as it is, so nothing
is sent twice.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from app.nudges import plan
from app.store import posts, reminders, teams
from app.store.models import Person, Post, SharedPost, Team

AHEAD = timedelta(days=60)
# A post due this long ago may still have overdue nudges and its escalation ahead of it.
BEHIND = plan.OVERDUE_AFTER + timedelta(days=plan.OVERDUE_TIMES + 1)


def replan_my_posts(someone: Person, now: datetime, entry: dict | None = None) -> int:
    """Plan the deadline nudges of ``someone``'s open posts again; returns how many posts.

    ``entry``: what their teams' member entries are about to say of them (a new zone, lead
    times, quiet hours). Callers plan before they save: a failure part-way leaves the old
    settings stored, so saving again (the error page asks) plans everything again.
    """

    def as_saved(team: Team) -> Team:
        members = team.member_entries()
        if entry and someone.person_id in members:  # (they may have left it meanwhile)
            members[someone.person_id] = {**members[someone.person_id], **entry}
            team.members = members
        return team

    mine, co_owned = _open_posts(someone, now)
    return replan_posts(mine, now, as_saved) + replan_co_owned(co_owned, now, as_saved)


def replan_posts(
    found: list[Post], now: datetime, as_saved: Callable[[Team], Team] | None = None
) -> int:
    """Plan these posts' deadline nudges again for their owners' current preferences.

    Per post one Query (its reminders, so nothing already sent is planned again) and one
    write; teams are read once each (``as_saved`` changes each as read, to plan for settings
    about to be saved).
    """
    found_teams = {}
    count = 0
    for post in found:
        if post.team_id not in found_teams:
            team = teams.team(post.team_id)
            found_teams[post.team_id] = as_saved(team) if as_saved and team else team
        team = found_teams[post.team_id]
        if team is None:
            continue
        history = reminders.of_post(post.team_id, post.post_id)
        reminders.write(plan.deadline_writes(post, team, now, history))
        count += 1
    return count


def replan_co_owned(
    found: list[SharedPost], now: datetime, as_saved: Callable[[Team], Team]
) -> int:
    """Plan the co-owner's nudges of partners' posts they co-own again (issue 11): per post
    the original read (one BatchGetItem, with its body) and its reminders (one Query), then
    one write; their own teams are read once each, for their member entry there."""
    found_teams, count = {}, 0
    for mirror in found:
        if mirror.team_id not in found_teams:
            team = teams.team(mirror.team_id)
            found_teams[mirror.team_id] = as_saved(team) if team else None
        partner = found_teams[mirror.team_id]
        loaded = posts.load(mirror.origin_team_id, mirror.post_id) if partner else None
        if loaded is None:
            continue
        post = loaded[0]
        history = reminders.of_post(post.team_id, post.post_id)
        reminders.write(plan.co_owner_deadline_writes(post, partner, now, history))
        count += 1
    return count


def _open_posts(someone: Person, now: datetime) -> tuple[list[Post], list[SharedPost]]:
    """Their open posts, and the mirrors of partners' open posts they co-own: one Query."""
    mine, co_owned = posts.owned_with_shared(someone.person_id, now - BEHIND, now + AHEAD)
    return (
        [
            post
            for post in mine
            if post.team_id in someone.team_entries() and post.status not in plan.DONE
        ],
        [
            mirror
            for mirror in co_owned
            if mirror.team_id in someone.team_entries() and mirror.status not in plan.DONE
        ],
    )
