"""Schedules fill the calendar with slots, share them out in turn, and keep people's edits."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.nudges.job import Job
from app.planner import changes
from app.schedules import planning, recurrence
from app.store import meter, people, posts, reminders, schedules, teams

ROME = ZoneInfo("Europe/Rome")
# Pinned: a Monday two weeks before Rome's clocks go forward (28 March 2027), so the eight weeks
# of slots cross the switch.
MONDAY = datetime(2027, 3, 15, 12, tzinfo=ROME)
TUESDAY_AND_FRIDAY = recurrence.weekly([1, 4])
# Most tests need a few slots, not eight weeks of them: this rule ends on Friday 2 April, after
# six occurrences (16, 19, 23, 26, 30 March, 2 April).
SIX = recurrence.weekly([1, 4], until=date(2027, 4, 2))
FRIDAYS = recurrence.weekly([4])


@pytest.fixture
def trio(app, folks, clock):
    """Cantina Aurora: Anna (admin), Bruno and Carla (editors), who take turns on Instagram."""
    clock.move_to(MONDAY)
    anna = folks.person("anna@example.com", "Anna Rossi")
    bruno = folks.person("bruno@example.com", "Bruno Bianchi")
    carla = folks.person("carla@example.com", "Carla Verdi")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, bruno, "editor")
    folks.join(team, carla, "editor")
    with app.app_context():
        yield {
            "app": app,
            "folks": folks,
            "anna": anna,
            "bruno": bruno,
            "carla": carla,
            "team_id": team.team_id,
            "names": {p.person_id: p.name for p in (anna, bruno, carla)},
        }


def team_of(world):
    return teams.team(world["team_id"])


def retitle(world, post, title):
    """Anna gives a slot a title of her own on Monday: edited by hand, replanning keeps it."""
    changes.update(
        post,
        posts.load(world["team_id"], post.post_id)[1],
        team_of(world),
        summary={"title": title},
        body_fields={},
        actor=world["anna"].person_id,
        now=MONDAY,
    )


def make(world, now=MONDAY, **overrides):
    """Instagram every Tuesday and Friday at 18:00 in Rome, Anna, Bruno and Carla in turn."""
    attributes = {
        "title": "Instagram — {weekday}",
        "rule": TUESDAY_AND_FRIDAY,
        "zone": "Europe/Rome",
        "starts_local": "2027-03-15T18:00",
        "owners": [world[name].person_id for name in ("anna", "bruno", "carla")],
        "channels": ["Instagram"],
    } | overrides
    schedule = schedules.new_schedule(
        world["team_id"], created_by=world["anna"].person_id, now=now, **attributes
    )
    outcome = planning.apply(schedule, team_of(world), now)
    return schedules.load(world["team_id"], schedule.schedule_id), outcome


def slots(world, schedule):
    found = posts.planned_by(world["team_id"], schedule.schedule_id)
    return sorted((post for post in found if post.deleted_at is None), key=lambda post: post.due)


def owners_of(world, found):
    return [world["names"][post.owner_id].split()[0] for post in found]


def local(post):
    return post.due.astimezone(ROME)


def test_saving_plans_eight_weeks_of_slots_at_18_in_rome_across_the_dst_switch(trio):
    schedule, outcome = make(trio)
    found = slots(trio, schedule)
    # Tuesdays and Fridays from 16 March to 7 May: 16 occurrences in eight weeks.
    assert outcome.planned == len(found) == 16
    assert {local(post).strftime("%a %H:%M") for post in found} == {"Tue 18:00", "Fri 18:00"}
    before, after = found[0], found[-1]
    assert before.due.astimezone(UTC).hour == 17  # CET, UTC+1
    assert after.due.astimezone(UTC).hour == 16  # CEST, UTC+2
    assert owners_of(trio, found)[:6] == ["Anna", "Bruno", "Carla", "Anna", "Bruno", "Carla"]
    assert all(post.status == "draft" and post.channels == ["Instagram"] for post in found)
    assert found[0].title == "Instagram — martedì"  # the team speaks Italian
    assert found[0].post_id == f"{schedule.schedule_id}-20270316"
    # Slots get nudges like any post.
    assert reminders.of_post(trio["team_id"], found[0].post_id)
    assert schedule.planned_until == MONDAY + planning.HORIZON
    assert schedules.extend_at(schedule) == MONDAY + planning.EXTEND_EVERY


def test_a_person_away_is_skipped_and_the_turn_passes_on(trio):
    people.update_preferences(trio["bruno"], away_from="2027-03-19", away_until="2027-03-19")
    schedule, _outcome = make(trio, rule=SIX)
    found = slots(trio, schedule)
    # Friday 19th is Bruno's turn: Carla takes it, and Anna the next; Bruno is back after.
    assert owners_of(trio, found)[:5] == ["Anna", "Carla", "Anna", "Bruno", "Carla"]


def test_editing_replans_untouched_slots_and_keeps_edited_and_moved_ones(trio):
    schedule, _outcome = make(trio, rule=SIX)
    team = team_of(trio)
    first, second, third = slots(trio, schedule)[:3]
    retitle(trio, first, "Our harvest, by Anna")
    moved_to = second.due + timedelta(days=1)
    changes.move(
        team,
        second.post_id,
        seen_due=second.due,
        seen_owner=second.owner_id,
        seen_status=second.status,
        due=moved_to,
        zone="Europe/Rome",
        actor=trio["anna"].person_id,
        now=MONDAY,
        version=second.version,
    )
    schedule.starts_local = "2027-03-15T19:30"
    schedule.title = "IG {date}"
    outcome = planning.apply(schedule, team_of(trio), MONDAY)
    assert (outcome.kept, outcome.replanned, outcome.planned, outcome.withdrawn) == (2, 4, 0, 0)
    found = {post.post_id: post for post in slots(trio, schedule)}
    assert found[first.post_id].title == "Our harvest, by Anna"
    assert local(found[first.post_id]).strftime("%H:%M") == "18:00"
    assert found[second.post_id].due == moved_to
    assert local(found[third.post_id]).strftime("%H:%M") == "19:30"
    assert found[third.post_id].title.startswith("IG ")
    assert found[third.post_id].owner_id == third.owner_id  # the rotation is where it was
    history = posts.history(trio["team_id"], third.post_id)
    assert sorted(entry.kind for entry in history) == ["planned", "replanned"]


def test_fewer_weekdays_withdraw_untouched_slots_and_new_ones_are_planned(trio):
    schedule, _outcome = make(trio, rule=SIX)
    schedule.rule = recurrence.weekly([2], until=date(2027, 4, 2))  # Wednesdays only
    outcome = planning.apply(schedule, team_of(trio), MONDAY)
    found = slots(trio, schedule)
    assert outcome.withdrawn == 6 and outcome.planned == len(found) == 3
    assert {local(post).strftime("%a") for post in found} == {"Wed"}


def test_a_skipped_occurrence_is_withdrawn_and_never_planned_again(trio):
    schedule, _outcome = make(trio, rule=SIX)
    friday = slots(trio, schedule)[1]
    outcome = planning.skip(schedule, team_of(trio), local(friday).date(), MONDAY)
    assert (outcome.withdrawn, outcome.replanned, outcome.planned) == (1, 0, 0)
    assert friday.post_id not in {post.post_id for post in slots(trio, schedule)}
    fresh = schedules.load(trio["team_id"], schedule.schedule_id)
    planning.extend(fresh, team_of(trio), MONDAY + timedelta(hours=1))
    assert friday.post_id not in {post.post_id for post in slots(trio, schedule)}
    # Nobody else's post moves: Bruno's turn was the skipped one.
    assert owners_of(trio, slots(trio, schedule)) == ["Anna", "Carla", "Anna", "Bruno", "Carla"]


def test_pausing_withdraws_untouched_slots_and_resuming_plans_from_now(trio):
    schedule, _outcome = make(trio, rule=SIX)
    kept = slots(trio, schedule)[3]
    retitle(trio, kept, "Kept")
    outcome = planning.pause(schedule, team_of(trio), MONDAY)
    assert (outcome.withdrawn, outcome.kept) == (5, 1)
    assert [post.title for post in slots(trio, schedule)] == ["Kept"]
    paused = schedules.load(trio["team_id"], schedule.schedule_id)
    assert paused.state == "paused" and paused.due_sk is None
    later = MONDAY + timedelta(days=7)
    outcome = planning.resume(paused, team_of(trio), later)
    assert outcome.planned == 3  # 23, 30 March and 2 April: the 26th is the kept one
    first = slots(trio, schedule)[0]
    assert first.due > later and first.owner_id == trio["anna"].person_id


def test_an_end_date_withdraws_the_untouched_slots_after_it(trio):
    schedule, _outcome = make(trio, rule=SIX)
    schedule.rule = recurrence.weekly([1, 4], until=date(2027, 3, 26))
    outcome = planning.apply(schedule, team_of(trio), MONDAY)
    assert outcome.withdrawn == 2
    assert [local(post).day for post in slots(trio, schedule)] == [16, 19, 23, 26]
    ended = schedules.load(trio["team_id"], schedule.schedule_id)
    assert ended.state == "ended" and ended.due_sk is None


@pytest.mark.parametrize("keep", [True, False])
def test_deleting_keeps_the_slots_as_ordinary_posts_or_removes_the_untouched(trio, keep):
    schedule, _outcome = make(trio, rule=SIX)
    edited = slots(trio, schedule)[0]
    retitle(trio, edited, "Mine")
    planning.delete(schedule, team_of(trio), MONDAY, keep_slots=keep)
    assert schedules.load(trio["team_id"], schedule.schedule_id) is None
    left = slots(trio, schedule)
    if keep:
        assert len(left) == 6
        assert not any(post.planned for post in left)  # no schedule re-plans them now
    else:
        assert [post.title for post in left] == ["Mine"]


def test_a_stale_save_is_refused_and_writes_nothing(trio):
    schedule, _outcome = make(trio, rule=recurrence.weekly([1], count=2))
    first, second = (
        schedules.load(trio["team_id"], schedule.schedule_id),
        schedules.load(trio["team_id"], schedule.schedule_id),
    )
    first.title = "First"
    planning.apply(first, team_of(trio), MONDAY)
    second.starts_local = "2027-03-15T07:00"
    with pytest.raises(schedules.ScheduleConflict):
        planning.apply(second, team_of(trio), MONDAY)
    assert {local(post).hour for post in slots(trio, schedule)} == {18}


def _run_job(world, now):
    job = Job(now, budget_seconds=60, send_rate=1000.0, lease=timedelta(minutes=5))
    with world["app"].test_request_context():
        return job.run()


def test_the_job_makes_one_query_for_schedules_when_none_needs_extending(trio):
    make(trio, rule=FRIDAYS)
    from app.schedules.planning import extend_due

    with meter.metered() as counted:
        assert extend_due(MONDAY + timedelta(days=6)) == 0
    assert counted.calls == ["Query"]


def test_the_job_extends_a_schedule_a_week_on_once_even_when_run_twice(trio):
    schedule, _outcome = make(trio, rule=FRIDAYS)
    later = MONDAY + timedelta(days=7, minutes=5)
    first = _run_job(trio, later)
    assert first.extended == 1
    found = slots(trio, schedule)
    assert len(found) == 9  # one more Friday, up to eight weeks from the run
    assert found[-1].due < later + planning.HORIZON
    assert owners_of(trio, found) == ["Anna", "Bruno", "Carla"] * 3  # the rotation goes on
    assert _run_job(trio, later + timedelta(minutes=1)).extended == 0
    assert len(slots(trio, schedule)) == 9
    again = schedules.load(trio["team_id"], schedule.schedule_id)
    assert schedules.extend_at(again) == later + planning.EXTEND_EVERY


def test_title_placeholders_are_filled_in_the_teams_language():
    at = datetime(2027, 3, 16, 18, tzinfo=ROME)
    title = planning.title_for("IG {weekday} {date} {time} {owner} {x}", at, "Anna", "en")
    assert title == "IG Tuesday Mar 16, 2027 18:00 Anna {x}"
    assert planning.unknown_placeholders("IG {x} {date}") == ["x"]
