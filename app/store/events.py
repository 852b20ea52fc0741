"""Events (tastings, fairs, open days) and the team's series templates.

An event is in the ``by_due`` index by its start, so the calendar views' one Query finds it
with the posts (``posts.calendar_between``). The posts of its series are ordinary posts whose
ids start with the event's (``posts.planned_by``); only ``app/planner/changes.py`` writes them.
Every write here is conditional: a new item on its absence, a change on the version the
editor saw (``EventConflict`` otherwise). An event shared with a partner team also writes its
mirror (``SharedEvent``) with every change, in one transaction (``_write``).
"""

from datetime import datetime

from pynamodb.transactions import TransactWrite

from app.store import Conflict, connection, keys, lost_conditions_raise, posts
from app.store.models import Event, Post, SeriesTemplate, SharedEvent, Team

# Limits the forms apply (tests/test_size_limits.py measures the items at them).
MAX_TITLE, MAX_PLACE, MAX_PARTNER, MAX_NOTES = 200, 200, 100, 2000
MAX_TEMPLATES, MAX_TEMPLATE_NAME = 10, 60
MAX_STEPS, MAX_STEP_LABEL, MAX_STEP_ID, MAX_PATTERN = 12, 40, 20, 200
# A step's offset from the event's day: a season ahead at most, a month after.
MIN_DAYS, MAX_DAYS = -90, 30


class EventConflict(Conflict):
    """Someone saved the event (or the template) first, or it is gone, or it exists already."""


def new_event(team_id: str, event_id: str, *, created_by: str, now: datetime, **fields) -> Event:
    event = Event(
        *Event.key(team_id, event_id),
        team_id=team_id,
        event_id=event_id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        **fields,
    )
    event.place_in_calendar()
    return event


def series_post(event: Event, step: str, *, aligned: str, **fields) -> Post:
    """A draft of the event's series, its id ``<event>-<step>`` (so planning it twice writes it
    once, and ``posts.planned_by`` finds it); ``occurrence`` holds the event's start it was
    planned against (``aligned``), so moving the event moves it exactly once."""
    post = posts.new_post(
        event.team_id,
        post_id=f"{event.event_id}-{step}",
        status="draft",
        zone=event.zone,
        **fields,
    )
    post.event_id, post.series_step, post.occurrence = event.event_id, step, aligned
    return post


def aligned_with(event: Event) -> str:
    """What a series post's ``occurrence`` says once it follows the event's current start."""
    return keys.instant(event.starts_at)


def create(event: Event) -> None:
    """Write a new event: EventConflict if one with its id exists (the form's id was used)."""
    with lost_conditions_raise(EventConflict("the event exists")):
        event.save(condition=Event.pk.does_not_exist())


def load(team_id: str, event_id: str) -> Event | None:
    """One event (GetItem, strongly consistent); None if this team has no such event."""
    try:
        return Event.get(*Event.key(team_id, event_id), consistent_read=True)
    except Event.DoesNotExist:
        return None


def save(event: Event, *, now: datetime, **fields) -> Event:
    """Change an event, conditional on the version it was loaded with (and on its existence)."""
    for name, value in fields.items():
        setattr(event, name, value)
    event.updated_at = now
    event.place_in_calendar()
    _write(event)
    return event


def share(event: Event, *, partner_id: str | None, origin_name: str, now: datetime) -> Event:
    """Share an event with a partner team, move it to another partner, or stop sharing it
    (``partner_id`` None): the event and its mirror put, moved or deleted in one transaction,
    conditional on the event's version and on the teams being partners still
    (EventConflict otherwise). Only the event: its series posts are shared one by one."""
    before = event.shared_with
    event.shared_with = partner_id
    event.origin_name = origin_name if partner_id else None
    event.updated_at = now
    gone = before if before and before != partner_id else None
    _write(event, gone_from=gone, sharing=True)
    return event


def _write(event: Event, *, gone_from: str | None = None, sharing: bool = False) -> None:
    """Save a changed event, conditional on its version and existence; a shared one with its
    mirror as it now is, in one transaction (an unshared one stays one PutItem). Sharing also
    deletes the mirror in the team it was shared with before (``gone_from``) and checks that
    the owning team's ``partners`` map names the partner."""
    with lost_conditions_raise(EventConflict("the event changed meanwhile")):
        if not event.shared_with and not sharing:
            event.save(condition=Event.pk.exists())
            return
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(event, condition=Event.pk.exists())
            if gone_from:
                transaction.delete(
                    SharedEvent(*SharedEvent.key(gone_from, event.team_id, event.event_id))
                )
            if event.shared_with:
                transaction.save(SharedEvent.of(event))
                if sharing:
                    transaction.condition_check(
                        Team,
                        keys.team(event.team_id),
                        "TEAM",
                        condition=Team.partners[event.shared_with].exists(),
                    )


def of_team(team_id: str) -> list[Event]:
    """Every event of the team, in id order (one Query: sk begins_with EVENT#)."""
    return list(
        Event.query(keys.team(team_id), Event.sk.startswith("EVENT#"), consistent_read=True)
    )


def templates(team_id: str) -> list[SeriesTemplate]:
    """The team's stored series templates (one Query: sk begins_with SERIES#), by name."""
    found = SeriesTemplate.query(
        keys.team(team_id), SeriesTemplate.sk.startswith("SERIES#"), consistent_read=True
    )
    return sorted(found, key=lambda template: template.name.casefold())


def new_template(
    team_id: str, template_id: str, *, name: str, steps: list[dict], now
) -> SeriesTemplate:
    return SeriesTemplate(
        *SeriesTemplate.key(team_id, template_id),
        team_id=team_id,
        template_id=template_id,
        name=name,
        steps=steps,
        updated_at=now,
    )


def save_templates(changed: SeriesTemplate, *, adopted: list[SeriesTemplate] = ()) -> None:
    """Save one template; ``adopted`` are the offered defaults the team keeps with it, stored
    at once (the team's first save): each new one only if absent, the changed one only at the
    version it was read with. One transaction: all land or none (EventConflict)."""
    with (
        lost_conditions_raise(EventConflict("the templates changed meanwhile")),
        TransactWrite(connection=connection()) as transaction,
    ):
        for template in adopted:
            transaction.save(template, condition=SeriesTemplate.pk.does_not_exist())
        if changed.version is None:
            transaction.save(changed, condition=SeriesTemplate.pk.does_not_exist())
        else:
            transaction.save(changed)


def delete_template(template: SeriesTemplate) -> None:
    """Delete a stored template at the version it was read with."""
    with lost_conditions_raise(EventConflict("the template changed meanwhile")):
        template.delete(condition=SeriesTemplate.pk.exists())
