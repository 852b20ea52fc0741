"""Calendar periods in the viewer's time zone, and their bounds as UTC instants.

A day, week or month is a span of local wall-clock time: its bounds are local midnights
converted to UTC, so a post at 00:30 on the 1st in Rome belongs to that month even though it is
the previous day in UTC, and days across a DST switch are 23 or 25 hours long.
"""

import calendar as stdlib_calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app import values

DEFAULT_TIME = time(9, 0)  # when a post gets a day but no time yet


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, as UTC.

    Where midnight does not exist (a DST switch at 00:00), the day starts when the clock jumps.
    """
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start.astimezone(UTC)


def bounds(first: date, after_last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC bounds [start, end) of the local days first … after_last - 1."""
    return local_midnight(first, zone), local_midnight(after_last, zone)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as UTC (DST gaps move forward, as a phone alarm would)."""
    moment = datetime.combine(day, at, tzinfo=zone)
    # A time inside a DST gap does not exist: round-tripping through UTC moves it forward.
    return moment.astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def containing(cls, day: date) -> "Month":
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> "Month | None":
        """``2026-12`` → Month, or None for anything else (including years out of range)."""
        found = values.month(text)
        return cls(*found) if found else None

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def after_last(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)

    def previous(self) -> "Month":
        return Month.containing(self.first - timedelta(days=1))

    def next(self) -> "Month":
        return Month.containing(self.after_last)

    def weeks(self, week_start: int) -> list[list[date]]:
        """The grid: whole weeks (starting on ``week_start``, 0 = Monday) covering the month."""
        grid = stdlib_calendar.Calendar(firstweekday=week_start)
        return grid.monthdatescalendar(self.year, self.month)


def week_of(day: date, week_start: int) -> date:
    """The first day of the week that contains ``day``."""
    return day - timedelta(days=(day.weekday() - week_start) % 7)
