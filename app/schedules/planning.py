"""How a schedule fills the calendar: its slots on a rolling horizon, kept in line with it.

One function, ``extend``, serves every change: creating, editing, skipping, pausing, resuming
and the job's weekly extension. It computes the slots the schedule wants in [now, now +
HORIZON), reads the slots that exist from today on (one Query), and makes the difference:
plans the missing ones, re-plans the untouched ones that should change (time, owner, title,
channels), withdraws the untouched ones it no longer wants. A slot someone edited, moved,
commented on or trashed is the person's: it is never changed or re-created. Every write is
idempotent, so a run cut short by a fault is finished by the next one: a changed schedule is
saved first, due for extension at once, and only then are its slots brought in line.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from app.planner import changes
from app.schedules import recurrence
from app.store import schedules
from app.store.models import Post, Schedule, Team

log = logging.getLogger(__name__)

HORIZON = timedelta(weeks=8)
# The job extends a schedule's slots a week after it last planned them: the calendar always
# shows seven to eight weeks ahead.
EXTEND_EVERY = timedelta(weeks=1)
# A title pattern's placeholders (the form lists them; anything else in braces is refused).
PLACEHOLDERS = ("date", "weekday", "time", "owner")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_TITLE = 200
MAX_SKIPPED = 100  # coming occurrences skipped one by one
PLANS_NOTHING = ("paused", "deleting")
TRANSIENT = (PynamoDBException, BotoCoreError, ClientError)


@dataclass
class Outcome:
    """What bringing a schedule's slots in line did, for the flash after saving."""

    planned: int = 0
    replanned: int = 0
    withdrawn: int = 0
    kept: int = 0  # slots someone changed by hand, left as they are


@dataclass(frozen=True)
class Wanted:
    day: date  # the occurrence's local date: its slot's id
    due: datetime
    owner_id: str | None
    turn: int  # the rotation's turn the owner was chosen from
    title: str
    occurrence: str  # local wall time, "YYYY-MM-DDTHH:MM"


@dataclass
class Plan:
    wanted: list[Wanted] = field(default_factory=list)
    next_turn: int = 0


def unknown_placeholders(pattern: str) -> list[str]:
    return [name for name in _PLACEHOLDER.findall(pattern) if name not in PLACEHOLDERS]


def title_for(pattern: str, at: datetime, owner: str, language: str) -> str:
    """The slot's title: the pattern with ``{date}``, ``{weekday}``, ``{time}``, ``{owner}``
    in the team's language (braces that are no placeholder stay as they are)."""
    words = {
        "date": format_date(at.date(), "medium", locale=language),
        "weekday": format_date(at.date(), "EEEE", locale=language),
        "time": format_time(at.time(), "HH:mm", locale=language),
        "owner": owner,
    }
    filled = _PLACEHOLDER.sub(lambda found: words.get(found.group(1), found.group(0)), pattern)
    return filled[:MAX_TITLE]


def starts_local(schedule: Schedule) -> datetime:
    return datetime.fromisoformat(schedule.starts_local)


def away_in(team: Team):
    """``away(person, day)`` for the rotation: away that day, or no longer in the team."""

    def away(person_id: str, day: date) -> bool:
        member = team.member(person_id)
        return member is None or member.away_on(day)

    return away


def plan(schedule: Schedule, team: Team, start: datetime, end: datetime, turn: int) -> Plan:
    """The slots the schedule wants in [start, end), the rotation starting at ``turn``."""
    if schedule.state in PLANS_NOTHING:
        return Plan(next_turn=turn)
    zone = ZoneInfo(schedule.zone)
    skipped = set(schedule.skipped or ())
    people, away = list(schedule.owners or []), away_in(team)
    found = Plan(next_turn=turn)
    at_times = recurrence.occurrences(
        schedule.rule, starts_local(schedule), schedule.zone, start, end
    )
    for at in at_times:
        local = at.astimezone(zone)
        chosen, after = recurrence.owners([at], people, away, found.next_turn, zone=schedule.zone)
        if local.date().isoformat() in skipped:
            # A skipped day keeps its turn: skipping one post moves no one else's.
            found.next_turn = after
            continue
        owner_id = chosen[0].owner
        member = team.member(owner_id) if owner_id else None
        found.wanted.append(
            Wanted(
                day=local.date(),
                due=at,
                owner_id=owner_id,
                turn=found.next_turn,
                title=title_for(
                    schedule.title, local, member.name if member else "", team.language
                ),
                occurrence=local.strftime("%Y-%m-%dT%H:%M"),
            )
        )
        found.next_turn = after
    return found


def unfinished(schedule: Schedule, now: datetime) -> bool:
    """Saved, but its slots not yet brought in line (a save cut short by a fault)."""
    due = schedules.extend_at(schedule)
    return schedule.state == "deleting" or (due is not None and due <= now)


class Unfinished(Exception):
    """A slot was neither written nor changed by someone else (the store was busy): the
    schedule stays due, so the job, or sending the same form again, finishes the work."""


@dataclass
class Refused:
    """Slot writes whose condition did not hold: a slot someone planned, changed or trashed
    meanwhile (fine: theirs), or a store that was busy (Unfinished)."""

    new: list[str] = field(default_factory=list)  # slots to plan that were not written
    changed: list[str] = field(default_factory=list)  # slots to re-plan or withdraw

    def settle(self, schedule: Schedule, first_day: date) -> int:
        """How many slots someone else's change keeps; Unfinished if the store was busy.
        Reads the slots again (one Query) only when some write was refused."""
        if not (self.new or self.changed):
            return 0
        stored = {
            slot.post_id: slot
            for slot in schedules.slots_from(schedule.team_id, schedule.schedule_id, first_day)
        }
        if any(post_id not in stored for post_id in self.new):
            raise Unfinished(schedule.schedule_id)
        if any(post_id in stored and not _touched(stored[post_id]) for post_id in self.changed):
            raise Unfinished(schedule.schedule_id)
        return len(self.changed)


def _touched(post: Post) -> bool:
    return not post.planned or post.deleted_at is not None


def _coming(schedule: Schedule, slots: list[Post], now: datetime) -> list[tuple[datetime, Post]]:
    """The slots planned for occurrences from ``now`` on (wherever they were moved since), by
    occurrence."""
    zone = ZoneInfo(schedule.zone)
    placed = [
        (recurrence.place(datetime.fromisoformat(slot.occurrence), zone), slot)
        for slot in slots
        if slot.occurrence
    ]
    return sorted((pair for pair in placed if pair[0] >= now), key=lambda pair: pair[0])


def _start_turn(schedule: Schedule, coming: list[tuple[datetime, Post]]) -> int:
    """Where the rotation stands: the turn of the first slot still to come, or the schedule's
    own (nothing planned from now on yet)."""
    turns = [slot.turn for _at, slot in coming if slot.turn is not None]
    return int(turns[0]) if turns else int(schedule.turn or 0)


def extend(schedule: Schedule, team: Team, now: datetime) -> Outcome:
    """Bring the schedule's slots from now to the horizon in line with it, then save how far
    it planned (conditional on its version: ScheduleConflict if it changed meanwhile)."""
    # From the day before: a slot's id has its local date, and "now" may be a day ahead in UTC.
    first_day = now.astimezone(ZoneInfo(schedule.zone)).date() - timedelta(days=1)
    slots = schedules.slots_from(team.team_id, schedule.schedule_id, first_day)
    coming = _coming(schedule, slots, now)
    horizon = now + HORIZON
    wanted = plan(schedule, team, now, horizon, _start_turn(schedule, coming))
    by_day = {schedules.slot_day(slot): slot for _at, slot in coming}
    outcome, refused = Outcome(), Refused()
    for one in wanted.wanted:
        slot = by_day.pop(one.day, None)
        if slot is None:
            if _plan_one(schedule, team, one, now):
                outcome.planned += 1
            else:
                refused.new.append(schedules.slot_id(schedule.schedule_id, one.day))
        elif _touched(slot):
            outcome.kept += 1
        else:
            _replan_one(slot, team, one, schedule, now, outcome, refused)
    for slot in by_day.values():  # occurrences the schedule no longer has (or skips)
        if _touched(slot):
            outcome.kept += 1
        elif changes.withdraw_post(slot, team, now):
            outcome.withdrawn += 1
        else:
            refused.changed.append(slot.post_id)
    outcome.kept += refused.settle(schedule, first_day)
    schedule.turn = wanted.next_turn
    paused = schedule.state == "paused"
    schedule.planned_until = now if paused else horizon
    if not paused:
        # "Ended": its end date or count comes before the horizon, nothing more to extend
        # (an edit that moves the end on makes it active again).
        schedule.state = "active" if _occurs_from(schedule, horizon) else "ended"
    extend_at = now + EXTEND_EVERY if schedule.state == "active" else None
    schedules.save(schedule, now=now, extend_at=extend_at)
    return outcome


def _occurs_from(schedule: Schedule, moment: datetime) -> bool:
    nobody = recurrence.preview(
        schedule.rule, starts_local(schedule), schedule.zone, [], lambda *_: True, moment, count=1
    )
    return bool(nobody)


def _plan_one(schedule: Schedule, team: Team, one: Wanted, now: datetime) -> bool:
    slot = schedules.new_slot(
        schedule,
        day=one.day,
        due=one.due,
        owner_id=one.owner_id,
        turn=one.turn,
        title=one.title,
        occurrence=one.occurrence,
        now=now,
    )
    return changes.plan_post(slot, team, now)


def _replan_one(
    slot: Post,
    team: Team,
    one: Wanted,
    schedule: Schedule,
    now: datetime,
    outcome: Outcome,
    refused: "Refused",
) -> None:
    summary = {
        "title": one.title,
        "due": one.due,
        "owner_id": one.owner_id,
        "channels": list(schedule.channels or []),
        "zone": schedule.zone,
        "occurrence": one.occurrence,
        "turn": one.turn,
    }
    if all(_same(getattr(slot, name), value) for name, value in summary.items()):
        return
    if changes.replan_post(slot, team, summary=summary, now=now) is None:
        refused.changed.append(slot.post_id)
    else:
        outcome.replanned += 1


def _same(stored, wanted) -> bool:
    if isinstance(stored, datetime) and isinstance(wanted, datetime):
        return stored == wanted
    if isinstance(wanted, list):
        return list(stored or []) == wanted
    if isinstance(wanted, int) and stored is not None:
        return int(stored) == wanted
    return stored == wanted


def apply(schedule: Schedule, team: Team, now: datetime) -> Outcome:
    """Save a new or changed schedule (conditional on the version it was read at, so a stale
    edit writes nothing), then bring its slots in line with it."""
    schedule.starts_at = recurrence.place(starts_local(schedule), ZoneInfo(schedule.zone))
    extend_at = None if schedule.state == "paused" else now
    schedules.save(schedule, now=now, extend_at=extend_at)
    return extend(schedule, team, now)


def next_at(schedule: Schedule, now: datetime) -> datetime | None:
    """When the schedule's next post is due (skipped days left out), reading nothing."""
    if schedule.state in PLANS_NOTHING:
        return None
    skipped, zone = set(schedule.skipped or ()), ZoneInfo(schedule.zone)
    found = recurrence.preview(
        schedule.rule,
        starts_local(schedule),
        schedule.zone,
        [],
        lambda *_: True,
        now,
        count=len(skipped) + 1,
    )
    coming = (
        slot.at for slot in found if slot.at.astimezone(zone).date().isoformat() not in skipped
    )
    return next(coming, None)


def occurs_on(schedule: Schedule, day: date) -> bool:
    """Whether the schedule has an occurrence on this local date."""
    zone = ZoneInfo(schedule.zone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    found = recurrence.occurrences(
        schedule.rule, starts_local(schedule), schedule.zone, start, start + timedelta(days=1)
    )
    return any(at.astimezone(zone).date() == day for at in found)


def skip(schedule: Schedule, team: Team, day: date, now: datetime) -> Outcome:
    """Skip the occurrence on ``day`` for good: its untouched slot is withdrawn. Days already
    past are forgotten (nothing plans them again), which keeps the item small."""
    today = now.astimezone(ZoneInfo(schedule.zone)).date().isoformat()
    coming = {skipped for skipped in schedule.skipped or () if skipped >= today}
    schedule.skipped = coming | {day.isoformat()}
    return apply(schedule, team, now)


def pause(schedule: Schedule, team: Team, now: datetime) -> Outcome:
    schedule.state = "paused"
    return apply(schedule, team, now)


def resume(schedule: Schedule, team: Team, now: datetime) -> Outcome:
    schedule.state = "active"
    return apply(schedule, team, now)


def delete(schedule: Schedule, team: Team, now: datetime, *, keep_slots: bool) -> Outcome:
    """Delete the schedule. Its untouched future slots stay as ordinary posts (``keep_slots``)
    or go. The schedule is first marked "deleting" and taken out of the index (conditional: a
    stale page writes nothing), so a delete cut short by a fault plans nothing more, and
    deleting again finishes it."""
    if schedule.state != "deleting":
        schedule.state = "deleting"
        schedules.save(schedule, now=now, extend_at=None)
    outcome, refused = Outcome(), Refused()
    today = now.astimezone(ZoneInfo(schedule.zone)).date()
    for slot in schedules.slots_from(team.team_id, schedule.schedule_id, today):
        if slot.due is None or slot.due < now or _touched(slot):
            continue
        if keep_slots:
            detached = changes.replan_post(slot, team, summary={"schedule_id": None}, now=now)
            if detached is None:
                refused.changed.append(slot.post_id)
            else:
                outcome.kept += 1
        elif changes.withdraw_post(slot, team, now):
            outcome.withdrawn += 1
        else:
            refused.changed.append(slot.post_id)
    refused.settle(schedule, today)
    schedules.delete(schedule)
    return outcome


def upcoming(schedule: Schedule, team: Team, now: datetime, count: int = 10) -> list:
    """The next occurrences with their owners, as the form's preview shows them: the rotation
    from where it stands now, skipped days left out; none while paused."""
    found, moment = [], now
    slots = []
    if schedule.version:  # saved: the rotation goes on from its slots
        today = now.astimezone(ZoneInfo(schedule.zone)).date()
        slots = schedules.slots_from(team.team_id, schedule.schedule_id, today)
    turn = _start_turn(schedule, _coming(schedule, slots, now))
    # The preview's window grows until it holds ``count`` occurrences (or the rule ends).
    window = timedelta(weeks=8)
    while len(found) < count and window < timedelta(weeks=8 * 60):
        found = plan(schedule, team, moment, moment + window, turn).wanted
        if not _occurs_from(schedule, moment + window):
            break
        window *= 2
    return found[:count]


def extend_due(now: datetime) -> int:
    """The job's step: extend the slots of every schedule due for it. One Query of the index
    finds them (nothing else is read when none is due); each is re-read, since the index lags,
    and extended on condition of its version, so two runs at once plan nothing twice (a lost
    race is left to the run that won). A schedule that meets a fault stays due, and the next
    run tries it again; the others go on. Returns how many were extended."""
    from app.store import teams

    extended, team_cache = 0, {}
    try:
        due_now = schedules.due_for_extension(now)
    except TRANSIENT as error:  # the nudges still go out; the next run extends
        log.warning("finding the schedules to extend: %s; next run", error)
        return 0
    for found in due_now:
        try:
            schedule = schedules.load(found.team_id, found.schedule_id)
            due = schedules.extend_at(schedule) if schedule is not None else None
            if due is None or due > now:
                continue  # deleted, paused or extended since the index was written
            if found.team_id not in team_cache:
                team_cache[found.team_id] = teams.team(found.team_id)
            team = team_cache[found.team_id]
            if team is None:
                continue
            extend(schedule, team, now)
            extended += 1
        except (schedules.ScheduleConflict, Unfinished):
            continue  # changed meanwhile (it plans itself), or the next run finishes it
        except TRANSIENT as error:
            log.warning("extending schedule %s: %s; next run", found.schedule_id, error)
    return extended
