"""Strict reading of the numbers, dates and times that forms and addresses send.

Python's own parsers accept far more than a form means: ``int`` takes ``+9``, ``1_0``,
superscripts' neighbours (``"²".isdigit()`` is true, ``int("²")`` fails) and Arabic-Indic
digits, and raises on 5,000 digits; ``date.fromisoformat`` takes ``20261211`` and
``2026-W51-1``; a date in year 1 or 9999 overflows once moved to another zone. Everything typed
or sent back is read here, ASCII only and bounded, and answered as a value or None, never an
exception, so that what is stored has one spelling and every caller can refuse with a message.
"""

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from urllib.parse import urlsplit

# What the forms accept: far enough for any plan, near enough to catch typos (year 1, 9999),
# and far enough from the calendar's ends that no zone (UTC-12 … UTC+14) overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2100
# A version or a count of minutes: DynamoDB numbers hold 38 digits; no real one nears 15.
MAX_DIGITS = 15

_COUNT = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2})")
# As ``datetime.isoformat()`` writes an aware instant (the pages send those back).
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([+-][0-9]{2}:[0-9]{2}|Z)"
)


# Control characters (Unicode's Cc: C0, DEL and C1) but tab and line breaks: never typed on
# purpose (NUL, a terminal's escapes in a paste), invisible, and errors in HTML and XML.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def plain_text(text: str) -> str:
    """Text without control characters, tab and line breaks aside: how every field is read."""
    return _CONTROL.sub("", text)


def count(text: str | None) -> int | None:
    """``"42"`` → 42: ASCII digits only, at most ``MAX_DIGITS`` of them."""
    return int(text) if text and _COUNT.fullmatch(text) else None


def day(text: str | None, *, any_year: bool = False) -> date | None:
    """``"2026-12-05"`` → a date between ``FIRST_YEAR`` and ``LAST_YEAR`` (or in any year)."""
    match = _DAY.fullmatch(text or "")
    if match is None:
        return None
    try:
        found = date(*(int(part) for part in match.groups()))
    except ValueError:  # 2026-02-30
        return None
    return found if any_year or FIRST_YEAR <= found.year <= LAST_YEAR else None


def month(text: str | None) -> tuple[int, int] | None:
    """``"2026-12"`` → (2026, 12), within the accepted years."""
    match = _MONTH.fullmatch(text or "")
    if match is None:
        return None
    year, number = (int(part) for part in match.groups())
    return (year, number) if FIRST_YEAR <= year <= LAST_YEAR and 1 <= number <= 12 else None


def clock(text: str | None) -> time | None:
    """``"09:30"`` → a wall-clock time (24-hour ``HH:MM``, as a time input sends it)."""
    match = _CLOCK.fullmatch(text or "")
    if match is None:
        return None
    hours, minutes = (int(part) for part in match.groups())
    return time(hours, minutes) if hours < 24 and minutes < 60 else None


# The first and last instants of the accepted years in the zones furthest east and west.
_EARLIEST = datetime(FIRST_YEAR, 1, 1, tzinfo=timezone(timedelta(hours=14)))
_LATEST = datetime(LAST_YEAR + 1, 1, 1, tzinfo=timezone(timedelta(hours=-12)))


def instant(text: str | None) -> datetime | None:
    """An aware ISO instant → the same instant in UTC, on a day of the accepted years
    somewhere on Earth: 23:30 on 31 December 2100 in Pago Pago is 2101 in UTC."""
    if not _INSTANT.fullmatch(text or ""):
        return None
    try:
        moment = datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-13-01…, or 0001-01-01T00:00+14:00
        return None
    return moment if _EARLIEST <= moment < _LATEST else None


# A published link: long enough for any post's address, bounded for the items that keep it.
MAX_WEB_ADDRESS = 2000


def web_address(text: str) -> bool:
    """Whether ``text`` is a web address a published link may be: http(s), with a host."""
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(text) <= MAX_WEB_ADDRESS
