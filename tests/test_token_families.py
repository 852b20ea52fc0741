"""Every kind of token the app issues, as an attacker or a careless mail client would use it.

One property feeds each token family (sign-in link, invitation, the one-click actions, one-click
unsubscribe) through other spellings of its text, a cut-off text, another family's route, a
clock moved past its lifetime, and a second use. A refused token writes nothing; an accepted
re-spelling is the same token (its use uses the genuine one too). A new token family (the
calendar feeds' tokens, when they come) is one more row of ``FAMILIES``; its route joins the
routes every other family's tokens are tried on.

Also here: unsubscribe links are revocable (issue 9, finding 7). They never expire (a mail
client offers one-click unsubscribe for as long as the mail is kept), but turning nudges back on
revokes every unsubscribe link mailed before, so a forwarded or leaked one cannot turn them off
again.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer

from app.auth.views import SIGN_IN_VALID_FOR
from app.nudges import emails, tokens
from app.store import meter, people, reminders
from app.store.models import Person, Post, PostBody, Team
from app.store.teams import INVITE_VALID_FOR
from app.web import settings as app_settings
from tests import test_token_replay
from tests.test_token_replay import Kind

world = test_token_replay.world

ONE_CLICK = {"List-Unsubscribe": "One-Click"}  # what a mail client POSTs (RFC 8058)


def unsubscribe_link(world, who: str = "anna") -> str:
    """The path in the List-Unsubscribe header of a digest mailed to them now."""
    someone = people.person(world[who].person_id)
    with world["app"].test_request_context():
        message = emails.digest(someone, [], [], world["folks"].now())
    return urlsplit(message["List-Unsubscribe"].strip("<>")).path


def one_click(world, path: str):
    """What a mail client sends: a POST with no cookie and no form token."""
    return world["app"].test_client().post(path, data=ONE_CLICK, csrf=False)


def nudges_on(world, who: str = "anna") -> bool:
    return people.person(world[who].person_id).nudges_on


def back_on_from_the_preferences_page(world) -> None:
    client = world["folks"].client_for(world["anna"])
    response = client.post(
        "/me/nudges",
        data={"nudges_on": "y", "quiet_start": "21:00", "quiet_end": "08:00", "digest_at": "08:00"},
    )
    assert response.status_code == 302, response.text


def back_on_after_a_complaint(world) -> None:
    """Her mail was reported as spam (which turned the nudges off), and she resumes mail."""
    with world["app"].app_context():
        assert people.mark_mail_problem(
            world["anna"].person_id, "complaint", "abuse", world["folks"].now()
        )
    client = world["folks"].client_for(world["anna"])
    assert client.post("/me/mail").status_code == 302


@pytest.mark.parametrize("back_on", [back_on_from_the_preferences_page, back_on_after_a_complaint])
def test_turning_nudges_back_on_revokes_the_unsubscribe_links_mailed_before(world, back_on):
    older = unsubscribe_link(world)
    assert one_click(world, older).status_code == 200 and not nudges_on(world)
    back_on(world)
    assert nudges_on(world)
    for method in ("get", "post"):
        page = getattr(world["app"].test_client(), method)(older, data=ONE_CLICK)
        assert page.status_code == 410 and "replaced" in page.text
        assert 'id="unsubscribe-button"' not in page.text
    assert nudges_on(world)
    # Mail sent from now on carries a link that works.
    assert one_click(world, unsubscribe_link(world)).status_code == 200 and not nudges_on(world)


def test_an_unsubscribe_link_is_not_revoked_by_saving_other_preferences(world):
    link = unsubscribe_link(world)
    back_on_from_the_preferences_page(world)  # nudges were on already: nothing to revoke
    assert one_click(world, link).status_code == 200 and not nudges_on(world)


def test_an_unsubscribe_link_mailed_before_links_could_be_revoked_works_until_nudges_come_back(
    world,
):
    with world["app"].app_context():
        serializer = URLSafeSerializer(app_settings().secret_key, salt=tokens.SALT)
        legacy = serializer.dumps({"a": "unsubscribe", "u": world["anna"].person_id, "t": ""})
    path = f"/n/unsubscribe/{legacy}"
    assert one_click(world, path).status_code == 200 and not nudges_on(world)
    back_on_from_the_preferences_page(world)
    assert one_click(world, path).status_code == 410 and nudges_on(world)


# The property ---------------------------------------------------------------------------------


def _nudges_back_on(world) -> None:
    """Anna turns her nudges back on (revoking the unsubscribe links mailed so far)."""
    with world["app"].app_context():
        people.update_preferences(people.person(world["anna"].person_id), nudges_on=True)


def _unsubscribe(world) -> str:
    with world["app"].test_request_context():
        return tokens.sign_unsubscribe(people.person(world["anna"].person_id))


def _after_the_post_is_due(world, minted: datetime) -> datetime:
    return world["post"].due + tokens.VALID_AFTER_DUE


@dataclass
class Family:
    """A kind of token (how it is minted, used and undone), and when it stops working: a
    moment computed from when it was minted, or None for never (documented)."""

    kind: Kind
    expires: Callable  # (world, minted) -> datetime | None


KINDS = test_token_replay.KINDS
FAMILIES = {
    "sign-in link": Family(KINDS["sign-in link"], lambda world, minted: minted + SIGN_IN_VALID_FOR),
    "invitation": Family(KINDS["invitation"], lambda world, minted: minted + INVITE_VALID_FOR),
    **{
        name: Family(KINDS[name], _after_the_post_is_due)
        for name in ("mark as published", "snooze", "hand over")
    },
    "unsubscribe": Family(
        Kind(_unsubscribe, "/n/unsubscribe/{token}", lambda w: ONE_CLICK, undo=_nudges_back_on),
        lambda world, minted: None,
    ),
}
# A partner invitation's link acts only for the admin it was mailed to, signed in (a fresh
# browser is sent to sign in, and the token stays unused): tests/test_partners.py uses it once
# and sends it to the other routes; here every family is tried on its route.
ROUTES = {family.kind.path for family in FAMILIES.values()} | {"/partners/{token}"}
NEVER = timedelta(days=3653)  # "never expires" is checked ten years on

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class Answer:
    status: int
    location: str | None
    writes: list[str]


def send(world, path: str) -> Answer:
    """POST ``path`` from a fresh browser, with every form field a token page asks for; and the
    DynamoDB writes that went through meanwhile."""
    data = {}
    for family in FAMILIES.values():
        data.update(family.kind.data(world))
    writes = []

    def written(operation, params, response):
        if response and operation in WRITES:
            writes.append(operation)

    meter.listen(written)
    try:
        response = world["app"].test_client().post(path, data=data)
    finally:
        meter.stop_listening(written)
    return Answer(response.status_code, response.location, writes)


def snapshot(world) -> list:
    """What a token could change, read by key (one BatchGetItem) and one Query: Anna and Marco,
    the team (its members), the post and its body, the post's nudges."""
    team_id, post_id = world["team"].team_id, world["post"].post_id
    items = people.batch_get(
        {
            Person.Meta.table_name: [Person.key(world[who].person_id) for who in ("anna", "marco")],
            Post.Meta.table_name: [
                Team.key(team_id),
                Post.key(team_id, post_id),
                PostBody.key(team_id, post_id),
            ],
        }
    )
    nudges = [reminder.to_dynamodb_dict() for reminder in reminders.of_post(team_id, post_id)]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"])) + nudges


# How a token's text can be changed on its way: other spellings of the same bytes (padding, the
# unused low bits of a part's last character), and changes that make another text (the case of
# a letter, the "." between payload and signature moved, the text cut short).
EDITS = st.one_of(
    st.just(("as mailed",)),
    st.tuples(st.just("pad"), st.sampled_from(["=", "==", "=A", "%3D", "==="])),
    st.tuples(st.just("low bits"), st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.just("pad before the dot"), st.sampled_from(["=", "=="])),
    st.tuples(st.just("case"), st.integers(0, 99)),
    st.tuples(st.just("move the dot"), st.integers(0, 99)),
    st.tuples(st.just("cut"), st.integers(0, 99)),
)


def respell(token: str, edit: tuple) -> str:
    how, *how_much = edit
    if how == "as mailed":
        return token
    if how == "pad":
        return token + how_much[0]
    dots = [at for at, char in enumerate(token) if char == "." and at > 0]
    if how == "low bits":  # the last character of the payload or of the signature
        ends = [at - 1 for at in dots] + [len(token) - 1]
        part, bits = how_much
        return test_token_replay._flip(token, ends[part % len(ends)], bits)
    if how == "pad before the dot":
        at = dots[-1] if dots else len(token)
        return token[:at] + how_much[0] + token[at:]
    if how == "case":
        letters = [at for at, char in enumerate(token) if char.isalpha()]
        at = letters[how_much[0] % len(letters)]
        return token[:at] + token[at].swapcase() + token[at + 1 :]
    if how == "move the dot":
        without = token.replace(".", "", 1) if dots else token
        at = 1 + how_much[0] % (len(without) - 1)
        moved = without[:at] + "." + without[at:]
        return moved if moved != token else without[: at + 1] + "." + without[at + 1 :]
    if how == "cut":
        return token[: 1 + how_much[0] % (len(token) - 1)]
    raise ValueError(how)


def assert_refused(world, answer: Answer, before: list) -> None:
    assert 400 <= answer.status < 500, answer
    assert answer.writes == [], answer
    assert snapshot(world) == before


def use_first(world, family: Family, token: str, spelled: str) -> None:
    """Sent first, a spelling either acts (then it was the same token: the one as mailed is used
    up with it) or is refused, writing nothing (and the one as mailed still acts)."""
    path = family.kind.path
    before = snapshot(world)
    answer = send(world, path.format(token=spelled))
    if answer.status != family.kind.success:
        assert_refused(world, answer, before)
        assert send(world, path.format(token=token)).status == family.kind.success
    family.kind.undo(world)
    if answer.status == family.kind.success:
        before = snapshot(world)
        assert_refused(world, send(world, path.format(token=token)), before)


SCENARIOS = ("first use", "reuse", "expired", "another kind's route")


@pytest.mark.parametrize("name", FAMILIES)
@settings(
    max_examples=4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(scenario=st.sampled_from(SCENARIOS), edit=EDITS)
@example(scenario="first use", edit=("pad", "="))
@example(scenario="reuse", edit=("low bits", 1, 1))
@example(scenario="expired", edit=("as mailed",))
@example(scenario="another kind's route", edit=("as mailed",))
@example(scenario="another kind's route", edit=("pad", "%3D"))  # found by a CI run
def test_a_token_acts_once_on_its_own_route_in_its_lifetime_and_a_refused_one_writes_nothing(
    world, clock, name, scenario, edit
):
    family = FAMILIES[name]
    minted = world["folks"].now()
    token = family.kind.make(world)
    spelled = respell(token, edit)
    if scenario == "first use":
        use_first(world, family, token, spelled)
    elif scenario == "reuse":
        assert send(world, family.kind.path.format(token=token)).status == family.kind.success
        family.kind.undo(world)
        before = snapshot(world)
        assert_refused(world, send(world, family.kind.path.format(token=spelled)), before)
    elif scenario == "expired":
        expires = family.expires(world, minted)
        clock.move_to((expires or minted + NEVER) + timedelta(minutes=1))
        try:
            if expires is None:
                use_first(world, family, token, spelled)
            else:
                before = snapshot(world)
                assert_refused(world, send(world, family.kind.path.format(token=spelled)), before)
        finally:
            clock.move_to(minted)
    else:
        before = snapshot(world)
        for route in ROUTES - {family.kind.path}:
            answer = send(world, route.format(token=spelled))
            # Sent to the action route, an unsubscribe link leads to its own page (a GET).
            # (A spelling with %3D arrives, and is sent on, as "=".)
            own_page = unquote(answer.location or "") == unquote(
                family.kind.path.format(token=spelled)
            )
            if not (answer.status == 302 and own_page and not answer.writes):
                assert_refused(world, answer, before)
