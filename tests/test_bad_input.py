"""Bad input on every form and address: a 422 with the field's message, nothing written.

Numbers, dates and times are read strictly (ASCII digits, ISO ``YYYY-MM-DD``, ``HH:MM``,
dates between 2000 and 2100) and names must be more than spaces: what Python's own parsers
would accept (``²``, 5,000 digits, ``2026-W51-1``, ``+9:00``, Arabic-Indic digits) or overflow
on (year 1 in Tokyo) is refused before anything is stored.
"""

from datetime import UTC, date, datetime, time

import pytest

from app import values
from app.store import people, posts, teams

DOZENS_OF_DIGITS = "9" * 5000
ARABIC_INDIC = "".join(chr(0x0660 + int(digit)) for digit in "2026-12-11" if digit.isdigit())
ARABIC_INDIC_DAY = f"{ARABIC_INDIC[:4]}-{ARABIC_INDIC[4:6]}-{ARABIC_INDIC[6:]}"
ARABIC_INDIC_CLOCK = "\u0660\u0669:\u0663\u0660"  # 09:30
OUT_OF_DATE = "This page is out of date: reload it to edit the post."
YEARS = "Choose a date between 2000 and 2100."


@pytest.fixture
def world(folks, clock):
    """Anna (admin, English, Rome), Marco (editor, Italian) and Kenji (editor, Tokyo)."""
    clock.move_to(datetime(2026, 12, 1, 11, tzinfo=UTC))
    anna = folks.person("anna@example.com", "Anna Rossi", zone="Europe/Rome")
    marco = folks.person("marco@example.com", "Marco Bianchi", language="it")
    kenji = folks.person("kenji@example.com", "Kenji Sato", zone="Asia/Tokyo")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, marco, "editor")
    folks.join(team, kenji, "editor")
    post = posts.new_post(
        team.team_id,
        title="Tasting teaser",
        zone="Europe/Rome",
        created_by=anna.person_id,
        now=folks.now(),
        due=datetime(2026, 12, 10, 8, 30, tzinfo=UTC),
        owner_id=anna.person_id,
        channels=["Instagram"],
        status="draft",
    )
    posts.create(post, copy="See you there")
    return {
        "folks": folks,
        "anna": anna,
        "marco": marco,
        "kenji": kenji,
        "team": team,
        "post": post,
    }


def _stored(world) -> dict:
    """Every item these requests could change, as stored."""
    team, post = world["team"], world["post"]
    saved, body = posts.load(team.team_id, post.post_id)
    return {
        "post": saved.serialize(),
        "body": body.serialize(),
        "team": teams.team(team.team_id).serialize(),
        **{
            name: people.person(world[name].person_id).serialize()
            for name in ("anna", "marco", "kenji")
        },
    }


def _move(world, who="anna", **overrides):
    post = world["post"]
    data = {
        "date": "2026-12-12",
        "version": str(post.version),
        "due": post.due.isoformat(),
        "owner": post.owner_id,
        "status": post.status,
        "month": "2026-12",
        **overrides,
    }
    return (
        world["folks"]
        .client_for(world[who])
        .post(
            f"/t/{world['team'].team_id}/posts/{post.post_id}/move",
            data=data,
            headers={"HX-Request": "true"},
        )
    )


def _save(world, who="anna", **overrides):
    post = world["post"]
    data = {
        "title": "Tasting teaser",
        "copy": "See you there",
        "channels": ["Instagram"],
        "owner": post.owner_id,
        "day": "2026-12-10",
        "at": "09:30",
        "status": "draft",
        "reviewer": "",
        "tags": "",
        "notes": "",
        "published_url": "",
        "version": str(post.version),
        **overrides,
    }
    return (
        world["folks"]
        .client_for(world[who])
        .post(f"/t/{world['team'].team_id}/posts/{post.post_id}", data=data)
    )


def _refused(world, send, message):
    before = _stored(world)
    response = send()
    assert response.status_code == 422, response.status_code
    assert message in response.text
    assert _stored(world) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("due", "0001-01-01T00:00:00+14:00", OUT_OF_DATE),
        ("due", "9999-12-31T23:59:59-14:00", OUT_OF_DATE),
        ("due", "2026-12-10T08:30:00", OUT_OF_DATE),  # no zone
        ("due", "2026-12-10 08:30:00+00:00 ", OUT_OF_DATE),
        ("version", "²", OUT_OF_DATE),
        ("version", DOZENS_OF_DIGITS, OUT_OF_DATE),
        ("version", "+1", OUT_OF_DATE),
        ("version", "\u0661", OUT_OF_DATE),  # Arabic-Indic one
        ("version", "", OUT_OF_DATE),
        ("date", "2026-W51-1", YEARS),
        ("date", "20261211", YEARS),
        ("date", ARABIC_INDIC_DAY, YEARS),
        ("date", "0001-01-01", YEARS),
    ],
)
def test_a_drop_with_unreadable_values_is_refused_and_moves_nothing(world, field, value, message):
    _refused(world, lambda: _move(world, **{field: value}), message)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("version", "²", OUT_OF_DATE),
        ("version", DOZENS_OF_DIGITS, OUT_OF_DATE),
        ("title", "   ", "Give the post a title."),
        ("title", "\u3000\u00a0", "Give the post a title."),  # ideographic and no-break spaces
        ("day", "2026-W51-1", "Enter a date like 2026-12-05."),
        ("day", "20261211", "Enter a date like 2026-12-05."),
        ("day", ARABIC_INDIC_DAY, "Enter a date like 2026-12-05."),
        ("day", "0001-01-01", YEARS),
        ("at", "+9:30", "Enter a time like 09:30."),
        ("at", "0930", "Enter a time like 09:30."),
        ("at", "09:30:00+01:00", "Enter a time like 09:30."),
        ("at", ARABIC_INDIC_CLOCK, "Enter a time like 09:30."),
    ],
)
def test_a_post_saved_with_unreadable_values_shows_the_field_and_changes_nothing(
    world, field, value, message
):
    _refused(world, lambda: _save(world, **{field: value}), message)


@pytest.mark.parametrize("lead", ["²", DOZENS_OF_DIGITS, "+60", "\u0666\u0660", "60 ", "7"])
def test_team_nudge_times_that_are_not_choices_are_refused(world, lead):
    team_id = world["team"].team_id
    client = world["folks"].client_for(world["anna"])
    _refused(
        world,
        lambda: client.post(f"/t/{team_id}/nudges", data={"leads": ["60", lead]}),
        "Choose at least one time.",
    )


def _preferences(world, who, **overrides):
    data = {"nudges_on": "y", "digest_at": "08:00", **overrides}
    return world["folks"].client_for(world[who]).post("/me/nudges", data=data)


@pytest.mark.parametrize(
    ("who", "fields", "message"),
    [
        ("kenji", {"away_from": "0001-01-01", "away_until": "0001-01-02"}, YEARS),
        ("anna", {"away_from": "9999-12-30", "away_until": "9999-12-31"}, YEARS),
        (
            "anna",
            {"away_from": "2026-12-10", "away_until": "20261211"},
            "Enter a date like 2026-12-24.",
        ),
        (
            "anna",
            {"away_from": "2026-W51-1", "away_until": "2026-12-24"},
            "Enter a date like 2026-12-24.",
        ),
        (
            "anna",
            {"away_from": "2026-12-10", "away_until": ARABIC_INDIC_DAY},
            "Enter a date like 2026-12-24.",
        ),
        ("anna", {"quiet_start": "+9:00", "quiet_end": "07:00"}, "Enter a time like 21:00."),
        ("anna", {"quiet_start": "21:00", "quiet_end": "7:00"}, "Enter a time like 21:00."),
        ("anna", {"quiet_start": ARABIC_INDIC_CLOCK, "quiet_end": "07:00"}, "like 21:00."),
        ("anna", {"digest_on": "y", "digest_at": "²²:00"}, "Enter a time like 21:00."),
        ("anna", {"digest_on": "y", "digest_at": "08:00:00"}, "Enter a time like 21:00."),
    ],
)
def test_preferences_with_unreadable_dates_or_times_are_refused_and_not_saved(
    world, who, fields, message
):
    _refused(world, lambda: _preferences(world, who, **fields), message)


def test_a_tokyo_absence_at_the_edges_of_the_accepted_years_is_saved(world):
    response = _preferences(world, "kenji", away_from="2000-01-01", away_until="2100-12-31")
    assert response.status_code == 302
    kenji = people.person(world["kenji"].person_id)
    assert (kenji.away_from, kenji.away_until) == ("2000-01-01", "2100-12-31")


def test_a_whitespace_team_name_is_refused_on_creation_and_in_settings(world):
    client = world["folks"].client_for(world["anna"])
    team_id = world["team"].team_id
    form = {"team_zone": "Europe/Rome", "team_language": "en"}
    _refused(
        world,
        lambda: client.post(f"/t/{team_id}/settings", data={**form, "team_name": " \t "}),
        "Give the team a name.",
    )
    _refused(
        world,
        lambda: client.post("/teams/new", data={**form, "team_name": "   "}),
        "Give the team a name.",
    )
    assert len(people.person(world["anna"].person_id).team_list()) == 1


def test_a_whitespace_person_name_is_refused(world):
    client = world["folks"].client_for(world["anna"])
    profile = {"language": "en", "zone": "Europe/Rome", "week_start": "0"}
    _refused(
        world,
        lambda: client.post("/me", data={**profile, "name": "    "}),
        "Tell your team who you are.",
    )


@pytest.mark.parametrize(
    ("send", "message"),
    [
        (lambda world: _save(world, "marco", title="  "), "Dai un titolo al post."),
        (lambda world: _save(world, "marco", day="0001-01-01"), "Scegli una data tra il 2000"),
        (lambda world: _save(world, "marco", at="+9:30"), "Inserisci un orario come 09:30."),
        (lambda world: _move(world, "marco", date="2026-W51-1"), "Scegli una data tra il 2000"),
        (
            lambda world: _preferences(world, "marco", quiet_start="+9:00", quiet_end="07:00"),
            "Inserisci un orario come 21:00.",
        ),
        (
            lambda world: _preferences(world, "marco", away_from="20261211", away_until=""),
            "Inserisci una data come 2026-12-24.",
        ),
    ],
)
def test_the_messages_speak_italian_to_an_italian(world, send, message):
    _refused(world, lambda: send(world), message)


def test_valid_values_are_stored_in_their_one_spelling(world):
    response = _preferences(
        world,
        "anna",
        quiet_start="22:30",
        quiet_end="07:15",
        away_from="2026-12-20",
        away_until="2026-12-27",
    )
    assert response.status_code == 302
    anna = people.person(world["anna"].person_id)
    assert (anna.quiet_start, anna.quiet_end) == ("22:30", "07:15")
    assert (anna.away_from, anna.away_until) == ("2026-12-20", "2026-12-27")


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        " ",
        "²",
        DOZENS_OF_DIGITS,
        "+9",
        "1_0",
        "\u0669",
        "2026-W51-1",
        "20261211",
        "2026-02-30",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "24:00",
        "09:60",
        "2026-13",
        "\x00",
    ],
)
def test_every_reader_answers_a_value_or_none_never_an_error(text):
    for read in (values.count, values.day, values.month, values.clock, values.instant):
        read(text)
    assert values.day(text) is None and values.clock(text) is None


def test_the_readers_take_what_the_pages_send():
    assert values.count("42") == 42 and values.count("0") == 0
    assert values.day("2026-12-05") == date(2026, 12, 5)
    assert values.month("2026-12") == (2026, 12)
    assert values.clock("09:30") == time(9, 30)
    sent = datetime(2026, 12, 10, 8, 30, tzinfo=UTC)
    assert values.instant(sent.isoformat()) == sent
    # The last accepted day west of UTC is 2101 in UTC (a post there is moved from its page).
    assert values.instant("2100-12-31T23:59:00-12:00") == datetime(2101, 1, 1, 11, 59, tzinfo=UTC)
    assert values.instant("2101-01-01T00:00:00-12:00") is None  # 2101 everywhere
    assert values.instant("1999-12-31T23:59:00+14:00") is None  # 1999 everywhere
