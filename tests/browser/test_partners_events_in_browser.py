"""Sharing an event with a partner team in a real browser, on a phone, in English and
Italian: Giulia shares Aurora's "Joint tasting" with Enoteca Lumen; Marta, in her own browser,
sees it on Lumen's month with Aurora's name, and opens its read-only page."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.store import events, keys
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone
from tests.conftest import ROME

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "it"])
def test_an_event_shared_with_a_partner_shows_on_its_month(
    page_as, live_server, folks, app, language
):
    giulia = folks.person("giulia@aurora.example.com", "Giulia", language=language)
    tom = folks.person("tom@lumen.example.com", "Tom", language=language)
    marta = folks.person("marta@lumen.example.com", "Marta", language=language)
    aurora, lumen = folks.team(giulia, "Cantina Aurora"), folks.team(tom, "Enoteca Lumen")
    folks.join(lumen, marta, "editor")
    folks.partner(aurora, lumen, tom)
    start = folks.now() + timedelta(days=10)
    with app.app_context():
        event = events.new_event(
            aurora.team_id,
            keys.new_id(),
            created_by=giulia.person_id,
            now=folks.now(),
            title="Joint tasting",
            place="Barolo",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            zone="Europe/Rome",
            owner_id=giulia.person_id,
        )
        events.create(event)

    admin = page_as(giulia, viewport=PHONE)
    admin.goto(f"{live_server}/t/{aurora.team_id}/events/{event.event_id}")
    expect(admin.locator("html")).to_have_attribute("lang", language)
    form = admin.locator("#event-share-form")
    form.locator("select[name=partner]").select_option(lumen.team_id)
    form.locator("button[type=submit]").click()
    # The save answered before the reload (a reload during it is refused by the browser).
    expect(admin.locator("#event-shared-with")).to_contain_text("Enoteca Lumen")
    admin.reload()
    expect(admin.locator("#event-shared-with")).to_contain_text("Enoteca Lumen")
    expect(admin.locator("#event-share-form select[name=partner]")).to_have_value(lumen.team_id)
    fits_a_phone(admin)
    with app.app_context():
        assert events.load(aurora.team_id, event.event_id).shared_with == lumen.team_id

    partner = page_as(marta, viewport=PHONE)
    month = start.astimezone(ROME).strftime("%Y-%m")
    partner.goto(f"{live_server}/t/{lumen.team_id}/month/{month}")
    band = partner.locator(f"#event-{aurora.team_id}-{event.event_id}")
    expect(band).to_contain_text("Joint tasting")
    expect(band.locator(".partner-tag")).to_have_text("Cantina Aurora")
    fits_a_phone(partner)
    band.click()
    expect(partner).to_have_url(
        f"{live_server}/t/{lumen.team_id}/shared-events/{aurora.team_id}/{event.event_id}"
    )
    expect(partner.locator("#event-title")).to_contain_text("Joint tasting")
    expect(partner.locator("#shared-event .partner-tag")).to_have_text("Cantina Aurora")
    expect(partner.locator("#shared-event form")).to_have_count(0)  # read-only
    fits_a_phone(partner)
