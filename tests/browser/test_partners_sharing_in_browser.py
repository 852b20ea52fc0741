"""Sharing a post with a partner team in a real browser, on a phone, in English and Italian:
Giulia shares her post with Enoteca Lumen and makes Marta its co-owner there; Marta, in her
own browser, sees it on Lumen's month with Aurora's name, and opens it."""

import pytest
from playwright.sync_api import expect

from app.store import posts
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_post_shared_with_a_partner_shows_on_its_month(
    page_as, live_server, folks, app, language
):
    giulia = folks.person("giulia@aurora.example.com", "Giulia", language=language)
    tom = folks.person("tom@lumen.example.com", "Tom", language=language)
    marta = folks.person("marta@lumen.example.com", "Marta", language=language)
    aurora, lumen = folks.team(giulia, "Cantina Aurora"), folks.team(tom, "Enoteca Lumen")
    folks.join(lumen, marta, "editor")
    folks.partner(aurora, lumen, tom)
    post = folks.post(aurora, owner=giulia, created_by=giulia, status="approved", title="Vendemmia")

    admin = page_as(giulia, viewport=PHONE)
    admin.goto(f"{live_server}/t/{aurora.team_id}/posts/{post.post_id}")
    expect(admin.locator("html")).to_have_attribute("lang", language)
    form = admin.locator("#share-form")
    form.locator("select[name=partner]").select_option(lumen.team_id)
    form.locator("button[type=submit]").click()
    expect(admin.locator("#shared-with")).to_contain_text("Enoteca Lumen")
    admin.locator("#share-form select[name=co_owner]").select_option(marta.person_id)
    admin.locator("#share-form button[type=submit]").click()
    # The save answered before the reload (a reload during it is refused by the browser).
    expect(admin.locator("#shared-with")).to_contain_text("Marta")
    admin.reload()
    expect(admin.locator("#shared-with")).to_contain_text("Marta")
    fits_a_phone(admin)
    with app.app_context():
        stored = posts.load(aurora.team_id, post.post_id)[0]
    assert (stored.shared_with, stored.co_owner_id) == (lumen.team_id, marta.person_id)

    partner = page_as(marta, viewport=PHONE)
    month = post.due.astimezone().strftime("%Y-%m")
    partner.goto(f"{live_server}/t/{lumen.team_id}/month/{month}")
    chip = partner.locator(f"#post-{aurora.team_id}-{post.post_id}")
    expect(chip).to_contain_text("Vendemmia")
    expect(chip.locator(".partner-tag")).to_have_text("Cantina Aurora")
    fits_a_phone(partner)
    partner.goto(f"{live_server}/t/{lumen.team_id}/shared/{aurora.team_id}/{post.post_id}")
    expect(partner.locator("#shared-panel h2")).to_have_text("Vendemmia")
    expect(partner.locator("#publish-form")).to_be_visible()  # Marta co-owns it
    fits_a_phone(partner)
