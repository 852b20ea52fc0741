"""A partner team's admin approves a shared post from the email in a real browser: Aurora's
editor puts the post it shares with Enoteca Lumen in review, the job sends Tom (Lumen's admin)
his batch; he opens its Approve link (a confirm page, then the button), and Aurora's panel shows
the post approved by Tom after a reload. On a desktop and a phone, in English and Italian."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app import nudges
from app.planner import changes
from app.store import posts, teams
from tests.browser.test_notifications_in_browser import DESKTOP, WORDS, message_to
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("language", "viewport"), [("en", DESKTOP), ("en", PHONE), ("it", PHONE)])
def test_a_partner_admin_approves_from_the_email(
    page_as, live_server, folks, app, language, viewport
):
    giulia = folks.person("giulia@aurora.example.com", "Giulia", language=language)
    tom = folks.person("tom@lumen.example.com", "Tom", language=language)
    ed = folks.person("ed@aurora.example.com", "Ed", language=language)
    aurora, lumen = folks.team(giulia, "Cantina Aurora"), folks.team(tom, "Enoteca Lumen")
    folks.join(aurora, ed, "editor")
    folks.partner(aurora, lumen, tom)
    post = folks.post(aurora, owner=ed, created_by=ed, status="draft", title="Vendemmia")
    with app.app_context():
        loaded, body = posts.load(aurora.team_id, post.post_id)
        posts.share(
            loaded,
            actor=ed.person_id,
            partner_id=lumen.team_id,
            co_owner=None,
            origin_name=aurora.name,
            shown={},
            now=folks.now(),
        )
        loaded, body = posts.load(aurora.team_id, post.post_id)
        changes.update(
            loaded,
            body,
            teams.team(aurora.team_id),
            summary={"status": "in_review", "reviewer_id": giulia.person_id},
            body_fields={},
            actor=ed.person_id,
            now=folks.now(),
        )
    nudges.run_once(app, folks.now() + timedelta(minutes=1))

    reader = page_as(tom, viewport=viewport)
    batch = message_to(reader, live_server, tom.email, re.compile("need|bisogno"))
    expect(batch.locator("pre.text-part")).to_contain_text("Vendemmia")
    batch.locator("pre.text-part a[href*='/n/']").first.click()
    expect(reader.locator("#act-button")).to_be_visible()
    expect(reader.locator("html")).to_have_attribute("lang", language)
    if viewport is PHONE:
        fits_a_phone(reader)
    assert posts.load(aurora.team_id, post.post_id)[0].status == "in_review"  # a GET acts not
    reader.locator("#act-button").click()
    expect(reader.locator("main")).to_contain_text("Vendemmia")

    owner = page_as(giulia, viewport=viewport)
    owner.goto(f"{live_server}/t/{aurora.team_id}/posts/{post.post_id}")
    owner.reload()  # stored, not only shown
    expect(owner.locator(".badge.status")).to_have_text(WORDS[language]["approved"])
    expect(owner.locator("#history")).to_contain_text("Tom")
