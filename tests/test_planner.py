"""The calendar: views, month boundaries in the viewer's zone, posts, moves, conflicts."""

import re
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app.planner import periods
from app.store import meter, posts
from app.store.models import Post

ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def cantina(folks):
    """Anna (admin), Bruno (editor), Carla (viewer) in Cantina Aurora; Eve in another team."""
    anna = folks.person("anna@example.com", "Anna Rossi", zone="Europe/Rome")
    bruno = folks.person("bruno@example.com", "Bruno Bianchi", zone="Europe/Rome")
    carla = folks.person("carla@example.com", "Carla Verdi", zone="Europe/Rome")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, bruno, "editor")
    folks.join(team, carla, "viewer")
    eve = folks.person("eve@example.com", "Eve", zone="UTC")
    other = folks.team(eve, "Other")
    return {
        "anna": anna,
        "bruno": bruno,
        "carla": carla,
        "team": team,
        "eve": eve,
        "other": other,
        "folks": folks,
    }


def _post(team, owner, due, title="A post", channels=("Instagram",), status="draft", tags=()):
    post = posts.new_post(
        team.team_id,
        title=title,
        zone="Europe/Rome",
        created_by=owner.person_id,
        now=datetime.now(UTC),
        due=due,
        owner_id=owner.person_id if due else None,
        channels=channels,
        status=status,
        tags=tags,
    )
    posts.create(post, copy="Copy")
    return post


def _rome(*args) -> datetime:
    return datetime(*args, tzinfo=ROME).astimezone(UTC)


def _form(**values):
    base = {
        "title": "Tasting teaser",
        "copy": "See you there",
        "channels": ["Instagram"],
        "owner": "",
        "day": "",
        "at": "",
        "status": "draft",
        "reviewer": "",
        "tags": "",
        "notes": "",
        "published_url": "",
        "version": "",
    }
    base.update(values)
    return base


# Periods -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "in_december"),
    [
        ("Europe/Rome", True),
        ("UTC", False),
        ("America/Los_Angeles", False),
        ("Asia/Tokyo", True),
    ],
)
def test_a_post_belongs_to_the_month_of_the_viewers_zone(zone, in_december):
    at = _rome(2026, 12, 1, 0, 30)  # 2026-11-30 23:30 UTC
    december = periods.Month(2026, 12)
    start, end = periods.bounds(december.first, december.after_last, ZoneInfo(zone))
    assert (start <= at < end) is in_december


def test_days_across_the_dst_switches_are_23_and_25_hours():
    spring = periods.bounds(date(2027, 3, 28), date(2027, 3, 29), ROME)
    autumn = periods.bounds(date(2026, 10, 25), date(2026, 10, 26), ROME)
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn[1] - autumn[0] == timedelta(hours=25)


def test_a_day_whose_midnight_does_not_exist_starts_when_the_clock_jumps():
    santiago = ZoneInfo("America/Santiago")  # clocks jump from 00:00 to 01:00 on 2026-09-06
    start, end = periods.bounds(date(2026, 9, 6), date(2026, 9, 7), santiago)
    assert start.astimezone(santiago).hour == 1 and end - start == timedelta(hours=23)


@pytest.mark.parametrize("week_start", [0, 6])
def test_month_grids_are_whole_weeks_from_the_chosen_first_day(week_start):
    weeks = periods.Month(2027, 2).weeks(week_start)
    assert all(len(week) == 7 for week in weeks)
    assert weeks[0][0].weekday() == week_start
    assert date(2027, 2, 1) in weeks[0] and date(2027, 2, 28) in weeks[-1]


@pytest.mark.parametrize("text", ["0001-01", "9999-12", "2026-13", "2026-1", "abc", "2026-00"])
def test_months_out_of_range_or_malformed_are_refused(text):
    assert periods.Month.parse(text) is None


# Views -------------------------------------------------------------------------------------


def test_the_month_view_shows_the_months_posts_in_the_viewers_zone(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    first = _post(team, anna, _rome(2026, 12, 1, 0, 30), "Midnight teaser")
    _post(team, anna, _rome(2026, 11, 30, 23, 0), "November post")
    page = cantina["folks"].client_for(anna).get(f"/t/{team.team_id}/month/2026-12")
    assert page.status_code == 200
    cell = page.text.split('id="day-2026-12-01"')[1].split("</td>")[0]
    assert "Midnight teaser" in cell and "00:30" in cell and f"post-{first.post_id}" in cell
    assert "November post" not in cell
    grey = page.text.split('id="day-2026-11-30"')[1].split("</td>")[0]  # the grid's first day
    assert "November post" in grey


def test_the_same_post_is_in_november_for_a_viewer_in_utc(app, cantina):
    team, anna, folks = cantina["team"], cantina["anna"], cantina["folks"]
    _post(team, anna, _rome(2026, 12, 1, 0, 30), "Midnight teaser")
    someone = folks.person("utc@example.com", "Uma", zone="UTC")
    folks.join(team, someone, "viewer")
    client = folks.client_for(someone)
    for month in ("2026-11", "2026-12"):  # 30 November is in both grids
        page = client.get(f"/t/{team.team_id}/month/{month}").text
        assert "Midnight teaser" in page.split('id="day-2026-11-30"')[1].split("</td>")[0]
        assert "Midnight teaser" not in page.split('id="day-2026-12-01"')[1].split("</td>")[0]


def test_the_month_view_is_at_most_three_dynamodb_calls(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    for day in range(1, 11):
        _post(team, anna, _rome(2026, 12, day, 10))
    client = cantina["folks"].client_for(anna)
    with meter.metered() as counted:
        assert client.get(f"/t/{team.team_id}/month/2026-12").status_code == 200
    assert counted.calls == ["BatchGetItem", "Query", "Query"]


def test_today_is_marked_and_overdue_posts_stand_out(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    with time_machine.travel(datetime(2026, 12, 10, 12, tzinfo=UTC), tick=False):
        _post(team, anna, _rome(2026, 12, 9, 10), "Late one")
        _post(team, anna, _rome(2026, 12, 8, 10), "Done one", status="published")
        page = cantina["folks"].client_for(anna).get(f"/t/{team.team_id}/").text
    assert re.search(r'id="day-2026-12-10"[^>]*class="day today"[^>]*aria-current="date"', page)
    late = page.split('id="day-2026-12-09"')[1].split("</td>")[0]
    done = page.split('id="day-2026-12-08"')[1].split("</td>")[0]
    assert "overdue" in late and "Overdue" in late
    assert "overdue" not in done


def test_filters_combine_and_stay_in_the_links(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    _post(team, anna, _rome(2026, 12, 3, 10), "Anna IG", channels=["Instagram"], tags=["tasting"])
    _post(team, anna, _rome(2026, 12, 4, 10), "Anna FB", channels=["Facebook"])
    _post(
        team,
        bruno,
        _rome(2026, 12, 5, 10),
        "Bruno IG",
        channels=["Instagram"],
        status="approved",
        tags=["tasting"],
    )
    client = cantina["folks"].client_for(anna)
    base = f"/t/{team.team_id}/month/2026-12"

    def titles(query):
        page = client.get(f"{base}?{query}").text
        return sorted(t for t in ("Anna IG", "Anna FB", "Bruno IG") if t in page), page

    assert titles(f"owner={anna.person_id}")[0] == ["Anna FB", "Anna IG"]
    assert titles("channel=Instagram")[0] == ["Anna IG", "Bruno IG"]
    assert titles("status=approved")[0] == ["Bruno IG"]
    assert titles("tag=tasting&channel=Instagram&status=draft")[0] == ["Anna IG"]
    found, page = titles("owner=nobody&channel=Telegraph&status=lost")
    assert found == ["Anna FB", "Anna IG", "Bruno IG"]  # unknown values are ignored
    found, page = titles("channel=Instagram")
    assert f"/t/{team.team_id}/month/2027-01?channel=Instagram" in page


def test_htmx_navigation_gets_the_calendar_fragment(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    response = (
        cantina["folks"]
        .client_for(anna)
        .get(f"/t/{team.team_id}/month/2026-12", headers={"HX-Request": "true"})
    )
    assert response.text.lstrip().startswith('<section id="calendar"')
    assert "<html" not in response.text


def test_the_week_view_starts_on_the_persons_first_day(app, cantina, folks):
    team, anna = cantina["team"], cantina["anna"]
    _post(team, anna, _rome(2026, 12, 9, 18, 15), "Wednesday post")
    client = folks.client_for(anna)
    response = client.get(f"/t/{team.team_id}/week/2026-12-10")
    assert response.headers["Location"].endswith(f"/t/{team.team_id}/week/2026-12-07")
    page = client.get(f"/t/{team.team_id}/week/2026-12-07").text
    assert "Wednesday post" in page and "18:15" in page
    folks_client = folks.client_for(anna)
    folks_client.post(
        "/me",
        data={"name": "Anna Rossi", "language": "en", "zone": "Europe/Rome", "week_start": "6"},
    )
    assert (
        folks_client.get(f"/t/{team.team_id}/week/2026-12-10")
        .headers["Location"]
        .endswith("/week/2026-12-06")
    )


def test_the_agenda_lists_the_next_30_days_by_day_with_overdue_first(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    with time_machine.travel(datetime(2026, 12, 10, 12, tzinfo=UTC), tick=False):
        _post(team, anna, _rome(2026, 12, 8, 9), "Forgotten")
        _post(team, anna, _rome(2026, 12, 12, 9), "Soon")
        _post(team, anna, _rome(2027, 1, 20, 9), "Too far")
        page = cantina["folks"].client_for(anna).get(f"/t/{team.team_id}/agenda").text
    assert page.index("Overdue") < page.index("Forgotten") < page.index("Soon")
    assert "Too far" not in page


def test_my_posts_span_my_teams_and_skip_teams_i_left(app, cantina):
    team, anna, folks = cantina["team"], cantina["anna"], cantina["folks"]
    second = folks.team(anna, "Enoteca")
    folks.join(second, cantina["bruno"], "admin")  # so that Anna may leave it
    soon = datetime.now(UTC) + timedelta(days=2)
    _post(team, anna, soon, "Cantina post")
    _post(second, anna, soon, "Enoteca post")
    _post(team, cantina["bruno"], soon, "Not mine")
    client = folks.client_for(anna)
    page = client.get("/my/posts").text
    assert "Cantina post" in page and "Enoteca post" in page and "Not mine" not in page
    assert client.post(f"/t/{second.team_id}/leave").status_code == 302
    assert "Enoteca post" not in client.get("/my/posts").text


def test_my_posts_includes_a_post_just_saved_even_if_the_index_lags(app, cantina, monkeypatch):
    team, anna = cantina["team"], cantina["anna"]
    client = cantina["folks"].client_for(anna)
    day = (datetime.now(UTC) + timedelta(days=3)).astimezone(ROME).date()
    response = client.post(
        f"/t/{team.team_id}/posts",
        data=_form(title="Fresh post", owner=anna.person_id, day=day.isoformat(), at="10:00"),
    )
    assert response.status_code == 302
    monkeypatch.setattr(posts, "owned_between", lambda *args: [])  # a GSI that has not caught up
    assert "Fresh post" in client.get("/my/posts").text


# Creating and editing ----------------------------------------------------------------------


def test_an_editor_creates_a_post_for_a_day_in_their_zone(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    form_page = client.get(f"/t/{team.team_id}/posts/new?date=2026-12-05")
    assert 'value="2026-12-05"' in form_page.text and 'value="09:00"' in form_page.text
    response = client.post(
        f"/t/{team.team_id}/posts",
        data=_form(
            owner=bruno.person_id,
            day="2026-12-05",
            at="10:30",
            tags="tasting, autumn",
            channels=["Instagram", "Facebook"],
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/t/{team.team_id}/month/2026-12")
    (post,) = posts.due_between(team.team_id, _rome(2026, 12, 5), _rome(2026, 12, 6))
    assert post.due == _rome(2026, 12, 5, 10, 30) and post.zone == "Europe/Rome"
    assert post.channels == ["Instagram", "Facebook"] and post.tags == {"tasting", "autumn"}
    assert cantina["folks"].app.extensions  # the team remembers its tags for autocompletion
    assert {"tasting", "autumn"} <= set(client.get(f"/t/{team.team_id}/posts/new").text.split('"'))


def test_an_undated_post_is_an_idea(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    response = (
        cantina["folks"]
        .client_for(bruno)
        .post(
            f"/t/{team.team_id}/posts",
            data=_form(title="Someday", status="idea"),
            headers={"HX-Request": "true"},
        )
    )
    assert response.status_code == 201 and response.headers["HX-Trigger"] == "calendar-changed"
    assert [p.title for p in posts.ideas(team.team_id)] == ["Someday"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"title": ""}, "Give the post a title."),
        ({"title": "x" * 201}, "Keep the title under 200 characters."),
        ({"day": "2026-13-45"}, "Enter a date like 2026-12-05."),
        ({"day": "0001-01-01"}, "Choose a date between 2000 and 2100."),
        ({"day": "9999-12-31"}, "Choose a date between 2000 and 2100."),
        ({"day": "2026-12-05", "at": "25:99"}, "Enter a time like 09:30."),
        ({"at": "10:00"}, "Pick a date for this time."),
        ({"day": "2026-12-05", "owner": ""}, "A post with a date needs an owner."),
        ({"owner": "someone-else"}, "Choose an owner from this team."),
        ({"channels": ["Instagram", "Myspace"]}, "Unknown channel: Myspace."),
        ({"status": "viral"}, "Choose a status from the list."),
        ({"status": "in_review"}, "Pick who reviews the post."),
        ({"copy": "€" * 120_000}, "Copy and notes are too long to store"),
        ({"published_url": "javascript:alert(1)"}, "Enter a web address starting with https://"),
        ({"tags": ",".join(f"t{n}" for n in range(21))}, "Use at most 20 tags"),
    ],
)
def test_every_field_is_validated_with_a_message_and_nothing_is_saved(
    app, cantina, values, message
):
    team, bruno = cantina["team"], cantina["bruno"]
    data = _form(**{"owner": bruno.person_id, **values})
    response = (
        cantina["folks"]
        .client_for(bruno)
        .post(f"/t/{team.team_id}/posts", data=data, headers={"HX-Request": "true"})
    )
    assert response.status_code == 422
    assert message in response.text and 'aria-invalid="true"' in response.text
    assert posts.ideas(team.team_id) == []
    assert posts.due_between(team.team_id, _rome(2000, 1, 1), _rome(2100, 1, 1)) == []


def test_the_owner_of_another_team_cannot_be_chosen(app, cantina):
    team, bruno, eve = cantina["team"], cantina["bruno"], cantina["eve"]
    response = (
        cantina["folks"]
        .client_for(bruno)
        .post(
            f"/t/{team.team_id}/posts",
            data=_form(owner=eve.person_id, day="2026-12-05", at="10:00"),
        )
    )
    assert response.status_code == 422 and "Choose an owner from this team." in response.text


def test_html_in_every_text_field_is_shown_escaped(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    evil = '<script>alert("x")</script>'
    client = cantina["folks"].client_for(bruno)
    client.post(
        f"/t/{team.team_id}/posts",
        data=_form(
            title=evil,
            copy=evil,
            notes=evil,
            tags=evil[:30],
            owner=bruno.person_id,
            day="2026-12-05",
            at="10:00",
        ),
    )
    (post,) = posts.due_between(team.team_id, _rome(2026, 12, 1), _rome(2026, 12, 31))
    client.post(f"/t/{team.team_id}/posts/{post.post_id}/comments", data={"text": evil})
    for path in (
        f"/t/{team.team_id}/month/2026-12",
        f"/t/{team.team_id}/posts/{post.post_id}",
        f"/t/{team.team_id}/agenda?from=2026-12-01",
        "/my/posts",
    ):
        page = client.get(path).text
        assert "<script>alert" not in page, path
    viewer = cantina["folks"].client_for(cantina["carla"])
    assert "<script>alert" not in viewer.get(f"/t/{team.team_id}/posts/{post.post_id}").text


def test_copy_keeps_line_breaks_and_links_are_clickable(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    loaded, body = posts.load(team.team_id, post.post_id)
    posts.update(
        loaded,
        body,
        summary={},
        body_fields={"copy": "Line one\nTickets: https://cantina.example/t"},
        actor=anna.person_id,
        now=datetime.now(UTC),
    )
    page = (
        cantina["folks"]
        .client_for(cantina["carla"])
        .get(f"/t/{team.team_id}/posts/{post.post_id}")
        .text
    )
    assert 'Line one\nTickets: <a href="https://cantina.example/t"' in page


def test_saving_records_who_changed_what(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = _post(team, bruno, _rome(2026, 12, 5, 10), "Old title")
    client = cantina["folks"].client_for(bruno)
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}",
        data=_form(
            title="New title",
            owner=bruno.person_id,
            day="2026-12-06",
            at="10:00",
            version=str(post.version),
        ),
    )
    assert response.status_code == 302
    page = client.get(f"/t/{team.team_id}/posts/{post.post_id}").text
    history = page.split('id="history"')[1]
    assert "Bruno Bianchi" in history and "changed the post" in history
    assert "Title: Old title → New title" in history
    assert "5 Dec 2026 10:00 → 6 Dec 2026 10:00" in history


# Conflicts ---------------------------------------------------------------------------------


def test_a_stale_save_shows_both_versions_and_overwrites_nothing(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    post = _post(team, anna, _rome(2026, 12, 5, 10), "Original")
    stale = str(post.version)
    folks = cantina["folks"]
    first = folks.client_for(anna).post(
        f"/t/{team.team_id}/posts/{post.post_id}",
        data=_form(
            title="Anna's title", owner=anna.person_id, day="2026-12-05", at="10:00", version=stale
        ),
    )
    assert first.status_code == 302
    second = folks.client_for(bruno).post(
        f"/t/{team.team_id}/posts/{post.post_id}",
        data=_form(
            title="Bruno's title", owner=anna.person_id, day="2026-12-05", at="10:00", version=stale
        ),
        headers={"HX-Request": "true"},
    )
    assert second.status_code == 409
    conflict = second.text.split('class="conflict"')[1].split("</section>")[0]
    assert "Bruno&#39;s title" in conflict and "Anna&#39;s title" in conflict
    assert posts.load(team.team_id, post.post_id)[0].title == "Anna's title"
    keep_mine = re.search(r'name="version" value="(\d+)"', conflict).group(1)
    assert keep_mine == str(post.version + 1)
    again = folks.client_for(bruno).post(
        f"/t/{team.team_id}/posts/{post.post_id}",
        data=_form(
            title="Bruno's title",
            owner=anna.person_id,
            day="2026-12-05",
            at="10:00",
            version=keep_mine,
        ),
    )
    assert again.status_code == 302
    assert posts.load(team.team_id, post.post_id)[0].title == "Bruno's title"


def test_two_saves_at_the_same_moment_never_both_win(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    post = _post(team, anna, _rome(2026, 12, 5, 10), "Original")
    folks, statuses = cantina["folks"], []
    clients = {"Anna": folks.client_for(anna), "Bruno": folks.client_for(bruno)}
    tokens = {name: c.csrf_token() for name, c in clients.items()}
    barrier = threading.Barrier(2)

    def save(name):
        barrier.wait()
        data = _form(
            title=f"{name} wins",
            owner=anna.person_id,
            day="2026-12-05",
            at="10:00",
            version=str(post.version),
        )
        statuses.append(
            clients[name]
            .post(
                f"/t/{team.team_id}/posts/{post.post_id}",
                data=data,
                headers={"X-CSRFToken": tokens[name]},
                csrf=False,
            )
            .status_code
        )

    threads = [threading.Thread(target=save, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 409]
    saved = posts.load(team.team_id, post.post_id)[0]
    assert saved.title in ("Anna wins", "Bruno wins") and saved.version == post.version + 1


# Moving ------------------------------------------------------------------------------------


def _move(client, team, post, day, **overrides):
    data = {
        "date": day,
        "version": str(post.version),
        "due": post.due.isoformat() if post.due else "",
        "owner": post.owner_id or "",
        "status": post.status,
        "month": "2026-10",
        **overrides,
    }
    return client.post(
        f"/t/{team.team_id}/posts/{post.post_id}/move", data=data, headers={"HX-Request": "true"}
    )


def test_a_dropped_post_keeps_its_local_time_across_a_dst_switch(app, cantina, clock):
    # Before both dates: an ordinary move (onto a deadline whose nudges have not had their
    # moments yet, which reads nothing more).
    clock.move_to(_rome(2026, 10, 1, 12))
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 10, 20, 9, 45), "Across DST")
    client = cantina["folks"].client_for(anna)
    with meter.metered() as counted:
        response = _move(client, team, post, "2026-10-27")
    assert response.status_code == 200
    assert len(counted.calls) <= 3 and len(response.data) <= 10_000
    assert 'id="day-2026-10-20"' in response.text and 'id="day-2026-10-27"' in response.text
    assert response.text.count('hx-swap-oob="outerHTML"') == 2
    moved = posts.load(team.team_id, post.post_id)[0]
    assert moved.due == _rome(2026, 10, 27, 9, 45)
    assert moved.due.hour == 8 and post.due.hour == 7  # the UTC hour changed, the local one not
    assert moved.version == post.version + 1


def test_a_drop_on_a_post_changed_meanwhile_changes_nothing(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 10, 20, 9, 45))
    client = cantina["folks"].client_for(anna)
    assert _move(client, team, post, "2026-10-21").status_code == 200
    stale = _move(client, team, post, "2026-10-25")  # the page still had the old version
    assert stale.status_code == 409 and stale.headers["HX-Refresh"] == "true"
    forged = _move(
        client,
        team,
        post,
        "2026-10-25",
        version=str(post.version + 1),
        due=_rome(2026, 10, 20, 3).isoformat(),
    )  # right version, wrong time
    assert forged.status_code == 409
    assert posts.load(team.team_id, post.post_id)[0].due == _rome(2026, 10, 21, 9, 45)


def test_dropping_an_idea_on_a_day_plans_it_and_gives_it_an_owner(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    idea = _post(team, bruno, None, "An idea", status="idea")
    response = _move(cantina["folks"].client_for(bruno), team, idea, "2026-10-22")
    assert response.status_code == 200 and f'id="idea-{idea.post_id}"' in response.text
    planned = posts.load(team.team_id, idea.post_id)[0]
    assert planned.due == _rome(2026, 10, 22, 9) and planned.owner_id == bruno.person_id
    assert planned.status == "draft"
    assert posts.ideas(team.team_id) == []


def test_a_move_to_an_impossible_date_is_refused(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 10, 20, 9, 45))
    client = cantina["folks"].client_for(anna)
    for bad in ("0001-01-01", "9999-12-31", "tomorrow", ""):
        assert _move(client, team, post, bad).status_code == 422
    assert _move(client, team, post, "2026-10-21", due="yesterday").status_code == 422
    assert posts.load(team.team_id, post.post_id)[0].due == post.due


def test_the_move_form_works_without_javascript(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    response = (
        cantina["folks"]
        .client_for(anna)
        .post(
            f"/t/{team.team_id}/posts/{post.post_id}/move",
            data={
                "date": "2026-12-09",
                "version": post.version,
                "due": post.due.isoformat(),
                "owner": anna.person_id,
                "status": post.status,
            },
        )
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/month/2026-12")
    assert posts.load(team.team_id, post.post_id)[0].due == _rome(2026, 12, 9, 10)


# Permissions and other teams ---------------------------------------------------------------


def test_another_teams_post_is_404_everywhere_and_nothing_changes(app, cantina):
    eve, other, team = cantina["eve"], cantina["other"], cantina["team"]
    foreign = _post(other, eve, _rome(2026, 12, 5, 10), "Eve's post")
    client = cantina["folks"].client_for(cantina["anna"])
    base = f"/t/{team.team_id}/posts/{foreign.post_id}"
    assert client.get(base).status_code == 404
    assert client.post(base, data=_form(version=str(foreign.version))).status_code == 404
    for action in ("trash", "restore", "comments", "review", "duplicate"):
        assert client.post(f"{base}/{action}", data={"text": "hi"}).status_code == 404, action
    assert _move(client, team, foreign, "2026-12-09").status_code == 404
    assert client.get(f"/t/{other.team_id}/posts/{foreign.post_id}").status_code == 404
    untouched, _body = posts.load(other.team_id, foreign.post_id)
    assert (untouched.version, untouched.due, untouched.deleted_at) == (
        foreign.version,
        foreign.due,
        None,
    )
    assert posts.history(other.team_id, foreign.post_id)[0].kind == "created"


def test_a_viewer_reads_and_comments_but_changes_nothing(app, cantina):
    team, anna, carla = cantina["team"], cantina["anna"], cantina["carla"]
    post = _post(team, anna, _rome(2026, 12, 5, 10), "Read only")
    client = cantina["folks"].client_for(carla)
    page = client.get(f"/t/{team.team_id}/posts/{post.post_id}")
    assert page.status_code == 200 and 'id="post-form"' not in page.text
    assert 'draggable="true"' not in client.get(f"/t/{team.team_id}/month/2026-12").text
    base = f"/t/{team.team_id}/posts/{post.post_id}"
    assert client.post(base, data=_form(version=str(post.version))).status_code == 403
    assert _move(client, team, post, "2026-12-09").status_code == 403
    assert client.post(f"{base}/trash").status_code == 403
    assert client.post(f"/t/{team.team_id}/posts", data=_form()).status_code == 403
    assert client.get(f"/t/{team.team_id}/posts/new").status_code == 403
    assert client.post(f"{base}/comments", data={"text": "Looks good"}).status_code == 302
    assert posts.load(team.team_id, post.post_id)[0].version == post.version


# Review, comments, trash, duplicates, channels ---------------------------------------------


def test_the_reviewer_approves_or_asks_for_changes_with_a_comment(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    folks = cantina["folks"]
    post = _post(team, bruno, _rome(2026, 12, 5, 10), "Needs a look")
    response = folks.client_for(bruno).post(
        f"/t/{team.team_id}/posts/{post.post_id}",
        data=_form(
            title="Needs a look",
            owner=bruno.person_id,
            day="2026-12-05",
            at="10:00",
            status="in_review",
            reviewer=anna.person_id,
            version=str(post.version),
        ),
    )
    assert response.status_code == 302
    current = posts.load(team.team_id, post.post_id)[0]
    base = f"/t/{team.team_id}/posts/{post.post_id}/review"
    other_editor = folks.person("dan@example.com", "Dan")
    folks.join(team, other_editor, "editor")
    assert (
        folks.client_for(other_editor)
        .post(base, data={"decision": "approve", "version": current.version})
        .status_code
        == 403
    )
    reviewer = folks.client_for(anna)
    assert (
        reviewer.post(
            base, data={"decision": "changes", "comment": "", "version": current.version}
        ).status_code
        == 422
    )
    assert (
        reviewer.post(
            base,
            data={"decision": "changes", "comment": "Shorter, please", "version": current.version},
        ).status_code
        == 302
    )
    current = posts.load(team.team_id, post.post_id)[0]
    assert current.status == "draft"
    history = posts.history(team.team_id, post.post_id)
    assert history[0].kind == "changes" and history[0].text == "Shorter, please"
    assert (
        reviewer.post(base, data={"decision": "approve", "version": current.version}).status_code
        == 409
    )  # not in review any more


def test_comments_mention_teammates_and_show_in_the_history(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    client = cantina["folks"].client_for(anna)
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}/comments",
        data={"text": "@Bruno can you add the price?"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and 'id="history"' in response.text
    assert '<strong class="mention">@Bruno</strong> can you add the price?' in response.text
    assert (
        client.post(
            f"/t/{team.team_id}/posts/{post.post_id}/comments", data={"text": "  "}
        ).status_code
        == 422
    )


def test_a_deleted_post_waits_30_days_in_the_trash_and_can_be_restored(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10), "Oops")
    client = cantina["folks"].client_for(anna)
    base = f"/t/{team.team_id}/posts/{post.post_id}"
    assert client.post(f"{base}/trash").status_code == 302
    trashed = posts.load(team.team_id, post.post_id)[0]
    kept = trashed.expires_at - trashed.deleted_at  # TTL attributes hold whole seconds
    assert timedelta(days=30) - timedelta(seconds=1) < kept <= timedelta(days=30)
    assert "Oops" not in client.get(f"/t/{team.team_id}/month/2026-12").text
    assert "Oops" in client.get(f"/t/{team.team_id}/trash").text
    assert client.post(base, data=_form(version=str(trashed.version))).status_code == 409
    assert client.post(f"{base}/restore").status_code == 302
    restored, body = posts.load(team.team_id, post.post_id)
    assert restored.deleted_at is None and restored.expires_at is None and body.expires_at is None
    assert "Oops" in client.get(f"/t/{team.team_id}/month/2026-12").text
    assert "Oops" not in client.get(f"/t/{team.team_id}/trash").text


def test_the_trash_ignores_posts_past_their_30_days(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    with time_machine.travel(datetime(2026, 11, 1, tzinfo=UTC), tick=False):
        post = _post(team, anna, _rome(2026, 12, 5, 10), "Long gone")
        posts.trash(
            *posts.load(team.team_id, post.post_id), actor=anna.person_id, now=datetime.now(UTC)
        )
    with time_machine.travel(datetime(2026, 12, 2, tzinfo=UTC), tick=False):
        assert posts.trashed(team.team_id, datetime.now(UTC)) == []


def test_duplicating_a_post_copies_it_to_another_day_and_channel(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10), "Teaser", status="approved")
    client = cantina["folks"].client_for(anna)
    assert client.get(f"/t/{team.team_id}/posts/{post.post_id}/duplicate").status_code == 200
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}/duplicate",
        data=_form(
            title="Teaser",
            owner=anna.person_id,
            day="2026-12-12",
            at="10:00",
            channels=["Facebook"],
            status="approved",
        ),
    )
    assert response.status_code == 302
    found = posts.due_between(team.team_id, _rome(2026, 12, 1), _rome(2026, 12, 31))
    copy = next(p for p in found if p.post_id != post.post_id)
    assert (copy.title, copy.channels, copy.status, copy.due) == (
        "Teaser",
        ["Facebook"],
        "draft",
        _rome(2026, 12, 12, 10),
    )
    assert posts.load(team.team_id, post.post_id)[0].channels == ["Instagram"]


def test_admins_add_and_remove_channels(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    admin = cantina["folks"].client_for(anna)
    url = f"/t/{team.team_id}/channels"
    assert admin.post(url, data={"name": "  Pinterest "}).status_code == 302
    assert admin.post(url, data={"name": "pinterest"}).status_code == 422
    assert admin.post(url, data={"name": "x" * 31}).status_code == 422
    assert admin.post(url, data={"remove": "X"}).status_code == 302
    assert (
        cantina["folks"].client_for(bruno).post(url, data={"name": "Mastodon"}).status_code == 403
    )
    channels = posts.Team.get(*posts.Team.key(team.team_id)).channels
    assert "Pinterest" in channels and "X" not in channels and "Mastodon" not in channels


def test_the_calendar_speaks_italian_to_an_italian_person(app, cantina, folks):
    team = cantina["team"]
    marco = folks.person("marco@example.com", "Marco", language="it", zone="Europe/Rome")
    folks.join(team, marco, "editor")
    page = folks.client_for(marco).get(f"/t/{team.team_id}/month/2026-12").text
    assert "dicembre 2026" in page and ">lun<" in page


def test_posts_keep_summary_and_body_apart(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    stored = Post.get(*Post.key(team.team_id, post.post_id))
    assert "copy" not in stored.attribute_values and "notes" not in stored.attribute_values
