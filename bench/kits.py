"""Share kits: a kit's status page and a person's "To share" list, as issue 12 sizes them.

A kit offered to 50 people (40 in its team, 10 in a partner team): 30 took it (16 published
in the window, 12 of them with their links, 6 after it with theirs; 8 still writing), 10
passed, 10 have not decided. One of them is in two more teams and is offered 20 kits across
the three, taken, passed, open and ended. Everything is written by the app's own code: kits
saved and offered as the kit form's route does (``kits.save``, ``offering.bring_in_line``),
taken and passed through the routes, published as the post form does (``changes.update``).

Prints the DynamoDB calls of one GET of each page (the session's BatchGetItem included), the
items read, and the server time (p50 over 20, the time spent inside moto subtracted).
"""

import os
import secrets
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.update(
    AWS_EC2_METADATA_DISABLED="true",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    CADENZA_MODE="test",
)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine  # noqa: E402
from itsdangerous import URLSafeTimedSerializer  # noqa: E402
from moto import mock_aws  # noqa: E402

from app import create_app, store  # noqa: E402
from app.config import Config  # noqa: E402
from app.kits import offering  # noqa: E402
from app.planner import changes  # noqa: E402
from app.planner.periods import local_instant  # noqa: E402
from app.store import keys, kits, meter, partners, people, posts, profiles, teams  # noqa: E402

ROME = ZoneInfo("Europe/Rome")
REQUESTS = 20
TEAM_PEOPLE, PARTNER_PEOPLE = 40, 10  # the kit's team (its admin first), the partner team
ON_TIME_WITH_LINK, ON_TIME_WITHOUT_LINK, LATE, WRITING = 12, 4, 6, 8  # the 30 who took it
READER_KITS = 20  # offered to one person across three teams
# Pinned (ticking on): the kits' windows open on this day, and the pages are read after the
# main kit's window has closed, so the same figures come out every day.
NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)
FIRST_DAY = date(2026, 11, 26)
ON_TIME_AT = datetime(2026, 11, 29, 12, tzinfo=UTC)
LATE_AT = datetime(2026, 12, 4, 9, tzinfo=UTC)  # the main kit's window closed on 3 December


def main() -> None:
    with mock_aws(), time_machine.travel(NOW, tick=True) as traveller:
        app = create_app(Config(mode="test").with_mode_defaults())
        client = app.test_client()
        with app.app_context():
            store.create_tables()
            world = _people_and_teams()
            team, partner = world["team"], world["partner"]
            everyone, (reader, _team) = world["everyone"], world["everyone"][1]
            main_kit = _kit(team, world["admin"], "Our new Nebbiolo is out", 7, [partner.team_id])
        # Each person decides through the pages: every fifth one passes, every fifth one waits.
        took, passed = everyone[0::5] + everyone[1::5] + everyone[2::5], everyone[3::5]
        for someone, in_team in took:
            _take(client, app, someone, in_team, main_kit)
        for someone, in_team in passed:
            _pass(client, app, someone, in_team, main_kit)
        on_time = took[: ON_TIME_WITH_LINK + ON_TIME_WITHOUT_LINK]
        late = took[len(on_time) : len(on_time) + LATE]
        assert len(took) - len(on_time) - len(late) == WRITING

        reader_kits = _reader_kits(app, world)
        for n, (kit, in_team) in enumerate(reader_kits):
            if n % 4 == 1:
                _take(client, app, reader, in_team, kit)
            elif n % 4 == 2:
                _pass(client, app, reader, in_team, kit)

        traveller.move_to(ON_TIME_AT)
        with app.app_context():
            for n, (someone, in_team) in enumerate(on_time):
                _publish(someone, in_team, main_kit, link=n < ON_TIME_WITH_LINK)
        traveller.move_to(LATE_AT)
        with app.app_context():
            for someone, in_team in late:
                _publish(someone, in_team, main_kit, link=True)

        _sign_in(client, app, world["admin"])
        status_path = f"/t/{team.team_id}/kits/{main_kit.kit_id}"
        status = _measured(client, status_path)
        page = status[3].text
        assert page.count('class="kit-row ') == TEAM_PEOPLE + PARTNER_PEOPLE
        posted = ON_TIME_WITH_LINK + ON_TIME_WITHOUT_LINK + LATE
        expected = {"posted": posted, "taken": WRITING, "passed": len(passed), "offered": 10}
        for state, count in expected.items():
            assert page.count(f"kit-row state-{state}") == count, (state, page)
        assert page.count('class="late"') == LATE

        _sign_in(client, app, reader)
        to_share = _measured(client, "/me/to-share")
        assert to_share[3].text.count('<li class="event-item offer-') == READER_KITS

    for name, (calls, items, server_ms, response) in (
        ("kit_status", status),
        ("to_share", to_share),
    ):
        print(f"{name}_dynamodb_calls: {calls}")
        print(f"{name}_items_read: {items}")
        print(f"{name}_render_p50_ms: {server_ms:.1f}")
        print(f"{name}_bytes: {len(response.data)}")


def _people_and_teams() -> dict:
    """The kit's team (an admin and 39 editors, in Rome), a partner team (an admin and 9
    editors, in London), and two more teams the second editor of the first is in."""

    def person(n: int, zone: str):
        someone = people.find_or_create_person(f"person{n}@example.com", NOW, "en", zone)
        people.update_profile(
            someone, name=f"Person {n:02d}", language="en", zone=zone, week_start=0
        )
        someone = people.person(someone.person_id)
        profiles.add(
            someone,
            network="instagram" if n % 2 else "linkedin",
            handle=f"person{n}",
            url=f"https://example.com/person{n}",
            now=NOW,
        )
        return people.person(someone.person_id)

    def join(joined, someone, role: str) -> None:
        raw = teams.invite(
            teams.team(joined.team_id),
            address=someone.email,
            role=role,
            invited_by="Bench",
            now=NOW,
        )
        teams.accept_invite(people.token(raw, NOW), someone, NOW)

    admin = person(0, "Europe/Rome")
    team = teams.create_team(
        admin, name="Cantina Aurora", zone="Europe/Rome", language="en", now=NOW
    )
    partner_admin = person(TEAM_PEOPLE, "Europe/London")
    partner = teams.create_team(
        partner_admin, name="Enoteca Nord", zone="Europe/London", language="en", now=NOW
    )
    everyone = [(admin, team)]
    for n in range(1, TEAM_PEOPLE):
        someone = person(n, "Europe/Rome")
        join(team, someone, "editor")
        everyone.append((someone, team))
    everyone.append((partner_admin, partner))
    for n in range(TEAM_PEOPLE + 1, TEAM_PEOPLE + PARTNER_PEOPLE):
        someone = person(n, "Europe/London")
        join(partner, someone, "editor")
        everyone.append((someone, partner))
    raw = partners.invite(
        teams.team(team.team_id), address=partner_admin.email, invited_by="Bench", now=NOW
    )
    partners.accept(people.stored_token(raw), teams.team(partner.team_id), partner_admin, NOW)

    reader = everyone[1][0]
    others = []
    for n, name in enumerate(("Bottega Est", "Osteria Sud")):
        other_admin = person(TEAM_PEOPLE + PARTNER_PEOPLE + n, "Europe/Rome")
        other = teams.create_team(
            other_admin, name=name, zone="Europe/Rome", language="en", now=NOW
        )
        join(other, people.person(reader.person_id), "editor")
        others.append((other, other_admin))
    return {
        "team": teams.team(team.team_id),
        "partner": teams.team(partner.team_id),
        "admin": admin,
        "others": others,
        "everyone": [(people.person(p.person_id), t) for p, t in everyone],
    }


def _kit(team, made_by, title: str, days: int, partner_ids=(), chosen=None):
    """A kit saved and offered as the kit form's route does, its window ``days`` long from
    ``FIRST_DAY``."""
    stored = teams.team(team.team_id)
    now = datetime.now(UTC)
    kit = kits.new_kit(
        stored,
        keys.new_id(),
        created_by=stored.member(made_by.person_id),
        now=now,
        zone=stored.zone,
        title=title,
        story="The 2024 Nebbiolo is in bottles: a cool year, a fresh wine.",
        facts="14 months in oak\nhttps://example.com/nebbiolo",
        suggestions={
            "any": "Our new Nebbiolo is out! Come and taste it at the cellar.",
            "linkedin": "After a cool 2024, our Nebbiolo is ready: proud of the team.",
        },
        hashtags="#Nebbiolo #Langhe",
        starts=local_instant(FIRST_DAY, clock_time(0), ROME),
        ends=local_instant(FIRST_DAY + timedelta(days=days), clock_time(0), ROME),
        audience="chosen" if chosen else "team",
        chosen=chosen,
        partners=sorted(partner_ids) or None,
    )
    kits.save(kit, now, new=True)
    offering.bring_in_line(kit, now, stored)
    return kit


def _reader_kits(app, world) -> list:
    """The reader's 19 kits besides the main one: 6 more of its team and 13 of the two other
    teams, two of them ended when the pages are read, the last ending in January."""
    reader = world["everyone"][1][0]
    offered = [(world["team"], world["admin"])] * 6 + [world["others"][0]] * 7
    offered += [world["others"][1]] * 6
    made = []
    with app.app_context():
        for n, (team, made_by) in enumerate(offered):
            days = 5 + 3 * n
            kit = _kit(team, made_by, f"Kit {n}", days, chosen=[reader.person_id])
            made.append((kit, team))
    return made


def _sign_in(client, app, someone) -> None:
    with app.app_context():
        session_id = people.start_session(someone.person_id, datetime.now(UTC), timedelta(days=1))
    with client.session_transaction() as session:
        session["sid"], session["pid"] = session_id, someone.person_id


def _csrf(client, app) -> dict:
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)
    return {"X-CSRFToken": token}


def _offer_path(in_team, kit) -> str:
    return f"/t/{in_team.team_id}/to-share/{kit.team_id}/{kit.kit_id}"


def _take(client, app, someone, in_team, kit) -> None:
    """Take the kit on the person's profile, on the window's third day at 10:00."""
    _sign_in(client, app, someone)
    profile = profiles.profiles_of(someone)[0]
    response = client.post(
        _offer_path(in_team, kit) + "/take",
        data={"profile": profile.profile_id, "day": "2026-11-28", "at": "10:00"},
        headers=_csrf(client, app),
    )
    assert response.status_code == 302 and "/posts/" in response.location, response.text


def _pass(client, app, someone, in_team, kit) -> None:
    _sign_in(client, app, someone)
    response = client.post(
        _offer_path(in_team, kit) + "/pass",
        data={"reason": "Our harvest party is that week: no room for it."},
        headers=_csrf(client, app),
    )
    assert response.status_code == 302, response.text


def _publish(someone, in_team, kit, *, link: bool) -> None:
    """The post taken from the kit, published as the post form does: an editor's approved by
    their team's admin first, then published by its owner (with its link, or none)."""
    team = teams.team(in_team.team_id)
    post_id = kits.taken_post_id(kit.kit_id, someone.person_id)
    steps = [("published", someone.person_id)]
    if team.member(someone.person_id).role != "admin":
        admin = next(m for m in team.member_list() if m.role == "admin")
        steps.insert(0, ("approved", admin.person_id))
    for status, actor in steps:
        post, body = posts.load(team.team_id, post_id)
        published = {"published_url": f"https://example.com/p/{post_id}"} if link else {}
        changes.update(
            post,
            body,
            team,
            summary={"status": status},
            body_fields=published if status == "published" else {},
            actor=actor,
            now=datetime.now(UTC),
        )


def _measured(client, path: str) -> tuple:
    """One GET's calls and items read, then the p50 server time of ``REQUESTS`` more."""
    with meter.metered() as one:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    server_ms = []
    for _ in range(REQUESTS):
        with meter.metered() as counted:
            started = time.perf_counter()
            assert client.get(path).status_code == 200
            elapsed = time.perf_counter() - started
        server_ms.append((elapsed - counted.seconds) * 1000)
    return len(one.calls), one.items, statistics.median(server_ms), response


if __name__ == "__main__":
    main()
