"""Share kits (issue 12): a team offers something worth telling; each person offered takes it
(their own draft, on their own profile) or passes; the kit's page shows who showed up."""

from datetime import timedelta

import pytest
import test_planner
from formdata import form_in
from test_profiles import added

from app.nudges import run_once
from app.store import kits, people
from app.store import profiles as stored_profiles
from tests.conftest import outbox

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
    folks, anna, bruno = cantina["folks"], cantina["anna"], cantina["bruno"]
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

    # The job sends one batch email to each person offered but Anna, who made it.
    run_once(app, folks.now() + timedelta(minutes=1))
    mails = outbox(app)
    recipients = sorted(m["to"][0] if isinstance(m["to"], list) else m["to"] for m in mails)
    assert recipients == ["bruno@example.com", "gina@example.com"], recipients
    with app.app_context():
        assert stored_profiles.profiles_of(people.person(bruno.person_id))
