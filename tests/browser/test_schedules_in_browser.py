"""Schedules in a real browser: an admin sets up Instagram every Tuesday and Friday at 18:00,
Anna, Bruno and Carla in turn; previews it, saves, reloads, and finds the posts in the month
view with the right owners. On a desktop in English, and on a phone in Italian."""

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.store import posts, schedules
from tests.browser.test_phone_and_accessibility import DESKTOP, PHONE, sideways

pytestmark = pytest.mark.browser
ROME = ZoneInfo("Europe/Rome")

WORDS = {
    "en": {
        "link": "Schedules",
        "new": "New schedule",
        "title": "Title of each post",
        "days": ("Tuesday", "Friday"),
        "turn": "Turn {}",
        "preview": "Preview",
        "next": "The next 10 posts",
        "save": "Save schedule",
        "saved": "Schedule saved",
        "kept": "keep their edits",
    },
    "it": {
        "link": "Ritmi",
        "new": "Nuovo ritmo",
        "title": "Titolo di ogni post",
        "days": ("martedì", "venerdì"),
        "turn": "Turno {}",
        "preview": "Anteprima",
        "next": "I prossimi 10 post",
        "save": "Salva il ritmo",
        "saved": "Ritmo salvato",
        "kept": "mantengono le modifiche",
    },
}


@pytest.mark.parametrize(("language", "viewport"), [("en", DESKTOP), ("it", PHONE)])
def test_an_admin_sets_up_a_rotation_and_finds_its_posts_in_the_month_view(
    page_as, live_server, app, folks, language, viewport
):
    words = WORDS[language]
    anna = folks.person("anna@example.com", "Anna Rossi", language=language)
    bruno = folks.person("bruno@example.com", "Bruno Bianchi")
    carla = folks.person("carla@example.com", "Carla Verdi")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, bruno, "editor")
    folks.join(team, carla, "editor")
    page = page_as(anna, viewport=viewport)

    page.goto(f"{live_server}/t/{team.team_id}/")
    page.locator("#nav-schedules").click()
    page.get_by_role("button", name=words["new"]).click()
    form = page.locator("#schedule-form")
    form.get_by_label(words["title"]).fill("Instagram — {date}")
    form.locator("fieldset.channels").get_by_label("Instagram", exact=True).check()
    for day in words["days"]:
        form.locator("fieldset.weekdays").get_by_label(day, exact=True).check()
    expect(form.locator("#at")).to_have_value("18:00")
    for turn, someone in enumerate((anna, bruno, carla), start=1):
        form.get_by_label(words["turn"].format(turn), exact=True).select_option(someone.name)

    form.get_by_role("button", name=words["preview"]).click()
    preview = page.locator("#preview")
    expect(preview.get_by_role("heading")).to_have_text(words["next"])
    expect(preview.locator("li")).to_have_count(10)
    expect(preview.locator("li").nth(0)).to_contain_text("Anna Rossi")
    expect(preview.locator("li").nth(1)).to_contain_text("Bruno Bianchi")
    expect(preview.locator("li").nth(2)).to_contain_text("Carla Verdi")

    page.locator("#schedule-form").get_by_role("button", name=words["save"]).click()
    expect(page.locator(".flash, [role=status]").first).to_contain_text(words["saved"])
    page.reload()
    expect(page.locator("#edits-kept")).to_contain_text(words["kept"])
    expect(page.locator("#schedule-form #title")).to_have_value("Instagram — {date}")
    expect(page.locator("#upcoming li")).to_have_count(10)
    assert sideways(page) == 0  # on a phone too, nothing scrolls sideways

    with app.app_context():
        schedule = schedules.of_team(team.team_id)[0]
        planned = sorted(
            posts.planned_by(team.team_id, schedule.schedule_id), key=lambda post: post.due
        )
    names = [anna.name, bruno.name, carla.name]
    assert [post.owner_id for post in planned[:3]] == [
        anna.person_id,
        bruno.person_id,
        carla.person_id,
    ]
    first = planned[0].due.astimezone(ROME)
    assert (first.strftime("%H:%M"), first.weekday() in (1, 4)) == ("18:00", True)
    month = f"{first:%Y-%m}"
    page.goto(f"{live_server}/t/{team.team_id}/month/{month}")
    in_month = [post for post in planned if f"{post.due.astimezone(ROME):%Y-%m}" == month]
    for number, post in enumerate(in_month):
        chip = page.locator(f"a.chip#post-{post.post_id}")
        expect(chip).to_contain_text("Instagram — ")
        expect(chip.locator("abbr.avatar")).to_have_attribute("title", names[number % 3])
