"""Pages behind email links: in the recipient's language, without the app's menu, and honest
about a link that was used already.

Whoever opens an emailed link may have no session, or someone else's (a shared computer), so
these pages speak the language of the person the link is for, and show no signed-in menu.
"""

from datetime import timedelta

import pytest

from app.nudges import tokens
from app.store import people, teams
from tests.conftest import link_in, outbox
from tests.formdata import forms_in

ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}
MENU = 'id="person-menu"'


@pytest.fixture
def world(app, folks):
    """Anna (English admin) and Marco (Italian editor) of Cantina Aurora; Marco owns a post."""
    anna = folks.person("anna@example.com", "Anna Rossi")
    marco = folks.person("marco@example.com", "Marco Bianchi", language="it")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, marco, "editor")
    team = teams.team(team.team_id)
    post = folks.post(team, owner=marco, created_by=marco, status="draft")
    return {"app": app, "folks": folks, "anna": anna, "marco": marco, "team": team, "post": post}


def link(world, action: str, expires=None) -> str:
    """The path of a one-click link for Marco, as his nudge email carries it."""
    post = world["post"]
    with world["app"].test_request_context():
        token = tokens.sign(
            action,
            person_id=world["marco"].person_id,
            team_id=post.team_id,
            post_id=post.post_id,
            kind="before-1440",
            expires=expires or post.due + tokens.VALID_AFTER_DUE,
        )
    return f"/n/unsubscribe/{token}" if action == "unsubscribe" else f"/n/{token}"


def browsers(world):
    """A browser with no session, and one where Anna (English) is signed in."""
    return {
        "no session": world["app"].test_client(),
        "Anna's": world["folks"].client_for(world["anna"]),
    }


def assert_italian_without_menu(page) -> None:
    assert '<html lang="it">' in page.text
    assert MENU not in page.text and "Anna Rossi" not in page.text


# One-click actions and unsubscribing --------------------------------------------------------


def test_a_one_click_page_speaks_the_recipients_language_without_a_menu(world):
    for name, browser in browsers(world).items():
        page = browser.get(link(world, "snooze"), headers=ENGLISH_BROWSER)
        assert page.status_code == 200, name
        assert "Rimanda di 1 giorno" in page.text, name
        assert_italian_without_menu(page)


def test_the_page_after_a_one_click_action_speaks_the_recipients_language(world):
    path = link(world, "snooze")
    browser = world["app"].test_client()
    done = browser.post(path, headers=ENGLISH_BROWSER)
    assert done.status_code == 200
    assert_italian_without_menu(done)


def test_a_used_one_click_link_says_so_without_its_form(world):
    path = link(world, "snooze")
    browser = world["app"].test_client()
    assert browser.post(path).status_code == 200
    for _ in range(2):  # opened again, from the email or by a mail scanner
        page = browser.get(path, headers=ENGLISH_BROWSER)
        assert page.status_code == 410
        assert "Questo link è già stato usato." in page.text
        assert forms_in(page.text) == []
        assert_italian_without_menu(page)
    assert browser.post(path).status_code == 410  # still single use


def test_opening_a_one_click_link_does_not_use_it(world):
    path = link(world, "snooze")
    browser = world["app"].test_client()
    for _ in range(3):  # mail scanners prefetch
        assert browser.get(path).status_code == 200
    assert browser.post(path).status_code == 200


def test_an_expired_one_click_link_says_so_in_the_recipients_language(world):
    path = link(world, "snooze", expires=world["folks"].now() - timedelta(seconds=1))
    page = world["app"].test_client().get(path, headers=ENGLISH_BROWSER)
    assert page.status_code == 410 and "Questo link è scaduto." in page.text
    assert_italian_without_menu(page)


def test_the_unsubscribe_page_speaks_the_recipients_language_without_a_menu(world):
    for name, browser in browsers(world).items():
        page = browser.get(link(world, "unsubscribe"), headers=ENGLISH_BROWSER)
        assert page.status_code == 200 and "Interrompi i promemoria" in page.text, name
        assert_italian_without_menu(page)


def test_an_unsubscribe_link_whose_nudges_are_off_shows_no_form(world):
    path = link(world, "unsubscribe")
    browser = world["app"].test_client()
    done = browser.post(path, headers=ENGLISH_BROWSER)
    assert done.status_code == 200 and "Niente più promemoria" in done.text
    assert_italian_without_menu(done)
    again = browser.get(path, headers=ENGLISH_BROWSER)
    assert again.status_code == 200 and "Niente più promemoria" in again.text
    assert forms_in(again.text) == []
    assert not people.person(world["marco"].person_id).nudges_on


# Sign-in links and invitations ---------------------------------------------------------------


def test_a_sign_in_link_page_speaks_the_recipients_language_without_a_menu(world):
    world["app"].test_client().post("/login", data={"email": "marco@example.com"})
    path = link_in(outbox(world["app"])[0])
    for name, browser in browsers(world).items():
        page = browser.get(path, headers=ENGLISH_BROWSER)
        assert page.status_code == 200 and "Accedi a Cadenza" in page.text, name
        assert_italian_without_menu(page)


def test_a_used_sign_in_link_says_so_in_the_recipients_language_without_its_form(world):
    browser = world["app"].test_client()
    browser.post("/login", data={"email": "marco@example.com"})
    path = link_in(outbox(world["app"])[0])
    assert browser.post(path).status_code == 302
    page = world["app"].test_client().get(path, headers=ENGLISH_BROWSER)
    assert page.status_code == 410 and "Questo link non è più valido" in page.text
    assert 'id="confirm-button"' not in page.text
    assert_italian_without_menu(page)


def test_an_invitation_page_speaks_the_teams_language_to_someone_new(world):
    admin = world["folks"].client_for(world["anna"])
    team_id = world["team"].team_id
    admin.post(
        f"/t/{team_id}/members/invite", data={"email": "carla@example.com", "role": "editor"}
    )
    path = link_in(outbox(world["app"])[0])
    for name, browser in browsers(world).items():
        page = browser.get(path, headers=ENGLISH_BROWSER)
        assert page.status_code == 200 and "Unisciti a Cantina Aurora" in page.text, name
        assert_italian_without_menu(page)
    assert world["app"].test_client().post(path).status_code == 302
    used = world["app"].test_client().get(path, headers=ENGLISH_BROWSER)
    assert used.status_code == 410 and 'id="confirm-button"' not in used.text
    carla = people.person_by_email("carla@example.com")  # now someone, with her own language
    assert f'<html lang="{carla.language}">' in used.text and MENU not in used.text
