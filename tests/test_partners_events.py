"""Sharing an event with a partner team (issue 11).

Cantina Aurora (Giulia, admin; Ed, editor; Olga, viewer) shares its "Joint tasting" with its
partner Enoteca Lumen (Tom, admin, reads Italian; Marta, editor; Vera, viewer). The event
stays Aurora's; Lumen's calendar shows its mirror from the same one Query, in the colour
Lumen gave Aurora, linking to a read-only page. Only Aurora's editors change it.
"""

from datetime import timedelta

import pytest
from test_events import _cancel, _without_csrf, event_page, rome, save_event
from test_partners_sharing import shared  # noqa: F401 (the fixture: two partner teams)
from test_planner_everyday import edited, form_fields
from werkzeug.datastructures import MultiDict

from app.store import events, keys, meter, posts, sharing
from tests.conftest import ROME


@pytest.fixture
def joint(app, shared):  # noqa: F811
    """``shared`` with Olga (Aurora's viewer) and Aurora's event in ten days."""
    folks = shared["folks"]
    olga = folks.person("olga@aurora.example.com", "Olga")
    folks.join(shared["aurora"], olga, "viewer")
    shared["olga"], shared["people"]["olga"] = folks.client_for(olga), olga
    shared["event"] = new_event(app, shared, shared["aurora"], "Joint tasting")
    return shared


def new_event(app, world, team, title, owner="giulia"):
    """An event of ``team`` in ten days, 18:00–21:00 in Rome, stored as the app stores one."""
    day = world["folks"].now().astimezone(ROME).date() + timedelta(days=10)
    start = rome(day.year, day.month, day.day, 18)
    with app.app_context():
        event = events.new_event(
            team.team_id,
            keys.new_id(),
            created_by=world["people"][owner].person_id,
            now=world["folks"].now(),
            title=title,
            place="Barolo",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            zone="Europe/Rome",
            notes="Bring the 2019s",
            owner_id=world["people"][owner].person_id,
        )
        events.create(event)
        return events.load(team.team_id, event.event_id)


def _load(app, event):
    with app.app_context():
        return events.load(event.team_id, event.event_id)


def _mirror(app, world, shown_in="lumen", origin="aurora"):
    with app.app_context():
        found = sharing.event_mirrors(world[shown_in].team_id, world[origin].team_id)
    return found[0] if found else None


def share_event(world, partner=None, version=None, client="giulia", event=None):
    """Send the event's share form (``partner`` "" stops sharing)."""
    event = event or world["event"]
    current = _load(world["folks"].app, event)
    return world[client].post(
        f"/t/{event.team_id}/events/{event.event_id}/share",
        data={
            "partner": world["lumen"].team_id if partner is None else partner,
            "version": str(current.version if version is None else version),
        },
    )


def shared_url(world, event=None):
    event = event or world["event"]
    return f"/t/{world['lumen'].team_id}/shared-events/{event.team_id}/{event.event_id}"


def _month(event):
    return f"month/{event.starts_at.astimezone(ROME).strftime('%Y-%m')}"


def _band(page: str, world) -> str:
    """The band of Aurora's shared event on Lumen's calendar page."""
    event = world["event"]
    return page.split(f'id="event-{event.team_id}-{event.event_id}"')[1].split("</a>")[0]


def test_a_shared_event_shows_on_both_calendars_in_one_query_each(app, joint):
    a, b, event = joint["aurora"], joint["lumen"], joint["event"]
    page = joint["giulia"].get(f"/t/{a.team_id}/events/{event.event_id}").text
    assert 'id="event-share-form"' in page and "Only the event is shared" in page
    assert share_event(joint).status_code == 302
    assert _load(app, event).shared_with == b.team_id
    assert "Enoteca Lumen" in joint["giulia"].get(f"/t/{a.team_id}/events/{event.event_id}").text
    for client, team in (("giulia", a), ("vera", b)):
        with meter.metered() as counted:
            month = joint[client].get(f"/t/{team.team_id}/{_month(event)}")
        assert month.status_code == 200 and "Joint tasting" in month.text
        assert counted.calls == ["BatchGetItem", "Query", "Query"]  # one by_due Query each
    lumen_month = joint["vera"].get(f"/t/{b.team_id}/{_month(event)}").text
    band = _band(lumen_month, joint)
    assert "Cantina Aurora" in band and "partner-tag partner-" in band
    assert f'href="{shared_url(joint)}"' in band
    day = event.starts_at.astimezone(ROME).date()
    monday = day - timedelta(days=day.weekday())
    for view in (f"week/{monday}", f"agenda?from={day - timedelta(days=1)}"):
        assert "Cantina Aurora" in _band(joint["vera"].get(f"/t/{b.team_id}/{view}").text, joint)
    # The read-only page: one BatchGetItem after the session's; no form, no addresses.
    with meter.metered() as counted:
        page = joint["vera"].get(shared_url(joint))
    assert page.status_code == 200 and counted.calls == ["BatchGetItem", "BatchGetItem"]
    assert "Joint tasting" in page.text and "Barolo" in page.text and "Giulia" in page.text
    assert "Bring the 2019s" in page.text and "<form" not in page.text.split('id="shared-event"')[1]
    assert "giulia@aurora.example.com" not in page.text
    # Lumen's health page, exports and feeds read its own events only, never the mirror.
    with app.app_context():
        found = posts.calendar_between(
            b.team_id, event.starts_at - timedelta(days=1), event.starts_at + timedelta(days=1)
        )
    assert found == ([], [])


def test_edits_moves_and_cancelling_keep_the_mirror_in_step(app, joint):
    b, event = joint["lumen"], joint["event"]
    share_event(joint)
    later = event.starts_at.astimezone(ROME).date() + timedelta(days=2)
    answer = save_event(joint["ed"], event, title="Joint tasting 2", start_day=later.isoformat())
    assert answer.status_code == 302
    stored, mirror = _load(app, event), _mirror(app, joint)
    assert (mirror.title, mirror.starts_at, mirror.ends_at) == (
        "Joint tasting 2",
        stored.starts_at,
        stored.ends_at,
    )
    assert mirror.due_key.startswith(stored.starts_at.strftime("%Y-%m-%dT"))
    joint["event"] = stored
    assert "Joint tasting 2" in _band(
        joint["vera"].get(f"/t/{b.team_id}/{_month(stored)}").text, joint
    )
    assert _cancel(joint["giulia"], stored, "keep").status_code == 302
    assert _mirror(app, joint).state == "cancelled"
    band = _band(joint["vera"].get(f"/t/{b.team_id}/{_month(stored)}").text, joint)
    assert '<s class="event-title">Joint tasting 2</s>' in band
    assert "<s>Joint tasting 2</s>" in joint["vera"].get(shared_url(joint)).text


def test_a_stale_share_or_edit_is_a_409_and_changes_nothing(app, joint):
    event = joint["event"]
    assert share_event(joint).status_code == 302
    stale = share_event(joint, partner="", version=event.version)
    assert stale.status_code == 409 and "Someone else saved this event" in stale.text
    assert _load(app, event).shared_with == joint["lumen"].team_id
    # An edit from a page read before the sharing: refused, the mirror as it was.
    old = dict(_without_csrf(form_fields(event_page(joint["ed"], event), "event-form")))
    old["version"] = str(event.version)
    answer = joint["ed"].post(
        f"/t/{event.team_id}/events/{event.event_id}",
        data=MultiDict(edited(list(old.items()), title="Mine")),
    )
    assert answer.status_code == 409
    assert _mirror(app, joint).title == "Joint tasting" == _load(app, event).title


def test_a_partner_that_is_not_one_is_a_422_with_a_message(app, joint):
    answer = share_event(joint, partner="0" * 16)
    assert answer.status_code == 422
    assert "Choose one of your partner teams" in answer.text
    assert _load(app, joint["event"]).shared_with is None and _mirror(app, joint) is None


@pytest.mark.parametrize("who", ["tom", "marta", "vera"])
def test_the_partners_people_neither_share_nor_edit_the_event(app, joint, who):
    event = joint["event"]
    share_event(joint)
    before = _load(app, event)
    base = f"/t/{event.team_id}/events/{event.event_id}"
    client = joint[who]
    assert client.get(base).status_code == 404
    assert (
        client.post(f"{base}/share", data={"partner": "", "version": before.version}).status_code
        == 404
    )
    assert client.post(base, data={"title": "Ours", "version": before.version}).status_code == 404
    assert (
        client.post(
            f"{base}/cancel", data={"series": "keep", "version": before.version}
        ).status_code
        == 404
    )
    after = _load(app, event)
    assert (after.version, after.title, after.shared_with) == (
        before.version,
        before.title,
        before.shared_with,
    )


def test_a_viewer_of_the_owning_team_cannot_share(app, joint):
    event = joint["event"]
    page = joint["olga"].get(f"/t/{event.team_id}/events/{event.event_id}").text
    assert 'id="event-share-form"' not in page
    assert share_event(joint, client="olga").status_code == 403
    assert _load(app, event).shared_with is None


def test_nobody_reaches_an_unshared_event_or_one_shared_elsewhere(app, joint):
    event, folks = joint["event"], joint["folks"]
    assert joint["tom"].get(shared_url(joint)).status_code == 404  # not shared yet
    share_event(joint)
    # A stranger, member of neither team: not even the partner page's team.
    stranger = folks.person("sam@elsewhere.example.com", "Sam")
    folks.team(stranger, "Elsewhere")
    assert folks.client_for(stranger).get(shared_url(joint)).status_code == 404
    # Aurora's own people read their event on their own pages, not through Lumen's address.
    assert joint["giulia"].get(shared_url(joint)).status_code in (403, 404)
    other = new_event(app, joint, joint["aurora"], "Secret fair")
    assert joint["tom"].get(shared_url(joint, other)).status_code == 404
    assert (
        "Secret fair" not in joint["tom"].get(f"/t/{joint['lumen'].team_id}/{_month(event)}").text
    )


def test_unsharing_removes_the_mirror(app, joint):
    b, event = joint["lumen"], joint["event"]
    share_event(joint)
    assert _mirror(app, joint) is not None
    assert share_event(joint, partner="").status_code == 302
    assert _mirror(app, joint) is None and _load(app, event).shared_with is None
    assert "Joint tasting" not in joint["vera"].get(f"/t/{b.team_id}/{_month(event)}").text
    assert joint["vera"].get(shared_url(joint)).status_code == 404


def test_ending_the_partnership_unshares_events_both_ways_and_owners_keep_them(app, joint):
    a, b, event = joint["aurora"], joint["lumen"], joint["event"]
    theirs = new_event(app, joint, b, "Lumen open day", owner="tom")
    share_event(joint)
    answer = joint["tom"].post(
        f"/t/{b.team_id}/events/{theirs.event_id}/share",
        data={"partner": a.team_id, "version": theirs.version},
    )
    assert answer.status_code == 302
    assert _mirror(app, joint, "aurora", "lumen").title == "Lumen open day"
    ended = joint["giulia"].post(f"/t/{a.team_id}/partners/end", data={"partner": b.team_id})
    assert ended.status_code == 302
    assert _mirror(app, joint) is None and _mirror(app, joint, "aurora", "lumen") is None
    for original, title in ((event, "Joint tasting"), (theirs, "Lumen open day")):
        stored = _load(app, original)
        assert (stored.shared_with, stored.title) == (None, title)
    assert "Joint tasting" not in joint["tom"].get(f"/t/{b.team_id}/{_month(event)}").text
    assert joint["tom"].get(shared_url(joint)).status_code == 404


def test_an_italian_reader_reads_the_shared_event_in_italian(app, joint):
    share_event(joint)
    event, b = joint["event"], joint["lumen"]
    page = joint["tom"].get(shared_url(joint)).text
    assert "Quando" in page and "Luogo" in page and "Responsabile" in page
    band = _band(joint["tom"].get(f"/t/{b.team_id}/{_month(event)}").text, joint)
    assert "evento" in band and "Cantina Aurora" in band
