"""Calendar feeds: secret .ics addresses of a person's posts or a team's calendar, read back
with ``icalendar`` as a calendar app would."""

import logging
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
import test_planner
from flask_babel import force_locale
from flask_babel import gettext as _
from formdata import form_in
from test_planner import _move, _post
from test_planner_everyday import _panel_of, _save, edited, form_fields

from app.feeds import logs
from app.store import Conflict, events, meter, people, posts
from app.store import feeds as stored
from app.store.models import ProfileCopy
from tests.conftest import dynamodb_error

ROME = ZoneInfo("Europe/Rome")
cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)


def spring_forward_after(today: date) -> date:
    """The next last Sunday of March (Rome's clocks go forward) at least two days away."""
    year = today.year
    while True:
        last = date(year, 3, 31)
        switch = last - timedelta(days=(last.weekday() - 6) % 7)
        if switch > today + timedelta(days=2):
            return switch
        year += 1


def made_feed(client, path: str = "/me/feeds") -> str:
    """Make a feed as the page does (POST, then the page it sends to); its address's path."""
    response = client.post(path)
    assert response.status_code == 302, response.text[:500]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return _shown_address(page.text)


def _shown_address(html: str) -> str:
    found = html.split('id="new-feed-url" value="', 1)[1].split('"', 1)[0]
    return urlsplit(unescape(found)).path


def fetched(app, path: str):
    """The feed as a calendar server fetches it: no cookie, no session."""
    response = app.test_client().get(path)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Set-Cookie" not in response.headers
    return icalendar.Calendar.from_ical(response.data)


def vevents(calendar) -> dict[str, icalendar.Event]:
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def at_rome(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ROME).astimezone(UTC)


# The calendar, field by field ---------------------------------------------------------------


def test_a_post_keeps_its_local_time_and_zone_across_the_spring_forward_switch(app, cantina):
    folks, team, bruno = cantina["folks"], cantina["team"], cantina["bruno"]
    with app.app_context():
        people.update_preferences(people.person(bruno.person_id), lead_minutes=[240, 60])
    switch = spring_forward_after(folks.now().astimezone(ROME).date())
    before = _post(team, bruno, at_rome(switch - timedelta(days=1), 18), "Before", tags=["vino"])
    _post(team, bruno, at_rome(switch + timedelta(days=1), 18), "After", status="published")
    _post(cantina["other"], cantina["eve"], at_rome(switch, 18), "Not Bruno's")
    client = folks.client_for(bruno)

    calendar = fetched(app, made_feed(client))

    assert str(calendar["X-WR-CALNAME"]) == "Cadenza — my posts"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Rome"
    found = vevents(calendar)
    assert set(found) == {"Before", "After"}
    for title, utc_hour in (("Before", 17), ("After", 16)):
        start = found[title]["DTSTART"]
        assert start.params["TZID"] == "Europe/Rome"
        assert (start.dt.hour, start.dt.minute, str(start.dt.tzinfo)) == (18, 0, "Europe/Rome")
        assert start.dt.astimezone(UTC).hour == utc_hour  # CET, then CEST
        assert found[title]["DURATION"].dt == timedelta(minutes=30)
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Rome"
    assert {part.name for part in zone.subcomponents} >= {"STANDARD", "DAYLIGHT"}
    event = found["Before"]
    assert str(event["UID"]) == f"{before.post_id}@{team.team_id}.cadenza"
    link = f"{app.extensions['cadenza'].base_url}/t/{team.team_id}/posts/{before.post_id}"
    assert str(event["URL"]) == link
    description = str(event["DESCRIPTION"])
    for line in ("Status: Draft", "Channels: Instagram", "Owner: Bruno Bianchi", "#vino", link):
        assert line in description
    assert "Team: Cantina Aurora" in description
    assert str(event["STATUS"]) == "TENTATIVE"
    (alarm,) = event.walk("VALARM")
    assert alarm["TRIGGER"].dt == -timedelta(minutes=240)  # Bruno's first lead time
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert found["After"].walk("VALARM") == []  # published: nothing left to do
    assert str(found["After"]["STATUS"]) == "CONFIRMED"


def test_an_edit_and_a_move_update_the_event_instead_of_adding_one(app, cantina):
    folks, team, bruno = cantina["folks"], cantina["team"], cantina["bruno"]
    due = at_rome(folks.now().astimezone(ROME).date() + timedelta(days=3), 10)
    post = _post(team, bruno, due, "Teaser")
    client = folks.client_for(bruno)
    address = made_feed(client)
    (first,) = fetched(app, address).walk("VEVENT")

    shown = form_fields(_panel_of(client, team, post))
    assert _save(client, team, post, edited(shown, title="Teaser, v2")).status_code == 302
    saved = posts.load(team.team_id, post.post_id)[0]
    day = (folks.now().astimezone(ROME).date() + timedelta(days=5)).isoformat()
    assert _move(client, team, saved, day).status_code == 200
    (second,) = fetched(app, address).walk("VEVENT")

    assert str(second["UID"]) == str(first["UID"])
    assert str(second["SUMMARY"]) == "Teaser, v2"
    assert second["DTSTART"].dt.date().isoformat() == day
    assert second["DTSTART"].dt.hour == 10
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])


def test_a_team_feed_keeps_its_filters_shows_events_and_names_owners(app, cantina):
    folks, team, anna, carla = (cantina[key] for key in ("folks", "team", "anna", "carla"))
    soon = folks.now() + timedelta(days=2)
    _post(team, anna, soon, "On Instagram", channels=("Instagram",))
    _post(team, anna, soon, "On Facebook", channels=("Facebook",))
    tasting = events.new_event(
        team.team_id,
        "tasting0000000001",
        created_by=anna.person_id,
        now=folks.now(),
        title="Autumn tasting",
        starts_at=soon + timedelta(days=1),
        ends_at=soon + timedelta(days=1, hours=3),
        zone="Europe/Rome",
        place="The cellar",
        owner_id=anna.person_id,
    )
    with app.app_context():
        events.create(tasting)
    viewer = folks.client_for(carla)  # a viewer may subscribe too
    confirm = viewer.get(f"/t/{team.team_id}/feeds/new?channel=Instagram")
    assert confirm.status_code == 200
    action = form_in(confirm.text, id="team-feed-form").action
    assert action == f"/t/{team.team_id}/feeds?channel=Instagram"

    calendar = fetched(app, made_feed(viewer, action))

    assert str(calendar["X-WR-CALNAME"]) == "Cantina Aurora — Instagram"
    found = vevents(calendar)
    assert set(found) == {"On Instagram", "Autumn tasting"}
    assert "Owner: Anna Rossi" in str(found["On Instagram"]["DESCRIPTION"])
    assert found["On Instagram"].walk("VALARM") == []  # Anna's post: no alarm for Carla
    event = found["Autumn tasting"]
    assert str(event["UID"]) == f"event-tasting0000000001@{team.team_id}.cadenza"
    assert str(event["LOCATION"]) == "The cellar"
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(hours=3)


def test_a_filter_the_team_does_not_have_is_refused_not_dropped(app, cantina):
    folks, team, anna = cantina["folks"], cantina["team"], cantina["anna"]
    client = folks.client_for(anna)
    refused = ("channel=Nowhere", "status=lost", "owner=nobody", "tag=never-used", "reach=all")
    for query in refused:
        assert client.get(f"/t/{team.team_id}/feeds/new?{query}").status_code == 422
        assert client.post(f"/t/{team.team_id}/feeds?{query}").status_code == 422
    with app.app_context():
        assert stored.feeds_of(people.person(anna.person_id)) == []


def test_a_team_feed_of_peoples_profiles_keeps_only_their_posts(app, cantina):
    folks, team, anna = cantina["folks"], cantina["team"], cantina["anna"]
    soon = folks.now() + timedelta(days=2)
    _post(team, anna, soon, "On the team's Instagram")
    personal = posts.new_post(
        team.team_id,
        title="On Anna's LinkedIn",
        zone="Europe/Rome",
        created_by=anna.person_id,
        now=folks.now(),
        due=soon,
        owner_id=anna.person_id,
        status="draft",
        profiles=[ProfileCopy(person=anna.person_id, id="p1", network="linkedin", handle="anna")],
    )
    with app.app_context():
        posts.create(personal)
    client = folks.client_for(anna)
    action = form_in(
        client.get(f"/t/{team.team_id}/feeds/new?reach=people").text, id="team-feed-form"
    ).action
    assert set(vevents(fetched(app, made_feed(client, action)))) == {"On Anna's LinkedIn"}


def test_an_italian_reader_gets_an_italian_calendar(app, cantina):
    folks, team, bruno = cantina["folks"], cantina["team"], cantina["bruno"]
    with app.app_context():
        people.update_profile(
            people.person(bruno.person_id),
            name="Bruno Bianchi",
            language="it",
            zone="Europe/Rome",
            week_start=0,
        )
    _post(team, bruno, folks.now() + timedelta(days=2), "Degustazione")
    calendar = fetched(app, made_feed(folks.client_for(bruno)))
    with app.test_request_context(), force_locale("it"):
        name, status = _("Cadenza — my posts"), _("Status: %(status)s", status=_("Draft"))
    assert str(calendar["X-WR-CALNAME"]) == name
    (event,) = calendar.walk("VEVENT")
    assert status in str(event["DESCRIPTION"])
    assert "Bozza" in str(event["DESCRIPTION"])


# Who may read it ----------------------------------------------------------------------------


def test_a_new_address_or_a_revoked_feed_leaves_the_old_address_answering_404(app, cantina):
    folks, bruno = cantina["folks"], cantina["bruno"]
    client = folks.client_for(bruno)
    old = made_feed(client)
    feed_id = old.split("/")[3]
    new = made_feed(client, f"/me/feeds/{feed_id}/regenerate")
    assert new != old and new.split("/")[3] == feed_id
    assert app.test_client().get(old).status_code == 404
    fetched(app, new)

    assert client.post(f"/me/feeds/{feed_id}/revoke").status_code == 302
    assert app.test_client().get(new).status_code == 404
    assert feed_id not in client.get("/me/feeds").text


def test_every_wrong_part_of_an_address_gets_the_same_404(app, cantina):
    folks, bruno, eve = cantina["folks"], cantina["bruno"], cantina["eve"]
    mine = made_feed(folks.client_for(bruno))
    theirs = made_feed(folks.client_for(eve))
    person, feed_id, secret = mine.split("/")[2:]
    other_person, other_feed, other_secret = theirs.split("/")[2:]
    wrong = [
        f"/feeds/{other_person}/{feed_id}/{secret}",
        f"/feeds/{person}/{other_feed}/{secret}",
        f"/feeds/{person}/{feed_id}/{other_secret}",
        f"/feeds/{person}/{feed_id}/x{secret}",
        f"/feeds/{person}/{feed_id}-{feed_id[:8]}/{secret}",
        f"/feeds/{person}/../{secret}",
        f"/feeds/{'p' * 5000}/{feed_id}/{secret}",
    ]
    answers = {(r.status_code, r.data) for r in map(app.test_client().get, wrong)}
    assert answers == {(404, b"Not found\n")}
    fetched(app, mine)


def test_a_team_feed_closes_when_its_reader_leaves_the_team(app, cantina):
    folks, team, bruno = cantina["folks"], cantina["team"], cantina["bruno"]
    _post(team, bruno, folks.now() + timedelta(days=2), "Bruno's in Aurora")
    client = folks.client_for(bruno)
    team_feed = made_feed(client, f"/t/{team.team_id}/feeds")
    own_feed = made_feed(client)
    assert len(fetched(app, own_feed).walk("VEVENT")) == 1
    assert client.post(f"/t/{team.team_id}/leave").status_code in (302, 204)

    assert app.test_client().get(team_feed).status_code == 404
    assert fetched(app, own_feed).walk("VEVENT") == []  # a team left is out of his feed too
    assert "A team you left" in client.get("/me/feeds").text


def test_someone_elses_feed_cannot_be_changed(app, cantina):
    folks, bruno, eve = cantina["folks"], cantina["bruno"], cantina["eve"]
    theirs = made_feed(folks.client_for(eve)).split("/")[3]
    client = folks.client_for(bruno)
    for action in ("regenerate", "revoke"):
        assert client.post(f"/me/feeds/{theirs}/{action}").status_code == 404
    assert client.post(f"/t/{cantina['other'].team_id}/feeds").status_code == 404


# Its cost, its bounds, races ------------------------------------------------------------------


def test_a_feed_is_two_dynamodb_calls(app, cantina):
    folks, team, anna = cantina["folks"], cantina["team"], cantina["anna"]
    for n in range(12):
        _post(team, anna, folks.now() + timedelta(days=n + 1), f"Post {n}")
    client = folks.client_for(anna)
    for address in (made_feed(client), made_feed(client, f"/t/{team.team_id}/feeds")):
        with meter.metered() as counted:
            assert len(fetched(app, address).walk("VEVENT")) == 12
        assert len(counted.calls) == 2, counted.calls


def test_a_person_has_at_most_ten_feeds(app, cantina):
    folks, anna, team = cantina["folks"], cantina["anna"], cantina["team"]
    client = folks.client_for(anna)
    for _n in range(stored.MAX_FEEDS):
        made_feed(client)
    refused = client.post("/me/feeds")
    assert refused.status_code == 422
    assert "Revoke one first" in refused.text
    assert client.post(f"/t/{team.team_id}/feeds").status_code == 422
    with app.app_context():
        assert len(stored.feeds_of(people.person(anna.person_id))) == stored.MAX_FEEDS


def test_a_regenerate_or_revoke_from_a_stale_page_never_revives_a_feed(app, cantina):
    anna = cantina["anna"]
    with app.app_context():
        feed, _secret = stored.create(people.person(anna.person_id), now=cantina["folks"].now())
        seen = people.person(anna.person_id)
        stored.regenerate(seen, feed)
        with pytest.raises(Conflict):  # the page showed the feed before the first regenerate
            stored.regenerate(seen, feed)
        stored.revoke(seen, feed)
        with pytest.raises(Conflict):
            stored.regenerate(seen, feed)
        assert stored.feeds_of(people.person(anna.person_id)) == []


def test_a_storage_outage_is_a_503_not_a_500(app, cantina, inject):
    folks, anna = cantina["folks"], cantina["anna"]
    address = made_feed(folks.client_for(anna))
    inject(
        lambda event, request: (
            dynamodb_error(request, "ProvisionedThroughputExceededException")
            if event == "before-send.dynamodb.Query"
            else None
        )
    )
    response = app.test_client().get(address)
    assert response.status_code == 503
    assert "Set-Cookie" not in response.headers  # a plain answer: no page, no form token


# Never logged ---------------------------------------------------------------------------------


def test_a_feed_address_never_reaches_a_log_line(app, cantina, caplog, monkeypatch):
    folks, anna = cantina["folks"], cantina["anna"]
    address = made_feed(folks.client_for(anna))
    secret = address.rsplit("/", 1)[1].removesuffix(".ics")
    caplog.set_level(logging.INFO)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("app.store.posts.owned_with_shared", broken)
    response = app.test_client().get(address)
    assert response.status_code == 500 and response.text.startswith("Something went wrong")
    assert "Set-Cookie" not in response.headers  # a plain answer: no page, no form token
    # As the local server and Zappa log each request.
    logging.getLogger("werkzeug").info('"%s" %s %s', f"GET {address} HTTP/1.1", 200, 10)
    logging.getLogger("zappa.wsgi").info(f'1.2.3.4 - - "GET {address} HTTP/1.1" 200 10')

    assert "the feed /feeds/" in caplog.text and "RuntimeError: a bug" in caplog.text
    assert secret not in caplog.text
    assert logs.redact(f"x {address} y") == f"x {address.rsplit('/', 1)[0]}/[secret].ics y"
