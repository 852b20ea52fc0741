"""Sharing posts with a partner team (issue 11, phase 2).

Cantina Aurora (Giulia, admin; Ed, editor) shares a post with its partner Enoteca Lumen (Tom,
admin; Vera, viewer; Marta, editor and co-owner). The post stays Aurora's; Lumen's calendar
shows its mirror from the same one Query, Marta's My posts too, and Lumen marks it published
with its own link. Nothing else of Aurora reaches Lumen.
"""

from datetime import timedelta

import pytest
from test_partners import _partnered

from app import nudges
from app.planner import changes
from app.store import Conflict, meter, people, posts, reminders, sharing, teams
from app.store import feeds as stored_feeds


@pytest.fixture
def shared(app, folks):
    giulia = folks.person("giulia@aurora.example.com", "Giulia")
    tom = folks.person("tom@lumen.example.com", "Tom", language="it")
    aurora, lumen = folks.team(giulia, "Cantina Aurora"), folks.team(tom, "Enoteca Lumen")
    marta = folks.person("marta@lumen.example.com", "Marta")
    vera = folks.person("vera@lumen.example.com", "Vera")
    ed = folks.person("ed@aurora.example.com", "Ed")
    folks.join(lumen, marta, "editor")
    folks.join(lumen, vera, "viewer")
    folks.join(aurora, ed, "editor")
    _partnered(app, folks, {"aurora": aurora, "lumen": lumen, "tom": tom})
    post = folks.post(aurora, owner=giulia, created_by=giulia, status="approved", title="Vendemmia")
    world = {
        "aurora": aurora,
        "lumen": lumen,
        "post": post,
        "folks": folks,
        **{
            name: folks.client_for(p)
            for name, p in [
                ("giulia", giulia),
                ("tom", tom),
                ("marta", marta),
                ("vera", vera),
                ("ed", ed),
            ]
        },
        "people": {"giulia": giulia, "tom": tom, "marta": marta, "vera": vera, "ed": ed},
    }
    return world


def folks_now(world):
    return world["folks"].now()


def _load(app, team, post_id):
    with app.app_context():
        return posts.load(team.team_id, post_id)


def _share(world, co_owner="", partner=None, version=None, client="giulia"):
    a, post = world["aurora"], world["post"]
    current = _load(world["folks"].app, a, post.post_id)[0]
    return world[client].post(
        f"/t/{a.team_id}/posts/{post.post_id}/share",
        data={
            "partner": world["lumen"].team_id if partner is None else partner,
            "co_owner": co_owner,
            "version": str(current.version if version is None else version),
        },
    )


def _shared_url(world):
    return f"/t/{world['lumen'].team_id}/shared/{world['aurora'].team_id}/{world['post'].post_id}"


def _month(post):
    return f"month/{post.due.astimezone().strftime('%Y-%m')}"


def _mirror(app, world):
    with app.app_context():
        found = sharing.mirrors(world["lumen"].team_id, world["aurora"].team_id)
    return found[0] if found else None


def test_a_shared_post_shows_on_both_months_and_in_the_co_owners_posts(app, shared):
    a, b, post = shared["aurora"], shared["lumen"], shared["post"]
    assert _share(shared).status_code == 302
    marta = shared["people"]["marta"]
    assert _share(shared, co_owner=marta.person_id).status_code == 302
    stored = _load(app, a, post.post_id)[0]
    assert (stored.shared_with, stored.co_owner_name) == (b.team_id, "Marta")
    panel = shared["giulia"].get(f"/t/{a.team_id}/posts/{post.post_id}").text
    assert "Enoteca Lumen" in panel and "co-owned by Marta" in panel
    for client, team in (("giulia", a), ("vera", b)):
        with meter.metered() as counted:
            page = shared[client].get(f"/t/{team.team_id}/{_month(post)}")
        assert page.status_code == 200 and "Vendemmia" in page.text
        assert counted.calls == ["BatchGetItem", "Query", "Query"]  # one by_due Query each
    lumen_month = shared["vera"].get(f"/t/{b.team_id}/{_month(post)}").text
    chip = lumen_month.split(f'id="post-{a.team_id}-{post.post_id}"')[1].split("</a>")[0]
    assert "Cantina Aurora" in chip and "partner-tag partner-" in chip
    assert _shared_url(shared) in lumen_month
    mine = shared["marta"].get("/my/posts").text
    assert "Vendemmia" in mine and "Cantina Aurora" in mine
    # Her calendar feed has it too, under the original's UID, linking to Lumen's page of it.
    with app.app_context():
        feed, secret = stored_feeds.create(people.person(marta.person_id), now=folks_now(shared))
    ics = app.test_client().get(f"/feeds/{marta.person_id}/{feed.feed_id}/{secret}.ics").text
    assert f"UID:{post.post_id}@{a.team_id}.cadenza" in ics and "Vendemmia" in ics
    # Nudges and feeds plan from posts: the person's own posts, never the mirror.
    with app.app_context():
        assert (
            posts.owned_between(
                marta.person_id, post.due - timedelta(days=9), post.due + timedelta(days=1)
            )
            == []
        )
        assert posts.calendar_between(
            b.team_id, post.due - timedelta(days=1), post.due + timedelta(days=1)
        ) == ([], [])


def test_edits_moves_and_trash_on_the_owning_side_update_the_mirror(app, shared):
    a, post = shared["aurora"], shared["post"]
    _share(shared)
    with app.app_context():
        loaded, body = posts.load(a.team_id, post.post_id)
        team = teams.team(a.team_id)
        changes.update(
            loaded,
            body,
            team,
            summary={"title": "Vendemmia 2"},
            body_fields={},
            actor=shared["people"]["giulia"].person_id,
            now=shared["folks"].now(),
        )
    assert _mirror(app, shared).title == "Vendemmia 2"
    # A move reads nothing first; a shared post falls back to read + transaction.
    calls, new_due = _move(app, shared)
    # (The refused blind write raised, so the meter does not list it: then a read, a write.)
    assert calls == ["BatchGetItem", "TransactWriteItems"]
    mirror = _mirror(app, shared)
    assert mirror.due == new_due and mirror.due_key.startswith(new_due.strftime("%Y-%m-%dT"))
    # Trashed: the mirror stays (it lists the original) but leaves the calendars.
    with app.app_context():
        loaded, body = posts.load(a.team_id, post.post_id)
        changes.trash(
            loaded,
            body,
            team,
            actor=shared["people"]["giulia"].person_id,
            now=shared["folks"].now(),
        )
    mirror = _mirror(app, shared)
    assert mirror.trashed and mirror.due_key is None and mirror.expires_at
    assert shared["tom"].get(_shared_url(shared)).status_code == 404


def test_a_move_of_an_unshared_post_is_still_one_write(app, shared):
    assert _move(app, shared)[0] == ["TransactWriteItems"]


def _move(app, world):
    """Move the post a day on, as the calendar's drag does: the DynamoDB calls, the new due."""
    a, post = world["aurora"], world["post"]
    with app.app_context():
        team, current = teams.team(a.team_id), posts.load(a.team_id, post.post_id)[0]
        with meter.metered() as counted:
            changes.move(
                team,
                post.post_id,
                version=current.version,
                seen_due=current.due,
                seen_owner=current.owner_id,
                seen_status=current.status,
                due=current.due + timedelta(days=1),
                zone="Europe/Rome",
                actor=world["people"]["giulia"].person_id,
                now=world["folks"].now(),
            )
    return counted.calls, current.due + timedelta(days=1)


def test_the_partner_side_publishes_with_its_own_link(app, shared):
    a, post = shared["aurora"], shared["post"]
    marta = shared["people"]["marta"]
    _share(shared, co_owner="")
    _share(shared, co_owner=marta.person_id)
    page = shared["vera"].get(_shared_url(shared))
    assert page.status_code == 200 and "Vendemmia" in page.text
    assert "publish-form" not in page.text  # a viewer who is not the co-owner
    assert "giulia@aurora.example.com" not in page.text and "Giulia" in page.text
    version = _load(app, a, post.post_id)[0].version
    refused = shared["vera"].post(
        _shared_url(shared) + "/publish",
        data={"url": "https://lumen.example.com/p", "version": version},
    )
    assert refused.status_code == 403
    bad = shared["marta"].post(
        _shared_url(shared) + "/publish", data={"url": "lumen", "version": version}
    )
    assert bad.status_code == 422 and "https://" in bad.text
    done = shared["marta"].post(
        _shared_url(shared) + "/publish",
        data={"url": "https://lumen.example.com/p", "version": version},
    )
    assert done.status_code == 302
    stored, body = _load(app, a, post.post_id)
    assert (
        stored.status == "published"
        and stored.partner_published_url == "https://lumen.example.com/p"
    )
    assert body.published_url is None  # Aurora's own link is its own
    assert _mirror(app, shared).status == "published"
    # Concurrent: a page showing the old version does not overwrite.
    stale = shared["marta"].post(
        _shared_url(shared) + "/publish",
        data={"url": "https://lumen.example.com/q", "version": version},
    )
    assert stale.status_code == 409
    assert _load(app, a, post.post_id)[0].partner_published_url == "https://lumen.example.com/p"


def test_concurrent_sharing_edits_conflict(app, shared):
    assert _share(shared).status_code == 302
    stale = _share(shared, partner="", version=1)
    assert stale.status_code == 409
    assert (
        _load(app, shared["aurora"], shared["post"].post_id)[0].shared_with
        == shared["lumen"].team_id
    )
    # Only the owning team's editors share.
    lumen_try = shared["tom"].post(
        f"/t/{shared['aurora'].team_id}/posts/{shared['post'].post_id}/share", data={"partner": ""}
    )
    assert lumen_try.status_code == 404


def test_the_partner_reaches_no_unshared_post(app, shared):
    folks, a = shared["folks"], shared["aurora"]
    other = folks.post(
        a,
        owner=shared["people"]["giulia"],
        created_by=shared["people"]["giulia"],
        status="draft",
        title="Segreto",
    )
    b = shared["lumen"]
    for post_id in (other.post_id, shared["post"].post_id):  # the second: not shared yet
        assert shared["tom"].get(f"/t/{b.team_id}/shared/{a.team_id}/{post_id}").status_code == 404
        assert shared["tom"].get(f"/t/{a.team_id}/posts/{post_id}").status_code == 404
    _share(shared)
    assert shared["tom"].get(f"/t/{a.team_id}/posts/{shared['post'].post_id}").status_code == 404
    assert "Segreto" not in shared["tom"].get(f"/t/{b.team_id}/{_month(other)}").text


def test_ending_the_partnership_removes_mirrors_and_keeps_the_post(app, shared):
    a, b, post = shared["aurora"], shared["lumen"], shared["post"]
    _share(shared, co_owner="")
    assert _mirror(app, shared) is not None
    ended = shared["tom"].post(f"/t/{b.team_id}/partners/end", data={"partner": a.team_id})
    assert ended.status_code == 302
    assert _mirror(app, shared) is None and _unsharing_markers(app, shared) == []
    stored = _load(app, a, post.post_id)[0]
    assert stored.shared_with is None and stored.title == "Vendemmia"
    assert "Vendemmia" not in shared["tom"].get(f"/t/{b.team_id}/{_month(post)}").text
    assert shared["tom"].get(_shared_url(shared)).status_code == 404


def _unsharing_markers(app, world) -> list:
    with app.app_context():
        later = folks_now(world) + timedelta(days=1)
        return [r for r in reminders.due_at_or_before(later) if r.kind == "unshare"]


def test_ending_a_partnership_cut_short_is_finished_by_the_nudge_job(app, shared, monkeypatch):
    """The partner maps hide a shared post from the calendars at once, but the co-owner's
    My posts lists it by owner: an ending whose unsharing fails (a timeout, a conflict) is
    finished by the next nudge run, and one that succeeds leaves nothing for it."""
    a, b, post = shared["aurora"], shared["lumen"], shared["post"]
    marta = shared["people"]["marta"]
    _share(shared, co_owner=marta.person_id)
    with app.app_context():
        tom = people.person(shared["people"]["tom"].person_id)
        feed, secret = stored_feeds.create(tom, now=folks_now(shared), team_id=b.team_id)
    team_feed = f"/feeds/{tom.person_id}/{feed.feed_id}/{secret}.ics"
    assert "Vendemmia" in app.test_client().get(team_feed).text
    finish = sharing.unshare_all

    def cut_short(*args):
        raise Conflict("a shared post keeps changing")

    monkeypatch.setattr(sharing, "unshare_all", cut_short)
    ended = shared["tom"].post(f"/t/{b.team_id}/partners/end", data={"partner": a.team_id})
    assert ended.status_code == 302
    monkeypatch.setattr(sharing, "unshare_all", finish)
    assert _mirror(app, shared) is not None and len(_unsharing_markers(app, shared)) == 1
    assert "Vendemmia" not in app.test_client().get(team_feed).text  # no longer partners
    nudges.run_once(app, folks_now(shared) + sharing.UNSHARING_GRACE)
    assert _mirror(app, shared) is None and _unsharing_markers(app, shared) == []
    assert _load(app, a, post.post_id)[0].shared_with is None
    assert "Vendemmia" not in shared["marta"].get("/my/posts").text


def test_the_partners_admins_approve_a_shared_post_in_review(app, shared):
    a, folks = shared["aurora"], shared["folks"]
    giulia = shared["people"]["giulia"]
    post = folks.post(a, owner=giulia, created_by=giulia, status="in_review", title="Rosé")
    shared["post"] = post
    _share(shared)
    url = _shared_url(shared)
    assert 'id="approve-form"' in shared["tom"].get(url).text
    assert 'id="approve-form"' not in shared["marta"].get(url).text
    version = _load(app, a, post.post_id)[0].version
    assert shared["marta"].post(f"{url}/approve", data={"version": version}).status_code == 403
    assert shared["tom"].post(f"{url}/approve", data={"version": version}).status_code == 302
    assert _load(app, a, post.post_id)[0].status == "approved"
    assert _mirror(app, shared).status == "approved"
    assert shared["tom"].post(f"{url}/approve", data={"version": version}).status_code == 409
