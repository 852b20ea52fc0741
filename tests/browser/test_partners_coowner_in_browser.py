"""The co-owner marks a shared post published for their team from their nudge, in a real
browser, on a phone, in English and Italian: Sam (Enoteca Lumen) opens the "published" link of
his nudge about Cantina Aurora's post, types Lumen's link, confirms; Lumen's page of the post
shows it after a reload, and the link, used, says so."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app import nudges
from app.planner import changes
from app.store import posts, reminders, teams
from tests.browser.test_partners_nudges_in_browser import partners_in
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone
from tests.conftest import outbox

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "it"])
def test_the_co_owner_marks_it_published_from_the_email(
    page_as, new_page, live_server, folks, app, language
):
    giulia, sam, aurora, lumen, post = partners_in(folks, language)
    with app.app_context():
        changes.share(
            posts.load(aurora.team_id, post.post_id)[0],
            teams.team(aurora.team_id),
            actor=giulia.person_id,
            partner_id=lumen.team_id,
            co_owner=(sam.person_id, "Sam"),
            origin_name="Cantina Aurora",
            shown={},
            now=folks.now(),
        )
        planned = reminders.of_post(aurora.team_id, post.post_id)
    nudges.run_once(app, next(r.due for r in planned if r.kind == "co-before-1440"))
    mail = next(m for m in outbox(app) if m["to"] == sam.email)
    link = urlsplit(re.search(r"https?://\S+/n/\S+", mail["text"]).group(0)).path

    confirm = new_page(viewport=PHONE)  # a mail client: no session
    confirm.goto(f"{live_server}{link}")
    expect(confirm.locator("html")).to_have_attribute("lang", language)
    fits_a_phone(confirm)
    confirm.locator("#link").fill("https://lumen.example.com/vendemmia")
    confirm.locator("#act-button").click()
    expect(confirm.locator("main")).to_contain_text("Vendemmia")
    confirm.goto(f"{live_server}{link}")  # used: it says so, with nothing to send
    expect(confirm.locator("#act-button")).to_have_count(0)

    shared = page_as(sam, viewport=PHONE)
    shared.goto(f"{live_server}/t/{lumen.team_id}/shared/{aurora.team_id}/{post.post_id}")
    shared.reload()
    expect(shared.locator("#shared-panel")).to_contain_text("https://lumen.example.com/vendemmia")
    fits_a_phone(shared)
