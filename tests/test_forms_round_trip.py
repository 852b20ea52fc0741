"""Every form round-trips: its page shows what is stored, and sending it unchanged changes nothing.

Each test opens a page, reads the form as a browser would send it (tests/formdata.py), posts
it back untouched, and compares the whole store before and after: no changed item, no new
version, no re-planned reminder, no email.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from moto.backends import get_backend

from app.planner import changes
from app.store import people, posts, reminders, teams
from app.store.models import Reminder
from tests.conftest import outbox
from tests.formdata import form_in

ROME = ZoneInfo("Europe/Rome")
# A weekday morning in Rome, outside quiet hours; the clock stands still during each test.
NOW = datetime(2027, 3, 10, 10, 0, tzinfo=ROME)


def stored_items() -> dict:
    """Every item of every table, as moto holds it (read directly: no Scan is issued)."""
    items = {}
    for by_region in get_backend("dynamodb").values():
        for backend in by_region.values():
            for table in backend.tables.values():
                for item in table.all_items():
                    attributes = item.to_json()["Attributes"]
                    key = (table.name, attributes["pk"]["S"], attributes["sk"]["S"])
                    items[key] = attributes
    return items


def assert_unchanged(before: dict, after: dict) -> None:
    changed = sorted(
        key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
    )
    assert not changed, f"changed items: {changed}"


def send_back(client, path: str, shown: int = 200, **which) -> tuple:
    """Open ``path``, post its form back as it stands; (form, response, store before, after)."""
    page = client.get(path)
    assert page.status_code == shown, page.text
    form = form_in(page.text, **which)
    assert form.method == "post"
    mails = len(outbox(client.application))
    before = stored_items()
    response = client.post(form.action or path, data=form.data())
    after = stored_items()
    assert len(outbox(client.application)) == mails, "an email was sent"
    return form, response, before, after


@pytest.fixture
def standing_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cantina(app, folks, standing_clock):
    """Anna (admin, the team's default nudge times) and Bruno (editor, his own of everything).

    Each owns a post due in three days whose first reminder was snoozed, and Bruno's digest
    was moved too: re-planning any of them would show in the store.
    """
    anna = folks.person("anna@example.com", "Anna Rossi")
    bruno = folks.person("bruno@example.com", "Bruno Munari", language="it")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, bruno, "editor")
    teams.set_lead_minutes(teams.team(team.team_id), [1440, 120])
    bruno_client = folks.client_for(bruno)
    saved = bruno_client.post(
        "/me/nudges",
        data={
            "nudges_on": "y",
            "custom_leads": "y",
            "leads": ["4320", "60"],
            "quiet_start": "22:30",
            "quiet_end": "07:15",
            "digest_on": "y",
            "digest_at": "07:30",
            "away_from": "2027-04-01",
            "away_until": "2027-04-05",
            "notify": ["mention", "handed"],  # comments and review decisions switched off
        },
    )
    assert saved.status_code == 302, saved.text
    team = teams.team(team.team_id)
    for owner in (anna, bruno):
        post = posts.new_post(
            team.team_id,
            title=f"Post of {owner.name}",
            zone="Europe/Rome",
            created_by=owner.person_id,
            now=NOW,
            due=(NOW + timedelta(days=3)).astimezone(UTC),
            owner_id=owner.person_id,
            channels=["Instagram"],
            status="draft",
        )
        with app.app_context():
            changes.create(post, team, NOW, copy="")
            first = sorted(
                (r for r in reminders.of_post(team.team_id, post.post_id) if r.state == "pending"),
                key=lambda r: r.due,
            )[0]
            reminders.snooze(first, first.due + timedelta(minutes=7))
    with app.app_context():
        digest = reminders.get(*Reminder.digest_key(bruno.person_id))
        reminders.snooze(digest, digest.due + timedelta(minutes=7))
    return {
        "team": team,
        "anna": anna,
        "bruno": bruno,
        "admin": folks.client_for(anna),
        "editor": bruno_client,
    }


# Forms that edit what is stored ------------------------------------------------------------


def test_the_nudge_preferences_page_shows_every_stored_choice(cantina):
    form = form_in(cantina["editor"].get("/me/nudges").text, id="preferences-form")
    assert form.values("nudges_on") == ["y"]
    assert form.values("custom_leads") == ["y"]
    assert form.values("leads") == ["4320", "60"]
    assert form.values("digest_on") == ["y"]
    assert form.values("quiet_start") == ["22:30"] and form.values("quiet_end") == ["07:15"]
    assert form.values("digest_at") == ["07:30"]
    assert form.values("away_from") == ["2027-04-01"]
    assert form.values("away_until") == ["2027-04-05"]
    assert form.values("notify") == ["mention", "handed"]


def test_a_new_person_sees_nudges_on_and_the_default_times_preselected(app, folks, standing_clock):
    someone = folks.person("carla@example.com", "Carla")
    form = form_in(folks.client_for(someone).get("/me/nudges").text, id="preferences-form")
    assert form.values("nudges_on") == ["y"]
    assert form.values("custom_leads") == [] and form.values("digest_on") == []
    assert form.values("leads") == ["1440", "60"]
    assert form.values("notify") == ["mention", "comment", "review", "handed", "kit"]  # all on


def test_saving_the_nudge_preferences_unchanged_changes_nothing(cantina):
    _form, response, before, after = send_back(
        cantina["editor"], "/me/nudges", id="preferences-form"
    )
    assert response.status_code == 302, response.text
    assert_unchanged(before, after)


def test_changing_only_the_quiet_hours_keeps_nudges_on(cantina):
    client = cantina["editor"]
    form = form_in(client.get("/me/nudges").text, id="preferences-form")
    data = form.data()
    data.setlist("quiet_start", ["23:00"])
    assert client.post("/me/nudges", data=data).status_code == 302
    bruno = people.person(cantina["bruno"].person_id)
    assert bruno.quiet_start == "23:00" and bruno.nudges_on and bruno.digest_on
    assert [int(m) for m in bruno.lead_minutes] == [4320, 60]
    entry = teams.team(cantina["team"].team_id).member(bruno.person_id)
    assert entry.nudges_on and entry.leads == [4320, 60]


def test_saving_the_profile_unchanged_changes_nothing(cantina):
    form, response, before, after = send_back(cantina["editor"], "/me", id="profile-form")
    assert form.values("name") == ["Bruno Munari"] and form.values("language") == ["it"]
    assert form.values("zone") == ["Europe/Rome"] and form.values("week_start") == ["0"]
    assert response.status_code == 302, response.text
    assert_unchanged(before, after)


def test_the_welcome_page_of_a_named_member_shows_their_profile_and_keeps_it(cantina):
    form, response, before, after = send_back(cantina["editor"], "/welcome", id="welcome-form")
    assert form.values("name") == ["Bruno Munari"] and form.values("language") == ["it"]
    assert "team_name" not in form.names()  # Bruno has a team: no first team to create
    assert response.status_code in (204, 302), response.text
    assert_unchanged(before, after)


def test_saving_the_team_settings_unchanged_changes_nothing(cantina):
    team = cantina["team"]
    form, response, before, after = send_back(
        cantina["admin"], f"/t/{team.team_id}/settings", id="team-form"
    )
    assert form.values("team_name") == ["Cantina Aurora"]
    assert form.values("team_zone") == ["Europe/Rome"] and form.values("team_language") == ["it"]
    assert response.status_code == 302, response.text
    assert_unchanged(before, after)


def test_saving_the_teams_nudge_times_unchanged_replans_nothing(cantina):
    team = cantina["team"]
    form, response, before, after = send_back(
        cantina["admin"], f"/t/{team.team_id}/settings", id="team-nudges-form"
    )
    assert sorted(form.values("leads")) == ["120", "1440"]
    assert response.status_code == 302, response.text
    assert_unchanged(before, after)


@pytest.mark.parametrize("member", ["anna", "bruno"])
def test_sending_a_members_role_unchanged_changes_nothing(cantina, member):
    team, person_id = cantina["team"], cantina[member].person_id
    form, response, before, after = send_back(
        cantina["admin"],
        f"/t/{team.team_id}/members",
        action=f"/t/{team.team_id}/members/{person_id}/role",
    )
    assert form.values("role") == [{"anna": "admin", "bruno": "editor"}[member]]
    assert response.status_code == 302, response.text
    assert_unchanged(before, after)


# Forms that create something: their empty page creates nothing ----------------------------


@pytest.mark.parametrize(
    ("who", "path", "form_id", "shown"),
    [
        (None, "/login", "login-form", 200),
        (None, "/login/no-such-token", "login-form", 410),  # "ask for a new link"
        ("editor", "/teams/new", "team-form", 200),
        ("admin", "/t/{team}/members", "invite-form", 200),
        ("admin", "/t/{team}/settings", "channel-form", 200),
    ],
)
def test_an_empty_form_sent_as_it_stands_creates_nothing(app, cantina, who, path, form_id, shown):
    client = cantina[who] if who else app.test_client()
    path = path.format(team=cantina["team"].team_id)
    _form, response, before, after = send_back(client, path, shown, id=form_id)
    assert response.status_code == 422, response.text
    assert_unchanged(before, after)


# The team's last admin ----------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_demoting_the_only_admin_explains_itself_and_keeps_the_member_table(cantina, htmx):
    team, anna = cantina["team"], cantina["anna"]
    headers = {"HX-Request": "true"} if htmx else {}
    response = cantina["admin"].post(
        f"/t/{team.team_id}/members/{anna.person_id}/role", data={"role": "viewer"}, headers=headers
    )
    assert response.status_code == 409
    assert "A team needs at least one admin" in response.text
    assert "Changed meanwhile" not in response.text
    table = form_in(response.text, action=f"/t/{team.team_id}/members/{anna.person_id}/role")
    assert table.values("role") == [
        "admin"
    ]  # the table shows what is stored, not the refused choice
    assert 'id="member-list"' in response.text
    assert teams.team(team.team_id).member(anna.person_id).role == "admin"
