"""Share kits in a real browser (issue 12): an admin offers "Our new Nebbiolo is out" to the
team; of the three people with their own profiles, two take it from "To share" and rewrite the
suggested copy in their own words, one passes saying why, and one of the takers marks it
published with its link once the admin approved it; the kit's page shows exactly that, after a
reload too. The whole path on a desktop in English; in Italian and on a 390 px phone, the kit
pages with a person passing, fitting the phone and with nothing serious for axe-core.

The people here take, pass and publish through the pages' own forms with test clients
(``take``, ``pass_on``, ``publish``): tests/browser/test_screenshots.py builds its kit so.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import Page, expect

from app.kits.voice import OWN_VOICE
from app.store import kits
from tests.browser.test_phone_and_accessibility import (
    DESKTOP,
    PHONE,
    fits_a_phone,
    serious_axe_findings,
)
from tests.conftest import ROME
from tests.formdata import form_in
from tests.test_kits import new_kit
from tests.test_profiles import added

pytestmark = pytest.mark.browser

TITLE = "Our new Nebbiolo is out"
LINKEDIN_SUGGESTION = "After a cool 2024, our Nebbiolo is ready: proud of the team."
ANY_SUGGESTION = "Our new Nebbiolo is out! Come and taste it at the cellar."
HASHTAGS = "#Nebbiolo #Langhe"
BRUNO_COPY = "Two years of waiting: our Nebbiolo 2024 is fresh, floral, and finally in bottles."
GINA_COPY = "Tasted the new Nebbiolo at the cellar this morning: roses and cherries. Come by!"
DARIO_REASON = "I am at the Merano wine fair that week."
POST_LINK = "https://www.linkedin.com/posts/bruno-bianchi_nebbiolo-2024"


@dataclass
class Cast:
    """Cantina Aurora: Anna (admin, no profile of her own), and three editors with their own
    profiles: Bruno on LinkedIn, Gina on Instagram, Dario on LinkedIn."""

    team_id: str
    anna: object
    bruno: object
    gina: object
    dario: object


def cast_of(folks, language: str) -> Cast:
    def person(name: str):
        address = f"{name.split()[0].lower()}@example.com"
        return folks.person(address, name, language=language)

    anna = person("Anna Rossi")
    team = folks.team(anna)
    cast = Cast(team.team_id, anna, *map(person, ("Bruno Bianchi", "Gina Neri", "Dario Costa")))
    for someone, network, handle in (
        (cast.bruno, "linkedin", "bruno-bianchi"),
        (cast.gina, "instagram", "@gina.neri"),
        (cast.dario, "linkedin", "dario-costa"),
    ):
        folks.join(team, someone, "editor")
        assert added(folks.client_for(someone), network, handle).status_code == 302
    return cast


def said(app, language: str, text, **values) -> str:
    """``text`` (a message id, or a lazy message) as the app says it in ``language``: the
    kits' wording may not be translated yet."""
    with app.test_request_context(), force_locale(language):
        return _(text, **values) if isinstance(text, str) else str(text)


# Taking, passing and publishing with test clients, through the pages' forms ---------------


def offer_path(team_id: str, kit_id: str) -> str:
    return f"/t/{team_id}/to-share/{team_id}/{kit_id}"


def take(folks, someone, team_id: str, kit_id: str, copy: str) -> str:
    """``someone`` takes the kit on their first profile at the offered time, then rewrites the
    suggested copy as ``copy``; the path of their post."""
    client = folks.client_for(someone)
    taking = form_in(client.get(offer_path(team_id, kit_id)).text, id="take-form")
    answer = client.post(taking.action, data=taking.data())
    assert answer.status_code == 302, answer.text
    post_path = answer.headers["Location"]
    _save_post(client, post_path, copy=copy)
    return post_path


def pass_on(folks, someone, team_id: str, kit_id: str, reason: str) -> None:
    client = folks.client_for(someone)
    passing = form_in(client.get(offer_path(team_id, kit_id)).text, id="pass-form")
    data = passing.data()
    data["reason"] = reason
    assert client.post(passing.action, data=data).status_code == 302


def publish(folks, owner, admin, post_path: str, link: str) -> None:
    """As the status rule allows: the admin approves the post, then its owner publishes it."""
    _save_post(folks.client_for(admin), post_path, status="approved")
    _save_post(folks.client_for(owner), post_path, status="published", published_url=link)


def _save_post(client, post_path: str, **fields) -> None:
    form = form_in(client.get(post_path).text, id="post-form")
    data = form.data()
    for name, value in fields.items():
        data[name] = value
    answer = client.post(form.action, data=data)
    assert answer.status_code == 302, answer.text


# In the browser ------------------------------------------------------------------------------


def open_to_share(page: Page, live_server: str, team_id: str) -> None:
    """From the team's calendar to "To share" by the main menu (folded on a phone)."""
    page.goto(f"{live_server}/t/{team_id}/")
    menu = page.locator("#site-menu")
    if not page.locator("#nav-to-share").is_visible():
        menu.locator("summary").first.click()
    page.locator("#nav-to-share").click()
    expect(page.locator("#open-offers")).to_be_visible()


def take_in_browser(page: Page, app, language: str, profile: str, day, suggestion: str, copy: str):
    """On the kit's page: take it on ``profile`` on ``day`` at 18:30, land on the draft with
    the suggested copy, rewrite it and save."""
    expect(page.locator(".kit-suggestions .say-it")).to_be_visible()
    form = page.locator("#take-form")
    form.locator("#profile").select_option(label=profile)
    form.locator("#day").fill(day.isoformat())
    form.locator("#at").fill("18:30")
    form.locator("#take-kit").click()
    expect(page.locator("#from-kit")).to_be_visible()
    expect(page.locator("#flash")).to_contain_text(
        said(app, language, "It is yours: say it your way. Cadenza nudges you before it is due.")
    )
    copy_field = page.locator("#post-form #copy")
    expect(copy_field).to_have_value(f"{suggestion}\n\n{HASHTAGS}")
    expect(page.locator("#post-form #profiles input:checked")).to_have_count(1)
    copy_field.fill(copy)
    save_post(page, app, language)


def save_post(page: Page, app, language: str) -> None:
    page.locator("#post-form button[type=submit]").click()
    expect(page.locator("#flash")).to_contain_text(said(app, language, "Post saved."))


def check_the_status(page: Page, app, language: str, cast: Cast) -> None:
    """Exactly: Bruno posted (on time, with his link), Gina writing, Anna not decided yet,
    Dario passed with his reason; grouped by where they are, no ranking."""
    counts = (
        "%(posted)d posted · %(taken)d writing · %(passed)d passed · %(offered)d not decided yet"
    )
    expect(page.locator("#kit-counts")).to_have_text(
        said(app, language, counts, posted=1, taken=1, passed=1, offered=1)
    )
    rows = page.locator("#kit-status tbody tr")
    expect(rows).to_have_count(4)
    order = [
        (cast.bruno, "posted"),
        (cast.gina, "taken"),
        (cast.anna, "offered"),
        (cast.dario, "passed"),
    ]
    for index, (someone, state) in enumerate(order):
        expect(rows.nth(index)).to_have_id(f"offer-{someone.person_id}")
        expect(rows.nth(index)).to_have_class(re.compile(rf"\bstate-{state}\b"))
    posted = page.locator(f"#offer-{cast.bruno.person_id}")
    expect(posted).to_contain_text(said(app, language, "on time"))
    expect(posted.locator("a")).to_have_attribute("href", POST_LINK)
    expect(page.locator(f"#offer-{cast.gina.person_id}")).to_contain_text(
        said(app, language, "Writing it")
    )
    expect(page.locator(f"#offer-{cast.dario.person_id} q")).to_have_text(DARIO_REASON)
    expect(page.locator(f"#offer-{cast.anna.person_id}")).to_contain_text(
        said(app, language, "Offered")
    )


def screen(language: str, viewport: dict) -> dict:
    """A browser context as a person in ``language`` has it: their screen and their locale."""
    return {"viewport": viewport, "locale": "it-IT" if language == "it" else "en-GB"}


def looks_right(page: Page, viewport: dict) -> None:
    if viewport == PHONE:
        fits_a_phone(page)
    assert serious_axe_findings(page) == []


# The whole path in English on a desktop and in Italian on a phone; the two other pairs below.
@pytest.mark.parametrize(
    ("language", "viewport"), [("en", DESKTOP), ("it", PHONE)], ids=["en-desktop", "it-phone"]
)
def test_a_kit_is_offered_taken_passed_and_posted_and_its_page_shows_who_showed_up(
    page_as, live_server, app, folks, language, viewport
):
    cast = cast_of(folks, language)
    base = f"{live_server}/t/{cast.team_id}"
    today = folks.now().astimezone(ROME).date()
    posting_day = today + timedelta(days=2)

    # Anna writes the kit as a person does, and offers it to the team.
    admin = page_as(cast.anna, **screen(language, viewport))
    admin.goto(f"{base}/")
    admin.locator("#nav-kits").click()
    admin.locator("#new-kit").click()
    form = admin.locator("#kit-form")
    form.locator("#title").fill(TITLE)
    form.locator("#story").fill("The 2024 Nebbiolo is in bottles: a cool year, a fresh wine.")
    form.locator("#facts").fill("14 months in oak, 2,400 bottles\nhttps://example.com/nebbiolo")
    form.locator("#suggest_any").fill(ANY_SUGGESTION)
    form.locator("#per-network summary").click()
    form.locator("#suggest_linkedin").fill(LINKEDIN_SUGGESTION)
    form.locator("#hashtags").fill(HASHTAGS)
    form.locator("#first_day").fill(today.isoformat())
    form.locator("#last_day").fill((today + timedelta(days=13)).isoformat())
    form.locator("input[name=audience][value=team]").check()
    looks_right(admin, viewport)
    form.locator("#save-kit").click()
    expect(admin.locator("#flash")).to_contain_text(
        said(
            app, language, "The kit is saved and offered. Everyone it is offered to gets an email."
        )
    )
    expect(admin).to_have_url(re.compile(rf"{base}/kits/\w+$"))
    kit_id = admin.url.rsplit("/", 1)[1]
    admin.reload()  # stored, not only shown
    expect(admin.locator("#kit-status tbody tr.state-offered")).to_have_count(4)
    looks_right(admin, viewport)

    # Bruno takes it on his LinkedIn and says it his way.
    bruno = page_as(cast.bruno, **screen(language, viewport))
    open_to_share(bruno, live_server, cast.team_id)
    bruno.locator("#open-offers a", has_text=TITLE).click()
    looks_right(bruno, viewport)
    take_in_browser(
        bruno,
        app,
        language,
        "LinkedIn · bruno-bianchi",
        posting_day,
        LINKEDIN_SUGGESTION,
        BRUNO_COPY,
    )

    # Gina takes it on her Instagram, which has no suggestion of its own: the general one.
    gina = page_as(cast.gina, **screen(language, viewport))
    open_to_share(gina, live_server, cast.team_id)
    gina.locator("#open-offers a", has_text=TITLE).click()
    take_in_browser(
        gina, app, language, "Instagram · @gina.neri", posting_day, ANY_SUGGESTION, GINA_COPY
    )
    open_to_share(gina, live_server, cast.team_id)
    expect(gina.locator("#decided-offers li", has_text=TITLE)).to_have_class(
        re.compile("offer-taken")
    )

    # Dario passes, saying why.
    dario = page_as(cast.dario, **screen(language, viewport))
    open_to_share(dario, live_server, cast.team_id)
    dario.locator("#open-offers a", has_text=TITLE).click()
    dario.locator("#pass-form #reason").fill(DARIO_REASON)
    dario.locator("#pass-kit").click()
    expect(dario.locator("#passed-notice q")).to_have_text(DARIO_REASON)
    dario.reload()
    expect(dario.locator("#passed-notice q")).to_have_text(DARIO_REASON)
    expect(dario.locator("#undo-pass")).to_be_visible()

    # Anna approves Bruno's post; Bruno marks it published with its link, in his own words.
    post_path = f"{base}/posts/{kits.taken_post_id(kit_id, cast.bruno.person_id)}"
    admin.goto(post_path)
    admin.locator("#post-form #status").select_option("approved")
    save_post(admin, app, language)
    bruno.reload()
    bruno.locator("#post-form #status").select_option("published")
    bruno.locator("#post-form #published_url").fill(POST_LINK)
    save_post(bruno, app, language)
    expect(bruno.locator("#flash")).not_to_contain_text(said(app, language, OWN_VOICE))

    # The kit's page: who showed up, and how.
    admin.goto(f"{base}/")
    admin.locator("#nav-kits").click()
    admin.locator("#open-kits a", has_text=TITLE).click()
    check_the_status(admin, app, language, cast)
    looks_right(admin, viewport)
    admin.reload()
    check_the_status(admin, app, language, cast)


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("en", PHONE), ("it", DESKTOP)],
    ids=["en-phone", "it-desktop"],
)
def test_the_kit_pages_read_well_in_each_language_and_on_a_phone(
    page_as, live_server, app, folks, language, viewport
):
    cast = cast_of(folks, language)
    answer = new_kit(folks.client_for(cast.anna), cast.team_id)
    assert answer.status_code == 302, answer.text
    kit_id = answer.headers["Location"].rsplit("/", 1)[1]
    post_path = take(folks, cast.bruno, cast.team_id, kit_id, BRUNO_COPY)
    publish(folks, cast.bruno, cast.anna, post_path, POST_LINK)
    take(folks, cast.gina, cast.team_id, kit_id, GINA_COPY)

    # Dario, still to decide, finds it in his list and passes on its page.
    dario = page_as(cast.dario, **screen(language, viewport))
    open_to_share(dario, live_server, cast.team_id)
    expect(dario.locator("html")).to_have_attribute("lang", language)
    looks_right(dario, viewport)
    dario.locator("#open-offers a", has_text=TITLE).click()
    expect(dario.locator("#take-form")).to_be_visible()
    expect(dario.locator(".kit-suggestions .say-it")).to_have_text(
        said(app, language, "say it your way")
    )
    looks_right(dario, viewport)
    dario.locator("#pass-form #reason").fill(DARIO_REASON)
    dario.locator("#pass-kit").click()
    expect(dario.locator("#passed-notice q")).to_have_text(DARIO_REASON)

    admin = page_as(cast.anna, **screen(language, viewport))
    admin.goto(f"{live_server}/t/{cast.team_id}/kits/{kit_id}")
    check_the_status(admin, app, language, cast)
    looks_right(admin, viewport)
    admin.locator("#edit-kit").click()
    expect(admin.locator("#kit-form #title")).to_have_value(TITLE)
    looks_right(admin, viewport)
