"""Share kits by email (issue 12): the offer and the half-window nudge as each person reads
them, the signed link that takes the kit or passes once, for its person only, and the
one-click "published" of a post taken from a kit."""

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import test_planner
from babel.dates import format_datetime
from formdata import form_in
from test_kits import kit_world, new_kit  # noqa: F401 (kit_world: a fixture)

from app.kits.voice import OWN_VOICE
from app.nudges import run_once
from app.store import kits, people, posts, reminders, teams
from tests.conftest import ROME, outbox

cantina = test_planner.cantina  # Anna (admin), Bruno (editor), Carla (viewer); Eve elsewhere

NEW_YORK = ZoneInfo("America/New_York")
BATCH_SUBJECT = re.compile(r"needs? you in|bisogno di te in")
SIGNED = re.compile(r"https?://\S+?(/n/kit/[\w.-]+)")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world(kit_world):  # noqa: F811 (the fixture imported above)
    """Anna (admin, makes the kits), Bruno (editor, LinkedIn), Gina (editor, Instagram), Carla
    (viewer), in Cantina Aurora, Rome; all reading English unless a test says otherwise."""
    return kit_world


def made(world, **changes) -> str:
    """Anna makes a kit, offered to her team's editors; its id."""
    admin = world["folks"].client_for(world["anna"])
    response = new_kit(admin, world["team"].team_id, **changes)
    assert response.status_code == 302, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def mails_to(app, someone) -> list[dict]:
    """The notification emails to this person (not their posts' nudges), oldest first."""
    return [
        mail
        for mail in reversed(outbox(app))
        if mail["to"] == someone.email and BATCH_SUBJECT.search(mail["subject"])
    ]


def signed_path(mail: dict) -> str:
    """The path of the email's "Take it or pass" link (the same in its text and HTML)."""
    (path,) = {found.group(1) for found in SIGNED.finditer(mail["text"])}
    assert path in mail["html"]
    return path


def offers_of(app, team_id: str, kit_id: str) -> dict:
    with app.app_context():
        _kit, offers = kits.with_offers(team_id, kit_id)
    return {offer.person_id: offer for offer in offers}


def stored_kit(app, team_id: str, kit_id: str):
    with app.app_context():
        return kits.kit(team_id, kit_id)


def until(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """The window's end as the batch email writes it, a week off: in the reader's zone."""
    return format_datetime(moment, "EEE d MMM HH:mm", tzinfo=zone, locale=language)


def set_profile(app, someone, **changes) -> None:
    profile = {
        "name": someone.name,
        "language": someone.language,
        "zone": someone.zone,
        "week_start": 0,
    }
    with app.app_context():
        people.update_profile(someone, **{**profile, **changes})


def offered_and_mailed(app, world) -> tuple[str, dict]:
    """A kit made now, and each person's offer email (Bruno's and Gina's)."""
    kit_id = made(world)
    run_once(app, world["folks"].now() + timedelta(minutes=1))
    mails = {who: mails_to(app, world[who]) for who in ("bruno", "gina")}
    assert all(len(found) == 1 for found in mails.values()), mails
    return kit_id, {who: found[0] for who, found in mails.items()}


# The offer email ---------------------------------------------------------------------------


def test_the_offer_comes_once_with_their_other_notes_in_their_language_and_zone(app, world):
    folks, team = world["folks"], world["team"]
    anna, bruno, gina = world["anna"], world["bruno"], world["gina"]
    set_profile(app, bruno, language="it", zone="America/New_York")
    post = folks.post(team, owner=anna, created_by=anna, status="draft")
    kit_id = made(world)
    path = f"/t/{team.team_id}/posts/{post.post_id}/comments"
    commented = folks.client_for(anna).post(path, data={"text": "@Bruno guarda la foto"})
    assert commented.status_code == 302
    # Noon in Rome is 06:00 in New York, in Bruno's quiet hours (21:00-08:00): his email waits.
    for hours in (0.1, 3, 4):
        run_once(app, folks.now() + timedelta(hours=hours))

    kit = stored_kit(app, team.team_id, kit_id)
    (mail,) = mails_to(app, bruno)  # the kit and the mention, in one email
    assert mail["subject"] == "2 cose hanno bisogno di te in Cantina Aurora"
    for part in (mail["text"], mail["html"]):
        assert "Ciao Bruno Bianchi" in part and "Anna Rossi ti ha menzionato" in part
        assert "Our new Nebbiolo is out" in part and "Tasting recap" in part
        # The window ends at midnight in Rome: the evening before, in New York.
        assert until(kit.ends, NEW_YORK, "it") in part, part
    assert "Apri in Cadenza" in mail["text"]

    (ginas,) = mails_to(app, gina)
    assert ginas["subject"] == "1 thing needs you in Cantina Aurora"
    assert "Anna Rossi offers you a share kit: say it your way" in ginas["text"]
    assert f"until {until(kit.ends, ROME, 'en')}" in ginas["text"]
    assert "Take it or pass" in ginas["html"]
    # Anna made it; Carla, a viewer, is not offered it.
    assert not mails_to(app, anna) and not mails_to(app, world["carla"])


def test_an_offer_made_in_their_quiet_hours_arrives_when_they_end(app, world, clock):
    folks, bruno = world["folks"], world["bruno"]
    set_profile(app, bruno, zone="America/New_York")
    with app.app_context():
        people.update_preferences(bruno, quiet_start="22:00", quiet_end="07:00")
    day = folks.now().astimezone(NEW_YORK).date() + timedelta(days=1)
    late = datetime.combine(day, datetime.min.time(), NEW_YORK) + timedelta(hours=23)
    clock.move_to(late)
    made(world)
    morning = datetime.combine(day + timedelta(days=1), datetime.min.time(), NEW_YORK)
    run_once(app, morning + timedelta(hours=6, minutes=59))
    assert not mails_to(app, bruno)
    run_once(app, morning + timedelta(hours=7))
    (mail,) = mails_to(app, bruno)
    assert "Yesterday 23:00 Anna Rossi offers you a share kit" in mail["text"], mail["text"]


def test_the_kit_switch_off_in_their_preferences_sends_no_kit_email(app, world):
    client = world["folks"].client_for(world["gina"])
    form = form_in(client.get("/me/nudges").text, id="preferences-form")
    data = form.data()
    assert "kit" in data.getlist("notify")
    data.setlist("notify", [kind for kind in data.getlist("notify") if kind != "kit"])
    assert client.post(form.action, data=data).status_code == 302
    made(world)
    run_once(app, world["folks"].now() + timedelta(minutes=1))
    assert not mails_to(app, world["gina"])
    assert len(mails_to(app, world["bruno"])) == 1


# The signed link ---------------------------------------------------------------------------


def test_an_offer_no_longer_waiting_is_not_mailed(app, world):
    """Between the offer and its batch, Bruno took the kit and Anna deleted another: neither
    is mailed to him (their links would lead nowhere); Gina still hears of the first."""
    folks, team, bruno = world["folks"], world["team"], world["bruno"]
    taken_id = made(world)
    deleted_id = made(world, title="An older kit")
    client = folks.client_for(bruno)
    take = form_in(
        client.get(f"/t/{team.team_id}/to-share/{team.team_id}/{taken_id}").text, id="take-form"
    )
    assert client.post(take.action, data=take.data()).status_code == 302
    admin = folks.client_for(world["anna"])
    edit = form_in(admin.get(f"/t/{team.team_id}/kits/{deleted_id}/edit").text, id="kit-form")
    with app.app_context():
        version = kits.kit(team.team_id, deleted_id).version
    deleted = admin.post(
        f"/t/{team.team_id}/kits/{deleted_id}/delete",
        data={"version": version, "csrf_token": edit.data()["csrf_token"]},
    )
    assert deleted.status_code == 302
    run_once(app, folks.now() + timedelta(minutes=1))
    assert mails_to(app, bruno) == []
    (gina_mail,) = mails_to(app, world["gina"])
    assert "Our new Nebbiolo is out" in gina_mail["text"]
    assert "An older kit" not in gina_mail["text"]


def test_the_signed_link_takes_the_kit_once_for_its_person_only(app, world):
    folks, team = world["folks"], world["team"]
    bruno, gina = world["bruno"], world["gina"]
    kit_id, mails = offered_and_mailed(app, world)
    link = signed_path(mails["bruno"])
    assert link != signed_path(mails["gina"])

    # A pasted link of any kind (/n/<token>) finds the kit's page.
    token = link.rsplit("/", 1)[1]
    redirected = app.test_client().get(f"/n/{token}")
    assert redirected.status_code == 302
    assert urlsplit(redirected.headers["Location"]).path == link
    tampered = f"/n/kit/{'A' if token[0] != 'A' else 'B'}{token[1:]}"
    assert app.test_client().get(tampered).status_code == 404

    # Opened without a session, the page is Bruno's: his LinkedIn profile to take it on.
    stranger = app.test_client()
    page = stranger.get(link)
    assert page.status_code == 200 and "Our new Nebbiolo is out" in page.text
    take = form_in(page.text, id="take-form")
    assert take.action == link and "bruno-b" in page.text and "@gina" not in page.text

    # Opened in Gina's browser, where she is signed in, it still acts for Bruno only.
    ginas_browser = folks.client_for(gina)
    page = ginas_browser.get(link)
    assert "bruno-b" in page.text and "@gina" not in page.text
    take = form_in(page.text, id="take-form")
    done = ginas_browser.post(take.action, data=take.data())
    assert done.status_code == 200 and "It is yours" in done.text, done.text
    offers = offers_of(app, team.team_id, kit_id)
    assert offers[bruno.person_id].state == "taken"
    assert offers[gina.person_id].state == "offered"
    post, body = posts.load(team.team_id, offers[bruno.person_id].post_id)
    assert post.owner_id == bruno.person_id and "After a cool 2024" in body.copy

    for again in (ginas_browser.post(take.action, data=take.data()), stranger.get(link)):
        assert again.status_code == 410 and "used already" in again.text

    # The kit page link of the email needs signing in, and then is the person's own page.
    (page_path,) = {
        urlsplit(url).path
        for url in re.findall(r"https?://\S+", mails["bruno"]["text"])
        if "/to-share/" in url
    }
    assert page_path == f"/t/{team.team_id}/to-share/{team.team_id}/{kit_id}"
    assert app.test_client().get(page_path).status_code == 302
    assert "You took this kit." in folks.client_for(bruno).get(page_path).text
    assert "take-form" in folks.client_for(gina).get(page_path).text


def test_passing_through_the_signed_link_works_once(app, world):
    team, gina = world["team"], world["gina"]
    kit_id, mails = offered_and_mailed(app, world)
    link, client = signed_path(mails["gina"]), app.test_client()
    passing = form_in(client.get(link).text, id="pass-form")
    assert passing.action == link
    data = passing.data()
    data["reason"] = "Not my audience"
    done = client.post(link, data=data)
    assert done.status_code == 200 and "You passed on this kit" in done.text
    offer = offers_of(app, team.team_id, kit_id)[gina.person_id]
    assert (offer.state, offer.reason) == ("passed", "Not my audience")
    assert client.post(link, data=data).status_code == 410
    assert (
        "Not my audience"
        in world["folks"].client_for(world["anna"]).get(f"/t/{team.team_id}/kits/{kit_id}").text
    )


def test_the_signed_link_expires_when_the_window_closes(app, world, clock):
    kit_id, mails = offered_and_mailed(app, world)
    kit = stored_kit(app, world["team"].team_id, kit_id)
    link = signed_path(mails["bruno"])
    clock.move_to(kit.ends - timedelta(minutes=1))
    assert app.test_client().get(link).status_code == 200
    # At its end as it is now, and past the token's own expiry (a week after the end mailed).
    for moment in (kit.ends, kit.ends + timedelta(days=1), kit.ends + timedelta(days=8)):
        clock.move_to(moment)
        closed = app.test_client().get(link)
        assert closed.status_code == 410 and "window has closed" in closed.text


def test_a_window_made_longer_after_the_email_keeps_its_link_working(app, world, clock):
    folks, team = world["folks"], world["team"]
    kit_id, mails = offered_and_mailed(app, world)
    kit = stored_kit(app, team.team_id, kit_id)
    admin = folks.client_for(world["anna"])
    edit = form_in(admin.get(f"/t/{team.team_id}/kits/{kit_id}/edit").text, id="kit-form")
    data = edit.data()
    data["last_day"] = (kit.last_day() + timedelta(days=3)).isoformat()
    assert admin.post(edit.action, data=data).status_code == 302
    clock.move_to(kit.ends + timedelta(days=1))
    link, client = signed_path(mails["gina"]), app.test_client()
    passing = form_in(client.get(link).text, id="pass-form")
    assert client.post(link, data=passing.data()).status_code == 200
    assert offers_of(app, team.team_id, kit_id)[world["gina"].person_id].state == "passed"


def test_a_kit_changed_before_its_email_goes_is_mailed_as_it_is_then(app, world):
    """Anna renames the kit and makes its window longer before Gina's batch goes: the email
    names it and its end as they are when it is sent."""
    folks, team = world["folks"], world["team"]
    kit_id = made(world)
    admin = folks.client_for(world["anna"])
    edit = form_in(admin.get(f"/t/{team.team_id}/kits/{kit_id}/edit").text, id="kit-form")
    data = edit.data()
    data["title"] = "The 2024 Nebbiolo is out"
    data["last_day"] = (
        stored_kit(app, team.team_id, kit_id).last_day() + timedelta(days=3)
    ).isoformat()
    assert admin.post(edit.action, data=data).status_code == 302
    run_once(app, folks.now() + timedelta(minutes=1))
    kit = stored_kit(app, team.team_id, kit_id)
    (mail,) = mails_to(app, world["gina"])
    assert "The 2024 Nebbiolo is out" in mail["text"] and "Our new" not in mail["text"]
    assert f"until {until(kit.ends, ROME, 'en')}" in mail["text"]


def test_a_link_whose_person_left_the_team_says_it_is_no_longer_offered(app, world):
    _kit_id, mails = offered_and_mailed(app, world)
    with app.app_context():
        teams.remove_member(world["team"].team_id, world["bruno"].person_id)
    gone = app.test_client().get(signed_path(mails["bruno"]))
    assert gone.status_code == 410 and "no longer offered to you" in gone.text


def test_the_signed_page_speaks_its_persons_language(app, world, clock):
    bruno = world["bruno"]
    set_profile(app, bruno, language="it")
    kit_id, mails = offered_and_mailed(app, world)
    link, client = signed_path(mails["bruno"]), app.test_client()
    page = client.get(link, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and '<html lang="it">' in page.text
    passing = form_in(page.text, id="pass-form")
    assert client.post(link, data=passing.data()).status_code == 200
    used = client.get(link, headers={"Accept-Language": "en"})
    assert used.status_code == 410 and "Questo link è già stato usato." in used.text
    # Past the token's own expiry, the page still speaks the language of the person it names.
    clock.move_to(stored_kit(app, world["team"].team_id, kit_id).ends + timedelta(days=8))
    expired = app.test_client().get(link, headers={"Accept-Language": "en"})
    assert expired.status_code == 410 and '<html lang="it">' in expired.text


# The half-window nudge ---------------------------------------------------------------------


def test_the_undecided_are_nudged_once_half_way(app, world, clock):
    folks, team = world["folks"], world["team"]
    anna, bruno, gina = world["anna"], world["bruno"], world["gina"]
    luca = folks.person("luca@example.com", "Luca Gialli", zone="Europe/Rome")
    folks.join(team, luca, "editor")
    kit_id = made(world)
    run_once(app, folks.now() + timedelta(minutes=1))
    kit = stored_kit(app, team.team_id, kit_id)
    offer_path = f"/t/{team.team_id}/to-share/{team.team_id}/{kit_id}"
    luca_client = folks.client_for(luca)
    passing = form_in(luca_client.get(offer_path).text, id="pass-form")
    assert luca_client.post(passing.action, data=passing.data()).status_code == 302
    bruno_client = folks.client_for(bruno)
    take = form_in(bruno_client.get(offer_path).text, id="take-form")
    assert bruno_client.post(take.action, data=take.data()).status_code == 302
    before = {someone.email: len(mails_to(app, someone)) for someone in (anna, bruno, gina, luca)}

    halfway = kits.half_way(kit)
    clock.move_to(halfway)
    run_once(app, halfway)
    run_once(app, halfway + timedelta(minutes=1))
    (nudge,) = mails_to(app, gina)[before[gina.email] :]
    assert nudge["subject"] == "1 thing needs you in Cantina Aurora"
    assert "Half-way through its window: will you share it, or pass?" in nudge["text"]
    assert "Our new Nebbiolo is out" in nudge["text"]
    assert f"until {until(kit.ends, ROME, 'en')}" in nudge["text"]
    for someone in (anna, bruno, luca):  # made it, took it, passed
        assert len(mails_to(app, someone)) == before[someone.email], someone.name
    with app.app_context():
        (half,) = [
            r for r in reminders.of_post(team.team_id, f"kit-{kit_id}") if r.kind == "kit-half"
        ]
    assert half.state == "sent"

    # The nudge's link works like the offer's.
    page = app.test_client().get(signed_path(nudge))
    assert page.status_code == 200 and "pass-form" in page.text

    # Later, Dora joins and Anna edits the kit: Dora is offered it, nobody is nudged again.
    later = halfway + timedelta(hours=2)
    clock.move_to(later)
    dora = folks.person("dora@example.com", "Dora Blu", zone="Europe/Rome")
    folks.join(team, dora, "editor")
    admin = folks.client_for(anna)
    edit = form_in(admin.get(f"/t/{team.team_id}/kits/{kit_id}/edit").text, id="kit-form")
    data = edit.data()
    data["story"] = "The 2024 Nebbiolo is in bottles: a cool year, a fresh, bright wine."
    assert admin.post(edit.action, data=data).status_code == 302
    for minutes in (1, 30, 60):
        run_once(app, later + timedelta(minutes=minutes))
    assert len(mails_to(app, gina)) == before[gina.email] + 1
    (doras,) = mails_to(app, dora)
    assert "Anna Rossi offers you a share kit" in doras["text"]
    assert "Half-way through" not in doras["text"]
    offers = offers_of(app, team.team_id, kit_id)
    assert offers[dora.person_id].nudged_at is None
    assert offers[gina.person_id].nudged_at is not None


# The nudge job stays cheap to import -------------------------------------------------------

IMPORTS = """
import json, sys
import app.nudges.job
from app.kits import job
from app.notifications import batch
watched = ("app.", "flask_wtf", "wtforms")
print(json.dumps(sorted(name for name in sys.modules if name.startswith(watched))))
"""


def test_the_nudge_job_imports_no_views_and_no_forms():
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    assert "app.kits.job" in imported
    assert not [
        name
        for name in imported
        if name.endswith((".views", ".forms"))
        or name.startswith(("app.planner", "flask_wtf", "wtforms"))
    ], imported


# Published in one click from a nudge -------------------------------------------------------


def test_published_from_a_nudge_with_the_suggestion_unchanged_suggests_their_own_voice(app, world):
    folks, team = world["folks"], world["team"]
    bruno, gina = world["bruno"], world["gina"]
    kit_id = made(world)
    offer_path = f"/t/{team.team_id}/to-share/{team.team_id}/{kit_id}"
    taken = {}
    for someone in (bruno, gina):
        client = folks.client_for(someone)
        take = form_in(client.get(offer_path).text, id="take-form")
        response = client.post(take.action, data=take.data())
        assert response.status_code == 302, response.text
        taken[someone.email] = response.headers["Location"]
    # Gina rewrites hers in her own words; Bruno keeps the suggestion as it came.
    gina_client = folks.client_for(gina)
    edit = form_in(gina_client.get(taken[gina.email]).text, id="post-form")
    data = edit.data()
    data["copy"] = "Tasted it yesterday with the team: cherries, roses, and a long finish."
    saved = gina_client.post(edit.action, data=data)
    assert saved.status_code in (200, 302), saved.text
    ginas_post_id = taken[gina.email].rsplit("/", 1)[1]
    assert posts.load(team.team_id, ginas_post_id)[1].copy.startswith("Tasted it yesterday")

    # Anna approves both (an editor's post is published once approved).
    admin = folks.client_for(world["anna"])
    for path in taken.values():
        approve = form_in(admin.get(path).text, id="post-form")
        data = approve.data()
        data["status"] = "approved"
        assert admin.post(approve.action, data=data).status_code in (200, 302)

    post_ids = {email: path.rsplit("/", 1)[1] for email, path in taken.items()}
    for email, post_id in post_ids.items():
        assert posts.load(team.team_id, post_id)[0].status == "approved", email
    with app.app_context():
        first = min(
            r.due
            for r in reminders.of_post(team.team_id, post_ids[bruno.email])
            if r.state == "pending"
        )
    mailed = len(outbox(app))
    run_once(app, first)
    for someone in (bruno, gina):
        (link,) = [
            found
            for mail in outbox(app)[: len(outbox(app)) - mailed]
            if mail["to"] == someone.email
            for found in re.findall(r"^Mark as published: (\S+)", mail["text"], re.M)
        ]
        done = app.test_client().post(urlsplit(link).path)
        assert done.status_code == 200 and "is marked as published" in done.text, done.text
        assert (str(OWN_VOICE) in done.text) == (someone is bruno), someone.name
