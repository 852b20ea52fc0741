"""An email link acts only while its person could do the same in the planner.

A nudge email outlives what it was sent for: its person may have been made a viewer, taken out
of the team, or the post handed to someone else, trashed or published meanwhile. The link then
shows why it no longer works (403 for a role that no longer allows it, 410 for a post that has
moved on), in its person's language, with no form, and its POST changes nothing.
"""

import pytest

from app.nudges import tokens
from app.planner import changes
from app.store import posts, reminders, teams

ACTIONS = {"published": {"link": ""}, "snooze": {}, "handover": None}


@pytest.fixture
def world(app, folks):
    """Anna (English admin), Marco (Italian editor, owner of a post Anna approved, due in two
    days, with its nudges planned) and Bea (editor) of Cantina Aurora."""
    anna = folks.person("anna@example.com", "Anna Rossi")
    marco = folks.person("marco@example.com", "Marco Bianchi", language="it")
    bea = folks.person("bea@example.com", "Bea Conti")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, marco, "editor")
    folks.join(team, bea, "editor")
    team = teams.team(team.team_id)
    post = folks.post(team, owner=marco, created_by=anna, status="approved")
    return {"app": app, "folks": folks, "anna": anna, "marco": marco, "bea": bea, "post": post}


def link(world, action: str, person: str = "marco") -> str:
    post = world["post"]
    with world["app"].test_request_context():
        token = tokens.sign(
            action,
            person_id=world[person].person_id,
            team_id=post.team_id,
            post_id=post.post_id,
            kind="before-1440",
            expires=post.due + tokens.VALID_AFTER_DUE,
        )
    return f"/n/{token}"


def _by_anna(world, **summary) -> None:
    post, body = posts.load(world["post"].team_id, world["post"].post_id)
    with world["app"].app_context():
        changes.update(
            post,
            body,
            teams.team(post.team_id),
            summary=summary,
            body_fields={},
            actor=world["anna"].person_id,
            now=world["folks"].now(),
        )


def _trashed(world) -> None:
    post = world["post"]
    client = world["folks"].client_for(world["anna"])
    assert client.post(f"/t/{post.team_id}/posts/{post.post_id}/trash").status_code == 302


MEANWHILE = {
    "made a viewer": (
        lambda w: teams.change_role(w["post"].team_id, w["marco"].person_id, "viewer"),
        403,
    ),
    "taken out of the team": (
        lambda w: teams.remove_member(w["post"].team_id, w["marco"].person_id),
        403,
    ),
    "post handed to someone else": (lambda w: _by_anna(w, owner_id=w["bea"].person_id), 410),
    "post trashed": (_trashed, 410),
    "post published by someone else": (lambda w: _by_anna(w, status="published"), 410),
}


def snapshot(world) -> tuple:
    post, body = posts.load(world["post"].team_id, world["post"].post_id)
    nudges = sorted(
        (r.sk, r.person_id, r.state, r.due) for r in reminders.of_post(post.team_id, post.post_id)
    )
    return post.version, post.owner_id, post.status, post.deleted_at, body.published_url, nudges


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("meanwhile", MEANWHILE)
def test_an_email_action_rechecks_role_and_ownership_when_opened_and_when_sent(
    world, meanwhile, action
):
    path = link(world, action)
    change, status = MEANWHILE[meanwhile]
    with world["app"].app_context():
        change(world)
    before = snapshot(world)
    browser = world["app"].test_client()
    page = browser.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == status
    assert '<html lang="it">' in page.text and 'id="act-button"' not in page.text
    data = ACTIONS[action] if ACTIONS[action] is not None else {"to": world["anna"].person_id}
    sent = browser.post(path, data=data, headers={"Accept-Language": "en"})
    assert sent.status_code == status and '<html lang="it">' in sent.text
    assert snapshot(world) == before


def test_a_refused_link_still_works_once_its_person_may_act_again(world):
    path = link(world, "snooze")
    with world["app"].app_context():
        teams.change_role(world["post"].team_id, world["marco"].person_id, "viewer")
    assert world["app"].test_client().post(path).status_code == 403
    with world["app"].app_context():
        teams.change_role(world["post"].team_id, world["marco"].person_id, "editor")
    assert world["app"].test_client().post(path).status_code == 200


def test_an_admins_link_still_acts_on_a_post_she_no_longer_owns(world):
    """As in the planner, where an admin may change any post of the team."""
    path = link(world, "handover", person="anna")
    response = world["app"].test_client().post(path, data={"to": world["bea"].person_id})
    assert response.status_code == 200
    assert posts.load(world["post"].team_id, world["post"].post_id)[0].owner_id == (
        world["bea"].person_id
    )


def test_a_post_cannot_be_handed_to_a_viewer_from_an_email(world):
    with world["app"].app_context():
        teams.change_role(world["post"].team_id, world["bea"].person_id, "viewer")
    path = link(world, "handover")
    page = world["app"].test_client().get(path)
    assert "Bea Conti" not in page.text
    response = world["app"].test_client().post(path, data={"to": world["bea"].person_id})
    assert response.status_code == 422
    assert posts.load(world["post"].team_id, world["post"].post_id)[0].owner_id == (
        world["marco"].person_id
    )
