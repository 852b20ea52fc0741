"""A shared post's co-owner is nudged too, in a real browser, on a phone, in English and
Italian: Giulia names Sam (Enoteca Lumen) co-owner; her post's timeline lists his nudge; the
job sends it; its link opens Lumen's page of the post for Sam, with the form to publish it."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app import nudges
from app.store import reminders
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone
from tests.conftest import outbox

pytestmark = pytest.mark.browser


def partners_in(folks, language: str):
    """Giulia's Cantina Aurora, partner of Tom's Enoteca Lumen, where Sam (New York) edits; her
    approved "Vendemmia", not shared yet."""
    giulia = folks.person("giulia@aurora.example.com", "Giulia", language=language)
    tom = folks.person("tom@lumen.example.com", "Tom", language=language)
    sam = folks.person("sam@lumen.example.com", "Sam", language=language, zone="America/New_York")
    aurora, lumen = folks.team(giulia, "Cantina Aurora"), folks.team(tom, "Enoteca Lumen")
    folks.join(lumen, sam, "editor")
    folks.partner(aurora, lumen, tom)
    post = folks.post(aurora, owner=giulia, created_by=giulia, status="approved", title="Vendemmia")
    return giulia, sam, aurora, lumen, post


@pytest.mark.parametrize("language", ["en", "it"])
def test_the_co_owner_gets_a_nudge_that_opens_their_teams_page(
    page_as, live_server, folks, app, language
):
    giulia, sam, aurora, lumen, post = partners_in(folks, language)

    owner = page_as(giulia, viewport=PHONE)
    owner.goto(f"{live_server}/t/{aurora.team_id}/posts/{post.post_id}")
    expect(owner.locator("html")).to_have_attribute("lang", language)
    form = owner.locator("#share-form")
    form.locator("select[name=partner]").select_option(lumen.team_id)
    form.locator("button[type=submit]").click()
    owner.locator("#share-form select[name=co_owner]").select_option(sam.person_id)
    owner.locator("#share-form button[type=submit]").click()
    # The save answered before the reload (a reload during it is refused by the browser).
    expect(owner.locator("#shared-with")).to_contain_text("Sam")
    owner.reload()
    expect(owner.locator("#nudges")).to_contain_text("→ Sam")
    fits_a_phone(owner)

    with app.app_context():
        planned = reminders.of_post(aurora.team_id, post.post_id)
    nudges.run_once(app, next(r.due for r in planned if r.kind == "co-before-1440"))
    mail = next(m for m in outbox(app) if m["to"] == sam.email)
    link = re.search(r"https?://\S+/shared/\S+", mail["text"]).group(0)

    co_owner = page_as(sam, viewport=PHONE)
    co_owner.goto(f"{live_server}{urlsplit(link).path}")
    expect(co_owner.locator("html")).to_have_attribute("lang", language)
    expect(co_owner.locator("#shared-panel h2")).to_have_text("Vendemmia")
    expect(co_owner.locator("#publish-form")).to_be_visible()
    fits_a_phone(co_owner)
