"""What the calendar views draw: day cells and post chips, worked out once per request.

A month holds hundreds of chips, so everything a chip shows is computed here in one pass and
the templates only interpolate (the month view's render budget is 30 ms).
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _

from app.i18n import STATUS_LABELS
from app.planner import periods
from app.store.models import Member, Post

OWNER_COLOURS = 8
DONE = ("published", "skipped")


def initials(name: str) -> str:
    words = [word for word in name.split() if word[:1].isalnum()]
    return "".join(word[0] for word in (words[:1] + words[1:][-1:])).upper() or "?"


def owner_colour(person_id: str) -> int:
    return int(hashlib.sha256(person_id.encode()).hexdigest(), 16) % OWNER_COLOURS + 1


def overdue(post: Post, moment: datetime) -> bool:
    return post.due is not None and post.due < moment and post.status not in DONE


@dataclass(frozen=True, slots=True)
class Chip:
    post_id: str
    team_id: str
    href: str
    title: str
    status: str
    status_label: str
    time: str
    due: str  # ISO, for the move request's condition
    channels: tuple[str, ...]
    late: bool
    owner_away: bool  # the owner is on vacation on the post's day: someone may take it over
    version: int | None
    owner_id: str
    owner_name: str
    owner_initials: str
    owner_colour: int


@dataclass(frozen=True, slots=True)
class Cell:
    day: date
    iso: str
    today: bool
    in_month: bool
    label: str
    new_url: str
    chips: list[Chip]


class Board:
    def __init__(
        self,
        *,
        team_id: str,
        members: dict[str, Member],
        zone: ZoneInfo,
        moment: datetime,
        can_edit: bool,
        posts_by_day: dict[date, list[Post]],
        month: periods.Month | None = None,
    ):
        self.team_id, self.members, self.zone, self.moment = team_id, members, zone, moment
        self.can_edit, self.month = can_edit, month
        self.today = moment.astimezone(zone).date()
        self._labels = {status: str(label) for status, label in STATUS_LABELS.items()}
        self.overdue_label = _("Overdue")
        self.away_label = _("Owner away")
        # One url_for per request, not per chip (measured: a third of the month's render time);
        # ids are [0-9a-z], so substituting them needs no escaping.
        self._post_url = url_for("planner.show", team_id="TEAM-ID", post_id="POST-ID")
        self._owners = {
            person_id: (member.name, initials(member.name), owner_colour(person_id))
            for person_id, member in members.items()
        }
        self._away = {person_id: member for person_id, member in members.items() if member.away}
        self.days = {
            day: [self.chip(post) for post in found] for day, found in posts_by_day.items()
        }

    def chip(self, post: Post) -> Chip:
        owner_id, due = post.owner_id or "", post.due
        name, owner_initials, colour = self._owners.get(owner_id, ("", "", 0))
        return Chip(
            post_id=post.post_id,
            team_id=post.team_id,
            href=self._post_url.replace("TEAM-ID", post.team_id).replace("POST-ID", post.post_id),
            title=post.title,
            status=post.status,
            status_label=self._labels.get(post.status, post.status),
            time=due.astimezone(self.zone).strftime("%H:%M") if due else "",
            due=due.isoformat() if due else "",
            channels=tuple(post.channels or ()),
            late=overdue(post, self.moment),
            owner_away=bool(due)
            and owner_id in self._away
            and self._away[owner_id].away_on(due.astimezone(self.zone).date()),
            version=post.version,
            owner_id=owner_id,
            owner_name=name,
            owner_initials=owner_initials,
            owner_colour=colour,
        )

    def cell(self, day: date) -> Cell:
        in_month = self.month is None or day.month == self.month.month
        return Cell(
            day=day,
            iso=day.isoformat(),
            today=day == self.today,
            in_month=in_month,
            label=_("New post on %(date)s", date=format_date(day, "full")) if self.can_edit else "",
            new_url=url_for("planner.new_post", team_id=self.team_id, date=day.isoformat())
            if self.can_edit
            else "",
            chips=self.days.get(day, []) if in_month else [],
        )
