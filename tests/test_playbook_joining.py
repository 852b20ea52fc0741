"""New members start with the playbook in their welcome and a first post, "Introduce
yourself", planned for them."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.store import playbook as stored_playbook
from app.store import posts, reminders, teams
from tests.conftest import link_in, outbox

ROME = ZoneInfo("Europe/Rome")


def invite_and_accept(app, admin_client, team, address, role, guest=None):
    """The admin invites ``address``; whoever opens the mailed link accepts it."""
    before = len(outbox(app))
    invited = admin_client.post(
        f"/t/{team.team_id}/members/invite", data={"email": address, "role": role}
    )
    assert invited.status_code == 302
    mails = outbox(app)  # newest first
    assert len(mails) == before + 1
    mail = mails[0]
    guest = guest or app.test_client()
    return guest, guest.post(link_in(mail))


@pytest.fixture
def cantina(folks, clock):
    # A Thursday: three days later is Sunday 28 March 2027, when summer time starts in Rome.
    clock.move_to(datetime(2027, 3, 25, 12, tzinfo=ROME))
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna, "Cantina Aurora")
    stored_playbook.save(
        team.team_id,
        guidelines="## Voice\n\nWarm, **never** pushy.",
        checklists={"Instagram": ["Location tagged"]},
        version=None,
        actor=anna.person_id,
        now=folks.now(),
    )
    return {"anna": anna, "team": team, "admin": folks.client_for(anna)}


def test_a_new_member_reads_the_playbook_in_their_welcome(app, cantina):
    guest, accepted = invite_and_accept(
        app, cantina["admin"], cantina["team"], "bruno@example.com", "editor"
    )
    assert accepted.location.endswith("/welcome")
    welcome = guest.get("/welcome").text
    assert "How Cantina Aurora speaks" in welcome
    assert "<h3>Voice</h3>" in welcome and "<strong>never</strong>" in welcome
    # Not planned yet: it waits for the time zone Bruno chooses.
    bruno = teams.team(cantina["team"].team_id).member_list()[1]
    assert posts.load(cantina["team"].team_id, f"intro-{bruno.person_id}") is None
    new_york = {"name": "Bruno", "language": "en", "zone": "America/New_York", "week_start": 0}
    named = guest.post("/welcome", data=new_york)
    team_id = cantina["team"].team_id
    assert named.location.endswith(f"/t/{team_id}/playbook?welcome=1")
    page = guest.get(named.location).text
    assert "Welcome to Cantina Aurora" in page and "<li>Location tagged</li>" in page
    assert f'href="/t/{team_id}/posts/intro-{bruno.person_id}"' in page
    assert "Write your first post: introduce yourself" in page
    # Planned in the zone Bruno chose: Monday 10:00 in New York (Sunday is no day for it).
    assert "It is due on Monday 29 March, 10:00; Cadenza will remind you." in page
    intro = posts.load(team_id, f"intro-{bruno.person_id}")[0]
    assert intro.due == datetime(2027, 3, 29, 14, tzinfo=UTC) and intro.zone == "America/New_York"


def test_someone_already_on_cadenza_lands_on_the_playbook_when_joining(app, cantina, folks):
    folks.person("bruno@example.com", "Bruno", zone="Europe/Rome")
    _guest, accepted = invite_and_accept(
        app, cantina["admin"], cantina["team"], "bruno@example.com", "viewer"
    )
    assert accepted.location.endswith(f"/t/{cantina['team'].team_id}/playbook?welcome=1")


@pytest.mark.parametrize(
    ("zone", "due"),
    [
        # Sunday is no day for it: Monday 10:00, summer time by then.
        ("Europe/Rome", datetime(2027, 3, 29, 8, tzinfo=UTC)),
        # Joined on Thursday morning in New York: Sunday there too, so Monday 10:00 EDT.
        ("America/New_York", datetime(2027, 3, 29, 14, tzinfo=UTC)),
        # Already Friday in Auckland (00:00): Monday 10:00 NZDT.
        ("Pacific/Auckland", datetime(2027, 3, 28, 21, tzinfo=UTC)),
    ],
)
def test_an_editor_gets_introduce_yourself_once_in_their_zone(app, cantina, folks, zone, due):
    bruno = folks.person("bruno@example.com", "Bruno", zone=zone)
    team = cantina["team"]
    invite_and_accept(app, cantina["admin"], team, "bruno@example.com", "editor")
    post, body = posts.load(team.team_id, f"intro-{bruno.person_id}")
    assert post.title == "Introduce yourself" and post.status == "draft"
    assert post.owner_id == bruno.person_id and post.zone == zone
    assert post.due == due and post.due.astimezone(ZoneInfo(zone)).strftime("%a %H:%M") == (
        "Mon 10:00"
    )
    assert "I have just joined Cantina Aurora" in body.copy
    assert reminders.of_post(team.team_id, post.post_id)  # nudged like any post
    # Its history says why it is there (no schedule or event planned it).
    assert [entry.kind for entry in posts.history(team.team_id, post.post_id)] == ["introduced"]

    # Removed and invited again: still the one post.
    cantina["admin"].post(f"/t/{team.team_id}/members/{bruno.person_id}/remove")
    invite_and_accept(app, cantina["admin"], team, "bruno@example.com", "editor")
    assert teams.team(team.team_id).member(bruno.person_id) is not None
    mine = [
        p
        for p in posts.owned_between(
            bruno.person_id, due.replace(year=2026), due.replace(year=2028)
        )
    ]
    assert [p.post_id for p in mine] == [post.post_id]


def test_the_introduction_speaks_the_new_members_language(app, cantina, folks):
    marco = folks.person("marco@example.com", "Marco", language="it", zone="Europe/Rome")
    invite_and_accept(app, cantina["admin"], cantina["team"], "marco@example.com", "editor")
    post, body = posts.load(cantina["team"].team_id, f"intro-{marco.person_id}")
    assert post.title == "Presentati"
    assert "Da poco faccio parte di Cantina Aurora" in body.copy


def test_a_viewer_gets_no_post_to_write(app, cantina, folks):
    carla = folks.person("carla@example.com", "Carla")
    invite_and_accept(app, cantina["admin"], cantina["team"], "carla@example.com", "viewer")
    assert teams.team(cantina["team"].team_id).member(carla.person_id).role == "viewer"
    assert posts.load(cantina["team"].team_id, f"intro-{carla.person_id}") is None


def test_a_join_refused_after_the_introduction_was_planned_takes_it_back(app, cantina, folks):
    from app.teams import joining

    dora = folks.person("dora@example.com", "Dora")
    team = teams.team(cantina["team"].team_id)
    with app.test_request_context():
        post = joining.plan_introduction(team, dora, "editor", folks.now())
        assert reminders.of_post(team.team_id, post.post_id)
        # Planned once: a second try is not the one to take it back.
        assert joining.plan_introduction(team, dora, "editor", folks.now()) is None
        joining.withdraw_introduction(post, team, folks.now())
    assert posts.load(team.team_id, post.post_id) is None
    assert not reminders.of_post(team.team_id, post.post_id)
