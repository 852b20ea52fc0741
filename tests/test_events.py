"""Offline events and their post series (issue 10): planned from a template, moved with the
event, cancelled either way, shown on every calendar view; templates edited by admins."""

from datetime import UTC, date, datetime, timedelta

import pytest
import test_planner
from formdata import form_in
from test_forms_round_trip import assert_unchanged, stored_items
from test_planner_everyday import edited, form_fields
from werkzeug.datastructures import MultiDict

from app.store import events, meter, posts
from app.store.models import Post
from tests.conftest import ROME

cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)


# Helpers shared by the events' tests (the browser test and the instruments import them) ----


def rome(year, month, day, hour=12, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


def new_event_form(client, team_id: str, **fields) -> list[tuple[str, str]]:
    """The new-event form as its page shows it, with ``fields`` filled in."""
    page = client.get(f"/t/{team_id}/events/new")
    assert page.status_code == 200, page.text[:300]
    return edited(_without_csrf(form_in(page.text, id="event-form").fields), **fields)


def _without_csrf(pairs):
    return [(name, value) for name, value in pairs if name != "csrf_token"]


def preview(client, team_id: str, **fields):
    """Send the new-event form: the series preview comes back (or a 422 with messages)."""
    return client.post(
        f"/t/{team_id}/events", data=MultiDict(new_event_form(client, team_id, **fields))
    )


def confirm(client, team_id: str, preview_page: str, **changes):
    """Confirm a preview as shown (or with ``changes``): the event and its posts are saved."""
    pairs = edited(_without_csrf(form_in(preview_page, id="event-form").fields), **changes)
    return client.post(f"/t/{team_id}/events", data=MultiDict([*pairs, ("action", "create")]))


def plan_event(client, team_id: str, **fields):
    """A new event from a template, its series confirmed as proposed; its stored item."""
    shown = preview(client, team_id, **fields)
    assert shown.status_code == 200, shown.text[:500]
    answer = confirm(client, team_id, shown.text)
    assert answer.status_code == 302, answer.text[:500]
    event_id = answer.headers["Location"].rstrip("/").split("/")[-1]
    return events.load(team_id, event_id)


def event_fields(day: date, start="18:00", end="21:00", **more) -> dict:
    return {
        "title": "Autumn tasting",
        "place": "Cantina Aurora, Barolo",
        "start_day": day.isoformat(),
        "start_at": start,
        "end_day": "",
        "end_at": end,
        "template": "tasting",
        **more,
    }


def series_by_step(event) -> dict[str, Post]:
    return {post.series_step: post for post in posts.planned_by(event.team_id, event.event_id)}


def event_page(client, event) -> str:
    return client.get(f"/t/{event.team_id}/events/{event.event_id}").text


def save_event(client, event, **changes):
    shown = form_fields(event_page(client, event), "event-form")
    data = edited(_without_csrf(shown), **changes)
    return client.post(f"/t/{event.team_id}/events/{event.event_id}", data=MultiDict(data))


def _in_a_month(cantina) -> date:
    return cantina["folks"].now().astimezone(ROME).date() + timedelta(days=30)


def local(moment: datetime) -> str:
    return moment.astimezone(ROME).strftime("%Y-%m-%d %H:%M")


# Planning a series -------------------------------------------------------------------------


def test_a_series_from_the_tasting_template_keeps_its_local_times_across_the_dst_switch(
    app, cantina, clock
):
    """Summer time starts in Rome on 28 March 2027: the teaser before it and the posts after it
    are all at their local times."""
    clock.move_to(rome(2027, 3, 1))
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    event = plan_event(client, team.team_id, **event_fields(date(2027, 4, 2)))
    planned = series_by_step(event)
    assert {step: local(post.due) for step, post in planned.items()} == {
        "teaser": "2027-03-26 12:00",
        "reminder": "2027-04-01 12:00",
        "live": "2027-04-02 18:00",
        "recap": "2027-04-03 12:00",
    }
    # In UTC the teaser is an hour later than the reminder, across the switch.
    assert planned["teaser"].due.astimezone(UTC).hour == 11
    assert planned["reminder"].due.astimezone(UTC).hour == 10
    for step, post in planned.items():
        assert post.post_id == f"{event.event_id}-{step}"
        assert (post.status, post.event_id, post.owner_id) == (
            "draft",
            event.event_id,
            bruno.person_id,
        )
        assert post.planned and post.title.startswith("Autumn tasting")
    page = event_page(client, event)
    for post in planned.values():
        assert post.title in page
    assert "Bruno Bianchi" in page and "Draft" in page


def test_the_preview_saves_nothing_and_leaves_out_an_unticked_step_with_another_owner(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    day = cantina["folks"].now().date() + timedelta(days=20)
    shown = preview(client, team.team_id, **event_fields(day))
    assert shown.status_code == 200
    assert events.of_team(team.team_id) == []
    pairs = form_in(shown.text, id="event-form").fields
    kept = [(n, v) for n, v in pairs if not (n == "steps" and v == "reminder")]
    data = [
        *edited(_without_csrf(kept), **{"owner-recap": anna.person_id}),
        ("action", "create"),
    ]
    answer = client.post(f"/t/{team.team_id}/events", data=MultiDict(data))
    assert answer.status_code == 302
    (event,) = events.of_team(team.team_id)
    planned = series_by_step(event)
    assert set(planned) == {"teaser", "live", "recap"}
    assert planned["recap"].owner_id == anna.person_id
    assert planned["teaser"].owner_id == bruno.person_id


def test_steps_already_past_are_not_planned_and_the_page_says_so(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    day = cantina["folks"].now().astimezone(ROME).date() + timedelta(days=3)
    shown = preview(client, team.team_id, **event_fields(day))
    assert "Already past: it will not be planned." in shown.text
    answer = confirm(client, team.team_id, shown.text)
    page = client.get(answer.headers["Location"]).text
    assert "“Teaser” was not planned: its time" in page
    (event,) = events.of_team(team.team_id)
    assert set(series_by_step(event)) == {"reminder", "live", "recap"}


def test_sending_the_confirmation_twice_plans_each_post_once(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    day = cantina["folks"].now().date() + timedelta(days=20)
    shown = preview(client, team.team_id, **event_fields(day))
    assert confirm(client, team.team_id, shown.text).status_code == 302
    assert confirm(client, team.team_id, shown.text).status_code == 302
    (event,) = events.of_team(team.team_id)
    assert len(posts.planned_by(team.team_id, event.event_id)) == 4


def test_an_event_without_a_series_is_saved_at_once(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    day = cantina["folks"].now().date() + timedelta(days=5)
    answer = preview(client, team.team_id, **event_fields(day, template=""))
    assert answer.status_code == 302
    (event,) = events.of_team(team.team_id)
    assert posts.planned_by(team.team_id, event.event_id) == []


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"title": "  "}, "Give the event a title."),
        ({"start_day": "2026-02-30"}, "Enter a date like 2026-12-05."),
        ({"start_at": "25:00"}, "Enter a time like 18:30."),
        ({"end_at": "17:00"}, "It has to end after it starts."),
        ({"zone": "Mars/Olympus"}, "Choose a time zone from the list."),
        ({"template": "nope"}, "Choose a series from the list."),
        ({"partner": "P" * 101}, "Keep the partner&#39;s name under 100 characters."),
    ],
)
def test_bad_event_input_is_a_422_with_a_message_and_saves_nothing(app, cantina, changes, message):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    day = cantina["folks"].now().date() + timedelta(days=20)
    answer = preview(client, team.team_id, **{**event_fields(day), **changes})
    assert answer.status_code == 422
    assert message in answer.text
    assert events.of_team(team.team_id) == []


def test_an_owner_of_a_step_who_cannot_post_is_refused_with_a_message(app, cantina):
    team, bruno, carla = cantina["team"], cantina["bruno"], cantina["carla"]
    client = cantina["folks"].client_for(bruno)
    day = cantina["folks"].now().date() + timedelta(days=20)
    shown = preview(client, team.team_id, **event_fields(day))
    answer = confirm(client, team.team_id, shown.text, **{"owner-live": carla.person_id})
    assert answer.status_code == 422
    assert "Choose each post&#39;s owner among those who can post." in answer.text
    assert events.of_team(team.team_id) == []


# Moving the event --------------------------------------------------------------------------


def _hand_edit(client, post, **changes):
    panel = client.get(f"/t/{post.team_id}/posts/{post.post_id}").text
    data = _without_csrf(edited(form_fields(panel), **changes))
    answer = client.post(f"/t/{post.team_id}/posts/{post.post_id}", data=MultiDict(data))
    assert answer.status_code == 302, answer.text[:300]


def test_moving_the_event_moves_untouched_posts_by_as_much_and_leaves_hand_changed_ones(
    app, cantina
):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    day = cantina["folks"].now().astimezone(ROME).date() + timedelta(days=20)
    event = plan_event(client, team.team_id, **event_fields(day))
    before = series_by_step(event)
    _hand_edit(client, before["reminder"], title="Tomorrow: our own words")
    answer = save_event(client, event, start_day=(day + timedelta(days=2)).isoformat())
    assert answer.status_code == 302
    after = series_by_step(event)
    for step in ("teaser", "live", "recap"):
        was = before[step].due.astimezone(ROME)
        assert after[step].due.astimezone(ROME) == was + timedelta(days=2)
        assert after[step].planned
    assert after["reminder"].due == before["reminder"].due
    page = client.get(answer.headers["Location"]).text
    assert "3 posts of its series moved with it." in page
    assert "“Tomorrow: our own words” was not moved: someone changed it by hand" in page
    # Saved again as shown: nothing moves twice.
    assert save_event(client, events.load(team.team_id, event.event_id)).status_code == 302
    assert {step: post.due for step, post in series_by_step(event).items()} == {
        step: post.due for step, post in after.items()
    }


def test_moving_the_event_never_moves_a_post_into_the_past_and_says_which(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    today = cantina["folks"].now().astimezone(ROME).date()
    event = plan_event(client, team.team_id, **event_fields(today + timedelta(days=10)))
    before = series_by_step(event)
    answer = save_event(client, event, start_day=(today + timedelta(days=4)).isoformat())
    after = series_by_step(event)
    assert after["teaser"].due == before["teaser"].due  # 7 days before: 3 days ago
    assert after["live"].due == before["live"].due - timedelta(days=6)
    page = client.get(answer.headers["Location"]).text
    assert "was not moved: its new time would be in the past" in page


def test_the_event_form_saved_as_shown_changes_nothing(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    event = plan_event(
        client,
        team.team_id,
        **event_fields(_in_a_month(cantina), partner="Enoteca Lumen", notes="Six wines"),
    )
    before = stored_items()
    assert save_event(client, event).status_code == 302
    assert_unchanged(before, stored_items())
    page = event_page(client, event)
    assert 'value="Enoteca Lumen"' in page and "Six wines</textarea>" in page


def test_a_stale_event_edit_is_a_409_and_overwrites_nothing(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    mine, theirs = (cantina["folks"].client_for(someone) for someone in (bruno, anna))
    event = plan_event(mine, team.team_id, **event_fields(_in_a_month(cantina)))
    shown = _without_csrf(form_fields(event_page(mine, event), "event-form"))
    assert save_event(theirs, event, place="Enoteca Lumen, London").status_code == 302
    answer = mine.post(
        f"/t/{team.team_id}/events/{event.event_id}", data=MultiDict(edited(shown, title="Mine"))
    )
    assert answer.status_code == 409
    assert "Someone else saved this event while you were editing it" in answer.text
    stored = events.load(team.team_id, event.event_id)
    assert (stored.title, stored.place) == ("Autumn tasting", "Enoteca Lumen, London")


# Cancelling --------------------------------------------------------------------------------


def _cancel(client, event, choice):
    page = event_page(client, event)
    data = _without_csrf(form_in(page, id="cancel-form").fields)
    data = edited(data, series=choice) if choice else data
    return client.post(f"/t/{event.team_id}/events/{event.event_id}/cancel", data=MultiDict(data))


def test_cancelling_can_remove_the_untouched_drafts_and_keeps_hand_changed_ones(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    event = plan_event(client, team.team_id, **event_fields(_in_a_month(cantina)))
    _hand_edit(client, series_by_step(event)["recap"], title="How it went, our words")
    answer = _cancel(client, event, "remove")
    assert answer.status_code == 302
    assert set(series_by_step(event)) == {"recap"}
    page = client.get(answer.headers["Location"]).text
    assert "3 untouched drafts of its series removed." in page
    assert "“How it went, our words” was kept" in page
    assert 'id="event-cancelled"' in page and "<s>Autumn tasting</s>" in page
    assert 'id="cancel-form"' not in page


def test_cancelling_can_keep_the_posts(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    event = plan_event(client, team.team_id, **event_fields(_in_a_month(cantina)))
    assert _cancel(client, event, "keep").status_code == 302
    assert events.load(team.team_id, event.event_id).state == "cancelled"
    assert len(series_by_step(event)) == 4
    month = f"{event.starts_at.astimezone(ROME):%Y-%m}"
    grid = client.get(f"/t/{team.team_id}/month/{month}").text
    assert 'class="event-band cancelled"' in grid


def test_cancelling_without_saying_what_happens_to_the_posts_is_a_422(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    event = plan_event(client, team.team_id, **event_fields(_in_a_month(cantina)))
    answer = _cancel(client, event, None)
    assert answer.status_code == 422
    assert "Say what happens to the posts of its series." in answer.text
    assert events.load(team.team_id, event.event_id).state == "planned"


# The calendar ------------------------------------------------------------------------------


@pytest.fixture
def tasting(app, cantina, clock):
    """A tasting on 10 December 2026 in Rome, with its series, and a post of Anna's."""
    clock.move_to(rome(2026, 11, 20))
    client = cantina["folks"].client_for(cantina["bruno"])
    event = plan_event(client, cantina["team"].team_id, **event_fields(date(2026, 12, 10)))
    test_planner._post(cantina["team"], cantina["anna"], rome(2026, 12, 10, 9), "Harvest notes")
    return event


@pytest.mark.parametrize("view", ["month/2026-12", "week/2026-12-07", "agenda?from=2026-12-01"])
def test_events_show_on_every_calendar_view_as_bands_linking_to_their_page(
    app, cantina, tasting, view
):
    team = cantina["team"]
    client = cantina["folks"].client_for(cantina["carla"])
    page = client.get(f"/t/{team.team_id}/{view}").text
    event_id = tasting.event_id
    assert (
        f'<a class="event-band" id="event-{event_id}" href="/t/{team.team_id}/events/{event_id}"'
        in page
    )
    assert "Autumn tasting: we are live" in page  # its live post, a chip beside it


def test_the_month_view_with_events_and_series_is_still_three_dynamodb_calls(app, cantina, tasting):
    client = cantina["folks"].client_for(cantina["anna"])
    with meter.metered() as counted:
        page = client.get(f"/t/{cantina['team'].team_id}/month/2026-12")
    assert page.status_code == 200 and 'class="event-band"' in page.text
    assert counted.calls == ["BatchGetItem", "Query", "Query"]


def test_post_filters_do_not_hide_events(app, cantina, tasting):
    team = cantina["team"]
    client = cantina["folks"].client_for(cantina["anna"])
    page = client.get(f"/t/{team.team_id}/month/2026-12?channel=Nope&status=published").text
    assert f'id="event-{tasting.event_id}"' in page


def test_a_series_post_says_which_event_and_step_it_belongs_to(app, cantina, tasting):
    team = cantina["team"]
    client = cantina["folks"].client_for(cantina["carla"])
    panel = client.get(f"/t/{team.team_id}/posts/{tasting.event_id}-teaser").text
    assert "Part of" in panel and "Autumn tasting" in panel and "(Teaser)" in panel


def test_viewers_see_the_event_page_without_its_forms(app, cantina, tasting):
    client = cantina["folks"].client_for(cantina["carla"])
    page = event_page(client, tasting)
    assert "Autumn tasting: see you on" in page
    assert 'id="event-form"' not in page and 'id="cancel-form"' not in page


# Series templates --------------------------------------------------------------------------


def _template_form(client, team_id, template_id):
    page = client.get(f"/t/{team_id}/series?template={template_id}").text
    return _without_csrf(form_fields(page, f"template-{template_id}"))


def test_the_defaults_are_offered_until_the_team_saves_and_a_template_round_trips(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    client = cantina["folks"].client_for(anna)
    assert events.templates(team.team_id) == []
    shown = _template_form(client, team.team_id, "tasting")
    changed = edited(shown, **{"steps-0-days": "-10", "steps-0-time": "09:30", "name": "Tasting"})
    answer = client.post(f"/t/{team.team_id}/series", data=MultiDict(changed))
    assert answer.status_code == 302, answer.text[:500]
    stored = {template.template_id: template for template in events.templates(team.team_id)}
    assert set(stored) == {"tasting", "fair", "openday"}  # the first save keeps them all
    teaser = stored["tasting"].steps[0]
    assert (teaser["step"], teaser["days"], teaser["time"]) == ("teaser", -10, "09:30")
    # The page shows what is stored, and saving it as shown changes nothing.
    again = _template_form(client, team.team_id, "tasting")
    assert ("steps-0-days", "-10") in again and ("steps-0-time", "09:30") in again
    before = stored_items()
    assert client.post(f"/t/{team.team_id}/series", data=MultiDict(again)).status_code == 302
    assert_unchanged(before, stored_items())


def test_a_new_template_and_a_removed_step(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    client = cantina["folks"].client_for(anna)
    new = _template_form(client, team.team_id, "new")
    filled = edited(
        new,
        name="Meetup",
        **{
            "steps-0-label": "Invitation",
            "steps-0-days": "-3",
            "steps-0-time": "10:00",
            "steps-0-title": "{event} at {place}: join us",
        },
    )
    assert client.post(f"/t/{team.team_id}/series", data=MultiDict(filled)).status_code == 302
    meetup = next(t for t in events.templates(team.team_id) if t.name == "Meetup")
    assert [step["step"] for step in meetup.steps] == ["invitation"]
    tasting = _template_form(client, team.team_id, "tasting")
    emptied = edited(tasting, **{"steps-1-label": ""})
    assert client.post(f"/t/{team.team_id}/series", data=MultiDict(emptied)).status_code == 302
    stored = next(t for t in events.templates(team.team_id) if t.template_id == "tasting")
    assert [step["step"] for step in stored.steps] == ["teaser", "live", "recap"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"steps-0-title": "{event} on {day}"}, "Unknown: {day}."),
        ({"steps-0-days": "-400"}, "Enter a number of days between -90 (before) and 30"),
        ({"steps-0-days": "soon"}, "Enter a number of days between"),
        ({"steps-0-time": "7pm"}, "Enter a time like 18:30."),
        ({"name": ""}, "Name the template."),
        ({"steps-0-channels": "Myspace"}, "Unknown channel: Myspace."),
    ],
)
def test_bad_template_input_is_a_422_with_a_message_and_saves_nothing(
    app, cantina, changes, message
):
    team, anna = cantina["team"], cantina["anna"]
    client = cantina["folks"].client_for(anna)
    shown = _template_form(client, team.team_id, "tasting")
    answer = client.post(f"/t/{team.team_id}/series", data=MultiDict(edited(shown, **changes)))
    assert answer.status_code == 422
    assert message in answer.text
    assert events.templates(team.team_id) == []


def test_a_stale_template_edit_is_a_409(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    client = cantina["folks"].client_for(anna)
    shown = _template_form(client, team.team_id, "tasting")
    assert client.post(f"/t/{team.team_id}/series", data=MultiDict(shown)).status_code == 302
    stored = _template_form(client, team.team_id, "tasting")
    first = edited(stored, **{"steps-0-days": "-8"})
    second = edited(stored, **{"steps-0-days": "-9"})
    assert client.post(f"/t/{team.team_id}/series", data=MultiDict(first)).status_code == 302
    answer = client.post(f"/t/{team.team_id}/series", data=MultiDict(second))
    assert answer.status_code == 409
    kept = next(t for t in events.templates(team.team_id) if t.template_id == "tasting")
    assert kept.steps[0]["days"] == -8


def test_a_saved_template_is_what_new_events_propose(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    client = cantina["folks"].client_for(anna)
    shown = _template_form(client, team.team_id, "tasting")
    assert (
        client.post(
            f"/t/{team.team_id}/series", data=MultiDict(edited(shown, **{"steps-0-days": "-5"}))
        ).status_code
        == 302
    )
    day = cantina["folks"].now().astimezone(ROME).date() + timedelta(days=20)
    event = plan_event(client, team.team_id, **event_fields(day))
    teaser = series_by_step(event)["teaser"]
    assert teaser.due.astimezone(ROME).date() == day - timedelta(days=5)


@pytest.mark.parametrize("view", ["month/2026-12", "week/2026-12-07", "agenda?from=2026-12-01"])
def test_the_views_swapped_in_by_htmx_show_events_too(app, cantina, tasting, view):
    client = cantina["folks"].client_for(cantina["anna"])
    page = client.get(f"/t/{cantina['team'].team_id}/{view}", headers={"HX-Request": "true"})
    assert page.status_code == 200 and "<html" not in page.text
    assert f'id="event-{tasting.event_id}"' in page.text
