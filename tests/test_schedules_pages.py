"""The schedule pages: the form round-trips, previews, refuses bad input and stale edits."""

import pytest
from werkzeug.datastructures import MultiDict

from app.store import schedules
from tests.formdata import form_in
from tests.test_planner_everyday import edited
from tests.test_schedules import MONDAY, slots, trio  # noqa: F401  (the fixture)


def _page_form(client, url: str) -> list[tuple[str, str]]:
    return [
        pair
        for pair in form_in(client.get(url).text, id="schedule-form").fields
        if pair[0] != "csrf_token"
    ]


@pytest.fixture
def admin(trio):  # noqa: F811
    return trio["folks"].client_for(trio["anna"])


def _new_form(trio, admin, **changes):  # noqa: F811
    shown = _page_form(admin, f"/t/{trio['team_id']}/schedules/new")
    people = [trio[name].person_id for name in ("anna", "bruno", "carla")]
    filled = {
        "title": "Instagram — {date}",
        "channels": ["Instagram"],
        "weekdays": ["1", "4"],
        "at": "18:00",
        "owners": people,
    } | changes
    return edited(shown, **filled)


def _create(trio, admin, **changes):  # noqa: F811
    """A schedule of four posts (enough to see, quick to plan), made through the form."""
    changes = {"end": "count", "count": "4"} | changes
    response = admin.post(
        f"/t/{trio['team_id']}/schedules", data=MultiDict(_new_form(trio, admin, **changes))
    )
    assert response.status_code == 302, response.text
    return schedules.of_team(trio["team_id"])[0]


def test_the_preview_lists_the_next_ten_posts_with_owners_and_saves_nothing(trio, admin):  # noqa: F811
    data = MultiDict(_new_form(trio, admin))
    data["preview"] = "1"
    page = admin.post(f"/t/{trio['team_id']}/schedules", data=data)
    assert page.status_code == 200
    assert page.text.count("Instagram — ") >= 10
    assert "Anna Rossi" in page.text and "Carla Verdi" in page.text
    assert schedules.of_team(trio["team_id"]) == []
    # As an htmx swap: only the editor part of the page.
    swapped = admin.post(
        f"/t/{trio['team_id']}/schedules", data=data, headers={"HX-Request": "true"}
    )
    assert 'id="schedule-editor"' in swapped.text and "<html" not in swapped.text


def test_the_form_shows_what_is_stored_and_saving_it_unchanged_changes_nothing(trio, admin):  # noqa: F811
    schedule = _create(trio, admin)
    url = f"/t/{trio['team_id']}/schedules/{schedule.schedule_id}"
    shown = _page_form(admin, url)
    values = MultiDict(shown)
    assert values.getlist("weekdays") == ["1", "4"]
    assert values["at"] == "18:00" and values["zone"] == "Europe/Rome"
    assert [person for person in values.getlist("owners") if person] == schedule.owners
    before = [(post.post_id, post.version) for post in slots(trio, schedule)]
    response = admin.post(url, data=MultiDict(shown))
    assert response.status_code == 302
    assert schedules.load(trio["team_id"], schedule.schedule_id).version == schedule.version
    assert [(post.post_id, post.version) for post in slots(trio, schedule)] == before


def test_saving_a_change_says_how_many_posts_were_replanned_and_kept(trio, admin):  # noqa: F811
    schedule = _create(trio, admin)
    url = f"/t/{trio['team_id']}/schedules/{schedule.schedule_id}"
    page = admin.get(url).text
    assert "keep their edits" in page
    response = admin.post(url, data=MultiDict(edited(_page_form(admin, url), at="19:00")))
    assert response.status_code == 302
    assert "4 posts re-planned, 0 posts kept" in admin.get(url).text


def test_a_stale_edit_is_a_409_and_overwrites_nothing(trio, admin):  # noqa: F811
    schedule = _create(trio, admin)
    url = f"/t/{trio['team_id']}/schedules/{schedule.schedule_id}"
    mine, theirs = _page_form(admin, url), _page_form(admin, url)
    assert admin.post(url, data=MultiDict(edited(theirs, title="Theirs"))).status_code == 302
    response = admin.post(url, data=MultiDict(edited(mine, title="Mine")))
    assert response.status_code == 409
    assert "nothing was overwritten" in response.text
    assert schedules.load(trio["team_id"], schedule.schedule_id).title == "Theirs"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "IG {when}"}, "title", "Unknown placeholder: {when}"),
        ({"weekdays": []}, "weekdays", "Choose at least one day of the week."),
        ({"every": "0"}, "every", "1 to 52 weeks"),
        ({"at": "25:00"}, "at", "Enter a time like 18:00."),
        ({"owners": []}, "owners", "Choose who posts"),
        ({"end": "until", "until": "2020-01-01"}, "until", "on or after the first"),
        ({"freq": "monthly_day", "month_day": "32"}, "month_day", "from 1 to 31"),
        ({"channels": ["Carrier pigeon"]}, "channels", "Choose channels from the team"),
    ],
)
def test_bad_values_are_field_messages_and_nothing_is_written(trio, admin, changes, field, message):  # noqa: F811
    response = admin.post(
        f"/t/{trio['team_id']}/schedules", data=MultiDict(_new_form(trio, admin, **changes))
    )
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text and message in response.text
    assert schedules.of_team(trio["team_id"]) == []


def test_skipping_from_the_schedule_page_removes_that_post(trio, admin):  # noqa: F811
    schedule = _create(trio, admin)
    first = slots(trio, schedule)[0]
    url = f"/t/{trio['team_id']}/schedules/{schedule.schedule_id}"
    day = first.due.astimezone(MONDAY.tzinfo).date().isoformat()
    response = admin.post(f"{url}/skip", data={"day": day, "version": str(schedule.version)})
    assert response.status_code == 302
    assert first.post_id not in {post.post_id for post in slots(trio, schedule)}
    # Sent again (a try cut short): done already. Another day from the stale page: refused.
    again = admin.post(f"{url}/skip", data={"day": day, "version": str(schedule.version)})
    assert again.status_code == 302
    later = slots(trio, schedule)[0].due.astimezone(MONDAY.tzinfo).date().isoformat()
    stale = admin.post(f"{url}/skip", data={"day": later, "version": str(schedule.version)})
    assert stale.status_code == 409
    assert later in {post.occurrence[:10] for post in slots(trio, schedule)}


def test_viewers_see_schedules_but_cannot_change_them(trio, admin):  # noqa: F811
    schedule = _create(trio, admin)
    viewer = trio["folks"].person("vera@example.com", "Vera")
    trio["folks"].join(schedules_team(trio), viewer, "viewer")
    client = trio["folks"].client_for(viewer)
    listed = client.get(f"/t/{trio['team_id']}/schedules")
    assert listed.status_code == 200 and "Instagram — {date}" in listed.text
    url = f"/t/{trio['team_id']}/schedules/{schedule.schedule_id}"
    page = client.get(url)
    assert page.status_code == 200 and 'id="schedule-form"' not in page.text
    assert client.post(f"{url}/state", data={"action": "pause"}).status_code == 403


def test_the_slots_panel_says_which_schedule_planned_it(trio, admin):  # noqa: F811
    schedule = _create(trio, admin)
    first = slots(trio, schedule)[0]
    panel = admin.get(f"/t/{trio['team_id']}/posts/{first.post_id}").text
    assert f"/t/{trio['team_id']}/schedules/{schedule.schedule_id}" in panel
    assert "your edits are kept when the schedule changes" in panel
    # Its "Skip this occurrence" sends no version: skipping a day overwrites nothing.
    skip = form_in(panel, action=f"/t/{trio['team_id']}/schedules/{schedule.schedule_id}/skip")
    assert admin.post(skip.action, data=skip.data()).status_code == 302
    assert first.post_id not in {post.post_id for post in slots(trio, schedule)}


def schedules_team(trio):  # noqa: F811
    from app.store import teams

    return teams.team(trio["team_id"])


def test_a_schedule_whose_deletion_was_cut_short_can_only_be_deleted(trio, admin):  # noqa: F811
    """A delete that met a fault leaves the schedule "deleting", out of the job's index: a
    save, a skip or a pause sent then must not bring it back to life (nor withdraw the posts
    the person chose to keep); deleting it again finishes the work."""
    schedule = _create(trio, admin)
    url = f"/t/{trio['team_id']}/schedules/{schedule.schedule_id}"
    shown = MultiDict(_page_form(admin, url))
    schedule.state = "deleting"
    schedules.save(schedule, now=schedule.updated_at, extend_at=None)
    before = [(post.post_id, post.version) for post in slots(trio, schedule)]
    version = str(schedule.version)
    day = slots(trio, schedule)[0].due.date().isoformat()
    for path, data in (
        ("", shown),
        ("", MultiDict(edited(list(shown.items(multi=True)), title="Renamed — {date}"))),
        ("/state", {"action": "pause", "version": version}),
        ("/state", {"action": "resume", "version": version}),
        ("/skip", {"day": day, "version": version}),
    ):
        assert admin.post(url + path, data=data).status_code == 409, path
        stored = schedules.load(trio["team_id"], schedule.schedule_id)
        assert stored.state == "deleting" and stored.due_sk is None, path
        assert [(post.post_id, post.version) for post in slots(trio, schedule)] == before, path
    data = {"slots": "keep", "version": version}
    assert admin.post(f"{url}/delete", data=data).status_code == 302
    assert schedules.load(trio["team_id"], schedule.schedule_id) is None
