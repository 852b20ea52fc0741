"""No one grows what a page shows without bound (issue 9, finding 7).

An editor could add tags until the team item no longer fit in DynamoDB (14,000 tags: team
settings 503, month view 1.5 MB), and comments had no limit (400 comments: a 905 KB panel).
"""

import re
from datetime import UTC, datetime, time, timedelta

import boto3
import pytest
import test_planner
from moto.dynamodb.models.dynamo_type import DynamoType
from test_planner import _form, _post, _rome

from app.planner import forms, history
from app.planner.forms import MAX_TAG_LENGTH, MAX_TAGS
from app.planner.history import COMMENT_LIMITS, HISTORY_PAGE
from app.store import keys, meter, posts, teams
from app.store.models import Activity, Team
from app.store.teams import MAX_TEAM_TAGS

cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)

# Bounds chosen from measurements at the caps (see each test), with some room.
TEAM_ITEM_BYTES = 40_000
MONTH_VIEW_BYTES = 120_000
PANEL_BYTES = 80_000


def _tags_to_the_cap(team, owner) -> list[str]:
    """Fill the team's tags to the cap with the longest tags, in posts of December.

    The tags are 4-byte characters (the most a character weighs in DynamoDB) and ``&`` (the
    most a character weighs in HTML, ``&amp;``).
    """
    tags = [f"{n:03d}" + "🍷&" * ((MAX_TAG_LENGTH - 3) // 2) for n in range(MAX_TEAM_TAGS)]
    assert len(tags[0]) <= MAX_TAG_LENGTH
    for start in range(0, MAX_TEAM_TAGS, MAX_TAGS):
        _post(team, owner, _rome(2026, 12, 3 + start // MAX_TAGS, 10), tags=tags[start:][:MAX_TAGS])
    return tags


def _team_tags(team) -> set[str]:
    return set(teams.team(team.team_id).tags or ())


def _item_bytes(key: tuple[str, str]) -> int:
    """An item's size as DynamoDB counts it (names and values, UTF-8)."""
    table = boto3.client("dynamodb", region_name="eu-west-1")
    item = table.get_item(
        TableName=Team.Meta.table_name, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}}
    )["Item"]
    return sum(len(name.encode()) + DynamoType(value).size() for name, value in item.items())


# Tags --------------------------------------------------------------------------------------


def test_a_new_tag_beyond_the_teams_cap_is_a_field_message_and_nothing_is_written(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    tags = _tags_to_the_cap(team, cantina["anna"])
    client = cantina["folks"].client_for(bruno)
    created = client.post(
        f"/t/{team.team_id}/posts", data=_form(title="Fresh", tags=f"{tags[0]}, harvest")
    )
    assert created.status_code == 422
    assert f"A team keeps at most {MAX_TEAM_TAGS} tags and this one has {MAX_TEAM_TAGS}" in (
        created.text
    )
    assert not [p for p in posts.ideas(team.team_id) if p.title == "Fresh"]
    # Tags the team has are always welcome, on new posts and old ones.
    reused = client.post(
        f"/t/{team.team_id}/posts", data=_form(title="Fresh", tags=", ".join(tags[:MAX_TAGS]))
    )
    assert reused.status_code == 302
    assert _team_tags(team) == set(tags)


def test_the_store_refuses_a_tag_beyond_the_cap_when_the_form_read_the_team_too_early(
    app, cantina, monkeypatch
):
    team, anna = cantina["team"], cantina["anna"]
    _tags_to_the_cap(team, anna)
    post = _post(team, anna, None, "An idea")
    # As if the team had filled up between the form's check and the write.
    monkeypatch.setattr(forms, "MAX_TEAM_TAGS", MAX_TEAM_TAGS + 1)
    client = cantina["folks"].client_for(anna)
    created = client.post(f"/t/{team.team_id}/posts", data=_form(title="Fresh", tags="harvest"))
    assert created.status_code == 409 and "The team&#39;s tags changed meanwhile" in created.text
    assert not [p for p in posts.ideas(team.team_id) if p.title == "Fresh"]
    loaded, body = posts.load(team.team_id, post.post_id)
    with pytest.raises(posts.PostConflict):
        posts.update(
            loaded,
            body,
            summary={"tags": {"one-too-many"}},
            body_fields={},
            actor=anna.person_id,
            now=post.created_at,
        )
    assert len(_team_tags(team)) == MAX_TEAM_TAGS
    assert posts.load(team.team_id, post.post_id)[0].tags is None


def test_an_admin_removes_tags_from_the_team_and_makes_room_for_new_ones(app, cantina):
    team, anna, bruno = cantina["team"], cantina["anna"], cantina["bruno"]
    tags = _tags_to_the_cap(team, anna)
    admin, editor = cantina["folks"].client_for(anna), cantina["folks"].client_for(bruno)
    settings = admin.get(f"/t/{team.team_id}/settings").text
    assert 'id="tags-form"' in settings and settings.count('name="remove_tag"') == MAX_TEAM_TAGS
    assert editor.post(f"/t/{team.team_id}/tags", data={"remove_tag": tags[0]}).status_code == 403
    assert admin.post(f"/t/{team.team_id}/tags", data={}).status_code == 422
    removed = admin.post(f"/t/{team.team_id}/tags", data={"remove_tag": tags[:2]})
    assert removed.status_code == 302
    assert _team_tags(team) == set(tags[2:])
    # The posts keep their tags; the team has room for two new ones.
    assert tags[0] in posts.due_between(team.team_id, _rome(2026, 12, 1), _rome(2027, 1, 1))[0].tags
    created = editor.post(f"/t/{team.team_id}/posts", data=_form(tags="harvest, bottling"))
    assert created.status_code == 302 and len(_team_tags(team)) == MAX_TEAM_TAGS


def test_at_the_caps_the_team_item_and_the_month_view_stay_small(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    _tags_to_the_cap(team, anna)
    team_bytes = _item_bytes(Team.key(team.team_id))
    month = cantina["folks"].client_for(anna).get(f"/t/{team.team_id}/month/2026-12")
    assert month.status_code == 200
    print(f"team item at the caps: {team_bytes} bytes; month view: {len(month.data)} bytes")
    assert team_bytes < TEAM_ITEM_BYTES
    assert len(month.data) < MONTH_VIEW_BYTES


# Comments ----------------------------------------------------------------------------------


def _comment(client, team, post, text="Looks good", **headers):
    return client.post(
        f"/t/{team.team_id}/posts/{post.post_id}/comments", data={"text": text}, headers=headers
    )


def _comments(team, post) -> list[str]:
    return [e.text for e in posts.history(team.team_id, post.post_id) if e.kind == "comment"]


def test_a_person_comments_at_most_20_times_a_minute_and_300_a_day_in_a_team():
    assert [limit[1:] for limit in COMMENT_LIMITS] == [
        (20, timedelta(minutes=1)),
        (300, timedelta(days=1)),
    ]


def test_past_the_comment_limits_a_person_reads_why_in_the_form_and_nothing_is_written(
    app, cantina, clock, monkeypatch
):
    team, anna, carla = cantina["team"], cantina["anna"], cantina["carla"]
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    (minute, _20, a_minute), (day, _300, a_day) = COMMENT_LIMITS
    # The same counters with smaller numbers: 2 a minute, 4 a day, counting refused attempts
    # too (the clock starts at noon).
    monkeypatch.setattr(history, "COMMENT_LIMITS", ((minute, 2, a_minute), (day, 4, a_day)))
    client = cantina["folks"].client_for(carla)
    assert [_comment(client, team, post, f"note {n}").status_code for n in range(2)] == [302] * 2
    refused = _comment(client, team, post, "one too many", **{"HX-Request": "true"})
    assert refused.status_code == 429
    assert 'id="comment-text"' in refused.text and ">one too many</textarea>" in refused.text
    assert "You are commenting very fast" in refused.text
    # Others still comment; a minute later Carla does, once more: then the day is over.
    assert _comment(cantina["folks"].client_for(anna), team, post).status_code == 302
    clock.shift(a_minute)
    assert _comment(client, team, post, "note 2").status_code == 302
    clock.shift(a_minute)
    assert _comment(client, team, post, "note 3").status_code == 429
    # A new day's window starts at midnight UTC (a person's session lasts a day).
    tomorrow = cantina["folks"].now().astimezone(UTC).date() + timedelta(days=1)
    clock.move_to(datetime.combine(tomorrow, time(0, 1), UTC))
    assert _comment(client, team, post, "note 4").status_code == 302
    mine = [
        e.text for e in posts.history(team.team_id, post.post_id) if e.person_id == carla.person_id
    ]
    assert mine == ["note 4", "note 2", "note 1", "note 0"]


def test_a_comment_too_long_is_a_message_in_the_form_and_nothing_is_written(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    client = cantina["folks"].client_for(anna)
    for text, headers in (("x" * 2001, {}), ("   ", {"HX-Request": "true"})):
        response = _comment(client, team, post, text, **headers)
        assert response.status_code == 422
        assert 'id="comment-text-error"' in response.text
        assert "Write a comment of up to 2,000 characters." in response.text
    assert _comments(team, post) == []


# Comments and history, a page at a time ----------------------------------------------------

_OLDER = re.compile(r'<a [^>]*id="show-older"[^>]*href="([^"]+)"')


def _comments_on(post, author, count: int, text: str = "") -> None:
    """``count`` comments "comment 000 ..." and on, a second apart, after the post's creation."""
    with Activity.batch_write() as batch:
        for n in range(count):
            at = post.created_at + timedelta(seconds=n + 1)
            said = f"comment {n:03d} {text}"[:2000]
            batch.save(
                Activity.new(
                    post.team_id,
                    post.post_id,
                    person_id=author.person_id,
                    kind="comment",
                    text=said,
                    at=at,
                )
            )


def _older_link(html: str) -> str | None:
    found = _OLDER.search(html)
    return found.group(1).replace("&amp;", "&").removesuffix("#history") if found else None


def test_a_post_with_400_comments_has_a_small_panel_and_show_older_reaches_every_one(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    _comments_on(post, anna, 400, text="Vino rosso e bianco. " * 95)  # about 2,000 characters
    client = cantina["folks"].client_for(anna)
    with meter.metered() as reads:
        panel = client.get(f"/t/{team.team_id}/posts/{post.post_id}").text
    print(f"panel with 400 comments: {len(panel.encode())} bytes")
    assert len(panel.encode()) < PANEL_BYTES
    assert reads.items < 40  # the session, the post, its reminders, one page of activity
    seen = re.findall(r"comment (\d{3}) ", panel)
    assert seen == [f"{n:03d}" for n in range(399, 399 - HISTORY_PAGE, -1)]
    # Without JavaScript, "Show older" opens the panel at the next page, newest first.
    link, pages = _older_link(panel), 1
    while link:
        with meter.metered() as reads:
            page = client.get(link).text
        assert reads.calls.count("Query") <= 2 and reads.items < 40
        assert len(page.encode()) < PANEL_BYTES and "Show the newest" in page
        seen += re.findall(r"comment (\d{3}) ", page)
        link, pages = _older_link(page), pages + 1
    assert seen == [f"{n:03d}" for n in range(399, -1, -1)]
    assert "created the post" in page and pages == 401 // HISTORY_PAGE + 1


def test_with_htmx_show_older_adds_the_next_page_in_place(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post = _post(team, anna, _rome(2026, 12, 5, 10))
    _comments_on(post, anna, HISTORY_PAGE + 5)
    client = cantina["folks"].client_for(anna)
    panel = client.get(
        f"/t/{team.team_id}/posts/{post.post_id}", headers={"HX-Request": "true"}
    ).text
    link = _older_link(panel)
    anchor = re.search(r'<a [^>]*id="show-older"[^>]*>', panel).group(0)
    assert f'hx-get="{link.replace("&", "&amp;")}"' in anchor
    assert 'hx-target="closest li" hx-swap="outerHTML"' in anchor
    older = client.get(link, headers={"HX-Request": "true"}).text
    # Only the older entries, as list items that replace the link's own item.
    assert older.lstrip().startswith("<li") and 'id="comment-text"' not in older
    assert re.findall(r"comment (\d{3}) ", older) == [f"{n:03d}" for n in range(4, -1, -1)]
    assert "created the post" in older and _older_link(older) is None


def test_a_made_up_cursor_is_a_404_and_another_posts_cursor_shows_nothing_of_it(app, cantina):
    team, anna = cantina["team"], cantina["anna"]
    post, other = (_post(team, anna, _rome(2026, 12, 5, 10), title) for title in ("A", "B"))
    posts.comment(other, actor=anna.person_id, text="secret of B", now=other.created_at)
    client = cantina["folks"].client_for(anna)
    base = f"/t/{team.team_id}/posts/{post.post_id}"
    for cursor in ("garbage", "x" * 2000, "LOG#", "2026-12-01T10:00:00.000000Z#" + "z" * 900):
        assert client.get(base, query_string={"before": cursor}).status_code == 404
    entry = posts.history(team.team_id, other.post_id)[0]
    cursor = entry.sk.removeprefix(f"LOG#{other.post_id}#")
    assert keys.precise_instant(entry.at) in cursor
    shown = client.get(base, query_string={"before": "9999" + cursor[4:]})
    assert shown.status_code == 200 and "secret of B" not in shown.text
