"""Every spelling of a token is the same token: one use, whichever spelling is sent.

Base64 has several spellings of the same bytes (extra padding, the unused low bits of a last
character) and itsdangerous accepts them all. The property below feeds each kind of token the
app mails (one-click actions, sign-in links, invitations, unsubscribe) through those
re-encodings: of all the spellings of one token, exactly one use succeeds, even when the post is
put back as it was between uses (the replay the issue found: a post re-marked published after
its owner set it back).
"""

import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote

import pytest
from itsdangerous import URLSafeSerializer

from app.auth.views import SIGN_IN_VALID_FOR
from app.kits import offering
from app.nudges import tokens
from app.planner import changes
from app.store import keys, kits, people, posts, teams
from app.web import settings

B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def _flip(text: str, at: int, bits: int) -> str:
    at = at % len(text)
    return text[:at] + B64[B64.index(text[at]) ^ bits] + text[at + 1 :]


def spellings(token: str) -> list[str]:
    """Other spellings of ``token``: padding, low-bit flips of the signature's and the payload's
    last characters (the same bytes when those bits are unused), a change of case, and the
    token cut short."""
    found = {token + "=", token + "==", token + "=A", token + "%3D", token[:-1]}
    found |= {_flip(token, -1, bits) for bits in (1, 2, 3)}
    if token[-1].isalpha():
        found.add(token[:-1] + token[-1].swapcase())
    if "." in token:  # itsdangerous: payload.signature (a compressed payload starts with ".")
        dot = token.rindex(".")
        found |= {_flip(token, dot - 1, bits) for bits in (1, 2, 3)}
        found.add(token[:dot] + "=" + token[dot:])
    found.discard(token)
    return sorted(found)


@pytest.fixture
def world(app, folks):
    """Anna (admin, owner of an approved post due in two days, with its nudges planned) and
    Marco (editor) of Cantina Aurora. Anna is an admin, so a link stays hers to use after the
    post changes hands: only single use can refuse a replay."""
    anna = folks.person("anna@example.com", "Anna Rossi")
    marco = folks.person("marco@example.com", "Marco Bianchi", language="it")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, marco, "editor")
    team = teams.team(team.team_id)
    post = folks.post(team, owner=anna, created_by=anna, status="approved")
    return {"app": app, "folks": folks, "anna": anna, "marco": marco, "team": team, "post": post}


def put_back(world) -> None:
    """The post as it was: Anna's again, approved (its owner undoes what the link did)."""
    post, body = posts.load(world["team"].team_id, world["post"].post_id)
    with world["app"].app_context():
        changes.update(
            post,
            body,
            teams.team(post.team_id),
            summary={"status": "approved", "owner_id": world["anna"].person_id},
            body_fields={},
            actor=world["anna"].person_id,
            now=world["folks"].now(),
        )


@dataclass
class Kind:
    """How to mint one token of a kind, the path it is used at, and what a success is."""

    make: Callable  # world -> token
    path: str  # with {token}
    data: Callable = lambda world: {}
    success: int = 200
    undo: Callable = put_back


def _action(action: str, *, with_nonce: bool = True) -> Callable:
    def make(world) -> str:
        post = world["post"]
        with world["app"].test_request_context():
            if with_nonce:
                return tokens.sign(
                    action,
                    person_id=world["anna"].person_id,
                    team_id=post.team_id,
                    post_id=post.post_id,
                    kind="before-1440",
                    expires=post.due + tokens.VALID_AFTER_DUE,
                )
            # As links were mailed before they carried a nonce.
            serializer = URLSafeSerializer(settings().secret_key, salt=tokens.SALT)
            return serializer.dumps(
                {
                    "a": action,
                    "u": world["anna"].person_id,
                    "t": post.team_id,
                    "p": post.post_id,
                    "k": "before-1440",
                    "e": int((post.due + tokens.VALID_AFTER_DUE).timestamp()),
                }
            )

    return make


def _sign_in(world) -> str:
    with world["app"].app_context():
        raw, _token = people.issue_token(
            "anna@example.com", "sign_in", world["folks"].now(), SIGN_IN_VALID_FOR
        )
    return raw


def _invitation(world) -> str:
    with world["app"].app_context():
        return teams.invite(
            world["team"],
            address="guest@example.com",
            role="editor",
            invited_by="Anna Rossi",
            now=world["folks"].now(),
        )


def _guest_leaves(world) -> None:
    """The guest is taken out again, so accepting the invitation once more would matter."""
    guest = people.person_by_email("guest@example.com")
    with world["app"].app_context():
        teams.remove_member(world["team"].team_id, guest.person_id)


def _kit_link(world) -> str:
    """Marco's signed link to a share kit Anna offers her team (a new kit each time)."""
    folks, team_id = world["folks"], world["team"].team_id
    with world["app"].test_request_context():
        moment, team = folks.now(), teams.team(team_id)
        kit = kits.new_kit(
            team,
            keys.new_id(),
            created_by=team.member(world["anna"].person_id),
            now=moment,
            title="Our new Nebbiolo is out",
            zone=team.zone,
            starts=moment,
            ends=moment + timedelta(days=7),
        )
        kits.save(kit, moment, new=True)
        offering.bring_in_line(kit, moment, team)
        world["kit"] = kit
        return tokens.sign(
            "kit",
            person_id=world["marco"].person_id,
            team_id=team_id,
            post_id=kit.kit_id,
            partner=team_id,
            expires=kit.ends + tokens.VALID_AFTER_DUE,
        )


def _unpass(world) -> None:
    """Marco takes his pass back, so passing once more would matter."""
    kit = world["kit"]
    with world["app"].app_context():
        _kit, offer = kits.offer_and_kit(kit.team_id, kit.kit_id, world["marco"].person_id)
        kits.undo_pass(offer)


KINDS = {
    "mark as published": Kind(_action("published"), "/n/{token}", lambda w: {"link": ""}),
    "snooze": Kind(_action("snooze"), "/n/{token}"),
    "hand over": Kind(_action("handover"), "/n/{token}", lambda w: {"to": w["marco"].person_id}),
    "mark as published, mailed before links had a nonce": Kind(
        _action("published", with_nonce=False), "/n/{token}", lambda w: {"link": ""}
    ),
    "sign-in link": Kind(_sign_in, "/login/{token}", success=302, undo=lambda world: None),
    "invitation": Kind(_invitation, "/login/{token}", success=302, undo=_guest_leaves),
    "share kit": Kind(_kit_link, "/n/kit/{token}", lambda w: {"action": "pass"}, undo=_unpass),
}


@pytest.mark.parametrize("name", KINDS)
def test_of_all_spellings_of_one_token_exactly_one_use_succeeds(world, name):
    kind = KINDS[name]
    token = kind.make(world)
    tried = [*spellings(token), token]  # the other spellings first, the genuine one last
    outcomes = {}
    for spelling in tried:
        response = (
            world["app"].test_client().post(kind.path.format(token=spelling), data=kind.data(world))
        )
        outcomes[spelling] = response.status_code
        if response.status_code == kind.success:
            kind.undo(world)
    succeeded = [spelling for spelling, status in outcomes.items() if status == kind.success]
    assert len(succeeded) == 1, outcomes
    assert all(status in (404, 410) for status in outcomes.values() if status != kind.success)


@pytest.mark.parametrize("action", ["published", "snooze", "handover"])
def test_a_used_link_in_any_spelling_opens_a_page_without_its_form(world, action):
    token = _action(action)(world)
    client = world["app"].test_client()
    data = {"to": world["marco"].person_id} if action == "handover" else {}
    assert client.post(f"/n/{token}", data=data).status_code == 200
    put_back(world)
    for spelling in spellings(token):
        page = client.get(f"/n/{spelling}")
        assert page.status_code in (404, 410), spelling
        assert 'id="act-button"' not in page.text


def test_each_email_carries_new_links_each_used_once(world):
    first, second = _action("snooze")(world), _action("snooze")(world)
    assert first != second
    client = world["app"].test_client()
    assert client.post(f"/n/{first}").status_code == 200
    assert client.post(f"/n/{second}").status_code == 200
    assert client.post(f"/n/{first}").status_code == 410


def test_every_spelling_of_an_unsubscribe_link_only_turns_off_its_own_persons_nudges(world):
    """Unsubscribing is meant to be repeatable (RFC 8058: turning nudges off twice changes
    nothing), so its spellings need no single use: they must only never do anything else."""
    with world["app"].test_request_context():
        token = tokens.sign("unsubscribe", person_id=world["marco"].person_id)
    post_before = posts.load(world["team"].team_id, world["post"].post_id)[0]
    for spelling in spellings(token):
        client = world["app"].test_client()
        response = client.post(f"/n/unsubscribe/{spelling}", csrf=False)
        assert response.status_code in (200, 404), spelling
        # Sent to the action route, an unsubscribe token never acts: it leads to its own page.
        assert client.post(f"/n/{spelling}").status_code in (302, 404), spelling
    assert not people.person(world["marco"].person_id).nudges_on
    assert people.person(world["anna"].person_id).nudges_on
    post_after = posts.load(world["team"].team_id, world["post"].post_id)[0]
    assert post_after.version == post_before.version
    action = _action("published")(world)
    for spelling in [action, *spellings(action)]:
        assert world["app"].test_client().post(f"/n/unsubscribe/{spelling}").status_code == 404
    assert people.person(world["anna"].person_id).nudges_on


def test_a_token_of_one_kind_opens_nothing_of_another_kind(world):
    made = {name: kind.make(world) for name, kind in KINDS.items()}
    paths = {"/n/{token}", "/login/{token}", "/n/unsubscribe/{token}", "/n/kit/{token}"}
    for name, token in made.items():
        for path in paths - {KINDS[name].path}:
            for spelling in [token, *spellings(token)]:
                response = world["app"].test_client().post(path.format(token=spelling))
                if name == "share kit" and path == "/n/{token}" and response.status_code == 302:
                    # A kit's link on the one-click route is sent on to its own page, where
                    # every spelling is one use (the test above).
                    location = unquote(response.headers["Location"])
                    assert location == f"/n/kit/{unquote(spelling)}"
                    continue
                assert response.status_code in (404, 410), (name, path, spelling)
    kit = world["kit"]
    _kit, offer = kits.offer_and_kit(kit.team_id, kit.kit_id, world["marco"].person_id)
    assert offer.state == "offered"
    assert people.person(world["anna"].person_id).nudges_on
    assert people.person_by_email("guest@example.com") is None
