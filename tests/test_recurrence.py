"""Schedules recur at their local wall-clock time across DST, and rotation shares them fairly."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.schedules.recurrence import (
    NTHS,
    Cadence,
    CadenceError,
    monthly_on_day,
    monthly_on_weekday,
    occurrences,
    owners,
    parse,
    preview,
    weekly,
)

ZONES = [
    "Europe/Rome",
    "America/New_York",
    "Australia/Lord_Howe",  # the clocks move by 30 minutes
    "Pacific/Chatham",  # UTC+12:45, switching at 02:45
    "Asia/Kolkata",  # no DST at all
]
# Two pinned years, never today's: the properties hold for any dates, the failures replay.
BASE = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2028, 1, 1, tzinfo=UTC)
LAST_CHECKED_DAY = date(2027, 12, 29)  # a day clear of the window's end in every zone
NOBODY_AWAY = lambda person, day: False  # noqa: E731
PEOPLE = ["ada", "bea", "cy", "dan", "eve"]


def switch_times(zone: str) -> list[time]:
    """The wall times, every 15 minutes, in and around the zone's gaps and folds of 2026."""
    tz, found = ZoneInfo(zone), set()
    step = timedelta(minutes=15)
    instants = [BASE + step * k for k in range(366 * 24 * 4)]
    for before, after in pairwise(instants):
        old, new = before.astimezone(tz).utcoffset(), after.astimezone(tz).utcoffset()
        if old != new:
            wall = (after.replace(tzinfo=None) + min(old, new)) - step
            while wall <= after.replace(tzinfo=None) + max(old, new):
                found.add(wall.time())
                wall += step
    return sorted(found) or [time(2, 30)]


def zone_and_time(zone: str):
    """Half the times where the zone's clocks jump or repeat, half any time of day."""
    near = st.sampled_from(switch_times(zone))
    return st.tuples(
        st.just(zone), st.one_of(near, st.builds(time, st.integers(0, 23), st.integers(0, 59)))
    )


zones_and_times = st.one_of(*(zone_and_time(zone) for zone in ZONES))
everies = st.integers(1, 3)
cadences = st.one_of(
    st.builds(
        lambda days, every: Cadence("weekly", every, tuple(days)),
        st.sets(st.integers(0, 6), min_size=1),
        everies,
    ),
    st.builds(
        lambda day, every: Cadence("monthly", every, month_day=day), st.integers(1, 31), everies
    ),
    st.builds(
        lambda nth, weekday, every: Cadence("monthly", every, nth=nth, weekday=weekday),
        st.sampled_from(NTHS),
        st.integers(0, 6),
        everies,
    ),
)
SUNDAYS = Cadence("weekly", 1, (6,))


def lands_on(cadence: Cadence, start: date, day: date) -> bool:
    """Whether the cadence started on ``start`` has an occurrence on local ``day``: worked out
    from the calendar alone, without dateutil."""
    if day < start:
        return False
    if cadence.freq == "weekly":
        monday = day - timedelta(days=day.weekday())
        weeks = (monday - (start - timedelta(days=start.weekday()))).days // 7
        return day.weekday() in cadence.weekdays and weeks % cadence.every == 0
    if ((day.year - start.year) * 12 + day.month - start.month) % cadence.every:
        return False
    if cadence.month_day is not None:
        return day.day == cadence.month_day
    if cadence.nth == -1:
        return day.weekday() == cadence.weekday and (day + timedelta(days=7)).month != day.month
    return day.weekday() == cadence.weekday and (day.day - 1) // 7 == cadence.nth - 1


def happens_at(instant: datetime, wall: datetime, zone: ZoneInfo) -> bool:
    """Whether ``instant`` is when ``wall`` (naive local) should happen: at that wall time, the
    first time if the clocks repeat it; or, if the clocks jump over it, at the jump."""
    local = instant.astimezone(zone)
    if local.replace(tzinfo=None) == wall:
        return local.fold == 0  # zoneinfo marks the second of a repeated wall time fold=1
    old = (instant - timedelta(seconds=1)).astimezone(zone).utcoffset()
    new = local.utcoffset()
    jump = instant.replace(tzinfo=None)
    # The clocks read jump+old just before the jump and jump+new at it: the gap lies between.
    return old < new and jump + old <= wall < jump + new


def days(first: date, last: date):
    return (first + timedelta(days=n) for n in range((last - first).days))


@settings(max_examples=300, deadline=None)
@given(zone_and_time=zones_and_times, cadence=cadences, later=st.integers(0, 60))
@example(zone_and_time=("Europe/Rome", time(2, 30)), cadence=SUNDAYS, later=0)  # gap, fold
@example(zone_and_time=("America/New_York", time(1, 30)), cadence=SUNDAYS, later=0)  # fold
@example(zone_and_time=("America/New_York", time(2, 30)), cadence=SUNDAYS, later=0)  # gap
@example(zone_and_time=("Australia/Lord_Howe", time(2, 15)), cadence=SUNDAYS, later=0)  # gap
@example(zone_and_time=("Australia/Lord_Howe", time(1, 45)), cadence=SUNDAYS, later=0)  # fold
@example(zone_and_time=("Pacific/Chatham", time(3, 0)), cadence=SUNDAYS, later=0)  # gap, fold
def test_every_occurrence_is_at_the_local_wall_time_once_on_each_right_day(
    zone_and_time, cadence, later
):
    zone, at = zone_and_time
    tz = ZoneInfo(zone)
    start = datetime.combine(date(2026, 1, 2) + timedelta(days=later), at)
    found = occurrences(cadence.rule(), start, zone, BASE, END)

    assert all(earlier < after for earlier, after in pairwise(found))
    for instant in found:
        # A gap never pushes a time past midnight in these zones: the local date is the rule's.
        wall = datetime.combine(instant.astimezone(tz).date(), at)
        assert happens_at(instant, wall, tz), (instant, instant.astimezone(tz), wall)
    # Exactly one occurrence on each day the calendar says, none on any other (so no fold twice).
    local_days = [instant.astimezone(tz).date() for instant in found]
    expected = [
        day for day in days(start.date(), LAST_CHECKED_DAY) if lands_on(cadence, start.date(), day)
    ]
    assert [day for day in local_days if day < LAST_CHECKED_DAY] == expected


@settings(max_examples=80, deadline=None)
@given(
    zone_and_time=zones_and_times,
    cadence=cadences,
    split=st.integers(1, 729),
    people=st.lists(st.sampled_from(PEOPLE), min_size=1, unique=True),
    away_days=st.sets(st.tuples(st.sampled_from(PEOPLE), st.integers(0, 729)), max_size=80),
    turn=st.integers(0, 9),
)
def test_extending_the_horizon_later_plans_what_planning_it_all_at_once_would(
    zone_and_time, cadence, split, people, away_days, turn
):
    zone, at = zone_and_time
    rule, start = cadence.rule(), datetime.combine(date(2026, 1, 2), at)
    away = lambda person, day: (person, (day - BASE.date()).days) in away_days  # noqa: E731
    instants = occurrences(rule, start, zone, BASE, END)
    whole, turn_whole = owners(instants, people, away, turn, zone=zone)
    # Split anywhere, or exactly at an occurrence: it must be planned once, by the later run.
    middle = BASE + timedelta(days=split, hours=split % 24)
    if split % 2 and instants:
        middle = instants[split % len(instants)]

    first, turn_then = owners(
        occurrences(rule, start, zone, BASE, middle), people, away, turn, zone=zone
    )
    rest, turn_after = owners(
        occurrences(rule, start, zone, middle, END), people, away, turn_then, zone=zone
    )

    assert first + rest == whole
    assert turn_after == turn_whole


def daily(n: int) -> list[datetime]:
    return [BASE + timedelta(days=k, hours=9) for k in range(n)]


@settings(max_examples=100, deadline=None)
@given(
    people=st.lists(st.sampled_from(PEOPLE), min_size=1, unique=True),
    n=st.integers(0, 60),
    turn=st.integers(0, 9),
    window=st.tuples(st.integers(0, 60), st.integers(0, 60)).map(sorted),
)
def test_without_absences_nobody_owns_more_than_one_slot_more_than_anyone_else(
    people, n, turn, window
):
    slots, _ = owners(daily(n), people, NOBODY_AWAY, turn, zone="Europe/Rome")
    counts = Counter(slot.owner for slot in slots[window[0] : window[1]])
    tally = [counts[person] for person in people]
    assert max(tally) - min(tally) <= 1
    assert slots[:1] == [] or slots[0].owner == people[turn % len(people)]


@settings(max_examples=100, deadline=None)
@given(
    people=st.lists(st.sampled_from(PEOPLE), min_size=1, unique=True),
    n=st.integers(0, 40),
    turn=st.integers(0, 9),
    away_days=st.sets(st.tuples(st.sampled_from(PEOPLE), st.integers(0, 39)), max_size=60),
)
def test_a_person_away_is_skipped_and_the_turn_passes_to_the_next(people, n, turn, away_days):
    away = lambda person, day: (person, (day - BASE.date()).days) in away_days  # noqa: E731
    slots, next_turn = owners(daily(n), people, away, turn, zone="Europe/Rome")

    up = turn % len(people)  # whose turn it is
    for k, slot in enumerate(slots):
        everyone_away = all((person, k) in away_days for person in people)
        assert (slot.owner is None) == everyone_away
        if slot.owner is None:
            continue
        assert (slot.owner, k) not in away_days
        owner = people.index(slot.owner)
        # Everyone whose turn came before the owner's was away that day.
        skipped = [people[i % len(people)] for i in range(up, up + (owner - up) % len(people))]
        assert all((person, k) in away_days for person in skipped)
        up = (owner + 1) % len(people)
    assert next_turn == up


choices = st.one_of(
    cadences,
    st.builds(
        lambda cadence, until, count: Cadence(**{**vars(cadence), "until": until, "count": count}),
        cadences,
        st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2030, 12, 31))),
        st.none(),
    ),
    st.builds(
        lambda cadence, count: Cadence(**{**vars(cadence), "count": count}),
        cadences,
        st.integers(1, 500),
    ),
)


@settings(max_examples=100, deadline=None)
@given(chosen=choices)
def test_the_form_shows_back_exactly_what_was_chosen(chosen):
    rule = chosen.rule()
    assert parse(rule) == chosen
    assert parse(rule).rule() == rule
    assert parse("RRULE:" + rule) == chosen


# Named examples, readable on their own.


def local(instants, zone):
    return [
        instant.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M") for instant in instants
    ]


def test_tuesday_10_in_rome_stays_10_local_across_the_march_switch():
    found = occurrences(
        weekly([1]),
        datetime(2027, 3, 16, 10),
        "Europe/Rome",
        BASE,
        datetime(2027, 4, 1, tzinfo=UTC),
    )
    assert local(found, "Europe/Rome") == [
        "Tue 2027-03-16 10:00",
        "Tue 2027-03-23 10:00",
        "Tue 2027-03-30 10:00",
    ]
    assert [instant.hour for instant in found] == [9, 9, 8]  # UTC moved, the wall clock did not


def test_0230_on_the_spring_switch_day_happens_at_0300():
    found = occurrences(
        weekly([6]),
        datetime(2026, 3, 22, 2, 30),
        "Europe/Rome",
        BASE,
        datetime(2026, 4, 6, tzinfo=UTC),
    )
    assert local(found, "Europe/Rome") == [
        "Sun 2026-03-22 02:30",
        "Sun 2026-03-29 03:00",
        "Sun 2026-04-05 02:30",
    ]


def test_half_an_hour_gap_on_lord_howe_moves_0215_to_0230():
    found = occurrences(
        weekly([6]),
        datetime(2026, 10, 4, 2, 15),
        "Australia/Lord_Howe",
        BASE,
        END,
    )
    assert local(found[:2], "Australia/Lord_Howe") == [
        "Sun 2026-10-04 02:30",
        "Sun 2026-10-11 02:15",
    ]
    assert found[0] == datetime(2026, 10, 3, 15, 30, tzinfo=UTC)


def test_0130_on_the_autumn_switch_day_in_new_york_happens_once():
    found = occurrences(
        weekly([6]),
        datetime(2026, 10, 25, 1, 30),
        "America/New_York",
        BASE,
        datetime(2026, 11, 9, tzinfo=UTC),
    )
    assert found == [
        datetime(2026, 10, 25, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT, the first of the two 01:30s
        datetime(2026, 11, 8, 6, 30, tzinfo=UTC),
    ]


def test_monthly_on_the_31st_skips_the_months_without_one():
    found = occurrences(monthly_on_day(31), datetime(2026, 1, 1, 9), "Europe/Rome", BASE, END)
    months = [instant.astimezone(ZoneInfo("Europe/Rome")).month for instant in found]
    assert months[:7] == [1, 3, 5, 7, 8, 10, 12]


def test_monthly_on_the_29th_skips_february_except_in_a_leap_year():
    found = occurrences(
        monthly_on_day(29),
        datetime(2027, 1, 1, 9),
        "Europe/Rome",
        BASE,
        datetime(2028, 4, 1, tzinfo=UTC),
    )
    days_seen = {instant.date() for instant in found}
    assert date(2027, 1, 29) in days_seen and date(2027, 3, 29) in days_seen
    assert not any(day.month == 2 and day.year == 2027 for day in days_seen)
    assert date(2028, 2, 29) in days_seen


def test_the_last_friday_and_the_2nd_tuesday_of_each_month():
    until_april = datetime(2026, 5, 1, tzinfo=UTC)
    last_fridays = occurrences(
        monthly_on_weekday(-1, 4), datetime(2026, 1, 1, 18), "Europe/Rome", BASE, until_april
    )
    second_tuesdays = occurrences(
        monthly_on_weekday(2, 1), datetime(2026, 1, 1, 18), "Europe/Rome", BASE, until_april
    )
    assert [at.day for at in last_fridays] == [30, 27, 27, 24]
    assert [at.day for at in second_tuesdays] == [13, 10, 10, 14]


def test_an_end_date_is_the_last_day_and_a_count_is_the_number_of_occurrences():
    start = datetime(2026, 1, 5, 23, 30)  # a Monday, late: the end date still includes it
    by_date = occurrences(weekly([0], until=date(2026, 1, 19)), start, "Asia/Kolkata", BASE, END)
    by_count = occurrences(weekly([0, 3], count=3), start, "Asia/Kolkata", BASE, END)
    assert local(by_date, "Asia/Kolkata") == [
        "Mon 2026-01-05 23:30",
        "Mon 2026-01-12 23:30",
        "Mon 2026-01-19 23:30",
    ]
    assert local(by_count, "Asia/Kolkata") == [
        "Mon 2026-01-05 23:30",
        "Thu 2026-01-08 23:30",
        "Mon 2026-01-12 23:30",
    ]


def test_every_two_weeks_on_tuesday_and_friday():
    found = occurrences(
        weekly([1, 4], every=2),
        datetime(2026, 1, 5, 18),
        "Europe/Rome",
        BASE,
        datetime(2026, 2, 1, tzinfo=UTC),
    )
    assert [at.day for at in found] == [6, 9, 20, 23]


def test_the_preview_shows_the_next_ten_after_now_with_their_owners():
    now = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # Tuesday 18:00 in Rome: that one has begun
    bea_away = lambda person, day: person == "bea" and day == date(2026, 3, 10)  # noqa: E731
    slots = preview(
        weekly([1, 4]), datetime(2026, 1, 6, 18), "Europe/Rome", ["ada", "bea", "cy"], bea_away, now
    )

    assert len(slots) == 10
    assert local([slot.at for slot in slots[:4]], "Europe/Rome") == [
        "Fri 2026-03-06 18:00",
        "Tue 2026-03-10 18:00",
        "Fri 2026-03-13 18:00",
        "Tue 2026-03-17 18:00",
    ]
    assert [slot.owner for slot in slots[:5]] == ["ada", "cy", "ada", "bea", "cy"]


def test_the_preview_of_a_rule_that_ends_shows_only_what_is_left():
    slots = preview(
        weekly([0], count=3), datetime(2026, 1, 5, 9), "Europe/Rome", ["ada"], NOBODY_AWAY, BASE
    )
    assert [slot.owner for slot in slots] == ["ada"] * 3


def test_when_everyone_is_away_the_slot_has_no_owner_and_the_turn_stays():
    slots, turn = owners(
        daily(2), ["ada", "bea"], lambda person, day: day == date(2026, 1, 1), 1, zone="UTC"
    )
    assert [slot.owner for slot in slots] == [None, "bea"]
    assert turn == 0


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: weekly([]), "weekdays"),
        (lambda: weekly([7]), "weekdays"),
        (lambda: weekly([1], every=0), "every"),
        (lambda: weekly([1], until=date(2026, 5, 1), count=3), "count"),
        (lambda: weekly([1], count=0), "count"),
        (lambda: monthly_on_day(32), "month_day"),
        (lambda: monthly_on_weekday(5, 1), "nth"),
        (lambda: parse("FREQ=DAILY"), "rule"),
        (lambda: parse("FREQ=WEEKLY;BYDAY=TU;BYHOUR=9"), "rule"),
        (lambda: parse("FREQ=WEEKLY;INTERVAL=1;BYDAY=TU"), "rule"),
        (lambda: parse("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260501T000000Z"), "rule"),
        (lambda: parse("nonsense"), "rule"),
    ],
)
def test_a_choice_that_makes_no_recurrence_names_the_field_to_fix(make, field):
    with pytest.raises(CadenceError) as raised:
        make()
    assert raised.value.field == field


def test_the_start_is_a_wall_clock_time_not_an_instant():
    with pytest.raises(ValueError, match="naive"):
        occurrences(weekly([1]), BASE, "Europe/Rome", BASE, END)
