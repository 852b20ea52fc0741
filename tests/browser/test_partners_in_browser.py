"""Partner teams in a real browser, on a phone, in English and Italian: Giulia invites Tom's
team, Tom accepts from the emailed link, both see each other after a reload, and Giulia ends
the partnership."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.store import teams
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone
from tests.conftest import outbox

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_partnership_is_invited_accepted_seen_on_both_sides_and_ended(
    page_as, live_server, folks, app, language
):
    giulia = folks.person("giulia@aurora.example.com", "Giulia", language=language)
    tom = folks.person("tom@lumen.example.com", "Tom", language=language)
    aurora, lumen = folks.team(giulia, "Cantina Aurora"), folks.team(tom, "Enoteca Lumen")
    ours = f"{live_server}/t/{aurora.team_id}/partners"

    admin = page_as(giulia, viewport=PHONE)
    admin.goto(ours)
    expect(admin.locator("html")).to_have_attribute("lang", language)
    form = admin.locator("#partner-invite-form")
    form.locator("input[name=email]").fill("tom@lumen.example.com")
    form.locator("button[type=submit]").click()  # an htmx swap of the invitations
    expect(admin.locator("#partner-invitations")).to_contain_text("tom@lumen.example.com")
    fits_a_phone(admin)

    [mail] = outbox(app)
    link = urlsplit(re.search(r"https?://\S+/partners/\S+", mail["text"]).group(0)).path
    invited = page_as(tom, viewport=PHONE)
    invited.goto(live_server + link)
    expect(invited.locator("h1")).to_contain_text("Cantina Aurora")
    fits_a_phone(invited)
    invited.locator("#accept").click()
    expect(invited).to_have_url(f"{live_server}/t/{lumen.team_id}/partners")
    expect(invited.locator("#partner-list .partner-tag")).to_have_text("Cantina Aurora")

    admin.reload()
    expect(admin.locator("#partner-list .partner-tag")).to_have_text("Enoteca Lumen")
    expect(admin.locator("#partner-invitations")).not_to_contain_text("tom@lumen.example.com")
    with app.app_context():
        assert list(teams.team(aurora.team_id).partner_entries()) == [lumen.team_id]
    fits_a_phone(admin)

    admin.locator("#partner-list details summary").click()
    admin.locator("#partner-list details button[type=submit]").click()
    expect(admin.locator("#no-partners")).to_be_visible()
    invited.reload()
    expect(invited.locator("#no-partners")).to_be_visible()
