"""The playbook in a real browser: an admin writes it with an Instagram checklist, an editor
ticks it beside the post form (ticks kept after a reload), the reviewer sees which were
ticked; on a phone, in English and in Italian."""

import pytest
from playwright.sync_api import expect

from app.store import posts
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone

pytestmark = pytest.mark.browser

ITEMS = ["Photo is square or 4:5", "Location tagged", "Partner tagged"]
WORDS = {
    "en": {
        "saved": "Playbook saved.",
        "none": "No checklist for these channels.",
        "ticks": "2 of 3 ticked",
    },
    "it": {
        "saved": "Playbook salvato.",
        "none": "Nessuna lista di controllo per questi canali.",
        "ticks": "2 di 3 spuntate",
    },
}


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_checklist_written_by_the_admin_is_ticked_by_the_editor_and_seen_by_the_reviewer(
    page_as, live_server, folks, app, language
):
    words = WORDS[language]
    anna = folks.person("anna@example.com", "Anna", language=language)
    bruno = folks.person("bruno@example.com", "Bruno", language=language)
    team = folks.team(anna)
    folks.join(team, bruno, "editor")
    post = folks.post(team, owner=bruno, created_by=bruno, status="draft", title="Harvest")
    base = f"{live_server}/t/{team.team_id}"

    admin = page_as(anna, viewport=PHONE)
    admin.goto(f"{base}/playbook/edit")
    form = admin.locator("#playbook-form")
    form.locator("#guidelines").fill("## Voice\n\nWarm, **never** pushy.")
    form.get_by_label("Instagram", exact=True).fill("\n".join(ITEMS))
    form.locator("button[type=submit]").click()
    expect(admin).to_have_url(f"{base}/playbook")
    expect(admin.get_by_text(words["saved"])).to_be_visible()
    expect(admin.locator("#guidelines strong")).to_have_text("never")
    expect(admin.locator(".checklist-items li")).to_have_text(ITEMS)
    fits_a_phone(admin)

    editor = page_as(bruno, viewport=PHONE)
    editor.goto(f"{base}/posts/{post.post_id}")
    checklist = editor.locator("#checklist")
    expect(checklist.locator("label")).to_have_text(ITEMS)
    instagram = editor.locator("#post-form fieldset.channels input[value=Instagram]")
    instagram.uncheck()  # htmx brings the checklists of the channels chosen
    expect(editor.locator("#checklist")).to_contain_text(words["none"])
    instagram.check()
    for item in ITEMS[:2]:
        editor.locator("#checklist").get_by_label(item).check()
    editor.locator("#post-form #status").select_option("in_review")
    editor.locator("#post-form #reviewer").select_option(anna.person_id)
    fits_a_phone(editor)
    editor.locator("#post-form button[type=submit]").click()
    expect(editor.locator("#post-title")).to_have_text("Harvest")
    expect(editor.locator(".badge.status-in_review")).to_be_visible()

    editor.reload()
    ticks = editor.locator("#checklist input[type=checkbox]")
    expect(ticks.nth(0)).to_be_checked()
    expect(ticks.nth(1)).to_be_checked()
    expect(ticks.nth(2)).not_to_be_checked()
    with app.app_context():
        assert posts.load(team.team_id, post.post_id)[1].checked == ITEMS[:2]

    admin.goto(f"{base}/posts/{post.post_id}")
    review = admin.locator("section.review #checklist-ticks")
    expect(review).to_contain_text(words["ticks"])
    expect(review.locator("li.ticked")).to_have_count(2)
    expect(review.locator("li.not-ticked")).to_have_text(
        [f"✗ {ITEMS[2]} (not ticked)"] if language == "en" else [f"✗ {ITEMS[2]} (non spuntata)"]
    )
    fits_a_phone(admin)
