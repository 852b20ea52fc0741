"""The screenshots in docs/: the demo team's planner, as its admin sees it.

Run ``pytest tests/browser/test_screenshots.py`` to refresh them. The app's clock is fixed and
the demo's ids are not random (owner colours come from them), so the pictures do not change
from run to run; a file is only rewritten when its picture changed.
"""

import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from app.local import demo
from app.notifications import batch
from app.planner import changes, periods
from app.store import events, keys, partners, people, posts, schedules, teams
from app.store.models import Notification
from tests.browser.test_kits_in_browser import pass_on, publish, take
from tests.test_kits import new_kit
from tests.test_profiles import added

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORT = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
# A Thursday in December: most of the demo's posts fall in the month on screen.
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo(demo.ZONE))
MAX_BYTES = 400_000


def save(page: Page, name: str) -> Path:
    """A viewport screenshot in docs/, written only when it differs from the one there."""
    picture = page.screenshot(animations="disabled", caret="hide")
    assert picture.startswith(b"\x89PNG"), name
    assert len(picture) < MAX_BYTES, f"{name} is {len(picture)} bytes"
    path = DOCS / name
    if not path.exists() or path.read_bytes() != picture:
        DOCS.mkdir(exist_ok=True)
        path.write_bytes(picture)
    return path


def same_ids_every_time(monkeypatch) -> None:
    ids = random.Random(2026)
    monkeypatch.setattr(
        keys,
        "new_id",
        lambda length=16: "".join(ids.choice(keys._ID_ALPHABET) for _ in range(length)),
    )


def test_the_docs_screenshots_show_the_demo_team(app, live_server, page_as, monkeypatch):
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(clock=lambda: NOW)
    with monkeypatch.context() as patched, app.app_context():
        same_ids_every_time(patched)
        assert demo.seed(NOW)
        giulia = people.person_by_email(demo.DEMO_ADMIN)
    team_id = next(iter(giulia.team_entries()))
    with app.app_context():
        zone = ZoneInfo(demo.ZONE)
        weeks = periods.Month.containing(NOW.date()).weeks(giulia.week_start)
        grid = periods.bounds(weeks[0][0], weeks[-1][-1] + timedelta(days=1), zone)
        grid_posts = posts.due_between(team_id, *grid)
        schedule = schedules.of_team(team_id)[0]
        autumn_tasting = events.of_team(team_id)[0]
    page = page_as(giulia, viewport=VIEWPORT, locale="en-GB", timezone_id=demo.ZONE)

    page.goto(f"{live_server}/t/{team_id}/")
    expect(page.locator("#period-title")).to_have_text("December 2026")
    # Every post of the grid's weeks: the demo's own, the schedule's slots, the tasting's series.
    expect(page.locator("#month-grid a.chip")).to_have_count(len(grid_posts))
    expect(page.locator("#month-grid .event-band", has_text="Autumn tasting")).not_to_have_count(0)
    expect(page.locator("#ideas-list a.chip")).to_have_count(len(demo.IDEAS))
    save(page, "month.png")

    tasting = page.locator("#month-grid a.chip", has_text="Save the date")
    tasting.click()
    expect(page.locator("#panel #post-title")).to_have_text(
        "Save the date: autumn tasting with Enoteca Lumen"
    )
    page.locator("#panel #post-title").blur()  # no focus ring in the picture
    save(page, "post-panel.png")

    page.keyboard.press("Escape")
    expect(page.locator("#panel")).to_be_empty()
    page.locator(".view-switch").get_by_role("link", name="Agenda").click()
    expect(page.locator("#calendar.agenda")).to_be_visible()
    expect(page.locator("#agenda-late")).to_be_visible()  # yesterday's draft is overdue
    save(page, "agenda.png")

    # Rhythm: the schedule with its rotation, the tasting and its series, the checklist
    # beside a post, the team's cadence health.
    page.goto(f"{live_server}/t/{team_id}/schedules/{schedule.schedule_id}")
    expect(page.locator("#upcoming li")).not_to_have_count(0)
    save(page, "schedule.png")

    page.goto(f"{live_server}/t/{team_id}/events/{autumn_tasting.event_id}")
    expect(page.locator("#series-list li")).to_have_count(4)
    save(page, "event.png")

    page.goto(f"{live_server}/t/{team_id}/")
    page.locator("#month-grid a.chip", has_text="Instagram").first.click()
    expect(page.locator("#panel .checklist")).not_to_have_count(0)
    page.locator("#panel #post-title").blur()
    page.locator("#panel #checklist").scroll_into_view_if_needed()
    page.locator("#panel #checklist").get_by_label("Photo is square or 4:5").check()
    page.locator("#panel #checklist").get_by_label("Location tagged").check()
    save(page, "checklist.png")

    page.goto(f"{live_server}/t/{team_id}/health")
    expect(page.locator("#load")).to_be_visible()
    save(page, "health.png")

    phone = page_as(giulia, viewport=PHONE, locale="en-GB", timezone_id=demo.ZONE)
    phone.goto(f"{live_server}/t/{team_id}/")
    phone.locator("td.today").scroll_into_view_if_needed()  # the month as a list of days
    save(phone, "phone-month.png")

    # The features beside the planner: a partner's month, a feed, an import, the batch email.
    lumen_id = _share_with_a_partner(app, team_id, giulia, grid_posts)
    sarah = people.person_by_email(PARTNER_ADMIN)
    # Taller: the shared save-the-date and, a week later, the shared tasting's band.
    tall = {**VIEWPORT, "height": 1250}
    partner = page_as(sarah, viewport=tall, locale="en-GB", timezone_id=sarah.zone)
    partner.goto(f"{live_server}/t/{lumen_id}/")
    chip = partner.locator(f"#post-{team_id}-{tasting_post_id(grid_posts)}")
    expect(chip.locator(".partner-tag")).to_have_text("Cantina Aurora")
    shared_tasting = partner.locator("#month-grid .event-band", has_text="Autumn tasting")
    expect(shared_tasting.first).to_contain_text("Cantina Aurora")
    save(partner, "partners.png")

    page.goto(f"{live_server}/me/feeds")
    page.locator("#feed-form button[type=submit]").click()
    expect(page.locator("#new-feed-url")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")  # the page's own header above the address
    save(page, "feeds.png")

    page.goto(f"{live_server}/me")
    for network, handle in (("linkedin", "giulia-rossi"), ("instagram", "@giulia.vigna")):
        form = page.locator("#profile-add-form")
        form.locator("#new-network").select_option(network)
        form.locator("#new-handle").fill(handle)
        form.locator("button[type=submit]").click()
        expect(page.locator("#profile-list")).to_contain_text(handle)
    page.locator("#profiles").scroll_into_view_if_needed()
    save(page, "profiles.png")

    page.goto(f"{live_server}/t/{team_id}/")
    page.locator("#import-csv").click()
    page.locator("#file").set_input_files(
        {"name": "piano.csv", "mimeType": "text/csv", "buffer": _italian_excel(NOW)}
    )
    page.locator("#upload-form button[type=submit]").click()
    expect(page.locator("#import-errors tbody tr")).to_have_count(1)
    expect(page.locator("#import-rows tbody tr")).to_have_count(2)
    page.locator("#confirm-form").scroll_into_view_if_needed()
    save(page, "import.png")

    with app.test_request_context():
        email = batch.message(giulia, _three_notes(team_id, grid_posts), NOW)
    page.set_viewport_size({"width": 760, "height": 620})  # a mail reader's window
    page.goto("about:blank")  # a mail reader's frame: the app's CSP would block inline styles
    page.set_content(email.get_body(preferencelist=("html",)).get_content())
    expect(page.locator("li")).to_have_count(3)
    save(page, "notifications.png")


PARTNER_ADMIN = "sarah@enoteca-lumen.example"  # the demo's editor from Enoteca Lumen


def tasting_post_id(grid_posts) -> str:
    return next(post.post_id for post in grid_posts if post.title.startswith("Save the date"))


def _share_with_a_partner(app, team_id: str, giulia, grid_posts) -> str:
    """Enoteca Lumen, Sarah's own team with two posts of its own, partners with Cantina
    Aurora, which shares its save-the-date with Sarah as co-owner, and its autumn tasting;
    Lumen's id."""
    with app.app_context():
        sarah = people.person_by_email(PARTNER_ADMIN)
        lumen = teams.create_team(
            sarah, name="Enoteca Lumen", zone=sarah.zone, language="en", now=NOW
        )
        for days, title in ((2, "Wine of the week: Barbera"), (9, "Cheese & wine night")):
            own = posts.new_post(
                lumen.team_id,
                title=title,
                zone=sarah.zone,
                created_by=sarah.person_id,
                now=NOW,
                due=NOW + timedelta(days=days, hours=8),
                owner_id=sarah.person_id,
                channels=["Instagram"],
                status="draft",
            )
            changes.create(own, teams.team(lumen.team_id), NOW)
        aurora = teams.team(team_id)
        raw = partners.invite(aurora, address=sarah.email, invited_by=giulia.name, now=NOW)
        partners.accept(people.stored_token(raw), teams.team(lumen.team_id), sarah, NOW)
        aurora = teams.team(team_id)
        changes.share(
            posts.load(team_id, tasting_post_id(grid_posts))[0],
            aurora,
            actor=giulia.person_id,
            partner_id=lumen.team_id,
            co_owner=(sarah.person_id, sarah.name),
            origin_name=aurora.name,
            shown={"shared_with": ["", lumen.name]},
            now=NOW,
        )
        events.share(
            events.of_team(team_id)[0], partner_id=lumen.team_id, origin_name=aurora.name, now=NOW
        )
    return lumen.team_id


def _italian_excel(now: datetime) -> bytes:
    """The team's old plan as Italian Excel saves it; the third row names a channel the team
    lacks."""
    when = (now + timedelta(days=5)).astimezone(ZoneInfo(demo.ZONE)).strftime("%d/%m/%Y")
    rows = [
        "Data;Ora;Titolo;Canali;Responsabile;Stato;Testo",
        f"{when};10:00;Vendemmia: è il giorno!;Instagram;Giulia Rossi;Bozza;"
        '"Prima riga\r\nseconda"',
        f"{when};18:30;Degustazione con Enoteca Lumen;Facebook, Instagram;"
        "marco@cantina-aurora.example;;",
        f"{when};12:00;Su un canale che non c'è;Myspace;Giulia Rossi;;",
    ]
    return ("\ufeff" + "\r\n".join(rows) + "\r\n").encode()


def _three_notes(team_id: str, grid_posts) -> list[Notification]:
    """What waits for Giulia: a mention, a review decision each way, minutes apart."""
    by_title = {post.title: post for post in grid_posts}
    wanted = [
        (
            "Save the date: autumn tasting with Enoteca Lumen",
            "mention",
            "Marco Bianchi",
            "@Giulia can we add the booking link before Friday?",
        ),
        (
            "Why we partner with Enoteca Lumen",
            "changes",
            "Sarah Klein",
            "Please name the London shop in the first line.",
        ),
        ("Newsletter: invito alla degustazione", "approved", "Marco Bianchi", ""),
    ]
    notes = []
    for minutes, (title, kind, actor, text) in enumerate(wanted):
        post = by_title[title]
        notes.append(
            Notification(
                kind=kind,
                team_id=team_id,
                post_id=post.post_id,
                title=post.title,
                due=post.due,
                actor_id="",
                actor_name=actor,
                text=text,
                at=NOW - timedelta(minutes=12 - 4 * minutes),
            )
        )
    return notes


# The Nebbiolo kit (issue 12): offered to five people on Tuesday; by Thursday morning three
# posted it in their own words, one passed, one has not decided yet.
KIT_POSTS = [
    (  # who, network, handle, their copy, their post's link, when they published
        "Marco Bianchi",
        "linkedin",
        "marco-bianchi",
        "Two years of waiting, and the 2024 Nebbiolo is finally in bottles: fresh, floral, "
        "and the cool summer shows. Proud of this team.",
        "https://www.linkedin.com/posts/marco-bianchi_nebbiolo-2024",
        timedelta(days=-2, hours=8, minutes=30),
    ),
    (
        "Giulia Rossi",
        "linkedin",
        "giulia-rossi",
        "A cool 2024 in the Langhe gave us our freshest Nebbiolo yet. Come and taste it with "
        "us at the cellar this weekend.",
        "https://www.linkedin.com/posts/giulia-rossi_nebbiolo-langhe",
        timedelta(days=-1, hours=2, minutes=10),
    ),
    (
        "Elena Conti",
        "instagram",
        "@elena.conti",
        "Roses, cherries and a bit of tar: tasted the new Nebbiolo this morning. Worth the trip!",
        "https://www.instagram.com/p/Nebbiolo2024",
        timedelta(minutes=-25),
    ),
]
KIT_PASS = ("Paolo Greco", "linkedin", "paolo-greco", "I am at the Merano wine fair all week.")
KIT_UNDECIDED = ("Sara Verdi", "instagram", "@sara.verdi")


def _at(app, when: datetime) -> None:
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(clock=lambda: when)


def test_the_kit_screenshots_show_who_showed_up(app, live_server, page_as, folks, monkeypatch):
    same_ids_every_time(monkeypatch)
    _at(app, NOW - timedelta(days=2))  # Tuesday at 10:00: Giulia writes the kit
    giulia = folks.person("giulia@cantina-aurora.example", "Giulia Rossi")
    team = folks.team(giulia, "Cantina Aurora")
    people_by_name = {"Giulia Rossi": giulia}
    for name, network, handle, *_rest in [*KIT_POSTS, KIT_PASS, KIT_UNDECIDED]:
        if name not in people_by_name:
            address = f"{name.split()[0].lower()}@cantina-aurora.example"
            people_by_name[name] = folks.person(address, name)
            folks.join(team, people_by_name[name], "editor")
        assert added(folks.client_for(people_by_name[name]), network, handle).status_code == 302
    answer = new_kit(
        folks.client_for(giulia),
        team.team_id,
        story="The 2024 Nebbiolo is in bottles: a cool year in the Langhe, a fresh wine. "
        "Fourteen months in oak, 2,400 bottles, at the cellar from this week.",
        facts="14 months in large Slavonian oak · 2,400 bottles\n"
        "Tastings Saturday and Sunday, 10:00–18:00\nhttps://cantina-aurora.example/nebbiolo",
    )
    kit_id = answer.headers["Location"].rsplit("/", 1)[1]
    for name, _network, _handle, copy, link, after in KIT_POSTS:
        _at(app, NOW + after - timedelta(hours=3))
        post_path = take(folks, people_by_name[name], team.team_id, kit_id, copy)
        _at(app, NOW + after)
        publish(folks, people_by_name[name], giulia, post_path, link)
    _at(app, NOW - timedelta(days=1))
    pass_on(folks, people_by_name[KIT_PASS[0]], team.team_id, kit_id, KIT_PASS[3])
    _at(app, NOW)

    # Taller: every person offered it, and the kit's story under them.
    tall = {**VIEWPORT, "height": 1250}
    page = page_as(giulia, viewport=tall, locale="en-GB", timezone_id=demo.ZONE)
    page.goto(f"{live_server}/t/{team.team_id}/kits/{kit_id}")
    expect(page.locator("#kit-status tbody tr.state-posted")).to_have_count(3)
    expect(page.locator("#kit-status tbody tr.state-passed")).to_have_count(1)
    expect(page.locator("#kit-status tbody tr.state-offered")).to_have_count(1)
    save(page, "kit.png")

    sara = page_as(people_by_name[KIT_UNDECIDED[0]], viewport=tall, locale="en-GB")
    sara.goto(f"{live_server}/t/{team.team_id}/to-share/{team.team_id}/{kit_id}")
    expect(sara.locator("#take-form")).to_be_visible()
    expect(sara.locator("#pass-form")).to_be_visible()
    # From the suggested copy down: what she starts from, then Take it and Pass.
    sara.locator(".kit-suggestions").evaluate(
        "section => window.scrollTo(0, section.getBoundingClientRect().top + scrollY - 24)"
    )
    save(sara, "kit-offer.png")
