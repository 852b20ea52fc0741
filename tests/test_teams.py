"""Teams: invitations, roles enforced on the server, members, switching teams."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from app.store import people, teams
from tests.conftest import link_in, outbox, post_concurrently


@pytest.fixture
def cantina(folks):
    anna = folks.person("anna@example.com", "Anna")
    return anna, folks.team(anna, "Cantina Aurora")


def _invite(client, team, address="bruno@example.com", role="editor", **kwargs):
    return client.post(
        f"/t/{team.team_id}/members/invite", data={"email": address, "role": role}, **kwargs
    )


def test_an_admin_invites_someone_who_joins_with_the_role_given(app, folks, cantina):
    anna, team = cantina
    admin = folks.client_for(anna)
    response = _invite(admin, team, "Bruno@Example.com", "viewer")
    assert response.status_code == 302
    page = admin.get(f"/t/{team.team_id}/members").text
    assert "bruno@example.com" in page and "Waiting for an answer" in page

    mail = outbox(app)[0]
    assert mail["to"] == "bruno@example.com"
    # Names are text anyone can choose: the subject carries none, the body quotes the team's.
    assert mail["subject"] == "Hai un invito per un team su Cadenza"
    assert "«Cantina Aurora»" in mail["text"] and "Anna" in mail["text"]
    guest = app.test_client()
    confirm = guest.get(link_in(mail))
    # Bruno is new: the page speaks the team's language, as its email did.
    assert confirm.status_code == 200 and "Unisciti a Cantina Aurora" in confirm.text
    assert guest.post(link_in(mail)).headers["Location"].endswith("/welcome")
    guest.post(
        "/welcome",
        data={"name": "Bruno", "language": "it", "zone": "Europe/Rome", "week_start": "0"},
    )
    assert guest.get("/").headers["Location"].endswith(f"/t/{team.team_id}/")
    home = guest.get(f"/t/{team.team_id}/")
    assert home.status_code == 200 and "Cantina Aurora" in home.text
    assert people.person_by_email("bruno@example.com").role_in(team.team_id) == "viewer"
    assert "Waiting for an answer" not in admin.get(f"/t/{team.team_id}/members").text


def test_an_invitation_works_once(app, folks, cantina):
    anna, team = cantina
    _invite(folks.client_for(anna), team)
    path = link_in(outbox(app)[0])
    assert app.test_client().post(path).status_code == 302
    assert app.test_client().post(path).status_code == 410
    assert len(teams.team(team.team_id).member_list()) == 2


def test_an_invitation_expires_after_seven_days(app, folks, cantina):
    anna, team = cantina
    with time_machine.travel("2026-11-26 09:00:00Z", tick=False) as traveller:
        _invite(folks.client_for(anna), team)
        path = link_in(outbox(app)[0])
        traveller.shift(timedelta(days=7))
        assert app.test_client().post(path).status_code == 410
        # A day later still (Anna was created at the suite's clock, not at this pinned one).
        assert teams.pending_invites(team.team_id, datetime.now(UTC) + timedelta(days=1)) == []
    assert len(teams.team(team.team_id).member_list()) == 1


def test_a_withdrawn_invitation_cannot_be_used(app, folks, cantina):
    anna, team = cantina
    admin = folks.client_for(anna)
    _invite(admin, team)
    path = link_in(outbox(app)[0])
    (invite,) = teams.pending_invites(team.team_id, anna.created_at)
    response = admin.post(
        f"/t/{team.team_id}/invites/{invite.token_hash}/revoke", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and 'id="invitations"' in response.text
    invitations, flashed = response.text.split('<div id="flash"')
    assert "bruno@example.com" not in invitations and "Invitation withdrawn." in flashed
    assert app.test_client().post(path).status_code == 410
    assert len(teams.team(team.team_id).member_list()) == 1


def test_an_invitation_raced_from_two_tabs_makes_one_membership(app, folks, cantina):
    anna, team = cantina
    _invite(folks.client_for(anna), team)
    path = link_in(outbox(app)[0])
    assert post_concurrently(app, path, 4) == [302, 410, 410, 410]
    assert [m.email for m in teams.team(team.team_id).member_list()] == [
        "anna@example.com",
        "bruno@example.com",
    ]


def test_inviting_a_member_again_is_refused_with_a_message(app, folks, cantina):
    anna, team = cantina
    response = _invite(
        folks.client_for(anna), team, "anna@example.com", headers={"HX-Request": "true"}
    )
    assert response.status_code == 422 and "already in this team" in response.text
    assert outbox(app) == []


def test_an_invalid_invitation_gets_field_messages(app, folks, cantina):
    anna, team = cantina
    admin = folks.client_for(anna)
    assert _invite(admin, team, "not-an-address").status_code == 422
    assert _invite(admin, team, "c@example.com", role="owner").status_code == 422
    assert outbox(app) == []


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_admins_manage_members(app, folks, cantina, role):
    anna, team = cantina
    bruno = folks.person("bruno@example.com", "Bruno")
    folks.join(team, bruno, role)
    client = folks.client_for(bruno)
    base = f"/t/{team.team_id}"
    assert client.get(f"{base}/members").status_code == 200
    assert _invite(client, team, "c@example.com").status_code == 403
    assert (
        client.post(f"{base}/members/{anna.person_id}/role", data={"role": "viewer"}).status_code
        == 403
    )
    assert client.post(f"{base}/members/{anna.person_id}/remove").status_code == 403
    assert client.get(f"{base}/settings").status_code == 403
    assert client.post(f"{base}/settings", data={"team_name": "Mine"}).status_code == 403
    assert people.person(anna.person_id).role_in(team.team_id) == "admin"
    assert teams.team(team.team_id).name == "Cantina Aurora"
    assert outbox(app) == []


def test_a_team_is_invisible_to_people_outside_it(app, folks, cantina):
    _anna, team = cantina
    stranger = folks.client_for(folks.person("eve@example.com", "Eve"))
    for path in ("/", "/members", "/settings"):
        assert stranger.get(f"/t/{team.team_id}{path}").status_code == 404
    assert (
        stranger.post(
            f"/t/{team.team_id}/members/invite", data={"email": "x@example.com", "role": "admin"}
        ).status_code
        == 404
    )
    assert stranger.get("/t/does-not-exist/").status_code == 404
    assert len(teams.team(team.team_id).member_list()) == 1


def test_an_admin_changes_a_role_and_it_takes_effect_at_once(app, folks, cantina):
    anna, team = cantina
    bruno = folks.person("bruno@example.com", "Bruno")
    folks.join(team, bruno, "viewer")
    bruno_client = folks.client_for(bruno)
    assert _invite(bruno_client, team, "c@example.com").status_code == 403
    response = folks.client_for(anna).post(
        f"/t/{team.team_id}/members/{bruno.person_id}/role",
        data={"role": "admin"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and 'id="member-list"' in response.text
    assert _invite(bruno_client, team, "c@example.com").status_code == 302
    assert teams.team(team.team_id).admin_count == 2


def test_the_last_admin_can_neither_leave_nor_be_demoted(app, folks, cantina):
    anna, team = cantina
    admin = folks.client_for(anna)
    demoted = admin.post(
        f"/t/{team.team_id}/members/{anna.person_id}/role", data={"role": "editor"}
    )
    assert demoted.status_code == 409 and "at least one admin" in demoted.text
    assert admin.post(f"/t/{team.team_id}/leave").status_code == 409
    assert people.person(anna.person_id).role_in(team.team_id) == "admin"


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, folks, cantina):
    anna, team = cantina
    bruno = folks.person("bruno@example.com", "Bruno")
    folks.join(team, bruno, "admin")
    barrier, errors = threading.Barrier(2), []

    def demote(person_id):
        barrier.wait()
        try:
            teams.change_role(team.team_id, person_id, "editor")
        except teams.Conflict as error:
            errors.append(error)

    threads = [threading.Thread(target=demote, args=(p.person_id,)) for p in (anna, bruno)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    roles = [m.role for m in teams.team(team.team_id).member_list()]
    assert roles.count("admin") == 1 and len(errors) == 1
    assert teams.team(team.team_id).admin_count == 1


def test_a_removed_member_loses_access_immediately(app, folks, cantina):
    anna, team = cantina
    bruno = folks.person("bruno@example.com", "Bruno")
    folks.join(team, bruno, "editor")
    bruno_client = folks.client_for(bruno)
    assert bruno_client.get(f"/t/{team.team_id}/").status_code == 200
    response = folks.client_for(anna).post(f"/t/{team.team_id}/members/{bruno.person_id}/remove")
    assert response.status_code == 302
    assert bruno_client.get(f"/t/{team.team_id}/").status_code == 404
    assert [m.name for m in teams.team(team.team_id).member_list()] == ["Anna"]


def test_a_member_leaves_a_team(app, folks, cantina):
    _anna, team = cantina
    bruno = folks.person("bruno@example.com", "Bruno")
    folks.join(team, bruno, "viewer")
    client = folks.client_for(bruno)
    response = client.post(f"/t/{team.team_id}/leave", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"
    assert people.person(bruno.person_id).team_list() == []


def test_a_person_in_several_teams_switches_between_them(app, folks, cantina):
    anna, team = cantina
    other = folks.team(anna, "Enoteca Lumen")
    client = folks.client_for(anna)
    page = client.get(f"/t/{team.team_id}/").text
    switcher = page.split('id="team-switcher"')[1].split("</details>")[0]
    assert "Cantina Aurora" in switcher and "Enoteca Lumen" in switcher
    assert client.get(f"/t/{other.team_id}/").status_code == 200
    assert client.get("/").headers["Location"].endswith(f"/t/{other.team_id}/")


def test_renaming_a_team_renames_it_in_every_members_switcher(app, folks, cantina):
    anna, team = cantina
    bruno = folks.person("bruno@example.com", "Bruno")
    folks.join(team, bruno, "viewer")
    response = folks.client_for(anna).post(
        f"/t/{team.team_id}/settings",
        data={
            "team_name": "Cantina Aurora & Friends",
            "team_zone": "Europe/Rome",
            "team_language": "en",
        },
    )
    assert response.status_code == 302
    assert people.person(bruno.person_id).team_list()[0]["name"] == "Cantina Aurora & Friends"
    assert teams.team(team.team_id).language == "en"


def test_team_settings_validate_every_field(app, folks, cantina):
    anna, team = cantina
    response = folks.client_for(anna).post(
        f"/t/{team.team_id}/settings",
        data={"team_name": "x" * 81, "team_zone": "Mars/Base", "team_language": "fr"},
    )
    assert response.status_code == 422
    assert "Choose a time zone from the list." in response.text
    assert teams.team(team.team_id).name == "Cantina Aurora"


def test_creating_another_team_makes_the_creator_its_admin(app, folks, cantina):
    anna, _team = cantina
    client = folks.client_for(anna)
    response = client.post(
        "/teams/new", data={"team_name": "Enoteca", "team_zone": "UTC", "team_language": "en"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/members")
    assert {t["name"]: t["role"] for t in people.person(anna.person_id).team_list()} == {
        "Cantina Aurora": "admin",
        "Enoteca": "admin",
    }


def _withdraw_all(admin, team, since):
    for pending in teams.pending_invites(team.team_id, since):
        admin.post(f"/t/{team.team_id}/invites/{pending.token_hash}/revoke")


def test_one_address_gets_at_most_three_invitations_a_day(app, folks, cantina):
    anna, team = cantina
    admin = folks.client_for(anna)
    for _ in range(3):
        assert _invite(admin, team, "target@example.com").status_code == 302
        _withdraw_all(admin, team, anna.created_at)
    refused = _invite(admin, team, "target@example.com")
    assert refused.status_code == 429 and "Too many invitations" in refused.text
    assert len(outbox(app)) == 3


def test_one_admin_sends_at_most_ten_invitations_an_hour(app, folks, cantina, clock):
    anna, team = cantina
    admin = folks.client_for(anna)
    for number in range(10):
        assert _invite(admin, team, f"guest{number}@example.com").status_code == 302
    refused = _invite(admin, team, "one-more@example.com")
    assert refused.status_code == 429 and "Too many invitations" in refused.text
    clock.move_to(datetime.now(UTC) + timedelta(hours=1))
    assert _invite(admin, team, "next-hour@example.com").status_code == 302
    assert len(outbox(app)) == 11


def test_a_team_sends_at_most_twenty_invitations_a_day(app, folks, cantina):
    anna, team = cantina
    bea = folks.person("bea@example.com", "Bea")
    folks.join(team, bea, "admin")
    for admin, name in ((folks.client_for(anna), "anna"), (folks.client_for(bea), "bea")):
        for number in range(10):
            assert _invite(admin, team, f"{name}-guest{number}@example.com").status_code == 302
    refused = _invite(folks.client_for(anna), team, "one-more@example.com")
    assert refused.status_code == 429
    assert len(outbox(app)) == 20


# The limits that keep team and person items small (tests/test_size_limits.py) -------------


def test_a_full_team_refuses_one_more_invitation_with_a_message(app, folks, cantina, monkeypatch):
    anna, team = cantina
    monkeypatch.setattr(teams, "MAX_PEOPLE", 3)
    admin = folks.client_for(anna)
    for number in range(2):  # Anna and two invitations: three people
        assert _invite(admin, team, f"guest{number}@example.com").status_code == 302
    refused = _invite(admin, team, "one-more@example.com")
    assert refused.status_code == 422 and "room for 3 people" in refused.text
    assert len(teams.pending_invites(team.team_id, anna.created_at)) == 2
    assert len(outbox(app)) == 2


def test_an_invitation_into_a_team_that_filled_up_meanwhile_joins_no_one(
    app, folks, cantina, monkeypatch
):
    anna, team = cantina
    _invite(folks.client_for(anna), team)
    folks.join(team, folks.person("carla@example.com", "Carla"), "viewer")
    monkeypatch.setattr(teams, "MAX_PEOPLE", 2)
    response = app.test_client().post(link_in(outbox(app)[0]))
    # In the language of the team the invitation is for.
    assert response.status_code == 409 and "non ha posto per nessun altro" in response.text
    assert set(teams.team(team.team_id).member_entries()) == {
        anna.person_id,
        people.person_by_email("carla@example.com").person_id,
    }


def test_one_person_is_in_a_bounded_number_of_teams(app, folks, cantina, monkeypatch):
    anna, _team = cantina
    monkeypatch.setattr(teams, "MAX_TEAMS_PER_PERSON", 1)
    refused = folks.client_for(anna).post(
        "/teams/new", data={"team_name": "Enoteca", "team_zone": "UTC", "team_language": "en"}
    )
    assert refused.status_code == 422 and "the most one person can be in" in refused.text
    assert list(people.person(anna.person_id).team_entries()) == [_team.team_id]


def test_a_team_has_a_bounded_number_of_channels(app, folks, cantina, monkeypatch):
    anna, team = cantina
    monkeypatch.setattr(teams, "MAX_CHANNELS", len(team.channels))
    admin = folks.client_for(anna)
    refused = admin.post(f"/t/{team.team_id}/channels", data={"name": "Mastodon"})
    assert refused.status_code == 422 and "at most" in refused.text
    assert teams.team(team.team_id).channels == team.channels
