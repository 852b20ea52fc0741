"""The co-owner's side of a shared post, finished (issue 11): a one-click "published" in their
nudges for their team's side, co-owned posts in their daily digest, their nudges planned
again when their team's default lead times change, and a post shared while in review asking
the partner's admins for their decision.

The worlds are ``test_partners_nudges``' (Cantina Aurora's Giulia shares "Vendemmia" with
Enoteca Lumen, co-owned there by Sam: Italian, in New York) and ``test_partners_sharing``'
(Aurora's Ed puts a post in review, Lumen's admin Tom speaks Italian).
"""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from test_partners_nudges import nudges_of, post_id_of, run, share
from test_partners_nudges import shared as coowned  # noqa: F401 (a fixture)
from test_partners_sharing import _load, _mirror, _share
from test_partners_sharing import shared as partners  # noqa: F401 (a fixture)

from app import nudges
from app.nudges import plan
from app.planner import changes
from app.store import meter, people, posts, reminders, teams
from app.store.models import Reminder
from tests.conftest import outbox

LINK = re.compile(r"https?://[^\s\"<>]+?(/n/[\w.-]+)")


def _sams_nudge(world) -> dict:
    """Sam's four-hours-before nudge, as the job sends it."""
    run(world, world["post"].due - timedelta(hours=4))
    return next(m for m in outbox(world["app"]) if m["to"] == world["sam"].email)


def _published_link(world) -> str:
    mail = _sams_nudge(world)
    found = {match.group(1) for match in LINK.finditer(mail["text"])}
    assert found and found == {match.group(1) for match in LINK.finditer(mail["html"])}
    (link,) = found
    return link


def _stored(world):
    with world["app"].app_context():
        return posts.load(world["aurora"].team_id, post_id_of(world))[0]


def _shared_page(world) -> str:
    return f"/t/{world['lumen'].team_id}/shared/{world['aurora'].team_id}/{post_id_of(world)}"


@pytest.fixture
def publishing(monkeypatch):
    """Counts the calls of ``changes.publish_shared``."""
    calls = []
    real = changes.publish_shared

    def counted(*args, **kwargs):
        calls.append(kwargs["url"])
        return real(*args, **kwargs)

    monkeypatch.setattr(changes, "publish_shared", counted)
    return calls


# 1. The co-owner's one-click "published" -----------------------------------------------------


def test_the_co_owner_marks_it_published_for_their_team_from_the_email(coowned, publishing):  # noqa: F811
    app, sam = coowned["app"], coowned["sam"]
    mail = _sams_nudge(coowned)
    # In Sam's language: a "published" button, and his team's page of the post still linked.
    assert "Segna come pubblicato" in mail["text"] and "Segna come pubblicato" in mail["html"]
    assert _shared_page(coowned) in mail["text"] and _shared_page(coowned) in mail["html"]
    assert "Posticipa" not in mail["text"]  # no snooze or hand-over: those are the owner's
    link = _published_link(coowned)
    client = app.test_client()
    page = client.get(link)  # a mail scanner fetching it: nothing happens
    assert page.status_code == 200 and 'lang="it"' in page.text
    assert "Segna come pubblicato" in page.text and "Enoteca Lumen" in page.text
    assert _stored(coowned).status == "approved" and publishing == []
    # The link is checked as the owner's is: a field message, and the link still works.
    wrong = client.post(link, data={"link": "ftp://lumen.example.com/v"})
    assert wrong.status_code == 422 and "https://" in wrong.text and publishing == []
    done = client.post(link, data={"link": " https://lumen.example.com/vendemmia "})
    assert done.status_code == 200, done.text
    assert publishing == ["https://lumen.example.com/vendemmia"]
    stored = _stored(coowned)
    assert (stored.status, stored.partner_published_url) == (
        "published",
        "https://lumen.example.com/vendemmia",
    )
    mirror = _mirror(app, coowned)
    assert mirror.partner_published_url == "https://lumen.example.com/vendemmia"
    again = client.post(link, data={"link": "https://lumen.example.com/other"})
    assert again.status_code == 410 and "già" in again.text and len(publishing) == 1
    # Aurora's history names Sam; his team's page shows its link.
    panel = coowned["folks"].client_for(coowned["giulia"])
    history = panel.get(f"/t/{coowned['aurora'].team_id}/posts/{post_id_of(coowned)}").text
    assert "<strong>Sam</strong>" in history
    lumen_page = coowned["folks"].client_for(sam).get(_shared_page(coowned)).text
    assert "https://lumen.example.com/vendemmia" in lumen_page
    # Published: nobody is nudged about it any more.
    assert nudges_of(coowned) == {}


def test_in_english_the_link_is_optional(coowned, publishing):  # noqa: F811
    app, sam = coowned["app"], coowned["sam"]
    with app.app_context():
        someone = people.person(sam.person_id)
        people.update_profile(
            someone, name="Sam", language="en", zone=someone.zone, week_start=someone.week_start
        )
    mail = _sams_nudge(coowned)
    assert "Mark as published" in mail["text"] and _shared_page(coowned) in mail["text"]
    link = _published_link(coowned)
    page = app.test_client().get(link)
    assert page.status_code == 200 and 'lang="en"' in page.text
    assert "Mark this post as published for Enoteca Lumen?" in page.text
    assert "Link to the post as Enoteca Lumen published it (optional)" in page.text
    done = app.test_client().post(link, data={"link": ""})
    assert done.status_code == 200 and "marked as published for your team" in done.text
    assert publishing == [None]
    stored = _stored(coowned)
    assert (stored.status, stored.partner_published_url) == ("published", None)


def _unshared(world):
    share(world, co_owner=None, partner=False)


def _left_lumen(world):
    with world["app"].app_context():
        teams.remove_member(world["lumen"].team_id, world["sam"].person_id)


def _viewer_no_longer_co_owner(world):
    """Sam still in Lumen, as a viewer, and Tom co-owns it now."""
    with world["app"].app_context():
        teams.change_role(world["lumen"].team_id, world["sam"].person_id, "viewer")
    share(world, co_owner=(world["tom"].person_id, "Tom"))


def _published_by_lumen(world):
    """Tom, Lumen's admin, published it for Lumen on his team's page."""
    client = world["folks"].client_for(world["tom"])
    done = client.post(
        _shared_page(world) + "/publish",
        data={"url": "https://lumen.example.com/t", "version": str(_stored(world).version)},
    )
    assert done.status_code == 302, done.text


def _set_status(world, status):
    stored, body = posts.load(world["aurora"].team_id, post_id_of(world))
    with world["app"].app_context():
        changes.update(
            stored,
            body,
            teams.team(world["aurora"].team_id),
            summary={"status": status},
            body_fields={},
            actor=world["giulia"].person_id,
            now=world["folks"].now(),
        )


def _back_to_draft(world):
    _set_status(world, "draft")


def _skipped(world):
    _set_status(world, "skipped")


@pytest.mark.parametrize(
    ("change", "status", "said"),
    [
        (_unshared, 410, "no longer shared"),
        (_left_lumen, 403, "co-owner"),
        (_viewer_no_longer_co_owner, 403, "co-owner"),
        (_published_by_lumen, 410, "already"),
        (_back_to_draft, 403, "approved"),
        (_skipped, 410, "done already"),
    ],
)
def test_a_co_owners_link_no_longer_acts_when(coowned, publishing, change, status, said):  # noqa: F811
    app, sam = coowned["app"], coowned["sam"]
    with app.app_context():  # read in English: the messages are new
        someone = people.person(sam.person_id)
        people.update_profile(
            someone, name="Sam", language="en", zone=someone.zone, week_start=someone.week_start
        )
    link = _published_link(coowned)
    change(coowned)
    publishing.clear()  # (Lumen's own publishing, on its page)
    before = _stored(coowned)
    client = app.test_client()
    for answer in (client.get(link), client.post(link, data={"link": "https://x.example/p"})):
        assert answer.status_code == status and said in answer.text, answer.text
    assert publishing == []
    after = _stored(coowned)
    assert (after.version, after.status) == (before.version, before.status)


# 2. The daily digest -------------------------------------------------------------------------


def test_the_co_owners_daily_digest_lists_the_posts_they_co_own(coowned):  # noqa: F811
    app, folks, sam = coowned["app"], coowned["folks"], coowned["sam"]
    aurora, lumen = coowned["aurora"], coowned["lumen"]
    # Two more posts co-owned by Sam, one of Lumen's own; Sam reads his digest at 08:00.
    due = coowned["post"].due
    for n, title in enumerate(("Potatura", "Cantina aperta")):
        other = posts.new_post(
            aurora.team_id,
            title=title,
            zone="Europe/Rome",
            created_by=coowned["giulia"].person_id,
            now=folks.now(),
            due=due + timedelta(days=n + 1),
            owner_id=coowned["giulia"].person_id,
            channels=["Instagram"],
            status="approved",
        )
        with app.app_context():
            changes.create(other, teams.team(aurora.team_id), folks.now(), copy="")
            changes.share(
                posts.load(aurora.team_id, other.post_id)[0],
                teams.team(aurora.team_id),
                actor=coowned["giulia"].person_id,
                partner_id=lumen.team_id,
                co_owner=(sam.person_id, "Sam"),
                origin_name="Cantina Aurora",
                shown={},
                now=folks.now(),
            )
    folks.post(lumen, owner=sam, created_by=sam, status="draft", title="Degustazione")
    at = folks.now() + timedelta(minutes=5)
    with app.app_context():
        people.update_preferences(people.person(sam.person_id), digest_on=True)
        digest = Reminder(*Reminder.digest_key(sam.person_id), kind="digest")
        digest.person_id, digest.due = sam.person_id, at
        reminders.write(reminders.ReminderWrites(put=[reminders.pending(digest)]))
    with meter.metered() as counted:
        run(coowned, at)
    mail = next(m for m in outbox(app) if m["to"] == sam.email)
    assert mail["subject"].startswith("La tua settimana: 4 post")
    text = mail["text"]
    order = ("Degustazione", "Vendemmia", "Potatura", "Cantina aperta")
    assert [text.index(title) for title in order] == sorted(text.index(t) for t in order)
    assert "Cantina Aurora" in text and "Cantina Aurora" in mail["html"]
    assert _shared_page(coowned) in text and _shared_page(coowned) in mail["html"]
    opened = folks.client_for(sam).get(_shared_page(coowned))
    assert opened.status_code == 200 and "Vendemmia" in opened.text
    # Bounded: the person's GetItem and one Query of by_owner whatever the number of posts
    # (no read per post); the rest is the run's own (schedules, the due index, the claim,
    # the next digest).
    digest_calls = counted.calls[counted.calls.index("UpdateItem") + 1 :]
    assert digest_calls == ["GetItem", "Query", "UpdateItem"], counted.calls


# 3. The partner team's default lead times ----------------------------------------------------


def test_the_partner_teams_new_default_times_plan_its_co_owners_nudges_again(coowned):  # noqa: F811
    app, sam, tom, lumen = coowned["app"], coowned["sam"], coowned["tom"], coowned["lumen"]
    with app.app_context():  # Sam keeps Lumen's times now
        people.update_preferences(people.person(sam.person_id), lead_minutes=None)
    owners_before = {k: v for k, v in nudges_of(coowned).items() if not plan.for_co_owner(k)}
    with meter.metered() as counted:
        saved = (
            coowned["folks"]
            .client_for(tom)
            .post(f"/t/{lumen.team_id}/nudges", data={"leads": ["4320", "120"]})
        )
    assert saved.status_code == 302
    planned, due = nudges_of(coowned), coowned["post"].due
    new_york = ZoneInfo(sam.zone)
    assert planned["co-before-4320"] == (sam.person_id, plan.before(due, 4320, new_york))
    assert planned["co-before-120"] == (sam.person_id, due - timedelta(hours=2))
    assert "co-before-240" not in planned
    # Giulia's are Aurora's business: as they were.
    assert {k: v for k, v in planned.items() if not plan.for_co_owner(k)} == owners_before
    assert "Scan" not in counted.calls and counted.calls.count("Query") == 2  # by_due; reminders


# 4. Shared while in review ------------------------------------------------------------------


def test_a_post_shared_while_in_review_asks_the_partners_admins(app, partners, clock):  # noqa: F811
    a, post = partners["aurora"], partners["post"]
    ed, giulia = partners["people"]["ed"], partners["people"]["giulia"]
    loaded, body = _load(app, a, post.post_id)
    with app.app_context():
        changes.update(
            loaded,
            body,
            teams.team(a.team_id),
            summary={
                "status": "in_review",
                "owner_id": ed.person_id,
                "reviewer_id": giulia.person_id,
            },
            body_fields={},
            actor=ed.person_id,
            now=partners["folks"].now(),
        )
    with meter.metered() as counted:
        assert _share(partners).status_code == 302
    writes = [c for c in counted.calls if c in ("PutItem", "UpdateItem", "TransactWriteItems")]
    assert writes == ["TransactWriteItems"]  # the request is in the share's transaction
    nudges.run_once(app, partners["folks"].now() + timedelta(minutes=1))
    to_tom = [m for m in outbox(app) if m["to"] == partners["people"]["tom"].email]
    assert len(to_tom) == 1 and "Approva" in to_tom[0]["text"]
    approve = LINK.search(to_tom[0]["text"]).group(1)
    assert app.test_client().post(approve).status_code == 200
    assert _load(app, a, post.post_id)[0].status == "approved"
    # Sharing it again (a co-owner named) asks nobody again; nor does the approved post.
    marta = partners["people"]["marta"]
    assert _share(partners, co_owner=marta.person_id).status_code == 302
    clock.move_to(partners["folks"].now() + timedelta(minutes=30))
    nudges.run_once(app, partners["folks"].now())
    assert len([m for m in outbox(app) if m["to"] == partners["people"]["tom"].email]) == 1
