"""Cadence health in a real browser: from the calendar to the three blocks, and the weekly
email turned on and still on after a reload; on a phone, and in Italian."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.store import people
from tests.browser.test_phone_and_accessibility import PHONE
from tests.test_cadence import dated, scheduled

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}

WORDS = {
    "en": {
        "link": "Cadence health",
        "gaps": "Weeks with no post on a scheduled channel",
        "load": "Posts per person in the coming 4 weeks",
        "on_time": "On time in the last 90 days",
        "overloaded": "overloaded",
        "none": "none: no posts",
        "rate": "2 of 3 on time (67%)",
        "choice": "Email me this every Monday at 08:00",
        "save": "Save",
        "saved": "The weekly email is on",
    },
    "it": {
        "link": "Salute del ritmo",
        "gaps": "Settimane senza post su un canale con un ritmo",
        "load": "Post per persona nelle prossime 4 settimane",
        "on_time": "Puntualità negli ultimi 90 giorni",
        "overloaded": "sovraccarico",
        "none": "nessuno: nessun post",
        "rate": "2 su 3 in orario (67%)",
        "choice": "Mandamela per email ogni lunedì alle 08:00",
        "save": "Salva",
        "saved": "L'email settimanale è attiva",
    },
}


@pytest.fixture
def seeded(app, folks):
    """Cantina Aurora around now: Instagram on a weekly schedule, Marco carrying every coming
    post (Sara none), and three of Marco's past posts, one of them published late."""
    anna = folks.person("anna@example.com", "Anna Rossi")
    marco = folks.person("marco@example.com", "Marco Bianchi")
    sara = folks.person("sara@example.com", "Sara Verdi")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, marco, "editor")
    folks.join(team, sara, "editor")
    world = {"app": app, "folks": folks, "team": team, "anna": anna}
    now = folks.now()
    scheduled(world, ["Instagram"], starts_at=now - timedelta(days=30))
    for days in (1, 2, 3, 8):
        dated(world, marco, now + timedelta(days=days))
    for days, late in ((3, False), (10, False), (20, True)):
        due = now - timedelta(days=days)
        published = due + timedelta(hours=2 if late else -2)
        dated(world, marco, due, status="published", published_at=published)
    return world


@pytest.mark.parametrize(("language", "viewport"), [("en", DESKTOP), ("en", PHONE), ("it", PHONE)])
def test_an_admin_opens_cadence_health_from_the_calendar_and_turns_the_weekly_email_on(
    page_as, live_server, seeded, language, viewport
):
    anna, team_id, words = seeded["anna"], seeded["team"].team_id, WORDS[language]
    with seeded["app"].app_context():
        people.update_profile(
            anna, name=anna.name, language=language, zone="Europe/Rome", week_start=0
        )
    page = page_as(anna, viewport=viewport)
    page.goto(f"{live_server}/t/{team_id}/")
    page.locator(".team-nav").get_by_role("link", name=words["link"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["link"])

    gaps = page.locator("#gaps")
    expect(gaps.get_by_role("heading", name=words["gaps"])).to_be_visible()
    expect(gaps.get_by_role("heading", name="Instagram")).to_be_visible()
    expect(gaps.locator("li").first).to_be_visible()  # weeks 3 to 8 have no post
    load = page.locator("#load")
    expect(load.get_by_role("heading", name=words["load"])).to_be_visible()
    expect(load.get_by_role("row", name="Marco Bianchi")).to_contain_text(words["overloaded"])
    expect(load.get_by_role("row", name="Sara Verdi")).to_contain_text(words["none"])
    on_time = page.locator("#on-time")
    expect(on_time.get_by_role("heading", name=words["on_time"])).to_be_visible()
    expect(on_time.get_by_role("row", name="Marco Bianchi")).to_contain_text(words["rate"])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    choice = page.get_by_label(words["choice"])
    expect(choice).not_to_be_checked()
    choice.check()
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#flash")).to_contain_text(words["saved"])
    page.reload()
    expect(page.get_by_label(words["choice"])).to_be_checked()
