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
from markupsafe import Markup, escape

from app.i18n import STATUS_LABELS
from app.planner import periods
from app.store.models import Member, Post, SharedEvent, SharedPost

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
class Cell:
    day: date
    iso: str
    today: bool
    in_month: bool
    label: str
    new_url: str
    chips: Markup


class Board:
    """Day cells and post chips for one request.

    A chip is built here as HTML rather than by a Jinja macro: a month holds hundreds of them,
    and the macro (with its attribute lookups and escaping calls) was two thirds of the month
    view's render time. Every value is escaped; ids are [0-9a-z].
    """

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
        partners: dict[str, dict] | None = None,
    ):
        self.team_id, self.zone, self.moment = team_id, zone, moment
        self.can_edit, self.month = can_edit, month
        self.today = moment.astimezone(zone).date()
        self._labels = {status: escape(label) for status, label in STATUS_LABELS.items()}
        self._overdue = escape(_("Overdue"))
        self._away_label = escape(_("Owner away"))
        self._personal = escape(_("personal"))
        # One url_for per request, not per chip or cell; ids need no escaping.
        self._post_url = url_for("planner.show", team_id="TEAM-ID", post_id="POST-ID")
        self._new_url = url_for("planner.new_post", team_id=team_id or "TEAM-ID", date="DAY")
        self._owners = {
            person_id: (escape(member.name), escape(initials(member.name)), owner_colour(person_id))
            for person_id, member in members.items()
        }
        self._away = {person_id: member for person_id, member in members.items() if member.away}
        self.posts = posts_by_day
        # Partners' shared posts: chips in the colour this team gave the partner, with its name
        # (the co-owner's My posts names the team as the mirror does, in a neutral colour).
        self._partners = {
            team_id: (escape(entry["name"]), entry.get("colour", "shared"))
            for team_id, entry in (partners or {}).items()
        }
        self._shared_url = url_for(
            "sharing.show", team_id="TEAM-ID", origin_id="ORIGIN-ID", post_id="POST-ID"
        )

    def partner_of(self, event) -> tuple[str, str] | None:
        """The name and colour a partner's shared event shows with (its band); None for the
        team's own event."""
        if not isinstance(event, SharedEvent):
            return None
        fallback = (escape(event.origin_name or ""), "shared")
        return self._partners.get(event.origin_team_id, fallback)

    def chip(self, post: Post | SharedPost) -> Markup:
        values = post.attribute_values  # read once: the descriptors are slow in a loop of 200
        post_id, team_id, status = values["post_id"], values["team_id"], values.get("status")
        owner_id, due = values.get("owner_id") or "", values.get("due")
        shared = isinstance(post, SharedPost)
        if shared:  # another team's post: its own page, not dragged here
            origin = values["origin_team_id"]
            href = self._shared_url.replace("TEAM-ID", team_id).replace("ORIGIN-ID", origin)
            href = href.replace("POST-ID", post_id)
            partner, colour = self._partners.get(
                origin, (escape(values.get("origin_name") or ""), "shared")
            )
            post_id = f"{origin}-{post_id}"
        else:
            href = self._post_url.replace("TEAM-ID", team_id).replace("POST-ID", post_id)
        late = due is not None and due < self.moment and status not in DONE
        # On its owner's own profiles (issue 12): marked in words and in the owner's colour.
        personal = values.get("profiles") or ()
        owner = self._owners.get(owner_id)
        classes = f"chip status-{status}{' overdue' if late else ''}{' shared' if shared else ''}"
        if personal:
            classes += f" personal personal-{owner[2]}" if owner else " personal"
        html = [
            f'<a class="{classes}" id="post-{post_id}" '
            f'href="{href}" hx-get="{href}" hx-push-url="true"'
        ]
        if self.can_edit and not shared:
            html.append(
                f' draggable="true" data-version="{values.get("version")}" '
                f'data-due="{due.isoformat() if due else ""}" data-owner="{owner_id}" '
                f'data-status="{status}"'
            )
        html.append(">")
        if due is not None:
            local = due.astimezone(self.zone)
            html.append(
                f'<time datetime="{due.isoformat(timespec="seconds")}">{local:%H:%M}</time> '
            )
        html.append(
            f'<span class="chip-title">{escape(values["title"])}</span><span class="chip-meta">'
        )
        html.extend(
            f'<span class="channel">{escape(channel)}</span>'
            for channel in values.get("channels") or ()
        )
        html.extend(
            f'<span class="channel profile">{escape(str(profile))}</span>' for profile in personal
        )
        if personal:
            whose = f" · {owner[0]}" if owner else ""
            html.append(f'<span class="badge personal">{self._personal}{whose}</span>')
        html.append(f'<span class="badge status">{self._labels.get(status, status)}</span>')
        if shared:
            html.append(f'<span class="partner-tag partner-{colour}">{partner}</span>')
        if late:
            html.append(f'<span class="badge late">{self._overdue}</span>')
        away = self._away.get(owner_id)
        if away is not None and due is not None and away.away_on(due.astimezone(self.zone).date()):
            html.append(f'<span class="badge away">{self._away_label}</span>')
        if owner is not None:
            name, owner_initials, colour = owner
            html.append(
                f'<abbr class="avatar owner-{colour}" title="{name}">{owner_initials}</abbr>'
            )
        html.append("</span></a>")
        return Markup("".join(html))  # noqa: S704 (every value above is escaped or an id)

    def cell(self, day: date) -> Cell:
        in_month = self.month is None or day.month == self.month.month
        editable = self.can_edit
        return Cell(
            day=day,
            iso=day.isoformat(),
            today=day == self.today,
            in_month=in_month,
            label=_("New post on %(date)s", date=format_date(day, "full")) if editable else "",
            new_url=self._new_url.replace("DAY", day.isoformat()) if editable else "",
            chips=Markup("".join(self.chip(post) for post in self.posts.get(day, ()))),  # noqa: S704
        )
