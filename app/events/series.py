"""An event's post series: templates, the proposal, planning, moving and cancelling.

Wall-clock rule: a step happens ``days`` after the event's local day (in the event's zone) at
its local ``time`` (or at the event's start time when the step has none), placed as schedules
place their occurrences (``recurrence.place``): the same local time across a DST switch; a
time in the spring gap moves forward to the first valid instant; a repeated autumn time is
its first occurrence. Moving the event shifts each post by the event's wall-clock shift.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from app import values
from app.planner import changes
from app.schedules.recurrence import place
from app.store import events, posts
from app.store.models import Event, Post, SeriesTemplate, Team

# The step of a series whose nudge asks "how did it go?" (app/nudges reads this name).
RECAP = "recap"
PLACEHOLDERS = ("event", "date", "time", "place", "partner")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
STEP_ID = re.compile(rf"[a-z0-9]{{1,{events.MAX_STEP_ID}}}")


@dataclass
class Step:
    step: str  # the id in the series posts' ids: lower-case letters and digits
    label: str
    days: int
    time: str  # "HH:MM", or "" for the event's start time
    title: str  # a pattern: PLACEHOLDERS in braces
    channels: list[str] = field(default_factory=list)
    owner: str = ""  # a person id, or "" for the event's owner

    def stored(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Template:
    template_id: str
    name: str
    steps: list[Step]
    version: int | None = None  # None: offered (a default), not stored
    stored: bool = False


# The defaults, offered until the team saves its own (translated for whoever reads them).
_TEASER = ("teaser", _l("Teaser"), -7, "12:00", _l("{event}: see you on {date}"))
_REMINDER = ("reminder", _l("Reminder"), -1, "12:00", _l("{event}: tomorrow at {place}"))
_LIVE = ("live", _l("Live"), 0, "", _l("{event}: we are live"))
_RECAP = (RECAP, _l("Recap"), 1, "12:00", _l("{event}: how it went"))
_SAVE_THE_DATE = ("savethedate", _l("Save the date"), -14, "12:00", _l("{event} on {date}"))
DEFAULTS = (
    ("tasting", _l("Tasting"), (_TEASER, _REMINDER, _LIVE, _RECAP)),
    ("fair", _l("Fair"), (_SAVE_THE_DATE, _TEASER, _REMINDER, _LIVE, _RECAP)),
    ("openday", _l("Open day"), (_TEASER, _REMINDER, _LIVE, _RECAP)),
)


def default_templates(team: Team) -> list[Template]:
    """The defaults in the reader's language, on all of the team's channels."""
    return [
        Template(
            template_id,
            str(name),
            [
                Step(step, str(label), days, at, str(title), list(team.channels or []))
                for step, label, days, at, title in steps
            ],
        )
        for template_id, name, steps in DEFAULTS
    ]


def from_stored(item: SeriesTemplate) -> Template:
    steps = [Step(**(step.as_dict() if hasattr(step, "as_dict") else step)) for step in item.steps]
    return Template(item.template_id, item.name, steps, item.version, stored=True)


def team_templates(team: Team) -> list[Template]:
    """The team's own templates, or the defaults while it has none (one Query)."""
    stored = events.templates(team.team_id)
    return [from_stored(item) for item in stored] or default_templates(team)


def unknown_placeholders(pattern: str) -> list[str]:
    return [name for name in _PLACEHOLDER.findall(pattern) if name not in PLACEHOLDERS]


def step_id_for(label: str, taken: set[str]) -> str:
    """A new step's id from its label (ASCII letters and digits), unique in its template."""
    base = re.sub(r"[^a-z0-9]", "", label.casefold())[: events.MAX_STEP_ID - 2] or "step"
    found, number = base, 2
    while found in taken:
        found, number = f"{base}{number}", number + 1
    return found


# The proposal ------------------------------------------------------------------------------


class Unfinished(Exception):
    """A post of the series was neither written nor changed by someone else (the store was
    busy): sending the same form again finishes the work, each post changed once."""


def _stored(event: Event) -> dict[str, Post]:
    """The series as stored now: read again after a write that said no, to tell someone's
    change (it stays) from a store that was busy (Unfinished)."""
    return {post.post_id: post for post in series_of(event)}


def _touched(event: Event, refused: list[Post]) -> list["Left"]:
    """The posts whose change was refused, if someone changed them meanwhile (else the
    store was busy: Unfinished)."""
    if not refused:
        return []
    stored = _stored(event)
    for post in refused:
        now = stored.get(post.post_id)
        if now is not None and now.planned and now.deleted_at is None:
            raise Unfinished
    return [Left(post, CHANGED_BY_HAND) for post in refused]


@dataclass
class Proposed:
    step: Step
    due: datetime
    owner_id: str
    title: str
    past: bool


def local_start(event: Event) -> datetime:
    """The event's start as a naive wall time in its zone."""
    return event.starts_at.astimezone(ZoneInfo(event.zone)).replace(tzinfo=None)


def step_moment(event: Event, step: Step) -> datetime:
    """When a step happens (UTC): the module's wall-clock rule."""
    start = local_start(event)
    at = values.clock(step.time) or start.time()
    wall = datetime.combine(start.date() + timedelta(days=step.days), at)
    return place(wall, ZoneInfo(event.zone))


def title_for(pattern: str, event: Event) -> str:
    """The pattern filled in: only PLACEHOLDERS are replaced, anything else stays as typed."""
    start = event.starts_at.astimezone(ZoneInfo(event.zone))
    filled = {
        "event": event.title,
        "date": format_date(start.date(), "EEEE d MMMM"),
        "time": f"{start:%H:%M}",
        "place": event.place or "",
        "partner": event.partner or "",
    }
    text = _PLACEHOLDER.sub(lambda found: filled.get(found.group(1), found.group(0)), pattern)
    return " ".join(text.split())[: events.MAX_TITLE] or event.title


def owner_for(step: Step, event: Event, team: Team) -> str:
    """The step's owner if they can still own posts in the team, else the event's owner."""
    member = team.member(step.owner) if step.owner else None
    if member is not None and member.role in changes.EDITING_ROLES:
        return member.person_id
    return event.owner_id or ""


def proposal(event: Event, template: Template, team: Team, now: datetime) -> list[Proposed]:
    """The series a template proposes for the event, in time order; past steps say so."""
    found = []
    for step in template.steps:
        due = step_moment(event, step)
        owner = owner_for(step, event, team)
        found.append(Proposed(step, due, owner, title_for(step.title, event), due <= now))
    return sorted(found, key=lambda proposed: proposed.due)


def plan(event: Event, chosen: list[Proposed], team: Team, *, actor: str, now: datetime):
    """Plan the chosen steps as drafts (each at most once, whatever happens twice); answers
    (planned, already past). A step whose moment has passed is not planned."""
    planned, past, refused = [], [], []
    aligned = events.aligned_with(event)
    for proposed in chosen:
        if proposed.due <= now:
            past.append(proposed)
            continue
        post = events.series_post(
            event,
            proposed.step.step,
            aligned=aligned,
            title=proposed.title,
            due=proposed.due,
            owner_id=proposed.owner_id or None,
            channels=[c for c in proposed.step.channels if c in (team.channels or [])],
            created_by=actor,
            now=now,
        )
        if changes.plan_post(post, team, now):
            planned.append(post)
        else:
            refused.append(post)
    if refused:  # planned already (the form sent twice), or not written at all
        stored = _stored(event)
        if any(post.post_id not in stored for post in refused):
            raise Unfinished
    return planned, past


# Moving and cancelling ---------------------------------------------------------------------

# Why a post of the series was left as it is.
CHANGED_BY_HAND = "changed_by_hand"
IN_THE_PAST = "in_the_past"
IN_THE_TRASH = "in_the_trash"
REASONS = {
    CHANGED_BY_HAND: _l("someone changed it by hand, so it keeps their changes"),
    IN_THE_PAST: _l("its new time would be in the past"),
    IN_THE_TRASH: _l("it is in the trash"),
}


@dataclass(frozen=True)
class Left:
    post: Post
    reason: str

    @property
    def because(self) -> str:
        return str(REASONS[self.reason])


def series_of(event: Event) -> list[Post]:
    """The event's series posts, in time order (one Query)."""
    found = posts.planned_by(event.team_id, event.event_id)
    return sorted(found, key=lambda post: (post.due is None, post.due or post.created_at))


def _shifted(post: Post, event: Event) -> datetime:
    """The post's due moved by the event's wall-clock shift since the post was aligned."""
    zone = ZoneInfo(event.zone)
    was = values.instant(post.occurrence)
    if was is None:  # planned before series posts kept their alignment: as the event stood
        return post.due
    shift = local_start(event) - was.astimezone(zone).replace(tzinfo=None)
    return place(post.due.astimezone(zone).replace(tzinfo=None) + shift, zone)


def follow(event: Event, team: Team, now: datetime) -> tuple[list[Post], list[Left]]:
    """Move the series after its event's start: each untouched post by the event's shift, once
    (a post aligned with the event's start already is done). Answers (moved, left as they were)."""
    aligned = events.aligned_with(event)
    moved, left, refused = [], [], []
    for post in series_of(event):
        if post.occurrence == aligned or post.due is None:
            continue
        if post.deleted_at is not None:
            left.append(Left(post, IN_THE_TRASH))
            continue
        if not post.planned:
            left.append(Left(post, CHANGED_BY_HAND))
            continue
        due = _shifted(post, event)
        if due <= now:
            left.append(Left(post, IN_THE_PAST))
            continue
        summary = {"due": due, "occurrence": aligned}
        replanned = changes.replan_post(post, team, summary=summary, now=now)
        if replanned is None:
            refused.append(post)
        else:
            moved.append(replanned)
    return moved, left + _touched(event, refused)


def withdraw_untouched(event: Event, team: Team, now: datetime) -> tuple[list[Post], list[Left]]:
    """Remove the series' drafts nobody touched (a cancelled event); answers (removed, kept)."""
    removed, kept, refused = [], [], []
    for post in series_of(event):
        if post.deleted_at is not None:
            continue
        if not post.planned:
            kept.append(Left(post, CHANGED_BY_HAND))
        elif changes.withdraw_post(post, team, now):
            removed.append(post)
        else:
            refused.append(post)
    return removed, kept + _touched(event, refused)


def step_label(step: str) -> str:
    """A step's name in words: the defaults' translated, another's id as it is."""
    labels = {step_id: label for _id, _name, steps in DEFAULTS for step_id, label, *_ in steps}
    return str(labels.get(step, step))


def part_of(post: Post) -> tuple[Event, str] | None:
    """The event a series post belongs to, and its step in words (one GetItem), or None."""
    if not post.event_id:
        return None
    event = events.load(post.team_id, post.event_id)
    return (event, step_label(post.series_step or "")) if event is not None else None
