"""Calendar feeds in a real browser: a person makes a feed of their posts on /me/feeds, copies
the address the page shows once, and a calendar fetches it; then subscribes to the team's
calendar from its toolbar with a filter. On a phone, in English and in Italian."""

import re
from datetime import timedelta
from urllib.request import urlopen

import icalendar
import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import expect

from app.store import feeds as stored_feeds
from app.store import people
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone

pytestmark = pytest.mark.browser


def _calendar(address: str):
    """The feed as a calendar server fetches it: a plain GET, no cookie."""
    with urlopen(address, timeout=10) as answer:  # noqa: S310  (the live server's own address)
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
        return icalendar.Calendar.from_ical(answer.read())


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_feed_made_on_the_page_is_read_by_a_calendar(page_as, live_server, folks, app, language):
    bruno = folks.person("bruno@example.com", "Bruno", language=language)
    team = folks.team(bruno)
    folks.post(team, owner=bruno, created_by=bruno, status="draft", title="Harvest")
    page = page_as(bruno, viewport=PHONE)

    page.goto(f"{live_server}/me/feeds")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#feed-form button[type=submit]").click()
    shown = page.locator("#new-feed-url")
    expect(shown).to_be_visible()
    address = shown.input_value()
    assert address.startswith(f"{live_server}/feeds/{bruno.person_id}/")
    fits_a_phone(page)

    calendar = _calendar(address)
    with app.test_request_context(), force_locale(language):
        assert str(calendar["X-WR-CALNAME"]) == _("Cadenza — my posts")
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Harvest"

    page.reload()  # shown once: the page keeps only a fingerprint
    expect(page.locator("#new-feed-url")).to_have_count(0)
    expect(page.locator("#feed-list li")).to_have_count(1)

    # The team's calendar, filtered to Instagram: Subscribe, confirm, and a second feed.
    page.goto(f"{live_server}/t/{team.team_id}/?channel=Instagram")
    page.locator(".subscribe-link").click()
    page.locator("#team-feed-form button[type=submit]").click()
    team_address = page.locator("#new-feed-url").input_value()
    fits_a_phone(page)
    assert str(_calendar(team_address)["X-WR-CALNAME"]) == f"{team.name} — Instagram"
    with app.app_context():
        # Both made within the live server's second: by kind, not by the (equal) time made.
        stored = sorted(
            stored_feeds.feeds_of(people.person(bruno.person_id)), key=lambda feed: feed.kind
        )
    assert [(feed.kind, feed.filters) for feed in stored] == [
        ("person", {}),
        ("team", {"channel": "Instagram"}),
    ]

    # A new address: the old one no longer answers.
    page.locator(f"#regenerate-{stored[0].feed_id} button").click()
    # The page before the click shows the team feed's address: wait for the new one.
    renewed = page.locator("#new-feed-url")
    expect(renewed).to_have_value(re.compile(f"/feeds/{bruno.person_id}/{stored[0].feed_id}/"))
    assert renewed.input_value() != address
    with pytest.raises(Exception, match="404"):
        urlopen(address, timeout=10)  # noqa: S310
    assert timedelta(0) <= folks.now() - stored[0].made < timedelta(hours=1)
