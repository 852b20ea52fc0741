"""CSV import in a real browser: an Italian admin uploads the team's old plan as Italian Excel
saves it (semicolons, BOM, dd/mm/yyyy, accents, a quoted line break), sees the preview with
its one bad row, confirms, watches it finish, and finds the posts on the month view, also
after a reload. On a desktop, and on a 390 px phone."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.store import posts
from tests.browser.test_phone_and_accessibility import DESKTOP, PHONE, sideways
from tests.conftest import ROME

pytestmark = pytest.mark.browser


def _old_plan(day) -> bytes:
    """Three rows as Italian Excel writes them; the third names a channel the team lacks."""
    when = day.strftime("%d/%m/%Y")
    rows = [
        "Data;Ora;Titolo;Canali;Responsabile;Stato;Testo",
        f"{when};10:00;Vendemmia: è il giorno!;Instagram;Giulia Rossi;Bozza;"
        '"Prima riga\r\nseconda"',
        f"{when};18:30;Degustazione con Enoteca Lumen;Facebook, Instagram;marco@example.com;;",
        f"{when};12:00;Su un canale che non c'è;Myspace;Giulia Rossi;;",
    ]
    return ("\ufeff" + "\r\n".join(rows) + "\r\n").encode()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_italian_admin_imports_the_old_plan_from_excel(page_as, live_server, folks, viewport):
    giulia = folks.person("giulia@example.com", "Giulia Rossi", language="it")
    marco = folks.person("marco@example.com", "Marco Bianchi")
    team = folks.team(giulia, "Cantina Aurora")
    folks.join(team, marco, "editor")
    day = (folks.now() + timedelta(days=5)).astimezone(ROME).date()
    page = page_as(giulia, viewport=viewport)

    page.goto(f"{live_server}/t/{team.team_id}/")
    page.locator("#import-csv").click()
    page.locator("#file").set_input_files(
        {"name": "piano.csv", "mimeType": "text/csv", "buffer": _old_plan(day)}
    )
    page.locator("#upload-form button[type=submit]").click()

    # The preview: the bad row by its number, the two good ones, nothing saved yet.
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("4")
    expect(errors.first).to_contain_text("Myspace")
    expect(page.locator("#import-rows tbody tr")).to_have_count(2)
    expect(page.locator("#import-rows")).to_contain_text("Vendemmia: è il giorno!")
    assert sideways(page) == 0
    assert posts.due_between(team.team_id, folks.now(), folks.now() + timedelta(days=30)) == []

    page.locator("#confirm-form button[type=submit]").click()
    expect(page.locator("#import-result")).to_contain_text("2")
    page.locator("#see-calendar").click()
    expect(page).to_have_url(f"{live_server}/t/{team.team_id}/month/{day:%Y-%m}")
    page.reload()
    for title in ("Vendemmia: è il giorno!", "Degustazione con Enoteca Lumen"):
        expect(page.get_by_text(title).first).to_be_visible()
    expect(page.get_by_text("Su un canale")).to_have_count(0)
    assert sideways(page) == 0
    stored = posts.due_between(team.team_id, folks.now(), folks.now() + timedelta(days=30))
    tasting = next(post for post in stored if post.title.startswith("Degustazione"))
    assert tasting.owner_id == marco.person_id and tasting.channels == ["Facebook", "Instagram"]
    harvest = next(post for post in stored if post.title.startswith("Vendemmia"))
    assert posts.load(team.team_id, harvest.post_id)[1].copy == "Prima riga\nseconda"
