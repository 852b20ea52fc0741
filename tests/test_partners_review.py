"""A partner team's admins decide a shared post's review from an email (issue 11: "one partner
approving a post from an email"), and partner people are named in the owning team's history.

Cantina Aurora (Giulia, admin; Ed, editor) shares "Vendemmia" with Enoteca Lumen (Tom, admin,
Italian; Marta, editor; Vera, viewer). Ed puts it in review: Tom's notification email carries
one-click Approve / Ask for changes links signed for him.
"""

import re
from datetime import timedelta

from test_partners_sharing import _load, _mirror, _share, shared  # noqa: F401 (a fixture)

from app import nudges
from app.planner import changes
from app.store import feeds as stored_feeds
from app.store import meter, people, teams
from tests.conftest import outbox

LINK = re.compile(r"https?://\S+?(/n/[\w.-]+)")


def _in_review(world):
    """Ed takes the shared post and asks Giulia to review it; the job sends the batches."""
    app, a, post = world["folks"].app, world["aurora"], world["post"]
    loaded, body = _load(app, a, post.post_id)
    ed, giulia = world["people"]["ed"], world["people"]["giulia"]
    summary = {"status": "in_review", "owner_id": ed.person_id, "reviewer_id": giulia.person_id}
    with app.app_context():
        changes.update(
            loaded,
            body,
            teams.team(a.team_id),
            summary=summary,
            body_fields={},
            actor=ed.person_id,
            now=world["folks"].now(),
        )
    nudges.run_once(app, world["folks"].now() + timedelta(minutes=1))


def _mails_to(world, who):
    return [m for m in outbox(world["folks"].app) if m["to"] == world["people"][who].email]


def _review_links(world):
    """The one-click links of the newest review request to Tom."""
    mail = next(m for m in _mails_to(world, "tom") if "Vendemmia" in m["text"])
    found = [match.group(1) for match in LINK.finditer(mail["text"])]
    return {"approve": found[0], "changes": found[1]}, mail


def _reopen(world, clock):
    """The post back in review after a decision, past the 15 minutes between two batches."""
    clock.move_to(world["folks"].now() + timedelta(minutes=20))
    _in_review(world)


def test_a_partner_admin_approves_a_shared_post_from_the_email(app, shared):  # noqa: F811
    a = shared["aurora"]
    assert _share(shared).status_code == 302
    _in_review(shared)
    links, mail = _review_links(shared)
    # In Tom's language, about his team; the links open Lumen's page of the post.
    assert "bisogno di te in Enoteca Lumen" in mail["subject"] and "Approva" in mail["text"]
    assert f"/t/{shared['lumen'].team_id}/shared/{a.team_id}/" in mail["text"]
    # The post is headed with its own team's name, which Tom's teams do not give.
    assert re.search(r"Vendemmia · [^\n]*· Cantina Aurora\n", mail["text"]), mail["text"]
    # Marta edits in Lumen but does not approve for it: no review request for her.
    assert not [m for m in _mails_to(shared, "marta") if "Vendemmia" in m["text"]]
    client = app.test_client()
    page = client.get(links["approve"])  # a mail scanner fetching it: nothing happens
    assert page.status_code == 200 and "Approva" in page.text
    assert _load(app, a, shared["post"].post_id)[0].status == "in_review"
    done = client.post(links["approve"])
    assert done.status_code == 200, done.text
    assert _load(app, a, shared["post"].post_id)[0].status == "approved"
    assert _mirror(app, shared).status == "approved"
    again = client.post(links["approve"])
    assert again.status_code == 410 and "già" in again.text  # used already, in Italian
    # Aurora's history names Tom (never his address), and Ed, the owner, is told by name.
    # Marta, Lumen's editor, marks it published with Lumen's link: named there too.
    published = shared["marta"].post(
        f"/t/{shared['lumen'].team_id}/shared/{a.team_id}/{shared['post'].post_id}/publish",
        data={"url": "https://lumen.example.com/v", "version": str(_mirror(app, shared).version)},
    )
    assert published.status_code == 302
    panel = shared["giulia"].get(f"/t/{a.team_id}/posts/{shared['post'].post_id}").text
    assert "<strong>Tom</strong>" in panel and "<strong>Marta</strong>" in panel
    assert "Someone" not in panel and "lumen.example.com</" not in panel
    nudges.run_once(app, shared["folks"].now() + timedelta(minutes=20))
    assert any("Tom approved your post" in m["text"] for m in _mails_to(shared, "ed"))


def test_changes_from_a_partner_need_a_word_and_a_changed_post_needs_a_look(app, shared, clock):  # noqa: F811
    a = shared["aurora"]
    assert _share(shared).status_code == 302
    _in_review(shared)
    links, _mail = _review_links(shared)
    client = app.test_client()
    assert client.post(links["changes"], data={"comment": " "}).status_code == 422
    assert client.post(links["changes"], data={"comment": "Più luce"}).status_code == 200
    assert _load(app, a, shared["post"].post_id)[0].status == "draft"
    _reopen(shared, clock)
    links, _mail = _review_links(shared)
    # Edited after the email went: the decision is about what it says now.
    loaded, body = _load(app, a, shared["post"].post_id)
    with app.app_context():
        changes.update(
            loaded,
            body,
            teams.team(a.team_id),
            summary={"title": "Vendemmia 2"},
            body_fields={},
            actor=shared["people"]["ed"].person_id,
            now=shared["folks"].now(),
        )
    stale = client.post(links["approve"])
    assert stale.status_code == 409
    assert _load(app, a, shared["post"].post_id)[0].status == "in_review"


def test_a_link_acts_with_the_persons_role_now_and_not_after_the_partnership(app, shared):  # noqa: F811
    a, b = shared["aurora"], shared["lumen"]
    assert _share(shared).status_code == 302
    _in_review(shared)
    links, _mail = _review_links(shared)
    client = app.test_client()
    # Made an editor since (Marta admin instead): the link no longer acts for him.
    tom, marta = shared["people"]["tom"], shared["people"]["marta"]
    with app.app_context():
        teams.change_role(b.team_id, marta.person_id, "admin")
        teams.change_role(b.team_id, tom.person_id, "editor")
    assert client.get(links["approve"]).status_code == 403
    with app.app_context():
        teams.change_role(b.team_id, tom.person_id, "admin")
    ended = shared["tom"].post(f"/t/{b.team_id}/partners/end", data={"partner": a.team_id})
    assert ended.status_code == 302
    gone = client.post(links["approve"])
    assert gone.status_code == 410 and "Vendemmia" in gone.text  # no longer shared
    assert _load(app, a, shared["post"].post_id)[0].status == "in_review"


# A team's calendar feed ----------------------------------------------------------------------


def _team_feed(app, world, who, **filters):
    with app.app_context():
        feed, secret = stored_feeds.create(
            people.person(world["people"][who].person_id),
            now=world["folks"].now(),
            team_id=world["lumen"].team_id,
            filters=filters,
        )
    return f"/feeds/{world['people'][who].person_id}/{feed.feed_id}/{secret}.ics"


def test_a_team_feed_has_the_posts_partners_share_with_it_under_their_uid(app, shared):  # noqa: F811
    a, b, post = shared["aurora"], shared["lumen"], shared["post"]
    marta = shared["people"]["marta"]
    assert _share(shared, co_owner=marta.person_id).status_code == 302
    everything = _team_feed(app, shared, "vera")
    with meter.metered() as counted:
        ics = app.test_client().get(everything).text
    assert counted.calls == ["BatchGetItem", "Query"]  # the same one Query of by_due
    assert f"UID:{post.post_id}@{a.team_id}.cadenza" in ics and "Vendemmia" in ics
    assert f"/t/{b.team_id}/shared/{a.team_id}/{post.post_id}" in ics.replace("\r\n ", "")
    assert "Marta" in ics  # its owner in Lumen: the co-owner
    # The feed's filters apply to it as to the team's own posts.
    drafts = _team_feed(app, shared, "vera", status="draft")
    assert "Vendemmia" not in app.test_client().get(drafts).text
    mine = _team_feed(app, shared, "vera", owner=marta.person_id, status="approved")
    assert "Vendemmia" in app.test_client().get(mine).text
    # Unshared, it leaves the feed.
    assert _share(shared, partner="").status_code == 302
    assert "Vendemmia" not in app.test_client().get(everything).text
