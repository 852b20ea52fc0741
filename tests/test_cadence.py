"""Cadence health: gaps on scheduled channels, posts per person, on-time rates, and the weekly
admin email (exactly once, Monday 08:00 in the admin's zone, in their language)."""

import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from app import mail, nudges
from app.cadence import health, weekly
from app.store import keys, meter, people, reminders, teams
from app.store.cadence import weekly_key
from app.store.models import Post, Schedule
from tests.conftest import outbox
from tests.test_injected_faults import (
    Injector,
    Slot,
    cases,
    offenders_of_faulted_runs,
    quick_retries,  # noqa: F401  (a fixture)
    saved_store,
)

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")


def rome(*args) -> datetime:
    return datetime(*args, tzinfo=ROME).astimezone(UTC)


def new_york(*args) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


@pytest.fixture
def rhythm(app, folks, clock):
    """Cantina Aurora on Tuesday 1 December 2026, noon in Rome (weeks start on Monday 30
    November): Anna (admin), Marco and Sara (editors), Vera (viewer)."""
    clock.move_to(rome(2026, 12, 1, 12))
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(ses_rate=1000.0)
    anna = folks.person("anna@example.com", "Anna Rossi")
    marco = folks.person("marco@example.com", "Marco Bianchi", language="it")
    sara = folks.person("sara@example.com", "Sara Verdi")
    vera = folks.person("vera@example.com", "Vera Neri")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, marco, "editor")
    folks.join(team, sara, "editor")
    folks.join(team, vera, "viewer")
    return {
        "app": app,
        "folks": folks,
        "team": team,
        "anna": anna,
        "marco": marco,
        "sara": sara,
        "vera": vera,
    }


def dated(world, owner, due, *, channels=("Instagram",), status="draft", **more) -> Post:
    """A post written straight to the store, as it stands after its history happened."""
    post = Post(
        *Post.key(world["team"].team_id, keys.new_id()),
        team_id=world["team"].team_id,
        title="Tasting",
        zone="Europe/Rome",
        due=due,
        owner_id=owner.person_id if owner else None,
        channels=list(channels),
        status=status,
        created_by=world["anna"].person_id,
        created_at=due - timedelta(days=30),
        updated_at=due - timedelta(days=30),
        **more,
    )
    post.post_id = post.sk.removeprefix("POST#")
    post.place()
    post.save()
    return post


def scheduled(world, channels, *, state="active", starts_at=None) -> Schedule:
    starts_at = starts_at or rome(2026, 11, 3, 18)
    schedule_id = keys.new_id()
    schedule = Schedule(
        *Schedule.key(world["team"].team_id, schedule_id),
        team_id=world["team"].team_id,
        schedule_id=schedule_id,
        title="Tuesday post",
        rule="FREQ=WEEKLY;BYDAY=TU",
        zone="Europe/Rome",
        starts_local=starts_at.astimezone(ROME).strftime("%Y-%m-%dT%H:%M"),
        starts_at=starts_at,
        owners=[world["anna"].person_id],
        channels=list(channels),
        state=state,
        created_by=world["anna"].person_id,
        created_at=starts_at,
        updated_at=starts_at,
    )
    schedule.save()
    return schedule


def measured(world, viewer=None) -> health.Health:
    with world["app"].app_context():
        team = teams.team(world["team"].team_id)
        return health.of_team(team, viewer or world["anna"], world["folks"].now())


def page(world, viewer) -> str:
    response = world["folks"].client_for(viewer).get(f"/t/{world['team'].team_id}/health")
    assert response.status_code == 200, response.text
    return response.text


def row(html: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S)
    assert found, row_id
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def week(n: int) -> datetime:
    """Wednesday noon in Rome of the n-th week shown (week 0: from Monday 30 November)."""
    return rome(2026, 12, 2, 12) + timedelta(weeks=n)


# The three blocks --------------------------------------------------------------------------


def test_weeks_with_no_post_on_a_scheduled_channel_are_listed_per_channel(rhythm):
    anna = rhythm["anna"]
    scheduled(rhythm, ["Instagram"])
    scheduled(rhythm, ["Facebook"], state="paused")  # not a channel with an active schedule
    scheduled(rhythm, ["LinkedIn"], starts_at=week(5))  # weeks before it starts are no gaps
    dated(rhythm, anna, rome(2026, 11, 30, 0, 30))  # Monday 00:30 in Rome: week 0
    dated(rhythm, anna, week(2), status="published", published_at=week(2))
    dated(rhythm, anna, week(3), deleted_at=week(1))  # in the trash
    dated(rhythm, anna, week(4), status="skipped")  # nothing goes out that week
    dated(rhythm, anna, week(5), channels=["Facebook", "LinkedIn"])
    dated(rhythm, anna, rome(2026, 12, 28, 0, 0) + timedelta(weeks=3))  # week 7 starts
    found = {gaps.channel: gaps.weeks for gaps in measured(rhythm).gaps}
    weeks = measured(rhythm).weeks
    assert weeks[0] == datetime(2026, 11, 30).date() and len(weeks) == 8
    assert found == {
        "Instagram": [weeks[n] for n in (1, 3, 4, 5, 6)],
        "LinkedIn": [weeks[n] for n in (6, 7)],
    }
    html = page(rhythm, rhythm["vera"])  # a viewer sees it too
    assert "week of 7 Dec" in html and "Facebook</h3>" not in html
    assert f'href="/t/{rhythm["team"].team_id}/week/2026-12-07"' in html


def test_the_weeks_follow_the_viewers_first_weekday_and_zone(rhythm):
    scheduled(rhythm, ["Instagram"])
    sara = rhythm["sara"]
    with rhythm["app"].app_context():
        from app.store import people

        people.update_profile(
            sara, name=sara.name, language="en", zone="America/New_York", week_start=6
        )
    dated(rhythm, sara, rome(2026, 12, 6, 23, 30))  # Sunday: 17:30 in New York
    theirs, ours = measured(rhythm, viewer=sara), measured(rhythm)
    assert theirs.weeks[:2] == [datetime(2026, 11, 29).date(), datetime(2026, 12, 6).date()]
    assert theirs.gaps[0].weeks[:2] == [
        datetime(2026, 11, 29).date(),
        datetime(2026, 12, 13).date(),
    ]
    assert ours.weeks[:2] == [datetime(2026, 11, 30).date(), datetime(2026, 12, 7).date()]
    assert ours.gaps[0].weeks[0] == datetime(2026, 12, 7).date()


def test_posts_per_person_name_who_is_overloaded_and_who_has_none(rhythm):
    anna, marco = rhythm["anna"], rhythm["marco"]
    dated(rhythm, anna, week(1))
    for day in range(6):
        dated(rhythm, marco, week(1) + timedelta(days=day))
    dated(rhythm, marco, week(1), status="skipped")  # left out
    dated(rhythm, marco, rome(2026, 12, 1, 11))  # an hour ago: not coming
    dated(rhythm, marco, rome(2026, 12, 29, 13))  # after the 4 weeks
    dated(rhythm, None, week(2))  # nobody's
    load = {entry.member.name: entry for entry in measured(rhythm).load}
    assert {name: entry.count for name, entry in load.items()} == {
        "Anna Rossi": 1,
        "Marco Bianchi": 6,
        "Sara Verdi": 0,
    }  # Vera, a viewer, owns nothing and cannot: not listed
    assert [name for name, entry in load.items() if entry.overloaded] == ["Marco Bianchi"]
    html = page(rhythm, anna)
    assert "overloaded: more than twice the average (2.3)" in row(html, f"load-{marco.person_id}")
    assert "none: no posts" in row(html, f"load-{rhythm['sara'].person_id}")
    assert "overloaded" not in row(html, f"load-{anna.person_id}")
    assert "1 post has no owner in the team." in html


def test_two_posts_in_an_otherwise_idle_team_are_no_overload(rhythm):
    dated(rhythm, rhythm["sara"], week(1))
    dated(rhythm, rhythm["sara"], week(2))  # the average is 2/3: twice it is far below 2
    load = {entry.member.name: entry for entry in measured(rhythm).load}
    assert load["Sara Verdi"].count == 2 and not load["Sara Verdi"].overloaded
    dated(rhythm, rhythm["sara"], week(3))
    assert next(e for e in measured(rhythm).load if e.member.name == "Sara Verdi").overloaded


def test_on_time_counts_late_never_published_skipped_and_unknown_times(rhythm):
    marco, now = rhythm["marco"], rome(2026, 12, 1, 12)
    for days in (3, 10, 40):  # published by their time, one exactly at it
        due = now - timedelta(days=days)
        dated(rhythm, marco, due, status="published", published_at=due - timedelta(hours=days - 3))
    late = now - timedelta(days=5)
    dated(rhythm, marco, late, status="published", published_at=late + timedelta(minutes=1))
    dated(rhythm, marco, now - timedelta(days=20), status="approved")  # never published
    dated(rhythm, marco, now - timedelta(days=21), status="skipped")  # left out
    dated(rhythm, marco, now - timedelta(days=22), status="published")  # time unknown
    dated(rhythm, marco, now - timedelta(days=91), status="draft")  # before the 90 days
    dated(rhythm, marco, now + timedelta(days=1), status="published", published_at=now)
    entry = next(e for e in measured(rhythm).on_time if e.member.person_id == marco.person_id)
    assert (entry.on_time, entry.late, entry.missed, entry.unknown) == (3, 1, 1, 1)
    html = page(rhythm, rhythm["anna"])
    assert row(html, f"on-time-{marco.person_id}") == (
        "Marco Bianchi 3 of 5 on time (60%) 1 published late · 1 never published · "
        "1 published, time unknown (left out)"
    )
    assert "no post due yet" in row(html, f"on-time-{rhythm['sara'].person_id}")
    assert "time unknown, and are left out of the rate" in html


def test_the_page_costs_three_dynamodb_calls_however_many_posts(rhythm):
    scheduled(rhythm, ["Instagram"])
    for n in range(30):
        dated(rhythm, rhythm["marco"], week(0) - timedelta(days=3 * n))
    client = rhythm["folks"].client_for(rhythm["anna"])
    with meter.metered() as counted:
        response = client.get(f"/t/{rhythm['team'].team_id}/health")
    assert response.status_code == 200
    assert counted.calls == ["BatchGetItem", "Query", "Query"]


# The weekly email --------------------------------------------------------------------------


def choose(world, who, on: bool):
    client = world["folks"].client_for(who)
    data = {"weekly": "y"} if on else {}
    return client.post(f"/t/{world['team'].team_id}/health/weekly", data=data)


def run(world, at: datetime):
    return nudges.run_once(world["app"], at)


def health_mail(world) -> list[dict]:
    return [
        m for m in outbox(world["app"]) if "Cadence health" in m["text"] or "ritmo" in m["text"]
    ]


@pytest.fixture
def weekly_admins(rhythm, clock):
    """Wednesday 21 October 2026: Marco (Italian, Rome) and Anna (New York) are admins. Rome
    leaves summer time on Sunday 25 October, New York on 1 November."""
    clock.move_to(rome(2026, 10, 21, 12))
    teams.change_role(rhythm["team"].team_id, rhythm["marco"].person_id, "admin")
    anna = rhythm["anna"]
    with rhythm["app"].app_context():
        from app.store import people

        people.update_profile(
            anna, name=anna.name, language="en", zone="America/New_York", week_start=0
        )
    scheduled(rhythm, ["Instagram"], starts_at=rome(2026, 10, 6, 18))
    dated(rhythm, rhythm["sara"], rome(2026, 10, 28, 18))
    return rhythm


def test_an_opted_in_admin_gets_it_monday_at_eight_their_time_across_dst(weekly_admins):
    world = weekly_admins
    marco, anna = world["marco"], world["anna"]
    assert choose(world, marco, True).status_code == 302
    assert choose(world, anna, True).status_code == 302
    assert run(world, rome(2026, 10, 26, 7, 59)).sent == 0
    run(world, rome(2026, 10, 26, 8, 0))  # 07:00 UTC: Rome is on winter time since Sunday
    assert [m["to"] for m in health_mail(world)] == [marco.email]
    run(world, new_york(2026, 10, 26, 8, 0))  # 12:00 UTC: New York still on summer time
    assert len(health_mail(world)) == 2
    message = next(m for m in health_mail(world) if m["to"] == marco.email)
    assert message["subject"] == "Salute del ritmo di Cantina Aurora"
    assert "Settimane senza post su un canale con un ritmo" in message["text"]
    assert "settimana del 2 nov" in message["text"]  # a gap, in Italian, weeks from Monday
    # Both next ones at 08:00 local: Rome on winter time, New York too by then.
    assert reminders.get(*weekly_key(world["team"].team_id, marco.person_id)).due == rome(
        2026, 11, 2, 8
    )
    assert reminders.get(*weekly_key(world["team"].team_id, anna.person_id)).due == new_york(
        2026, 11, 2, 8
    )
    client = world["folks"].client_for(marco)
    links = re.findall(r"https?://\S+", message["text"])
    assert len(links) == 2
    for link in links:
        assert client.get(urlsplit(link).path).status_code == 200
    run(world, rome(2026, 10, 26, 9))
    assert len(health_mail(world)) == 2


def test_two_runs_at_once_send_the_weekly_email_once(weekly_admins):
    world = weekly_admins
    choose(world, world["marco"], True)
    at = rome(2026, 10, 26, 8, 1)
    threads = [threading.Thread(target=run, args=(world, at)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(health_mail(world)) == 1


def test_turned_off_or_demoted_or_gone_the_admin_gets_nothing(weekly_admins):
    world = weekly_admins
    marco, team_id = world["marco"], world["team"].team_id
    key = weekly_key(team_id, marco.person_id)
    choose(world, marco, True)
    html = page(world, marco)
    assert re.search(r'<input[^>]*checked[^>]*name="weekly"|name="weekly"[^>]*checked', html)
    choose(world, marco, False)
    assert reminders.get(*key) is None
    assert 'name="weekly"' in page(world, marco) and "checked" not in page(world, marco)
    run(world, rome(2026, 10, 26, 8, 1))
    choose(world, marco, True)
    teams.change_role(team_id, marco.person_id, "editor")
    run(world, rome(2026, 11, 2, 8, 1))
    assert health_mail(world) == []
    assert reminders.get(*key).due == rome(2026, 11, 9, 8)  # again if made admin again
    teams.remove_member(team_id, marco.person_id)
    run(world, rome(2026, 11, 9, 8, 1))
    assert health_mail(world) == [] and reminders.get(*key).state == "cancelled"


def test_saving_the_choice_unchanged_keeps_the_planned_email(weekly_admins):
    world = weekly_admins
    choose(world, world["marco"], True)
    key = weekly_key(world["team"].team_id, world["marco"].person_id)
    reminders.snooze(reminders.get(*key), rome(2026, 10, 26, 9))
    choose(world, world["marco"], True)
    assert reminders.get(*key).due == rome(2026, 10, 26, 9)


def test_only_admins_choose_the_weekly_email(rhythm):
    assert choose(rhythm, rhythm["sara"], True).status_code == 403
    assert 'name="weekly"' not in page(rhythm, rhythm["sara"])
    assert reminders.get(*weekly_key(rhythm["team"].team_id, rhythm["sara"].person_id)) is None


def test_the_weekly_email_waits_when_the_teams_daily_mail_is_used_up(weekly_admins, monkeypatch):
    world = weekly_admins
    choose(world, world["marco"], True)
    monkeypatch.setattr(mail, "TEAM_DAILY_MAIL_LIMIT", 0)
    run(world, rome(2026, 10, 26, 8, 1))
    assert health_mail(world) == []
    waiting = reminders.get(*weekly_key(world["team"].team_id, world["marco"].person_id))
    assert waiting.state == "pending" and waiting.due > rome(2026, 10, 26, 8, 1)
    monkeypatch.setattr(mail, "TEAM_DAILY_MAIL_LIMIT", 500)
    run(world, waiting.due)
    assert len(health_mail(world)) == 1


def test_next_monday_is_at_eight_local_whatever_the_day(rhythm):
    assert weekly.next_monday("Europe/Rome", rome(2026, 10, 26, 8)) == rome(2026, 11, 2, 8)
    assert weekly.next_monday("Europe/Rome", rome(2026, 10, 26, 7, 59)) == rome(2026, 10, 26, 8)
    assert weekly.next_monday("Europe/Rome", rome(2026, 3, 28, 12)) == rome(2026, 3, 30, 8)


@pytest.mark.usefixtures("quick_retries")
def test_the_weekly_email_goes_out_once_whatever_aws_call_of_the_run_fails(weekly_admins, inject):
    """A run meets a fault at one of its AWS calls, then the next run (past the leases and
    backoffs) is clean: the email went out once, or, refused for good by SES, not at all; and
    next Monday's is planned either way."""
    world = weekly_admins
    choose(world, world["marco"], True)
    key = weekly_key(world["team"].team_id, world["marco"].person_id)
    at = rome(2026, 10, 26, 8, 1)
    start, slot = saved_store(), Slot(inject)
    recorder = Injector()
    slot.run(recorder, lambda: run(world, at))
    assert len(health_mail(world)) == 1
    calls = recorder.calls
    # The day buckets' Queries in a row are tried at the first and the last (``cases``).
    grid = cases(calls)

    def check(fault) -> list[str]:
        run(world, at + timedelta(minutes=10))  # past the lease (5 minutes) and the backoff
        sent = len(health_mail(world))
        wrong = (
            []
            if sent == 1 or (sent == 0 and fault.name == "SES MessageRejected")
            else [f"sent {sent} times"]
        )
        if reminders.get(*key).due != rome(2026, 11, 2, 8):
            wrong.append(f"next one due {reminders.get(*key).due}")
        return wrong

    offenders = offenders_of_faulted_runs(slot, start, grid, lambda: run(world, at), check)
    assert not offenders, "\n".join(offenders)


def test_an_admin_whose_address_bounces_gets_nothing_even_with_nudges_off(weekly_admins):
    """Nudges off do not stop the weekly email (it was asked for); a bouncing address does."""
    world = weekly_admins
    marco, team_id = world["marco"], world["team"].team_id
    choose(world, marco, True)
    people.update_preferences(people.person(marco.person_id), nudges_on=False)
    people.mark_mail_problem(marco.person_id, "bounce", "550 5.1.1", rome(2026, 10, 20, 9))
    run(world, rome(2026, 10, 26, 8, 1))
    assert health_mail(world) == []
    assert reminders.get(*weekly_key(team_id, marco.person_id)).due == rome(2026, 11, 2, 8)
