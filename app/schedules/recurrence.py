"""When a schedule's occurrences happen, and who owns each: pure functions, no storage.

A schedule keeps an RFC 5545 RRULE, a start in local wall-clock time and an IANA zone. The
rule is expanded in local wall-clock time, then each occurrence is placed on the zone:

    A schedule keeps its local time across daylight-saving changes: "Tuesday 10:00
    Europe/Rome" is 10:00 in Rome in winter and in summer. On the day the clocks go forward,
    a time that does not exist (02:30 in Rome) happens at the first moment after the jump
    (03:00). On the day the clocks go back, a time that happens twice (01:30 in New York)
    happens once, the first time.

    "Monthly on the 31st" skips the months that have no 31st, and "monthly on the 29th"
    skips February except in leap years (as RFC 5545 says); choose "the last Friday" for an
    occurrence every month.

Rotation shares the occurrences out round-robin, in the order the people were chosen. A
person away on an occurrence's local date is skipped and the turn passes to the next; if
everyone is away, the occurrence has no owner. The rotation's state is one integer (whose
turn is next), so a schedule can store it and extend its horizon later without changing who
owns what.
"""

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = date.weekday()
NTHS = (1, 2, 3, 4, -1)  # "the 1st … 4th, or the last" weekday of the month

# UNTIL is a floating local date-time (the start is floating too, RFC 5545 3.3.10): the end
# date is inclusive, so the rule runs to the last second of that local day.
_UNTIL_TIME = "T235959"
# Offset changes are far smaller than a day: widening the window by one day on each side is
# enough to catch every wall time whose instant falls inside it.
_MARGIN = timedelta(days=1)


class CadenceError(ValueError):
    """A choice that makes no recurrence; ``field`` names the form field to blame."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Cadence:
    """What a person chooses on the schedule form; one-to-one with the RRULE it builds.

    Weekly: ``weekdays`` (Monday=0 … Sunday=6). Monthly: either ``month_day`` (1–31) or
    ``nth`` (1–4, or -1 for the last) and ``weekday``. ``every`` weeks or months; an optional
    end, inclusive ``until`` date or ``count`` occurrences in all, never both.
    """

    freq: str  # "weekly" or "monthly"
    every: int = 1
    weekdays: tuple[int, ...] = ()
    month_day: int | None = None
    nth: int | None = None
    weekday: int | None = None
    until: date | None = None
    count: int | None = None

    def __post_init__(self):
        # The same choice always builds the same rule, whatever order the days were ticked in.
        object.__setattr__(self, "weekdays", tuple(sorted(set(self.weekdays))))
        if self.every < 1:
            raise CadenceError("every", "must be at least 1")
        if self.until is not None and self.count is not None:
            raise CadenceError("count", "an end date or a count, not both")
        if self.count is not None and self.count < 1:
            raise CadenceError("count", "must be at least 1")
        if self.freq == "weekly":
            if not self.weekdays or not set(self.weekdays) <= set(range(7)):
                raise CadenceError("weekdays", "choose at least one day of the week")
            if (self.month_day, self.nth, self.weekday) != (None, None, None):
                raise CadenceError("freq", "a weekly rule has no day of the month")
        elif self.freq == "monthly":
            if self.weekdays:
                raise CadenceError("weekdays", "a monthly rule has no days of the week")
            on_day = self.month_day is not None
            if on_day == (self.nth is not None or self.weekday is not None):
                raise CadenceError("month_day", "a day of the month or an nth weekday")
            if on_day and not 1 <= self.month_day <= 31:
                raise CadenceError("month_day", "must be 1 to 31")
            if not on_day and (self.nth not in NTHS or self.weekday not in range(7)):
                raise CadenceError("nth", "the 1st to 4th or the last day of the week")
        else:
            raise CadenceError("freq", "weekly or monthly")

    def rule(self) -> str:
        """The RRULE value (without ``RRULE:``), in one canonical order of parts."""
        parts = [f"FREQ={self.freq.upper()}"]
        if self.every != 1:
            parts.append(f"INTERVAL={self.every}")
        if self.freq == "weekly":
            parts.append("BYDAY=" + ",".join(WEEKDAYS[day] for day in self.weekdays))
        elif self.month_day is not None:
            parts.append(f"BYMONTHDAY={self.month_day}")
        else:
            parts.append(f"BYDAY={self.nth}{WEEKDAYS[self.weekday]}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%d}{_UNTIL_TIME}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        return ";".join(parts)


def weekly(
    weekdays: Iterable[int], every: int = 1, *, until: date | None = None, count: int | None = None
) -> str:
    """Every ``every`` weeks on the chosen weekdays (Monday=0)."""
    return Cadence("weekly", every, tuple(weekdays), until=until, count=count).rule()


def monthly_on_day(
    day: int, every: int = 1, *, until: date | None = None, count: int | None = None
) -> str:
    """Every ``every`` months on this day of the month (months without it are skipped)."""
    return Cadence("monthly", every, month_day=day, until=until, count=count).rule()


def monthly_on_weekday(
    nth: int, weekday: int, every: int = 1, *, until: date | None = None, count: int | None = None
) -> str:
    """Every ``every`` months on "the 2nd Tuesday" (nth=2, weekday=1) or "the last" (nth=-1)."""
    return Cadence("monthly", every, nth=nth, weekday=weekday, until=until, count=count).rule()


def parse(rule: str) -> Cadence:
    """The choices a rule was built from; CadenceError for a rule no form could have built."""
    try:
        parts = dict(part.split("=", 1) for part in rule.removeprefix("RRULE:").split(";"))
    except ValueError:
        raise CadenceError("rule", f"not an RRULE: {rule!r}") from None
    known = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "UNTIL", "COUNT"}
    if not parts.keys() <= known or parts.get("FREQ") not in ("WEEKLY", "MONTHLY"):
        raise CadenceError("rule", f"not a weekly or monthly rule of ours: {rule!r}")
    try:
        choices = {
            "freq": parts["FREQ"].lower(),
            "every": int(parts.get("INTERVAL", "1")),
            "until": _until(parts["UNTIL"]) if "UNTIL" in parts else None,
            "count": int(parts["COUNT"]) if "COUNT" in parts else None,
        }
        if "BYMONTHDAY" in parts:
            choices["month_day"] = int(parts["BYMONTHDAY"])
        elif choices["freq"] == "weekly":
            choices["weekdays"] = tuple(WEEKDAYS.index(day) for day in parts["BYDAY"].split(","))
        else:
            nth, day = parts["BYDAY"][:-2], parts["BYDAY"][-2:]
            choices |= {"nth": int(nth), "weekday": WEEKDAYS.index(day)}
    except (KeyError, ValueError):
        raise CadenceError("rule", f"not a rule of ours: {rule!r}") from None
    cadence = Cadence(**choices)
    if cadence.rule() != rule.removeprefix("RRULE:"):
        raise CadenceError("rule", f"not in the form we write: {rule!r}")
    return cadence


def _until(value: str) -> date:
    if not value.endswith(_UNTIL_TIME) or len(value) != 8 + len(_UNTIL_TIME):
        raise ValueError(value)
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def place(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant at which a naive local wall time happens in ``zone`` (rule above)."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # it exists; fold=0 picks the first of a repeated time
    # In a gap, fold=0 reads the wall time with the offset from before the jump, which lands
    # after the jump, and fold=1 with the offset from after it, which lands before: the jump
    # lies between. tzdata jumps on whole seconds, so search the whole seconds.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    old = before.astimezone(zone).utcoffset()
    low, high = math.floor(before.timestamp()), math.ceil(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == old:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _walls(rule: str, starts_local: datetime) -> rrule:
    if starts_local.tzinfo is not None:
        raise ValueError("starts_local is a naive local wall-clock time")
    return rrulestr(rule, dtstart=starts_local)


def occurrences(
    rule: str, starts_local: datetime, zone: str, window_start: datetime, window_end: datetime
) -> list[datetime]:
    """The rule's occurrences in ``[window_start, window_end)``, as sorted aware UTC instants.

    Expands only up to the window's end (a rule without an end is never expanded further).
    """
    tz = ZoneInfo(zone)
    low = window_start.astimezone(tz).replace(tzinfo=None) - _MARGIN
    high = window_end.astimezone(tz).replace(tzinfo=None) + _MARGIN
    walls = _walls(rule, starts_local).between(low, high, inc=True)
    # Placing keeps the order, and our rules have at most one wall time a day, so no two
    # share a gap: the instants come out strictly increasing.
    instants = (place(wall, tz) for wall in walls)
    return [at for at in instants if window_start <= at < window_end]


class Slot(NamedTuple):
    """One occurrence and who owns it (None: everyone in the rotation was away)."""

    at: datetime
    owner: str | None


def owners(
    occurrences: Iterable[datetime],
    people: list[str],
    away: Callable[[str, date], bool],
    turn: int = 0,
    *,
    zone: str,
) -> tuple[list[Slot], int]:
    """Share occurrences out round-robin from ``people[turn]``; also the next ``turn``.

    ``away(person, local_date)`` says who is away on an occurrence's date in ``zone``: they
    are skipped and the turn passes to the next person. Passing the returned turn to the
    next call continues the same rotation.
    """
    tz = ZoneInfo(zone)
    slots = []
    for at in occurrences:
        day = at.astimezone(tz).date()
        owner = None
        for step in range(len(people)):
            candidate = (turn + step) % len(people)
            if not away(people[candidate], day):
                owner, turn = people[candidate], candidate + 1
                break
        slots.append(Slot(at, owner))
    return slots, turn % len(people) if people else 0


def _upcoming(rule: str, starts_local: datetime, tz: ZoneInfo, now: datetime) -> Iterator[datetime]:
    low = now.astimezone(tz).replace(tzinfo=None) - _MARGIN
    for wall in _walls(rule, starts_local).xafter(low, inc=True):
        at = place(wall, tz)
        if at > now:
            yield at


def preview(
    rule: str,
    starts_local: datetime,
    zone: str,
    people: list[str],
    away: Callable[[str, date], bool],
    now: datetime,
    count: int = 10,
    turn: int = 0,
) -> list[Slot]:
    """The next ``count`` occurrences after ``now`` with their owners: the form's preview."""
    first = list(islice(_upcoming(rule, starts_local, ZoneInfo(zone), now), count))
    return owners(first, people, away, turn, zone=zone)[0]
