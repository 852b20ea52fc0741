"""Partner teams (issue 11), phase 1: the link between two teams.

An admin of team A invites an admin of another team by email; that admin accepts for one of
their teams (or declines); either side's admins end it. Nothing of one team shows on the
other's pages: the probe of every route, as the other team's admin, editor and viewer, is the
same as for strangers (``test_partners_reach_nothing_of_each_other_on_any_route``).
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import test_every_route as every_route

from app import mail
from app.store import NotFound, partners, people, teams
from tests.conftest import SHARDS, outbox

LINK = re.compile(r"https?://\S+(/partners/[\w-]+)")
SAME_ANSWER = "If that address belongs to a team admin, we sent them the invitation."


@pytest.fixture
def pair(app, folks):
    """Giulia, admin of Cantina Aurora (English); Tom, admin of Enoteca Lumen (Italian)."""
    giulia = folks.person("giulia@aurora.example.com", "Giulia")
    tom = folks.person("tom@lumen.example.com", "Tom", language="it")
    aurora, lumen = folks.team(giulia, "Cantina Aurora"), folks.team(tom, "Enoteca Lumen")
    return {
        "giulia": giulia,
        "tom": tom,
        "aurora": aurora,
        "lumen": lumen,
        "as_giulia": folks.client_for(giulia),
        "as_tom": folks.client_for(tom),
    }


def _invite(pair, address="tom@lumen.example.com"):
    team_id = pair["aurora"].team_id
    response = pair["as_giulia"].post(f"/t/{team_id}/partners/invite", data={"email": address})
    assert response.status_code == 302, response.text
    page = pair["as_giulia"].get(f"/t/{team_id}/partners").text
    assert SAME_ANSWER in page
    return page


def _link(app, to="tom@lumen.example.com") -> str:
    message = next(each for each in outbox(app) if each["to"] == to)
    return LINK.search(message["text"]).group(1)


def _token_for(app, folks, team, address: str) -> str:
    """An invitation made in the store (no email), as the page makes one."""
    with app.app_context():
        stored = teams.team(team.team_id)
        return partners.invite(stored, address=address, invited_by="x", now=folks.now())


def _partners_of(app, team) -> dict:
    with app.app_context():
        return teams.team(team.team_id).partner_entries()


def test_an_invited_admin_accepts_and_both_teams_list_each_other(app, pair):
    _invite(pair)
    [mail] = outbox(app)
    # The email speaks its recipient's language, names no one in its subject, and links home.
    assert mail["to"] == "tom@lumen.example.com"
    assert "Ciao," in mail["text"] and "Aurora" not in mail["subject"]
    assert "Cantina Aurora" in mail["text"] and "Giulia" in mail["text"]
    link = _link(app)
    assert LINK.search(mail["html"]).group(1) == link

    page = pair["as_tom"].get(link)
    assert page.status_code == 200 and "Cantina Aurora" in page.text
    assert 'lang="it"' in page.text and 'value="accept"' in page.text
    assert 'id="person-menu"' not in page.text  # a page behind an email link: no app menu
    lumen_id = pair["lumen"].team_id
    done = pair["as_tom"].post(link, data={"team": lumen_id, "decision": "accept"})
    assert done.status_code == 302
    assert urlsplit(done.headers["Location"]).path == f"/t/{lumen_id}/partners"

    aurora, lumen = _partners_of(app, pair["aurora"]), _partners_of(app, pair["lumen"])
    assert list(aurora) == [lumen_id] and aurora[lumen_id]["name"] == "Enoteca Lumen"
    assert list(lumen) == [pair["aurora"].team_id] and lumen[pair["aurora"].team_id]["colour"]
    assert "Cantina Aurora" in pair["as_tom"].get(f"/t/{lumen_id}/partners").text
    shown = pair["as_giulia"].get(f"/t/{pair['aurora'].team_id}/partners").text
    assert "Enoteca Lumen" in shown and "tom@lumen.example.com" not in shown  # no longer pending
    # The link was used: it says so, and accepting again makes nothing.
    again = pair["as_tom"].post(link, data={"team": lumen_id, "decision": "accept"})
    assert again.status_code == 410 and "già stata data una risposta" in again.text


def test_the_page_answers_the_same_whoever_the_address_belongs_to(app, folks, pair):
    folks.join(pair["lumen"], folks.person("ed@lumen.example.com", "Ed"), "editor")
    for address in ("nobody@example.com", "ed@lumen.example.com"):
        page = _invite(pair, address)
        assert address in page  # listed as waiting, whatever it is
    assert outbox(app) == []  # neither is a team admin: nothing is mailed


def test_declining_uses_the_invitation_up_and_makes_no_partners(app, pair):
    _invite(pair)
    link = _link(app)
    answer = pair["as_tom"].post(link, data={"team": pair["lumen"].team_id, "decision": "decline"})
    assert answer.status_code == 302
    assert _partners_of(app, pair["aurora"]) == {} == _partners_of(app, pair["lumen"])
    assert pair["as_tom"].get(link).status_code == 410
    with app.app_context():
        assert partners.pending_invites(pair["aurora"].team_id, pair["tom"].created_at) == []


def test_only_the_invited_admin_answers(app, folks, pair):
    _invite(pair)
    link = _link(app)
    lumen_id = pair["lumen"].team_id
    # Signed out: to the sign-in page, and back to the link after.
    assert urlsplit(app.test_client().get(link).headers["Location"]).path == "/login"
    # Someone else, even an admin of the team: 403, nothing written.
    other = folks.person("ann@lumen.example.com", "Ann")
    folks.join(pair["lumen"], other, "admin")
    refused = folks.client_for(other).post(link, data={"team": lumen_id, "decision": "accept"})
    assert refused.status_code == 403 and "someone else" in refused.text
    # The invited address, no admin of any team: 403.
    viewer = folks.person("vera@lumen.example.com", "Vera")
    folks.join(pair["lumen"], viewer, "viewer")
    link = f"/partners/{_token_for(app, folks, pair['aurora'], viewer.email)}"
    refused = folks.client_for(viewer).post(link, data={"team": lumen_id, "decision": "accept"})
    assert refused.status_code == 403 and "admin" in refused.text
    # A team the invited admin is not an admin of is no choice.
    refused = pair["as_tom"].post(
        _link(app), data={"team": pair["aurora"].team_id, "decision": "accept"}
    )
    assert refused.status_code == 422
    assert _partners_of(app, pair["aurora"]) == {} == _partners_of(app, pair["lumen"])


def test_expired_and_withdrawn_links_say_so(app, folks, pair, clock):
    _invite(pair)
    link = _link(app)
    clock.move_to(folks.now() + partners.INVITE_VALID_FOR + timedelta(minutes=1))
    page = pair["as_tom"].get(link)
    assert page.status_code == 410 and "è scaduto" in page.text and 'lang="it"' in page.text
    clock.move_to(folks.now() - partners.INVITE_VALID_FOR)
    aurora_id = pair["aurora"].team_id
    [invite] = (
        each
        for each in _pending(app, folks, pair["aurora"])
        if each.email == "tom@lumen.example.com"
    )
    withdrawn = pair["as_giulia"].post(
        f"/t/{aurora_id}/partners/invites/{invite.token_hash}/withdraw"
    )
    assert withdrawn.status_code == 302
    page = pair["as_tom"].get(link)
    assert page.status_code == 404 and "withdrawn" in page.text


def _pending(app, folks, team):
    with app.app_context():
        return partners.pending_invites(team.team_id, folks.now())


def test_a_team_is_not_its_own_partner(app, folks, pair):
    # Giulia invites herself: she admins no other team, so no email, and the link refuses.
    _invite(pair, "giulia@aurora.example.com")
    assert outbox(app) == []
    link = f"/partners/{_token_for(app, folks, pair['aurora'], 'giulia@aurora.example.com')}"
    assert pair["as_giulia"].get(link).status_code == 403
    # An admin of both teams is offered only the other one; the store refuses the same team.
    folks.join(pair["aurora"], pair["tom"], "admin")
    link = f"/partners/{_token_for(app, folks, pair['aurora'], 'tom@lumen.example.com')}"
    page = pair["as_tom"].get(link).text
    assert "Enoteca Lumen" in page and f'value="{pair["aurora"].team_id}"' not in page
    with app.app_context():
        token = people.stored_token(link.rsplit("/", 1)[1])
        with pytest.raises(partners.SameTeam):
            partners.accept(token, teams.team(pair["aurora"].team_id), pair["tom"], folks.now())


def _partnered(app, folks, pair):
    raw = _token_for(app, folks, pair["aurora"], "tom@lumen.example.com")
    with app.app_context():
        partners.accept(
            people.stored_token(raw), teams.team(pair["lumen"].team_id), pair["tom"], folks.now()
        )


def test_either_side_ends_the_partnership_and_only_admins_may(app, folks, pair):
    aurora_id, lumen_id = pair["aurora"].team_id, pair["lumen"].team_id
    editor = folks.person("ed@aurora.example.com", "Ed")
    folks.join(pair["aurora"], editor, "editor")
    for ender, team_id, partner_id in (
        ("as_tom", lumen_id, aurora_id),
        ("as_giulia", aurora_id, lumen_id),
    ):
        _partnered(app, folks, pair)
        page = folks.client_for(editor).get(f"/t/{aurora_id}/partners").text
        assert "Enoteca Lumen" in page and "End partnership" not in page  # read-only
        refused = folks.client_for(editor).post(
            f"/t/{aurora_id}/partners/end", data={"partner": lumen_id}
        )
        assert refused.status_code == 403
        ended = pair[ender].post(f"/t/{team_id}/partners/end", data={"partner": partner_id})
        assert ended.status_code == 302
        assert _partners_of(app, pair["aurora"]) == {} == _partners_of(app, pair["lumen"])
    # Ended twice (two admins at once): the second is told, and nothing is written.
    again = pair["as_tom"].post(f"/t/{lumen_id}/partners/end", data={"partner": aurora_id})
    assert again.status_code == 302
    assert "era già chiusa" in pair["as_tom"].get(f"/t/{lumen_id}/partners").text


def test_two_answers_to_one_invitation_make_one_partnership(app, folks, pair):
    """Two tabs accepting at once, even for two different teams of the admin: one wins."""
    third = folks.team(pair["tom"], "Bottega Lumen")
    raw = _token_for(app, folks, pair["aurora"], "tom@lumen.example.com")
    with app.app_context():
        first, second = people.stored_token(raw), people.stored_token(raw)  # both read unused
        partners.accept(first, teams.team(pair["lumen"].team_id), pair["tom"], folks.now())
        with pytest.raises(NotFound):
            partners.accept(second, teams.team(third.team_id), pair["tom"], folks.now())
    assert list(_partners_of(app, pair["aurora"])) == [pair["lumen"].team_id]
    assert _partners_of(app, third) == {}


def test_partners_already_are_told_so(app, folks, pair):
    _partnered(app, folks, pair)
    _invite(pair)
    link = _link(app)
    answer = pair["as_tom"].post(link, data={"team": pair["lumen"].team_id, "decision": "accept"})
    assert answer.status_code == 409 and "sono già partner" in answer.text


def test_a_renamed_team_is_renamed_on_its_partners_pages(app, folks, pair):
    _partnered(app, folks, pair)
    response = pair["as_giulia"].post(
        f"/t/{pair['aurora'].team_id}/settings",
        data={
            "team_name": "Cantina Aurora Langhe",
            "team_zone": "Europe/Rome",
            "team_language": "it",
        },
    )
    assert response.status_code == 302
    lumen = _partners_of(app, pair["lumen"])
    assert lumen[pair["aurora"].team_id]["name"] == "Cantina Aurora Langhe"


def test_a_team_has_at_most_max_partners_invitations_included(app, folks, pair):
    with app.app_context():
        aurora = teams.team(pair["aurora"].team_id)
        for number in range(partners.MAX_PARTNERS):
            partners.invite(
                aurora, address=f"p{number}@example.com", invited_by="x", now=folks.now()
            )
    response = pair["as_giulia"].post(
        f"/t/{aurora.team_id}/partners/invite", data={"email": "one.more@example.com"}
    )
    assert response.status_code == 422 and "room for 20 partners" in response.text


@pytest.mark.parametrize("shard", range(SHARDS))
def test_partners_reach_nothing_of_each_other_on_any_route(
    app, folks, inject, pinned_instant, monkeypatch, shard
):
    """Issue 9's probe of every route with team B's ids, once A and B are partners: A's admin,
    editor and viewer (B's partners now) are refused (403/404) as strangers are, nothing naming
    B is written, no email goes out, B's items stay byte-identical. (A non-member and the
    signed-out: the probe itself, in tests/test_every_route.py.)"""
    monkeypatch.setattr(every_route, "ROLES", every_route.MEMBER_ROLES)
    world = every_route.World.build(app, folks, with_b=True)
    a, b = world.a, world.b
    raw = _token_for(app, folks, a.team, b.people["admin"].email)
    with app.app_context():
        partners.accept(
            people.stored_token(raw), teams.team(b.team.team_id), b.people["admin"], folks.now()
        )
    assert list(_partners_of(app, a.team)) == [b.team.team_id]
    every_route.test_no_one_reaches_another_teams_items_and_they_stay_byte_identical(
        world, inject, shard
    )


def test_a_partner_invitations_token_works_on_no_other_route(app, folks, pair):
    raw = _token_for(app, folks, pair["aurora"], "tom@lumen.example.com")
    before = _partners_of(app, pair["lumen"])
    for path in (f"/login/{raw}", f"/n/{raw}", f"/n/unsubscribe/{raw}"):
        for client in (app.test_client(), pair["as_tom"]):
            assert client.get(path).status_code in (404, 410)
            assert client.post(path).status_code in (404, 410)
    assert _partners_of(app, pair["lumen"]) == before
    with app.app_context():
        assert people.usable(people.stored_token(raw), folks.now())  # still for Tom to answer
    answer = pair["as_tom"].post(
        f"/partners/{raw}", data={"team": pair["lumen"].team_id, "decision": "accept"}
    )
    assert answer.status_code == 302


def test_an_invitation_the_days_mail_cannot_carry_is_withdrawn(app, folks, pair, monkeypatch):
    monkeypatch.setattr(mail, "TEAM_DAILY_MAIL_LIMIT", 0)
    team_id = pair["aurora"].team_id
    refused = pair["as_giulia"].post(
        f"/t/{team_id}/partners/invite", data={"email": "tom@lumen.example.com"}
    )
    assert refused.status_code == 429 and "all the email it can for today" in refused.text
    assert _pending(app, folks, pair["aurora"]) == [] and outbox(app) == []
