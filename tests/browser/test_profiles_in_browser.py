"""People's own profiles in a real browser (issue 12): a person lists two profiles on their
profile page, reloads and sees them; plans a post on one of them and sees it marked personal
in the month. On a phone, in English and in Italian."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import expect

from app.store import people
from app.store import profiles as stored
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone

pytestmark = pytest.mark.browser
ROME = ZoneInfo("Europe/Rome")


def _add(page, network: str, handle: str, url: str = "") -> None:
    form = page.locator("#profile-add-form")
    form.locator("#new-network").select_option(network)
    form.locator("#new-handle").fill(handle)
    form.locator("#new-url").fill(url)
    form.locator("button[type=submit]").click()
    expect(page.locator("#profile-list")).to_contain_text(handle)


@pytest.mark.parametrize("language", ["en", "it"])
def test_profiles_listed_then_a_post_on_one_is_marked_personal(
    page_as, live_server, folks, app, language
):
    giulia = folks.person("giulia@example.com", "Giulia Rossi", language=language)
    team = folks.team(giulia)
    page = page_as(giulia, viewport=PHONE)

    page.goto(f"{live_server}/me")
    expect(page.locator("html")).to_have_attribute("lang", language)
    _add(page, "linkedin", "giulia-rossi", "https://www.linkedin.com/in/giulia-rossi")
    _add(page, "instagram", "@giulia.vigna")
    fits_a_phone(page)
    page.reload()
    listed = page.locator("#profile-list li")
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text("LinkedIn · giulia-rossi")
    expect(listed.nth(1)).to_contain_text("Instagram · @giulia.vigna")
    with app.app_context():
        linkedin, _instagram = stored.profiles_of(people.person(giulia.person_id))

    # A post on her LinkedIn, from the new-post page.
    day = (folks.now() + timedelta(days=3)).astimezone(ROME).date()
    page.goto(f"{live_server}/t/{team.team_id}/posts/new?date={day.isoformat()}")
    form = page.locator("#post-form")
    form.locator("#title").fill("Our new Nebbiolo")
    form.locator(f"input[name=profiles][value='{linkedin.profile_id}']").check()
    fits_a_phone(page)
    form.locator("button[type=submit]").first.click()
    expect(page.locator("#post-form input[name=profiles]:checked")).to_have_count(1)

    page.goto(f"{live_server}/t/{team.team_id}/month/{day:%Y-%m}")
    page.reload()
    chip = page.locator(".chip.personal", has_text="Our new Nebbiolo")
    expect(chip).to_have_count(1)
    with app.test_request_context(), force_locale(language):
        mark = _("personal")
    expect(chip.locator(".badge.personal")).to_have_text(f"{mark} · Giulia Rossi")
    expect(chip).to_contain_text("LinkedIn · giulia-rossi")
    fits_a_phone(page)

    # The filter keeps it among people's profiles.
    page.locator("#filter-reach").select_option("people")
    expect(page).to_have_url(re.compile("reach=people"))
    expect(page.locator(".chip.personal", has_text="Our new Nebbiolo")).to_have_count(1)
