"""Everyday calendar correctness (issue 7): forms that round-trip, merges, whole month grids."""

from datetime import UTC, datetime

import pytest
import test_planner
from formdata import form_in
from test_planner import _form, _post, _rome
from werkzeug.datastructures import MultiDict

from app.planner import changes
from app.store import meter, posts

cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)


def form_fields(html: str, form_id: str = "post-form") -> list[tuple[str, str]]:
    """A form's fields as a browser sends them: textareas' line breaks as CRLF."""
    return [
        (name, value.replace("\n", "\r\n") if name in ("copy", "notes") else value)
        for name, value in form_in(html, id=form_id).fields
    ]


def as_dict(pairs) -> dict:
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return {name: values if name == "channels" else values[0] for name, values in found.items()}


def edited(pairs, **changes) -> list[tuple[str, str]]:
    """The form's pairs with some fields set to new values (a list sets a multi-valued one)."""
    kept = [(name, value) for name, value in pairs if name not in changes]
    for name, value in changes.items():
        kept.extend((name, one) for one in (value if isinstance(value, list) else [value]))
    return kept


def _full_post(cantina):
    """A post with every field filled, reviewed by Anna, owned by Bruno."""
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    post = _post(
        team,
        bruno,
        _rome(2026, 12, 5, 10, 30),
        "Tasting teaser",
        channels=["Facebook", "Instagram"],
        status="in_review",
        tags=["tasting", "autumn"],
    )
    loaded, body = posts.load(team.team_id, post.post_id)
    posts.update(
        loaded,
        body,
        summary={"reviewer_id": anna.person_id},
        body_fields={
            "copy": "Six wines.\nTickets at the door.",
            "notes": "Ask Lumen for photos",
            "published_url": "https://cantina.example/p/1",
        },
        actor=bruno.person_id,
        now=datetime.now(UTC),
    )
    return posts.load(team.team_id, post.post_id)[0]


def _editor_in_new_york(cantina, role="editor"):
    """A signed-in client of Nora, an editor (or ``role``) of the team who lives in New York."""
    folks = cantina["folks"]
    nora = folks.person("nora@example.com", "Nora", zone="America/New_York")
    folks.join(cantina["team"], nora, role)
    return folks.client_for(nora)


def _panel_of(client, team, post) -> str:
    response = client.get(f"/t/{team.team_id}/posts/{post.post_id}")
    assert response.status_code == 200
    return response.text


def _save(client, team, post, pairs, **headers):
    return client.post(
        f"/t/{team.team_id}/posts/{post.post_id}", data=MultiDict(pairs), headers=headers
    )


# Forms round-trip --------------------------------------------------------------------------


def test_the_post_form_shows_every_stored_value(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    post = _full_post(cantina)
    page = _panel_of(cantina["folks"].client_for(bruno), team, post)
    shown = as_dict(form_fields(page))
    assert shown["title"] == "Tasting teaser"
    assert shown["copy"] == "Six wines.\r\nTickets at the door."
    assert sorted(shown["channels"]) == ["Facebook", "Instagram"]
    assert (shown["owner"], shown["reviewer"]) == (bruno.person_id, anna.person_id)
    assert (shown["day"], shown["at"], shown["status"]) == ("2026-12-05", "10:30", "in_review")
    assert shown["tags"] == "autumn, tasting" and shown["notes"] == "Ask Lumen for photos"
    assert shown["published_url"] == "https://cantina.example/p/1"
    assert shown["version"] == str(post.version)


def test_saving_the_post_form_as_shown_changes_nothing(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = _full_post(cantina)
    client = cantina["folks"].client_for(bruno)
    entries = len(posts.history(team.team_id, post.post_id))
    response = _save(client, team, post, form_fields(_panel_of(client, team, post)))
    assert response.status_code == 302
    assert posts.load(team.team_id, post.post_id)[0].version == post.version
    assert len(posts.history(team.team_id, post.post_id)) == entries


def test_saving_the_form_as_shown_by_someone_in_another_zone_changes_nothing(app, cantina):
    team = cantina["team"]
    post = _full_post(cantina)
    client = _editor_in_new_york(cantina)
    shown = form_fields(_panel_of(client, team, post))
    assert ("at", "04:30") in shown  # 10:30 in Rome, shown in New York time
    assert _save(client, team, post, shown).status_code == 302
    after = posts.load(team.team_id, post.post_id)[0]
    assert (after.version, after.zone) == (post.version, "Europe/Rome")


def test_a_status_change_by_someone_in_another_zone_keeps_the_posts_zone(app, cantina):
    team = cantina["team"]
    post = _full_post(cantina)
    # An admin: an editor approves only the posts they were asked to review.
    client = _editor_in_new_york(cantina, role="admin")
    shown = form_fields(_panel_of(client, team, post))
    assert _save(client, team, post, edited(shown, status="approved")).status_code == 302
    after = posts.load(team.team_id, post.post_id)[0]
    assert (after.status, after.zone, after.due) == ("approved", "Europe/Rome", post.due)
    assert set(posts.history(team.team_id, post.post_id)[0].changes) == {"status"}


def test_a_new_time_set_in_another_zone_takes_that_zone(app, cantina):
    team = cantina["team"]
    post = _full_post(cantina)
    client = _editor_in_new_york(cantina)
    shown = form_fields(_panel_of(client, team, post))
    assert _save(client, team, post, edited(shown, at="05:00")).status_code == 302
    after = posts.load(team.team_id, post.post_id)[0]
    assert (after.zone, after.due) == ("America/New_York", _rome(2026, 12, 5, 11))


def test_the_new_post_form_saves_what_it_shows(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    client = cantina["folks"].client_for(bruno)
    page = client.get(f"/t/{team.team_id}/posts/new?date=2026-12-05").text
    shown = edited(form_fields(page), title="Harvest open day")
    assert client.post(f"/t/{team.team_id}/posts", data=MultiDict(shown)).status_code == 302
    (post,) = posts.due_between(team.team_id, _rome(2026, 12, 5), _rome(2026, 12, 6))
    assert (post.due, post.owner_id, post.status) == (
        _rome(2026, 12, 5, 9),
        bruno.person_id,
        "draft",
    )
    idea_page = client.get(f"/t/{team.team_id}/posts/new").text
    shown = edited(form_fields(idea_page), title="Someday")
    assert client.post(f"/t/{team.team_id}/posts", data=MultiDict(shown)).status_code == 302
    (idea,) = posts.ideas(team.team_id)
    assert (idea.due, idea.owner_id, idea.status) == (None, None, "idea")


def test_the_move_form_sent_as_shown_changes_nothing(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = _full_post(cantina)
    client = cantina["folks"].client_for(bruno)
    shown = form_fields(_panel_of(client, team, post), "move-form")
    assert ("date", "2026-12-05") in shown
    response = client.post(f"/t/{team.team_id}/posts/{post.post_id}/move", data=MultiDict(shown))
    assert response.status_code == 302
    after = posts.load(team.team_id, post.post_id)[0]
    assert (after.version, after.due) == (post.version, post.due)
    assert posts.history(team.team_id, post.post_id)[0].kind != "moved"


def test_a_post_whose_copy_was_stored_with_plain_line_breaks_round_trips(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = _full_post(cantina)  # its copy holds "\n", the browser sends "\r\n" back
    client = cantina["folks"].client_for(bruno)
    _save(client, team, post, form_fields(_panel_of(client, team, post)))
    assert posts.load(team.team_id, post.post_id)[1].copy == "Six wines.\nTickets at the door."


# Clearing a field never changes a post's kind ----------------------------------------------


@pytest.mark.parametrize(
    ("cleared", "message"),
    [
        ({"at": ""}, "Pick a time for this date."),
        ({"day": ""}, "Pick a date for this time."),
        ({"owner": ""}, "A post with a date needs an owner."),
        ({"reviewer": ""}, "Pick who reviews the post."),
    ],
)
def test_clearing_one_field_of_a_dated_post_is_a_field_error_and_changes_nothing(
    app, cantina, cleared, message
):
    team, bruno = cantina["team"], cantina["bruno"]
    post = _full_post(cantina)
    client = cantina["folks"].client_for(bruno)
    shown = form_fields(_panel_of(client, team, post))
    response = _save(client, team, post, edited(shown, **cleared), **{"HX-Request": "true"})
    assert response.status_code == 422
    assert message in response.text and 'aria-invalid="true"' in response.text
    after = posts.load(team.team_id, post.post_id)[0]
    assert (after.version, after.due, after.status) == (post.version, post.due, "in_review")
    assert posts.ideas(team.team_id) == []


def test_clearing_date_and_time_together_makes_the_post_an_idea(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = _post(team, bruno, _rome(2026, 12, 5, 10), "Later, maybe")
    client = cantina["folks"].client_for(bruno)
    shown = form_fields(_panel_of(client, team, post))
    assert _save(client, team, post, edited(shown, day="", at="", owner="")).status_code == 302
    assert [idea.title for idea in posts.ideas(team.team_id)] == ["Later, maybe"]


# Conflicts: a three-way merge against the version the editor started from --------------------


def _two_editors(cantina):
    """Anna and Bruno open the same post; Anna saves copy and time first."""
    team, anna, bruno, folks = cantina["team"], cantina["anna"], cantina["bruno"], cantina["folks"]
    post = _post(team, anna, _rome(2026, 12, 5, 10), "Original")
    ann, bru = folks.client_for(anna), folks.client_for(bruno)
    anna_form, bruno_form = (form_fields(_panel_of(c, team, post)) for c in (ann, bru))
    saved = _save(ann, team, post, edited(anna_form, copy="Anna's copy", at="11:00"))
    assert saved.status_code == 302
    return post, bru, bruno_form


def test_changes_to_different_fields_from_a_stale_page_are_merged_without_asking(app, cantina):
    team = cantina["team"]
    post, bru, stale = _two_editors(cantina)
    mine = edited(stale, title="Bruno's title", channels=["Instagram", "Facebook"])
    response = _save(bru, team, post, mine, **{"HX-Request": "true"})
    assert response.status_code == 200 and 'class="conflict"' not in response.text
    after, body = posts.load(team.team_id, post.post_id)
    assert (after.title, sorted(after.channels)) == ("Bruno's title", ["Facebook", "Instagram"])
    assert (body.copy, after.due) == ("Anna's copy", _rome(2026, 12, 5, 11))
    assert after.version == post.version + 2


def test_only_fields_both_changed_differently_are_asked_about(app, cantina):
    team = cantina["team"]
    post, bru, stale = _two_editors(cantina)
    mine = edited(stale, title="Bruno's title", copy="Bruno's copy", at="11:00")
    response = _save(bru, team, post, mine, **{"HX-Request": "true"})
    assert response.status_code == 409
    conflict = response.text.split('class="conflict"')[1].split("</section>")[0]
    rows = conflict.split("<tbody>")[1]
    assert "Copy" in rows and "Bruno&#39;s copy" in rows and "Anna&#39;s copy" in rows
    assert "Title" not in rows and "Time" not in rows  # only Bruno changed it / both alike
    assert posts.load(team.team_id, post.post_id)[1].copy == "Anna's copy"  # nothing written
    keep_mine = form_fields(response.text, "keep-mine-form")
    assert _save(bru, team, post, keep_mine).status_code == 302
    after, body = posts.load(team.team_id, post.post_id)
    assert (after.title, body.copy, after.due) == (
        "Bruno's title",
        "Bruno's copy",
        _rome(2026, 12, 5, 11),
    )


def test_taking_theirs_keeps_their_field_and_my_other_changes(app, cantina):
    team = cantina["team"]
    post, bru, stale = _two_editors(cantina)
    mine = edited(stale, title="Bruno's title", copy="Bruno's copy")
    response = _save(bru, team, post, mine, **{"HX-Request": "true"})
    assert response.status_code == 409
    take_theirs = form_fields(response.text, "take-theirs-form")
    assert _save(bru, team, post, take_theirs).status_code == 302
    after, body = posts.load(team.team_id, post.post_id)
    assert (after.title, body.copy) == ("Bruno's title", "Anna's copy")


# The month grid shows every day it shows ----------------------------------------------------


def test_the_december_grid_shows_the_posts_of_30_november(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    late = _post(team, anna, _rome(2026, 11, 30, 10), "November post")
    page = cantina["folks"].client_for(anna).get(f"/t/{team.team_id}/month/2026-12").text
    cell = page.split('id="day-2026-11-30"')[1].split("</td>")[0]
    assert "November post" in cell and f"post-{late.post_id}" in cell


def test_the_november_grid_shows_the_posts_of_early_december_in_one_query(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    for day in (2, 4, 6):
        _post(team, anna, _rome(2026, 12, day, 10), f"Grey day post {day}")
    _post(team, anna, _rome(2026, 12, 7, 10), "Off the grid")
    client = cantina["folks"].client_for(anna)
    with meter.metered() as counted:
        page = client.get(f"/t/{team.team_id}/month/2026-11").text
    assert counted.calls == ["BatchGetItem", "Query", "Query"]
    for day in (2, 4, 6):
        cell = page.split(f'id="day-2026-12-0{day}"')[1].split("</td>")[0]
        assert f"Grey day post {day}" in cell
    assert "Off the grid" not in page


def test_a_post_dropped_on_a_grey_day_shows_there(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 3, 10), "To November")
    response = (
        cantina["folks"]
        .client_for(anna)
        .post(
            f"/t/{team.team_id}/posts/{post.post_id}/move",
            data={
                "date": "2026-11-30",
                "version": post.version,
                "due": post.due.isoformat(),
                "owner": anna.person_id,
                "status": "draft",
                "month": "2026-12",
            },
            headers={"HX-Request": "true"},
        )
    )
    assert response.status_code == 200
    cell = response.text.split('id="day-2026-11-30"')[1].split("</td>")[0]
    assert f"post-{post.post_id}" in cell


# Review, viewers ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False])
def test_asking_for_changes_without_a_comment_keeps_the_panel_with_a_message(app, cantina, htmx):
    team, anna = cantina["team"], cantina["anna"]
    post = _full_post(cantina)  # in review by Anna
    client = cantina["folks"].client_for(anna)
    response = client.post(
        f"/t/{team.team_id}/posts/{post.post_id}/review",
        data={"decision": "changes", "comment": " ", "version": post.version},
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == 422
    review = response.text.split('id="review-title"')[1].split("</section>")[0]
    assert "Say what should change, so the author knows." in review
    assert 'aria-invalid="true"' in review and 'aria-describedby="review-comment-error"' in review
    assert 'id="post-form"' in response.text and 'id="history"' in response.text
    assert ("<html" in response.text) is not htmx
    assert posts.load(team.team_id, post.post_id)[0].status == "in_review"


def test_viewers_are_not_offered_as_owners_or_reviewers_and_are_refused(app, cantina):
    team, anna, carla = cantina["team"], cantina["anna"], cantina["carla"]
    client = cantina["folks"].client_for(anna)
    page = client.get(f"/t/{team.team_id}/posts/new?date=2026-12-05").text
    assert f'value="{carla.person_id}"' not in page
    for field in ("owner", "reviewer"):
        values = {
            "owner": anna.person_id,
            "day": "2026-12-05",
            "at": "10:00",
            field: carla.person_id,
        }
        if field == "reviewer":
            values["status"] = "in_review"
        response = client.post(f"/t/{team.team_id}/posts", data=_form(**values))
        assert response.status_code == 422, field
    assert posts.due_between(team.team_id, _rome(2026, 12, 1), _rome(2027, 1, 1)) == []


def test_viewers_comment_but_cannot_edit_or_move(app, cantina):
    team, anna, carla = cantina["team"], cantina["anna"], cantina["carla"]
    post = _post(team, anna, _rome(2026, 12, 5, 10), "Read only")
    client = cantina["folks"].client_for(carla)
    base = f"/t/{team.team_id}/posts/{post.post_id}"
    page = client.get(base).text
    assert 'id="comment-text"' in page and 'id="post-form"' not in page
    assert 'class="move-form"' not in page
    assert client.post(f"{base}/comments", data={"text": "Lovely photo"}).status_code == 302
    assert posts.history(team.team_id, post.post_id)[0].text == "Lovely photo"
    move = {"date": "2026-12-09", "version": post.version, "due": post.due.isoformat()}
    assert client.post(f"{base}/move", data={**move, "status": "draft"}).status_code == 403
    assert client.post(base, data=_form(version=str(post.version))).status_code == 403
    assert posts.load(team.team_id, post.post_id)[0].version == post.version


# URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["month/2026-12", "week/2026-12-07", "agenda"])
def test_filters_with_no_value_are_left_out_of_the_url(app, cantina, view):
    team, anna = cantina["team"], cantina["anna"]
    client = cantina["folks"].client_for(anna)
    path = f"/t/{team.team_id}/{view}"
    submitted = client.get(f"{path}?owner=&channel=&status=draft&tag=")
    assert submitted.status_code == 302
    assert submitted.headers["Location"] == f"{path}?status=draft"
    nothing = client.get(f"{path}?owner=&channel=&status=&tag=")
    assert nothing.headers["Location"] == path
    swapped = client.get(f"{path}?owner=&status=draft", headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and swapped.headers["HX-Push-Url"] == f"{path}?status=draft"


@pytest.mark.parametrize("view", ["month/2026-12", "week/2026-12-07", "agenda"])
def test_the_address_the_calendar_refreshes_from_has_no_stray_question_mark(app, cantina, view):
    team, anna = cantina["team"], cantina["anna"]
    path = f"/t/{team.team_id}/{view}"
    page = cantina["folks"].client_for(anna).get(path).text
    assert f'hx-get="{path}"' in page and f'hx-get="{path}?"' not in page


def test_a_save_that_loses_the_race_at_the_last_moment_still_merges(app, cantina, monkeypatch):
    """Anna saves between Bruno's page check and his write: his conditional write fails, and
    the save merges against the post as it now is instead of asking."""
    team, anna, folks = cantina["team"], cantina["anna"], cantina["folks"]
    post = _post(team, anna, _rome(2026, 12, 5, 10), "Original")
    bru = folks.client_for(cantina["bruno"])
    bruno_form = form_fields(_panel_of(bru, team, post))
    real_update = changes.update

    def anna_saves_first(*args, **kwargs):
        monkeypatch.setattr(changes, "update", real_update)
        loaded, body = posts.load(team.team_id, post.post_id)
        real_update(
            loaded,
            body,
            team,
            summary={},
            body_fields={"copy": "Anna's copy"},
            actor=anna.person_id,
            now=datetime.now(UTC),
        )
        return real_update(*args, **kwargs)

    monkeypatch.setattr(changes, "update", anna_saves_first)
    response = _save(bru, team, post, edited(bruno_form, title="Bruno's title"))
    assert response.status_code == 302, response.text
    after, body = posts.load(team.team_id, post.post_id)
    assert (after.title, body.copy, after.version) == ("Bruno's title", "Anna's copy", 3)
