"""Share kits (issue 12): a team offers something worth telling; each person offered takes it
(their own draft, on their own profile) or passes; the kit's page shows who showed up."""

import re
import threading
from datetime import timedelta
from functools import partial

import pytest
import test_planner
from formdata import form_in
from test_forms_round_trip import assert_unchanged, stored_items
from test_profiles import added

from app.kits import voice
from app.nudges import run_once
from app.store import kits, people, posts, teams
from app.store import profiles as stored_profiles
from app.store.models import Reminder
from tests.conftest import ROME, dynamodb_error, outbox

cantina = test_planner.cantina  # Anna (admin), Bruno (editor), Carla (viewer); Eve elsewhere


def new_kit(client, team_id, **changes):
    """Fill the new-kit form as a person would: the form as shown, a few fields typed."""
    form = form_in(client.get(f"/t/{team_id}/kits/new").text, id="kit-form")
    data = form.data()
    typed = {
        "title": "Our new Nebbiolo is out",
        "story": "The 2024 Nebbiolo is in bottles: a cool year, a fresh wine.",
        "facts": "14 months in oak\nhttps://example.com/nebbiolo",
        "suggest_any": "Our new Nebbiolo is out! Come and taste it at the cellar.",
        "suggest_linkedin": "After a cool 2024, our Nebbiolo is ready: proud of the team.",
        "hashtags": "#Nebbiolo #Langhe",
    }
    for name, value in {**typed, **changes}.items():
        data[name] = value
    return client.post(form.action, data=data)


@pytest.fixture
def kit_world(app, cantina):
    folks, bruno = cantina["folks"], cantina["bruno"]
    gina = folks.person("gina@example.com", "Gina Neri", zone="Europe/Rome")
    folks.join(cantina["team"], gina, "editor")
    for someone, network, handle in ((bruno, "linkedin", "bruno-b"), (gina, "instagram", "@gina")):
        assert added(folks.client_for(someone), network, handle).status_code == 302
    return {**cantina, "gina": gina}


def test_a_kit_is_offered_taken_passed_and_shown(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    anna, bruno, gina = kit_world["anna"], kit_world["bruno"], kit_world["gina"]
    admin = folks.client_for(anna)
    response = new_kit(admin, team.team_id)
    assert response.status_code == 302, response.text
    kit_path = response.headers["Location"]
    kit_id = kit_path.rsplit("/", 1)[1]
    with app.app_context():
        kit, offers = kits.with_offers(team.team_id, kit_id)
    # Editors and admins are offered it; the viewer cannot own posts.
    assert {offer.name for offer in offers} == {"Anna Rossi", "Bruno Bianchi", "Gina Neri"}

    page = admin.get(kit_path).text
    assert "Bruno Bianchi" in page and "Offered" in page

    # Bruno's list shows it; he takes it on his LinkedIn profile.
    client = folks.client_for(bruno)
    listed = client.get("/me/to-share").text
    assert "Our new Nebbiolo is out" in listed
    offer_path = f"/t/{team.team_id}/to-share/{team.team_id}/{kit_id}"
    take = form_in(client.get(offer_path).text, id="take-form")
    response = client.post(take.action, data=take.data())
    assert response.status_code == 302, response.text
    post_page = client.get(response.headers["Location"]).text
    assert "After a cool 2024" in post_page  # the LinkedIn suggestion

    # Taking again (the other tab) writes no second post.
    again = client.post(take.action, data=take.data())
    assert again.status_code == 302
    with app.app_context():
        _kit, offers = kits.with_offers(team.team_id, kit_id)
        taken = kits.taken_posts(offers)
    assert set(taken) == {bruno.person_id}

    # Gina passes, saying why; then undoes it.
    gina_client = folks.client_for(gina)
    passing = form_in(gina_client.get(offer_path).text, id="pass-form")
    data = passing.data()
    data["reason"] = "Not my audience"
    assert gina_client.post(passing.action, data=data).status_code == 302
    assert "Not my audience" in admin.get(kit_path).text

    # Both answered before their batch went: nobody is emailed about a kit they decided on.
    run_once(app, folks.now() + timedelta(minutes=1))
    assert outbox(app) == []
    with app.app_context():
        assert stored_profiles.profiles_of(people.person(bruno.person_id))


# Helpers: what a person does on the pages ------------------------------------------------


def kit_made(client, team_id: str, **changes) -> str:
    """A kit made through the new-kit form; its id."""
    response = new_kit(client, team_id, **changes)
    assert response.status_code == 302, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def offer_path(team_id: str, kit_id: str, origin_id: str | None = None) -> str:
    """A person's page of a kit offered to them in ``team_id`` (made by ``origin_id``)."""
    return f"/t/{team_id}/to-share/{origin_id or team_id}/{kit_id}"


def sent(client, path: str, form_id: str, **changes):
    """Open ``path``, fill the form ``form_id`` with ``changes``, send it."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    form = form_in(page.text, id=form_id)
    data = form.data()
    for name, value in changes.items():
        data[name] = value
    return client.post(form.action, data=data)


def followed(client, response) -> str:
    """The page a redirect leads to (with the flashed messages it shows)."""
    assert response.status_code == 302, response.text
    return client.get(response.headers["Location"]).text


def stored_offers(app, team_id: str, kit_id: str) -> dict:
    """The kit's offers by person id, as stored."""
    with app.app_context():
        _kit, offers = kits.with_offers(team_id, kit_id)
    return {offer.person_id: offer for offer in offers}


ROW = re.compile(r'<tr class="kit-row state-(\w+)" id="offer-(\w+)">(.*?)</tr>', re.S)


def status_rows(client, team_id: str, kit_id: str) -> dict[str, tuple[str, str]]:
    """The kit's status page: (state, the row's text) by person id."""
    page = client.get(f"/t/{team_id}/kits/{kit_id}")
    assert page.status_code == 200, page.text
    return {person: (state, row) for state, person, row in ROW.findall(page.text)}


def field_errors(html: str, field: str) -> str:
    """The messages shown by a form's field (``<small id="<field>-error">``)."""
    found = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


def post_saved(client, team_id: str, post_id: str, **changes):
    """The planner's post form, sent with ``changes``, as the post's page shows it."""
    return sent(client, f"/t/{team_id}/posts/{post_id}", "post-form", **changes)


def published(owner_client, admin_client, team_id: str, post_id: str, **changes):
    """An admin approves the post, then its owner (an editor) marks it published."""
    assert post_saved(admin_client, team_id, post_id, status="approved").status_code == 302
    return post_saved(owner_client, team_id, post_id, status="published", **changes)


def removed(admin_client, team_id: str, person_id: str) -> None:
    """The admin removes someone on the team's members page."""
    action = f"/t/{team_id}/members/{person_id}/remove"
    form = form_in(admin_client.get(f"/t/{team_id}/members").text, action=action)
    assert admin_client.post(action, data=form.data()).status_code == 302


# Taking ---------------------------------------------------------------------------------


def test_taking_in_two_tabs_at_once_writes_one_post(app, kit_world):
    folks, team, bruno = kit_world["folks"], kit_world["team"], kit_world["bruno"]
    kit_id = kit_made(folks.client_for(kit_world["anna"]), team.team_id)
    path = offer_path(team.team_id, kit_id)
    tabs = [folks.client_for(bruno), folks.client_for(bruno)]
    forms = [form_in(tab.get(path).text, id="take-form") for tab in tabs]
    answers, barrier = [], threading.Barrier(len(tabs))

    def take(tab, form):
        barrier.wait()
        answers.append((tab, tab.post(form.action, data=form.data())))

    threads = [threading.Thread(target=take, args=pair) for pair in zip(tabs, forms, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    post_id = kits.taken_post_id(kit_id, bruno.person_id)
    post_path = f"/t/{team.team_id}/posts/{post_id}"
    [(_tab, took)] = [a for a in answers if a[1].headers.get("Location") == post_path]
    [(tab, refused)] = [a for a in answers if a[1] is not took]
    # The other tab is told: at once if it lost the race to write (409), or on the kit's page
    # if it read the offer taken already.
    if refused.status_code == 409:
        assert "You took this kit already" in refused.text
    else:
        assert (refused.status_code, refused.headers["Location"]) == (302, path)
        assert "You took this kit already." in tab.get(path).text
    offer = stored_offers(app, team.team_id, kit_id)[bruno.person_id]
    assert (offer.state, offer.post_id) == ("taken", post_id)
    with app.app_context():
        mine = posts.owned_between(bruno.person_id, folks.now(), folks.now() + timedelta(days=30))
    assert [post.post_id for post in mine if post.kit_id == kit_id] == [post_id]


def test_a_kit_taken_lands_on_the_takers_own_profile(app, kit_world):
    folks, team, bruno = kit_world["folks"], kit_world["team"], kit_world["bruno"]
    kit_id = kit_made(folks.client_for(kit_world["anna"]), team.team_id)
    client = folks.client_for(bruno)
    response = sent(client, offer_path(team.team_id, kit_id), "take-form")
    assert response.status_code == 302, response.text
    with app.app_context():
        post, body = posts.load(team.team_id, kits.taken_post_id(kit_id, bruno.person_id))
        [bruno_profile] = stored_profiles.profiles_of(people.person(bruno.person_id))
    assert post.owner_id == bruno.person_id and post.created_by == bruno.person_id
    assert [(copy.person, copy.id) for copy in post.profiles] == [
        (bruno.person_id, bruno_profile.profile_id)
    ]
    assert (post.kit_team_id, post.kit_id, post.status) == (team.team_id, kit_id, "draft")
    assert body.seed == body.copy and body.copy.startswith("After a cool 2024")


def test_nobody_takes_a_kit_on_someone_elses_profile(app, kit_world):
    folks, team, bruno = kit_world["folks"], kit_world["team"], kit_world["bruno"]
    kit_id = kit_made(folks.client_for(kit_world["anna"]), team.team_id)
    with app.app_context():
        [ginas] = stored_profiles.profiles_of(people.person(kit_world["gina"].person_id))
    client = folks.client_for(bruno)
    path = offer_path(team.team_id, kit_id)
    form = form_in(client.get(path).text, id="take-form")
    assert ginas.profile_id not in form.values("profile")
    data = form.data()
    data["profile"] = ginas.profile_id
    before = stored_items()
    response = client.post(form.action, data=data)
    assert response.status_code == 422
    assert "Choose one of your profiles." in response.text
    assert_unchanged(before, stored_items())


def test_taking_at_a_time_outside_the_window_is_refused(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    kit_id = kit_made(folks.client_for(kit_world["anna"]), team.team_id)
    with app.app_context():
        last = kits.kit(team.team_id, kit_id).last_day()
    client = folks.client_for(kit_world["bruno"])
    form = form_in(client.get(offer_path(team.team_id, kit_id)).text, id="take-form")
    today = folks.now().astimezone(ROME).date()
    for changes, field, message in (
        ({"day": ""}, "day", "Pick the day you post it."),
        ({"day": "5 December"}, "day", "Enter a date like 2026-12-05."),
        ({"at": "25:00"}, "at", "Enter a time like 18:30."),
        ({"day": str(last + timedelta(days=1))}, "at", "Choose a time inside the kit's window."),
        ({"day": str(today - timedelta(days=30))}, "at", "Choose a time inside the kit's window."),
        ({"day": str(today), "at": "09:00"}, "at", "Choose a time still to come."),
    ):
        data = form.data()
        for name, value in changes.items():
            data[name] = value
        before = stored_items()
        response = client.post(form.action, data=data)
        assert response.status_code == 422, changes
        assert message in field_errors(response.text, field), changes
        assert_unchanged(before, stored_items())


def test_a_viewer_cannot_take_a_kit(app, kit_world):
    folks, team, carla = kit_world["folks"], kit_world["team"], kit_world["carla"]
    kit_id = kit_made(folks.client_for(kit_world["anna"]), team.team_id)
    client = folks.client_for(carla)
    assert client.get(offer_path(team.team_id, kit_id)).status_code == 404
    assert client.post(offer_path(team.team_id, kit_id) + "/take").status_code in (403, 404)
    assert carla.person_id not in stored_offers(app, team.team_id, kit_id)


# Leaving the team ------------------------------------------------------------------------


def test_someone_removed_from_the_team_no_longer_sees_the_kit(app, kit_world):
    folks, team, bruno = kit_world["folks"], kit_world["team"], kit_world["bruno"]
    admin = folks.client_for(kit_world["anna"])
    kit_id = kit_made(admin, team.team_id)
    client = folks.client_for(bruno)
    path = offer_path(team.team_id, kit_id)
    take = form_in(client.get(path).text, id="take-form")
    passing = form_in(client.get(path).text, id="pass-form")
    assert "Our new Nebbiolo is out" in client.get("/me/to-share").text

    removed(admin, team.team_id, bruno.person_id)

    listed = client.get("/me/to-share")
    assert listed.status_code == 200 and "Our new Nebbiolo is out" not in listed.text
    assert client.get(path).status_code == 404
    assert client.get(f"/t/{team.team_id}/kits/{kit_id}").status_code == 404
    before = stored_items()
    assert client.post(take.action, data=take.data()).status_code == 404
    assert client.post(passing.action, data=passing.data()).status_code == 404
    assert client.post(path + "/undo-pass", data=passing.data()).status_code == 404
    assert_unchanged(before, stored_items())
    # The kit no longer waits for him.
    assert bruno.person_id not in status_rows(admin, team.team_id, kit_id)


# Passing ---------------------------------------------------------------------------------


def test_passing_with_a_reason_undoing_it_and_passing_after_taking(app, kit_world):
    folks, team, gina = kit_world["folks"], kit_world["team"], kit_world["gina"]
    admin = folks.client_for(kit_world["anna"])
    kit_id = kit_made(admin, team.team_id)
    client = folks.client_for(gina)
    path = offer_path(team.team_id, kit_id)

    page = followed(client, sent(client, path, "pass-form", reason="Not my audience"))
    assert "You passed on this kit." in page and "Not my audience" in page
    state, row = status_rows(admin, team.team_id, kit_id)[gina.person_id]
    assert state == "passed" and "Not my audience" in row
    assert "offer-passed" in client.get("/me/to-share").text

    undo = form_in(client.get(path).text, action=path + "/undo-pass")
    page = followed(client, client.post(undo.action, data=undo.data()))
    assert "The kit is offered to you again." in page
    offer = stored_offers(app, team.team_id, kit_id)[gina.person_id]
    assert (offer.state, offer.reason, offer.decided_at) == ("offered", "", None)
    # Undoing again (the other tab) changes nothing, and says why.
    before = stored_items()
    again = client.post(undo.action, data=undo.data())
    assert again.status_code == 409 and "This kit is not passed any more" in again.text
    assert_unchanged(before, stored_items())
    assert status_rows(admin, team.team_id, kit_id)[gina.person_id][0] == "offered"

    # The pass form of a tab opened before she took it is refused once she has.
    stale_pass = form_in(client.get(path).text, id="pass-form")
    assert sent(client, path, "take-form").status_code == 302
    data = stale_pass.data()
    data["reason"] = "Changed my mind"
    before = stored_items()
    refused = client.post(stale_pass.action, data=data)
    assert refused.status_code == 409 and "You took this kit already" in refused.text
    assert_unchanged(before, stored_items())
    offer = stored_offers(app, team.team_id, kit_id)[gina.person_id]
    assert (offer.state, offer.reason) == ("taken", "")
    # Undoing a pass she never made now changes nothing either.
    before = stored_items()
    assert client.post(undo.action, data=undo.data()).status_code == 409
    assert_unchanged(before, stored_items())


def test_a_reason_too_long_is_refused(app, kit_world):
    folks, team, gina = kit_world["folks"], kit_world["team"], kit_world["gina"]
    kit_id = kit_made(folks.client_for(kit_world["anna"]), team.team_id)
    client = folks.client_for(gina)
    before = stored_items()
    response = sent(client, offer_path(team.team_id, kit_id), "pass-form", reason="x" * 501)
    assert response.status_code == 422 and "Keep it under 500 characters." in response.text
    assert_unchanged(before, stored_items())


# The kit form ----------------------------------------------------------------------------


def test_the_kit_form_round_trips_and_edits_reach_the_offers(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    admin = folks.client_for(kit_world["anna"])
    kit_id = kit_made(admin, team.team_id)
    edit_path = f"/t/{team.team_id}/kits/{kit_id}/edit"
    mails = len(outbox(app))

    # Saved as it stands: nothing is written, nobody is told again.
    form = form_in(admin.get(edit_path).text, id="kit-form")
    before = stored_items()
    response = admin.post(form.action, data=form.data())
    assert response.status_code == 302 and response.headers["Location"].endswith(kit_id)
    assert_unchanged(before, stored_items())

    # A new title reaches every offer's copy; nobody is offered it a second time.
    offers_before = stored_offers(app, team.team_id, kit_id)
    response = sent(admin, edit_path, "kit-form", title="Nebbiolo 2024: out now")
    assert "The kit is saved." in followed(admin, response)
    offers = stored_offers(app, team.team_id, kit_id)
    assert offers.keys() == offers_before.keys()
    assert {offer.title for offer in offers.values()} == {"Nebbiolo 2024: out now"}
    assert {o.offered_at for o in offers.values()} == {o.offered_at for o in offers_before.values()}
    with app.app_context():
        stored = kits.kit(team.team_id, kit_id)
    assert (stored.title, stored.version) == ("Nebbiolo 2024: out now", 2)
    assert "Nebbiolo 2024: out now" in folks.client_for(kit_world["bruno"]).get("/me/to-share").text
    run_once(app, folks.now() + timedelta(minutes=6))
    assert len(outbox(app)) == mails + 2  # the first offers' emails only

    # The form of a tab opened before that edit is refused whole.
    stale = form.data()
    stale["title"] = "An older title"
    before = stored_items()
    response = admin.post(form.action, data=stale)
    assert response.status_code == 409 and "reload it" in response.text
    assert_unchanged(before, stored_items())


def test_the_kits_window_moves_with_its_offers(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    admin = folks.client_for(kit_world["anna"])
    kit_id = kit_made(admin, team.team_id)
    today = folks.now().astimezone(ROME).date()
    last = today + timedelta(days=20)
    response = sent(admin, f"/t/{team.team_id}/kits/{kit_id}/edit", "kit-form", last_day=str(last))
    assert response.status_code == 302, response.text
    with app.app_context():
        stored = kits.kit(team.team_id, kit_id)
        listed = kits.to_share(kit_world["bruno"].person_id, folks.now())
    assert stored.last_day() == last
    assert {o.ends for o in stored_offers(app, team.team_id, kit_id).values()} == {stored.ends}
    assert [offer.ends for offer in listed] == [stored.ends]  # the list's index moved too


def _days(folks, first: int, last: int) -> dict:
    today = folks.now().astimezone(ROME).date()
    return {
        "first_day": str(today + timedelta(days=first)),
        "last_day": str(today + timedelta(days=last)),
    }


def test_a_kit_form_with_bad_input_is_refused_with_its_reason(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    admin = folks.client_for(kit_world["anna"])
    kit_id = kit_made(admin, team.team_id)
    edit_path = f"/t/{team.team_id}/kits/{kit_id}/edit"
    for changes, field, message in (
        ({"title": "   "}, "title", "Give the kit a title."),
        ({"title": "x" * 201}, "title", "Keep the title under 200 characters."),
        (_days(folks, 5, 2), "last_day", "The last day comes after the first."),
        (_days(folks, -10, -1), "last_day", "The window has passed: choose days still to come."),
        (_days(folks, 0, 92), "last_day", "Keep the window under three months."),
        ({"first_day": "next week"}, "first_day", "Enter a date like 2026-12-05."),
        ({"last_day": ""}, "last_day", "Pick the window's last day."),
        ({"audience": "chosen"}, "chosen", "Choose at least one person, or offer it to everyone."),
        ({"story": "x" * 2001}, "story", "Keep the story under 2,000 characters."),
        ({"hashtags": "#x" * 251}, "hashtags", "Keep these under 500 characters."),
        ({"suggest_linkedin": "x" * 3001}, "suggest_linkedin", "under 3,000 characters."),
    ):
        for send in (
            partial(new_kit, admin, team.team_id),
            partial(sent, admin, edit_path, "kit-form"),
        ):
            before = stored_items()
            response = send(**changes)
            assert response.status_code == 422, (changes, response.status_code)
            assert message in field_errors(response.text, field), field  # by its field
            assert_unchanged(before, stored_items())


def test_a_window_of_exactly_three_months_less_a_day_is_fine(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    admin = folks.client_for(kit_world["anna"])
    assert new_kit(admin, team.team_id, **_days(folks, 0, 91)).status_code == 302
    assert new_kit(admin, team.team_id, **_days(folks, -5, 0)).status_code == 302  # ends today


def test_a_viewer_cannot_make_or_edit_a_kit(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    kit_id = kit_made(folks.client_for(kit_world["anna"]), team.team_id)
    viewer = folks.client_for(kit_world["carla"])
    assert viewer.get(f"/t/{team.team_id}/kits/{kit_id}").status_code == 200
    assert viewer.get(f"/t/{team.team_id}/kits/new").status_code == 403
    assert viewer.get(f"/t/{team.team_id}/kits/{kit_id}/edit").status_code == 403
    assert 'id="edit-kit"' not in viewer.get(f"/t/{team.team_id}/kits/{kit_id}").text


# Who is offered it -----------------------------------------------------------------------


def test_a_kit_for_chosen_people_follows_the_choice(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    anna, bruno, gina, carla = (kit_world[name] for name in ("anna", "bruno", "gina", "carla"))
    admin = folks.client_for(anna)
    form = form_in(admin.get(f"/t/{team.team_id}/kits/new").text, id="kit-form")
    page = admin.get(f"/t/{team.team_id}/kits/new").text
    # The viewer is not among the people to choose: she cannot own posts.
    assert carla.person_id not in page and bruno.person_id in page
    data = form.data()
    data["title"], data["suggest_any"], data["audience"] = "Harvest", "Harvest is on", "chosen"
    data.setlist("chosen", [bruno.person_id])
    response = admin.post(form.action, data=data)
    assert response.status_code == 302, response.text
    kit_id = response.headers["Location"].rsplit("/", 1)[1]
    assert stored_offers(app, team.team_id, kit_id).keys() == {bruno.person_id}
    gina_client = folks.client_for(gina)
    assert "Harvest" not in gina_client.get("/me/to-share").text
    assert gina_client.get(offer_path(team.team_id, kit_id)).status_code == 404
    assert (
        sent(folks.client_for(bruno), offer_path(team.team_id, kit_id), "take-form").status_code
        == 302
    )

    # Gina instead of Bruno: his taken offer stays, she is offered it.
    edit_path = f"/t/{team.team_id}/kits/{kit_id}/edit"
    form = form_in(admin.get(edit_path).text, id="kit-form")
    assert form.values("chosen") == [bruno.person_id] and form.values("audience") == ["chosen"]
    data = form.data()
    data.setlist("chosen", [gina.person_id])
    assert admin.post(form.action, data=data).status_code == 302
    offers = stored_offers(app, team.team_id, kit_id)
    assert offers.keys() == {bruno.person_id, gina.person_id}
    assert offers[bruno.person_id].state == "taken"
    assert "Harvest" in gina_client.get("/me/to-share").text

    # Anna instead of Gina, who had not decided: her offer goes.
    data = form_in(admin.get(edit_path).text, id="kit-form").data()
    data.setlist("chosen", [anna.person_id])
    assert admin.post(form.action, data=data).status_code == 302
    assert stored_offers(app, team.team_id, kit_id).keys() == {bruno.person_id, anna.person_id}
    assert "Harvest" not in gina_client.get("/me/to-share").text

    # A viewer's id, sent anyway, is refused.
    data = form_in(admin.get(edit_path).text, id="kit-form").data()
    data.setlist("chosen", [carla.person_id])
    before = stored_items()
    response = admin.post(form.action, data=data)
    assert response.status_code == 422 and "Choose people from the list." in response.text
    assert_unchanged(before, stored_items())

    # Everyone in the team after all: the viewer still is not offered it.
    data = form_in(admin.get(edit_path).text, id="kit-form").data()
    data["audience"] = "team"
    assert admin.post(form.action, data=data).status_code == 302
    assert stored_offers(app, team.team_id, kit_id).keys() == {
        anna.person_id,
        bruno.person_id,
        gina.person_id,
    }


# Partner teams ---------------------------------------------------------------------------


@pytest.fixture
def partners_world(app, kit_world):
    """Kit world, with the Other team (Eve, its admin, with an Instagram profile; Tom, its
    editor) as Cantina Aurora's partner."""
    folks, other, eve = kit_world["folks"], kit_world["other"], kit_world["eve"]
    tom = folks.person("tom@example.com", "Tom Reed", zone="Europe/London")
    folks.join(other, tom, "editor")
    folks.partner(kit_world["team"], other, eve)
    assert added(folks.client_for(eve), "instagram", "@eve").status_code == 302
    return {**kit_world, "tom": tom}


def test_a_kit_offered_to_a_partner_team_is_taken_there(app, partners_world):
    folks, team, other = partners_world["folks"], partners_world["team"], partners_world["other"]
    eve, tom = partners_world["eve"], partners_world["tom"]
    admin = folks.client_for(partners_world["anna"])
    form = form_in(admin.get(f"/t/{team.team_id}/kits/new").text, id="kit-form")
    assert "Other" in admin.get(f"/t/{team.team_id}/kits/new").text
    kit_id = kit_made(admin, team.team_id, partners=other.team_id)
    offers = stored_offers(app, team.team_id, kit_id)
    assert {offers[p.person_id].team_id for p in (eve, tom)} == {other.team_id}
    assert offers[partners_world["bruno"].person_id].team_id == team.team_id
    assert form.values("partners") == []  # not ticked unless chosen

    eve_client = folks.client_for(eve)
    path = offer_path(other.team_id, kit_id, origin_id=team.team_id)
    assert f'href="{path}"' in eve_client.get("/me/to-share").text
    # Not in Cantina Aurora: there is no such page for her there.
    assert eve_client.get(offer_path(team.team_id, kit_id)).status_code == 404
    response = sent(eve_client, path, "take-form")
    post_id = kits.taken_post_id(kit_id, eve.person_id)
    assert response.headers["Location"] == f"/t/{other.team_id}/posts/{post_id}"
    with app.app_context():
        post, body = posts.load(other.team_id, post_id)
        assert posts.load(team.team_id, post_id) is None
    assert (post.owner_id, post.profiles[0].person) == (eve.person_id, eve.person_id)
    assert body.copy.startswith("Our new Nebbiolo is out!")  # Instagram: the general suggestion
    state, row = status_rows(admin, team.team_id, kit_id)[eve.person_id]
    assert state == "taken" and "Other" in row

    # The partnership ends: Tom, who had not decided, no longer is offered it; Eve keeps
    # her post, and the kit's page is no longer hers to open.
    tom_client = folks.client_for(tom)
    partners_page = admin.get(f"/t/{team.team_id}/partners").text
    end = form_in(partners_page, action=f"/t/{team.team_id}/partners/end")
    assert admin.post(end.action, data=end.data()).status_code == 302
    assert eve_client.get(path).status_code == 404
    tom_path = offer_path(other.team_id, kit_id, origin_id=team.team_id)
    assert tom_client.get(tom_path).status_code == 404
    assert "Our new Nebbiolo" not in tom_client.get("/me/to-share").text
    offers = stored_offers(app, team.team_id, kit_id)
    assert tom.person_id not in offers and offers[eve.person_id].state == "taken"
    with app.app_context():
        assert posts.load(other.team_id, post_id) is not None
    # What she took stays listed, and leads to her post.
    listed = eve_client.get("/me/to-share").text
    assert f'href="/t/{other.team_id}/posts/{post_id}"' in listed
    assert eve_client.get(f"/t/{other.team_id}/posts/{post_id}").status_code == 200
    state, row = status_rows(admin, team.team_id, kit_id)[eve.person_id]
    assert state == "taken" and "()" not in row  # no longer a partner: no team named


# The status page -------------------------------------------------------------------------


def test_the_status_page_says_who_posted_on_time_passed_or_deleted_their_post(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    anna, bruno, gina = kit_world["anna"], kit_world["bruno"], kit_world["gina"]
    dario = folks.person("dario@example.com", "Dario Neri", zone="Europe/Rome")
    folks.join(team, dario, "editor")
    admin = folks.client_for(anna)
    kit_id = kit_made(admin, team.team_id)
    bruno_client, gina_client = folks.client_for(bruno), folks.client_for(gina)
    path = offer_path(team.team_id, kit_id)
    assert sent(bruno_client, path, "take-form").status_code == 302
    assert sent(gina_client, path, "take-form").status_code == 302
    assert sent(admin, path, "pass-form", reason="I made it").status_code == 302
    rows = status_rows(admin, team.team_id, kit_id)
    assert {person: state for person, (state, _row) in rows.items()} == {
        anna.person_id: "passed",
        bruno.person_id: "taken",
        gina.person_id: "taken",
        dario.person_id: "offered",
    }

    bruno_post = kits.taken_post_id(kit_id, bruno.person_id)
    url = "https://www.linkedin.com/posts/bruno-b_nebbiolo"
    response = published(bruno_client, admin, team.team_id, bruno_post, published_url=url)
    assert response.status_code == 302, response.text
    gina_post = kits.taken_post_id(kit_id, gina.person_id)
    trash = form_in(
        gina_client.get(f"/t/{team.team_id}/posts/{gina_post}").text,
        action=f"/t/{team.team_id}/posts/{gina_post}/trash",
    )
    assert gina_client.post(trash.action, data=trash.data()).status_code == 302

    page = admin.get(f"/t/{team.team_id}/kits/{kit_id}").text
    rows = status_rows(admin, team.team_id, kit_id)
    state, row = rows[bruno.person_id]
    assert state == "posted" and "on time" in row and f'href="{url}"' in row
    assert rows[gina.person_id][0] == "gone" and "deleted the post" in rows[gina.person_id][1]
    assert rows[anna.person_id][0] == "passed" and "I made it" in rows[anna.person_id][1]
    assert rows[dario.person_id][0] == "offered"
    assert "1 posted · 0 writing · 1 passed · 1 not decided yet" in page
    # Posted first: who showed up leads.
    assert list(rows)[0] == bruno.person_id


def test_a_post_published_after_the_window_shows_late(app, kit_world, clock):
    folks, team, bruno = kit_world["folks"], kit_world["team"], kit_world["bruno"]
    kit_id = kit_made(folks.client_for(kit_world["anna"]), team.team_id)
    assert (
        sent(folks.client_for(bruno), offer_path(team.team_id, kit_id), "take-form").status_code
        == 302
    )
    with app.app_context():
        ends = kits.kit(team.team_id, kit_id).ends
    clock.move_to(ends + timedelta(hours=2))
    admin, bruno_client = folks.client_for(kit_world["anna"]), folks.client_for(bruno)
    post_id = kits.taken_post_id(kit_id, bruno.person_id)
    assert published(bruno_client, admin, team.team_id, post_id).status_code == 302
    state, row = status_rows(admin, team.team_id, kit_id)[bruno.person_id]
    assert state == "posted" and "after the window" in row and "on time" not in row
    # The kit has ended: it is listed as such, and can no longer be taken.
    assert 'id="ended-offers"' in bruno_client.get("/me/to-share").text
    assert "See the post" not in row  # no address given


# Deleting a kit --------------------------------------------------------------------------


def test_deleting_a_kit_keeps_the_posts_people_took(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    bruno, gina = kit_world["bruno"], kit_world["gina"]
    admin = folks.client_for(kit_world["anna"])
    kit_id = kit_made(admin, team.team_id)
    run_once(app, folks.now() + timedelta(minutes=1))  # the offers' emails
    bruno_client, gina_client = folks.client_for(bruno), folks.client_for(gina)
    path = offer_path(team.team_id, kit_id)
    assert sent(bruno_client, path, "take-form").status_code == 302
    edit_path = f"/t/{team.team_id}/kits/{kit_id}/edit"
    delete = form_in(admin.get(edit_path).text, action=edit_path.replace("/edit", "/delete"))

    # A tab opened before an edit does not delete what it has not seen.
    assert sent(admin, edit_path, "kit-form", title="Nebbiolo, again").status_code == 302
    before = stored_items()
    assert admin.post(delete.action, data=delete.data()).status_code == 409
    assert_unchanged(before, stored_items())

    delete = form_in(admin.get(edit_path).text, action=delete.action)
    page = followed(admin, admin.post(delete.action, data=delete.data()))
    assert "The kit is deleted." in page and "Nebbiolo, again" not in page
    assert admin.get(f"/t/{team.team_id}/kits/{kit_id}").status_code == 404
    offers = stored_offers(app, team.team_id, kit_id)
    assert offers.keys() == {bruno.person_id} and offers[bruno.person_id].state == "taken"
    post_id = kits.taken_post_id(kit_id, bruno.person_id)
    with app.app_context():
        assert posts.load(team.team_id, post_id) is not None
        assert kits.kit(team.team_id, kit_id) is None
    assert gina_client.get(path).status_code == 404
    assert "Nebbiolo" not in gina_client.get("/me/to-share").text
    # Bruno's list still says what he took, and leads to his post.
    listed = bruno_client.get("/me/to-share").text
    assert f'href="/t/{team.team_id}/posts/{post_id}"' in listed
    assert bruno_client.get(path).status_code == 404
    # Nothing of it is left for the job: no half-way nudge about a kit that is gone.
    mails = len(outbox(app))
    run_once(app, folks.now() + timedelta(days=4))
    new = outbox(app)[: len(outbox(app)) - mails]
    assert new and not [m for m in new if "/to-share/" in m["text"]]  # his post's nudge only


# Offering finished by the job ------------------------------------------------------------


def _failing_transaction(number: int):
    """An injector failing the ``number``-th TransactWriteItems from now on (a request that
    dies there: DynamoDB refuses, and botocore does not retry)."""
    seen = []

    def injector(event_name, request):
        if event_name != "before-send.dynamodb.TransactWriteItems":
            return None
        seen.append(event_name)
        return dynamodb_error(request, "ValidationException") if len(seen) == number else None

    return injector


def _marker(team_id: str, kit_id: str):
    """The kit's offering marker (the reminder saying its offers are still to write)."""
    try:
        return Reminder.get(*Reminder.key(team_id, f"kit-{kit_id}", "offers"))
    except Reminder.DoesNotExist:
        return None


def _kit_mails(app) -> list[str]:
    """The recipients of the emails offering a kit, sorted."""
    return sorted(m["to"] for m in outbox(app) if "offers you a share kit" in m["text"])


def test_offers_a_request_left_unwritten_are_written_by_the_job_each_told_once(
    app, kit_world, inject
):
    folks, team = kit_world["folks"], kit_world["team"]
    admin = folks.client_for(kit_world["anna"])
    # The kit, then Anna's offer (the order of the team's members), then Bruno's fails.
    inject(_failing_transaction(3))
    response = new_kit(admin, team.team_id)
    assert response.status_code != 500
    with app.app_context():
        [kit] = kits.of_team(team.team_id, folks.now())
    offered = stored_offers(app, team.team_id, kit.kit_id)
    assert offered.keys() == {kit_world["anna"].person_id}
    with app.app_context():
        assert _marker(team.team_id, kit.kit_id) is not None

    run_once(app, folks.now() + timedelta(minutes=1))  # not due yet: the request may still run
    assert stored_offers(app, team.team_id, kit.kit_id).keys() == offered.keys()
    for minutes in (6, 7, 12):
        run_once(app, folks.now() + timedelta(minutes=minutes))
    offers = stored_offers(app, team.team_id, kit.kit_id)
    assert {o.name for o in offers.values()} == {"Anna Rossi", "Bruno Bianchi", "Gina Neri"}
    assert _kit_mails(app) == ["bruno@example.com", "gina@example.com"]
    with app.app_context():
        assert _marker(team.team_id, kit.kit_id) is None


def test_sending_the_kit_form_again_after_a_failure_offers_the_rest_once(app, kit_world, inject):
    folks, team = kit_world["folks"], kit_world["team"]
    admin = folks.client_for(kit_world["anna"])
    form = form_in(admin.get(f"/t/{team.team_id}/kits/new").text, id="kit-form")
    data = form.data()
    data["title"], data["suggest_any"] = "Harvest", "The harvest is on"
    inject(_failing_transaction(4))  # Gina's offer: the request dies after Bruno's
    failed = admin.post(form.action, data=data)
    assert failed.status_code == 503, failed.status_code
    again = admin.post(form.action, data=data)  # the person tries again, as the page asks
    assert again.status_code == 302, again.text
    kit_id = again.headers["Location"].rsplit("/", 1)[1]
    assert kit_id == data["kit_id"]
    assert len(stored_offers(app, team.team_id, kit_id)) == 3
    with app.app_context():
        assert _marker(team.team_id, kit_id) is None
        assert [kit.title for kit in kits.of_team(team.team_id, folks.now())] == ["Harvest"]
    run_once(app, folks.now() + timedelta(minutes=1))
    run_once(app, folks.now() + timedelta(minutes=7))
    assert _kit_mails(app) == ["bruno@example.com", "gina@example.com"]
    # The same form once more, its answer lost: nothing new.
    before = stored_items()
    assert admin.post(form.action, data=data).status_code == 302
    changed = {key for key, item in stored_items().items() if before.get(key) != item}
    assert not changed, changed


# Their own voice -------------------------------------------------------------------------


OWN_VOICE_WORDS = "Next time, try it in your own voice"


def test_posting_the_suggestion_as_it_is_earns_a_word_to_its_owner_only(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    bruno, gina = kit_world["bruno"], kit_world["gina"]
    admin = folks.client_for(kit_world["anna"])
    kit_id = kit_made(admin, team.team_id)
    bruno_client, gina_client = folks.client_for(bruno), folks.client_for(gina)
    path = offer_path(team.team_id, kit_id)
    assert sent(bruno_client, path, "take-form").status_code == 302
    assert sent(gina_client, path, "take-form").status_code == 302

    # Bruno posts the LinkedIn suggestion as it came.
    bruno_post = kits.taken_post_id(kit_id, bruno.person_id)
    page = followed(bruno_client, published(bruno_client, admin, team.team_id, bruno_post))
    assert "Post saved." in page and OWN_VOICE_WORDS in page
    assert OWN_VOICE_WORDS not in bruno_client.get(f"/t/{team.team_id}/posts/{bruno_post}").text
    # Saved again (a link added): it was published already, nothing more is said.
    page = followed(
        bruno_client,
        post_saved(bruno_client, team.team_id, bruno_post, published_url="https://example.com/b"),
    )
    assert "Post saved." in page and OWN_VOICE_WORDS not in page

    # Gina says it her way.
    gina_post = kits.taken_post_id(kit_id, gina.person_id)
    mine = "Tasted the new Nebbiolo in the cellar today: fresh, bright, and made by friends."
    page = followed(gina_client, published(gina_client, admin, team.team_id, gina_post, copy=mine))
    assert "Post saved." in page and OWN_VOICE_WORDS not in page


def test_an_admin_publishing_someone_elses_kit_post_is_not_told_about_their_voice(app, kit_world):
    folks, team, bruno = kit_world["folks"], kit_world["team"], kit_world["bruno"]
    admin = folks.client_for(kit_world["anna"])
    kit_id = kit_made(admin, team.team_id)
    assert (
        sent(folks.client_for(bruno), offer_path(team.team_id, kit_id), "take-form").status_code
        == 302
    )
    post_id = kits.taken_post_id(kit_id, bruno.person_id)
    page = followed(admin, post_saved(admin, team.team_id, post_id, status="published"))
    assert "Post saved." in page and OWN_VOICE_WORDS not in page


THIRTY_WORDS = (
    "Our new Nebbiolo is out after a cool year in the Langhe and we are proud of every "
    "bottle so come and taste it with us at the cellar today"
)


@pytest.mark.parametrize(
    ("copy", "suggestion", "echoed"),
    [
        (THIRTY_WORDS, THIRTY_WORDS, True),
        (THIRTY_WORDS.replace("proud", "happy"), THIRTY_WORDS, True),  # 1 word of 30
        (" ".join(reversed(THIRTY_WORDS.split())), THIRTY_WORDS, True),  # the same words
        (THIRTY_WORDS.upper() + "!!!", THIRTY_WORDS, True),  # case and punctuation aside
        (THIRTY_WORDS + " Cheers", THIRTY_WORDS, True),  # one word added
        (" ".join(THIRTY_WORDS.split()[:-4]) + " one two three four", THIRTY_WORDS, False),
        (" ".join(THIRTY_WORDS.split()[:15]), THIRTY_WORDS, False),  # half of it
        ("", THIRTY_WORDS, False),
        (THIRTY_WORDS, "", False),
        ("", "", False),
        ("#Nebbiolo", "   ", False),
    ],
)
def test_a_copy_echoes_a_suggestion_when_nearly_all_its_words_are_the_same(
    copy, suggestion, echoed
):
    assert len(THIRTY_WORDS.split()) == 30
    assert voice.echoes(copy, suggestion) is echoed


def test_someone_who_became_a_viewer_is_no_longer_offered_the_kit(app, kit_world):
    folks, team = kit_world["folks"], kit_world["team"]
    bruno, gina = kit_world["bruno"], kit_world["gina"]
    admin = folks.client_for(kit_world["anna"])
    kit_id = kit_made(admin, team.team_id)
    gina_client, bruno_client = folks.client_for(gina), folks.client_for(bruno)
    path = offer_path(team.team_id, kit_id)
    assert sent(gina_client, path, "take-form").status_code == 302
    for someone in (bruno, gina):
        action = f"/t/{team.team_id}/members/{someone.person_id}/role"
        role = form_in(admin.get(f"/t/{team.team_id}/members").text, action=action)
        data = role.data()
        data["role"] = "viewer"
        assert admin.post(action, data=data).status_code in (200, 302)

    # Bruno had not decided: a viewer owns no posts, so it no longer waits for him.
    assert "Our new Nebbiolo" not in bruno_client.get("/me/to-share").text
    assert bruno_client.get(path).status_code == 404
    assert bruno_client.post(path + "/pass", data={"reason": ""}).status_code == 404
    rows = status_rows(admin, team.team_id, kit_id)
    assert bruno.person_id not in rows
    # Gina had taken it: what she took stays, hers.
    assert rows[gina.person_id][0] == "taken"
    assert "Our new Nebbiolo" in gina_client.get("/me/to-share").text


def test_a_taken_post_moved_back_to_ideas_still_shows_on_the_kits_page(app, kit_world):
    """Bruno takes the kit on his LinkedIn, then clears its date (an idea again): the page
    says he is writing it, on which profile, with no date yet."""
    folks, team, bruno = kit_world["folks"], kit_world["team"], kit_world["bruno"]
    admin, client = folks.client_for(kit_world["anna"]), folks.client_for(bruno)
    kit_id = kit_made(admin, team.team_id)
    assert sent(client, offer_path(team.team_id, kit_id), "take-form").status_code == 302
    post_id = kits.taken_post_id(kit_id, bruno.person_id)
    assert post_saved(client, team.team_id, post_id, day="", at="").status_code == 302
    state, row = status_rows(admin, team.team_id, kit_id)[bruno.person_id]
    assert state == "taken"
    assert "no date yet" in row and "LinkedIn · bruno-b" in row


def test_a_renamed_team_and_person_show_by_their_names_now(app, kit_world):
    """The offers copied the team's and Bruno's names; renamed since, every page of the kit
    says them as they are now."""
    folks, team, bruno = kit_world["folks"], kit_world["team"], kit_world["bruno"]
    admin, client = folks.client_for(kit_world["anna"]), folks.client_for(bruno)
    kit_id = kit_made(admin, team.team_id)
    with app.app_context():
        teams.update_team(
            teams.team(team.team_id), name="Cantina Aurora Nuova", zone="Europe/Rome", language="it"
        )
        people.update_profile(
            people.person(bruno.person_id),
            name="Bruno Bianchi Rossi",
            language="en",
            zone="Europe/Rome",
            week_start=0,
        )
    assert "Cantina Aurora Nuova" in client.get("/me/to-share").text
    assert "Cantina Aurora Nuova" in client.get(offer_path(team.team_id, kit_id)).text
    _state, row = status_rows(admin, team.team_id, kit_id)[bruno.person_id]
    assert "Bruno Bianchi Rossi" in row
