"""Events in a real browser, on a phone: an editor creates a tasting from the "Tasting"
template, confirms its series, sees it on the event page (after a reload too) and in the
month view beside its posts; in English and in Italian."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.store import events, posts
from tests.browser.test_phone_and_accessibility import PHONE, fits_a_phone
from tests.conftest import ROME

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "template": "Tasting",
        "series": "The series “Tasting”",
        "planned": "4 posts of its series planned as drafts.",
        "draft": "Draft",
        "live": "Autumn tasting: we are live",
    },
    "it": {
        "template": "Degustazione",
        "series": "La serie “Degustazione”",
        "planned": "4 post della serie pianificati come bozze.",
        "draft": "Bozza",
        "live": "Autumn tasting: siamo in diretta",
    },
}


@pytest.mark.parametrize("language", ["en", "it"])
def test_an_event_created_from_the_tasting_template_shows_its_series_and_its_band(
    page_as, live_server, folks, app, language
):
    words = WORDS[language]
    anna = folks.person("anna@example.com", "Anna", language=language)
    bruno = folks.person("bruno@example.com", "Bruno", language=language)
    team = folks.team(anna)
    folks.join(team, bruno, "editor")
    day = folks.now().astimezone(ROME).date() + timedelta(days=20)
    base = f"{live_server}/t/{team.team_id}"

    editor = page_as(bruno, viewport=PHONE)
    editor.goto(f"{base}/events")
    editor.locator("#new-event").click()
    form = editor.locator("#event-form")
    form.locator("#title").fill("Autumn tasting")
    form.locator("#place").fill("Cantina Aurora, Barolo")
    form.locator("#start_day").fill(day.isoformat())
    form.locator("#start_at").fill("18:00")
    form.locator("#end_at").fill("21:00")
    expect(form.locator("#template option:checked")).to_have_text(words["template"])
    fits_a_phone(editor)
    form.locator("#preview-event").click()
    preview = editor.locator("#series-preview")
    expect(preview.locator("legend")).to_contain_text(words["series"])
    expect(preview.locator("input[name=steps]")).to_have_count(4)
    fits_a_phone(editor)
    editor.locator("#create-event").click()

    expect(editor.get_by_text(words["planned"])).to_be_visible()
    with app.app_context():
        (event,) = events.of_team(team.team_id)
        stored = posts.planned_by(team.team_id, event.event_id)
    assert sorted(post.series_step for post in stored) == ["live", "recap", "reminder", "teaser"]
    expect(editor).to_have_url(f"{base}/events/{event.event_id}")
    editor.reload()
    series = editor.locator("#series-list li")
    expect(series).to_have_count(4)
    expect(series.nth(2)).to_contain_text(words["live"])
    expect(series.first).to_contain_text(words["draft"])
    fits_a_phone(editor)

    editor.goto(f"{base}/month/{day:%Y-%m}")
    cell = editor.locator(f"#day-{day.isoformat()}")
    expect(cell.locator(f"#event-{event.event_id}")).to_contain_text("Autumn tasting")
    expect(cell.locator(".chip")).to_contain_text(words["live"])
    fits_a_phone(editor)
    cell.locator(f"#event-{event.event_id}").click()
    expect(editor).to_have_url(f"{base}/events/{event.event_id}")
