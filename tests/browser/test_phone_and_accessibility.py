"""Every page on a phone and for people who do not use a mouse or do not see colours well.

At 390 x 844 (and 360 and 414 for the month) no page scrolls sideways, the month is a list of
readable days, the post panel fills the screen and touch targets are at least 44 px tall.
axe-core (tests/browser/vendor, see its README) finds nothing serious or critical on any page,
in English and Italian, on a desktop and a phone (and a phone in dark mode); the keyboard
reaches the first post in a few presses.

The app's clock is pinned to a Wednesday morning in Rome, so "today" and "overdue" are the
same whenever the tests run.
"""

import base64
import hashlib
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from app.nudges import tokens
from app.store import events, partners, people, posts, teams

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Europe/Rome")
NOW = datetime(2027, 3, 10, 10, 0, tzinfo=ZONE)  # a Wednesday; March 2027 starts on a Monday
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TOUCH = 44  # px: the smallest comfortable touch target (WCAG 2.5.5, Apple and Android guides)
# CADENZA_SHOTS=<folder> keeps a full-page screenshot of every page the phone tests open.
SHOTS = os.environ.get("CADENZA_SHOTS")

AXE = Path(__file__).parent / "vendor/axe-core-4.14.1.min.js"
# sha384 of axe-core@4.14.1's axe.min.js as published on npm (tests/browser/vendor/README.md).
AXE_SHA384 = "xt1SFg49QaDwsyt0Xfs2XAyBtYPClXl3X2q5OOLeGAUmq9jZTYIMdztpF99WdhiH"

# What a thumb taps: the main navigation, the team's navigation, the calendar's own
# navigation, day links, post chips and the panel's close button.
TOUCH_TARGETS = ", ".join(
    [
        "header nav a",
        "header nav summary",
        "nav.team-nav a",
        ".view-switch a",
        ".period a",
        "a.day-number",
        "#week-grid h3 a",
        "a.chip",
        "a.event-band",
        ".close-panel",
    ]
)


@dataclass
class World:
    """A team with posts around "today", a trashed post, an invitation and email links."""

    team_id: str
    admin: object
    editor: object
    newcomer: object  # signed in, not named yet: the welcome page
    post: object  # today's post, with a long title
    posts_by_day: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)  # page name -> path behind an email link
    event_id: str = ""  # a tasting in five days, a band on the calendar
    partner_answer: str = ""  # the page of a partner invitation to the admin
    csv_import: str = ""  # the admin's CSV import waiting for confirmation, with a bad row


def add_post(app, team_id, owner, title: str, day: date, at=time(9, 0), status="draft", **more):
    due = datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)
    with app.app_context():
        post = posts.new_post(
            team_id,
            title=title,
            zone=str(ZONE),
            created_by=owner.person_id,
            now=NOW,
            due=due,
            owner_id=owner.person_id,
            channels=["Instagram", "LinkedIn"],
            status=status,
            **more,
        )
        posts.create(post, copy="Join us in the cellar.\nSix wines, two winemakers.")
    return post


@pytest.fixture(params=["en", "it"])
def language(request) -> str:
    return request.param


def build_world(app, live_server, folks, language: str = "en") -> World:
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(clock=lambda: NOW)
    ada = folks.person("ada@example.com", name="Ada Lovelace", language=language)
    bruno = folks.person("bruno@example.com", name="Bruno Munari", language=language)
    newcomer = folks.person("nuova@example.com", language=language)
    team = folks.team(ada, name="Cantina Aurora")
    folks.join(team, bruno, "editor")
    today = NOW.date()
    long_title = "Save the date: autumn tasting with Enoteca Lumen in the old cellar"
    post = add_post(app, team.team_id, ada, long_title, today, time(18, 30))
    world = World(team.team_id, ada, bruno, newcomer, post)
    for day, owner, title, status in [
        (today - timedelta(days=2), ada, "Harvest recap reel", "draft"),  # overdue
        (today, bruno, "Barrel tasting", "approved"),
        (today + timedelta(days=5), bruno, "Meet the winemaker", "in_review"),
        (date(2027, 3, 31), ada, "End of month thanks", "published"),
        (date(2027, 4, 2), ada, "April teaser", "draft"),  # on the grid, in the next month
    ]:
        added = add_post(
            app, team.team_id, owner, title, day, status=status, reviewer_id=ada.person_id
        )
        world.posts_by_day.setdefault(day, []).append(added)
    world.posts_by_day.setdefault(today, []).insert(0, post)
    starts = datetime.combine(today + timedelta(days=5), time(18, 0), tzinfo=ZONE)
    tasting = events.new_event(
        team.team_id,
        "tasting00000000a",
        created_by=ada.person_id,
        now=NOW,
        title="Autumn tasting with Enoteca Lumen",
        starts_at=starts.astimezone(UTC),
        ends_at=(starts + timedelta(hours=3)).astimezone(UTC),
        zone=str(ZONE),
        owner_id=bruno.person_id,
    )
    with app.app_context():
        events.create(tasting)
    world.event_id = tasting.event_id
    plan_csv = f"title,date,channels\nFrom a file,{today + timedelta(days=6)},Instagram\n"
    plan_csv += "Bad,31/02/2027,Myspace\n"
    sent = folks.client_for(ada).post(
        f"/t/{team.team_id}/import", data={"file": (io.BytesIO(plan_csv.encode()), "plan.csv")}
    )
    world.csv_import = sent.headers["Location"].rsplit("/", 1)[1]
    gone = add_post(app, team.team_id, ada, "An old announcement", today - timedelta(days=20))
    with app.app_context():
        posts.trash(*posts.load(team.team_id, gone.post_id), actor=ada.person_id, now=NOW)
        team = teams.team(team.team_id)
        teams.invite(team, address="carla@example.com", role="viewer", invited_by="Ada", now=NOW)
        # Two partner teams (their tags in their colours), an invitation waiting, and Olga's
        # invitation to Ada.
        for name in ("Enoteca Lumen", "Bottega Dolce"):
            theirs = folks.person(f"admin@{name.split()[0].lower()}.example.com", name="Admin")
            partner = folks.team(theirs, name=name)
            sent = partners.invite(team, address=theirs.email, invited_by="Ada", now=NOW)
            partners.accept(people.stored_token(sent), partner, theirs, NOW)
            team = teams.team(team.team_id)
        partners.invite(team, address="pia@example.com", invited_by="Ada", now=NOW)
        olga = folks.person("olga@example.com", name="Olga")
        olgas = folks.team(olga, name="Osteria Olga")
        sent = partners.invite(olgas, address=ada.email, invited_by="Olga", now=NOW)
        world.partner_answer = f"/partners/{sent}"
        raw, _token = people.issue_token("ada@example.com", "sign_in", NOW, timedelta(minutes=10))
        expires = post.due + tokens.VALID_AFTER_DUE

        def act(action: str) -> str:
            token = tokens.sign(
                action,
                person_id=ada.person_id,
                team_id=team.team_id,
                post_id=post.post_id,
                kind="before-60",
                expires=expires,
            )
            return f"/n/{token}"

        world.links = {
            "sign-in confirm": f"/login/{raw}",
            "mark as published": act("published"),
            "hand over": act("handover"),
            "unsubscribe": f"/n/unsubscribe/{tokens.sign('unsubscribe', person_id=ada.person_id)}",
        }
    return world


@pytest.fixture
def world(app, live_server, folks) -> World:
    return build_world(app, live_server, folks)


def signed_in_pages(world: World) -> dict[str, str]:
    """Every page an admin reaches from the navigation, by name."""
    team = f"/t/{world.team_id}"
    post = f"{team}/posts/{world.post.post_id}"
    return {
        "month": f"{team}/month/2027-03",
        "week": f"{team}/week/2027-03-08",
        "agenda": f"{team}/agenda",
        "my posts": "/my/posts",
        "post as a page": post,
        "duplicate": f"{post}/duplicate",
        "new post": f"{team}/posts/new?date=2027-03-12",
        "trash": f"{team}/trash",
        "cadence health": f"{team}/health",
        "events": f"{team}/events",
        "new event": f"{team}/events/new?date=2027-03-20",
        "event": f"{team}/events/{world.event_id}",
        "series templates": f"{team}/series",
        "schedules": f"{team}/schedules",
        "new schedule": f"{team}/schedules/new",
        "team settings": f"{team}/settings",
        "members": f"{team}/members",
        "partners": f"{team}/partners",
        "import": f"{team}/import",
        "import preview": f"{team}/import/{world.csv_import}",
        "partner invitation": world.partner_answer,
        "your teams": "/teams",
        "new team": "/teams/new",
        "profile": "/me",
        "nudges": "/me/nudges",
        "not found": "/t/no-such-team/",
    }


def anonymous_pages(world: World) -> dict[str, str]:
    """Pages seen without a session: signing in, and the pages behind links in emails."""
    return {
        "login": "/login",
        **world.links,
        "expired sign-in link": "/login/no-such-token",
        "broken email link": "/n/no-such-token",
    }


# Pages that answer with an error status, on purpose.
PROBLEM_PAGES = {"not found", "expired sign-in link", "broken email link"}


def visit_every_page(page_as, new_page, live_server, world: World, look, **context):
    """Call ``look(page, name)`` on every page (and on the side panel), signed in or not."""
    signed_in = page_as(world.admin, **context)
    for name, path in signed_in_pages(world).items():
        answer = signed_in.goto(live_server + path)
        assert answer.ok or name in PROBLEM_PAGES, (name, answer.status)
        look(signed_in, name)
    open_side_panel(signed_in, live_server, world)
    look(signed_in, "post as a side panel")

    newcomer = page_as(world.newcomer, **context)
    assert newcomer.goto(f"{live_server}/welcome").ok
    look(newcomer, "welcome")

    for name, path in anonymous_pages(world).items():
        anonymous = new_page(**context)  # a link in an email opens in a fresh browser
        answer = anonymous.goto(live_server + path)
        assert answer.ok or name in PROBLEM_PAGES, (name, answer.status)
        look(anonymous, name)


def open_side_panel(page: Page, base: str, world: World) -> None:
    page.goto(f"{base}/t/{world.team_id}/month/2027-03")
    page.locator(f"a.chip#post-{world.post.post_id}").click()
    expect(page.locator("#panel #post-title")).to_have_text(world.post.title)


def sideways(page: Page) -> int:
    """How many pixels the page is wider than the screen (0: it does not scroll sideways).

    Measured once the page has loaded: a page just navigated to by a click may show its
    content before its stylesheet applies (a busy CI machine once measured 237 px so)."""
    page.wait_for_load_state("load")
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def fits_a_phone(page: Page) -> None:
    """Nothing on the page is wider than the phone it is shown on (once it has loaded)."""
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def small_targets(page: Page) -> list[str]:
    """Visible touch targets shorter than TOUCH px, as 'text (height)'."""
    return page.evaluate(
        """([selector, least]) => Array.from(document.querySelectorAll(selector))
            .filter((element) => element.checkVisibility() && element.getClientRects().length)
            .map((element) => [element, element.getBoundingClientRect()])
            .filter(([element, box]) => box.width > 0 && box.height < least - 0.5)
            .map(([element, box]) =>
                `${(element.innerText || element.getAttribute("aria-label") || "").trim()
                    .replace(/\\s+/g, " ").slice(0, 30)} (${Math.round(box.height)} px)`)""",
        [TOUCH_TARGETS, TOUCH],
    )


def report(found: dict) -> str:
    """One line per page, for an assertion message that is not cut short."""
    return "\n" + "\n".join(f"{name}: {what}" for name, what in found.items())


def shoot(page: Page, name: str) -> None:
    """A screenshot for a person to look at, if CADENZA_SHOTS names a folder."""
    if SHOTS:
        path = Path(SHOTS, f"{name.replace(' ', '-')}.png")
        # A side panel is fixed to the screen: a full-page picture would cut it in the middle.
        full_page = not page.locator("#panel.panel:not(.page-panel):not(:empty)").count()
        page.screenshot(path=str(path), full_page=full_page)


# Phones --------------------------------------------------------------------------------------


def test_no_page_scrolls_sideways_on_a_phone_and_touch_targets_are_44_px(
    page_as, new_page, live_server, world
):
    too_wide, too_small = {}, {}

    def look(page: Page, name: str) -> None:
        shoot(page, f"phone-{name}")
        if extra := sideways(page):
            too_wide[name] = f"{extra} px too wide"
        if small := small_targets(page):
            too_small[name] = small

    visit_every_page(page_as, new_page, live_server, world, look, viewport=PHONE)

    assert not too_wide, report(too_wide)
    assert not too_small, report(too_small)


@pytest.mark.parametrize("width", [360, 390, 414])
def test_the_month_on_a_phone_is_a_list_of_readable_days(page_as, live_server, world, width):
    page = page_as(world.admin, viewport={"width": width, "height": 844})
    page.goto(f"{live_server}/t/{world.team_id}/month/2027-03")
    expect(page.locator("#month-grid")).to_be_visible()
    shoot(page, f"month-{width}")

    assert sideways(page) == 0
    today = page.locator("td.today")
    expect(today).to_be_visible()
    expect(today).to_contain_text("Wed")  # each day says which day it is, not just "10"
    for day, day_posts in world.posts_by_day.items():
        expect(page.locator(f"td#day-{day.isoformat()}")).to_be_visible()
        for post in day_posts:
            chip = page.locator(f"a.chip#post-{post.post_id}")
            expect(chip).to_be_visible()
            box = chip.bounding_box()
            # A chip spans the screen: its title reads as words, not one letter per line.
            assert box["width"] >= 0.75 * width, (post.title, box)
            title = chip.locator(".chip-title").bounding_box()
            assert title["height"] <= 3 * 22, (post.title, title)
    assert small_targets(page) == []


def test_the_post_panel_fills_a_phone_screen_and_closes(page_as, live_server, world):
    page = page_as(world.admin, viewport=PHONE)
    open_side_panel(page, live_server, world)
    shoot(page, "phone-side-panel")

    box = page.locator("#panel").bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844), box
    assert sideways(page) == 0
    page.locator("#panel .close-panel").click()
    expect(page.locator("#panel")).to_be_empty()


def test_the_main_menu_folds_on_a_phone_and_opens_without_javascript(page_as, live_server, world):
    page = page_as(world.admin, viewport=PHONE, java_script_enabled=False)
    page.goto(f"{live_server}/t/{world.team_id}/month/2027-03")
    menu = page.locator("header nav")
    expect(menu.get_by_role("link", name="My posts")).to_be_hidden()

    menu.get_by_text("Menu").click()

    shoot(page, "phone-menu")
    links = [menu.get_by_role("link", name=name) for name in ("My posts", "Profile", "Nudges")]
    links.append(menu.get_by_role("link", name="Cantina Aurora"))
    for link in [*links, menu.get_by_role("button", name="Sign out")]:
        expect(link).to_be_visible()
        assert link.bounding_box()["height"] >= TOUCH
    assert sideways(page) == 0
    menu.get_by_role("link", name="Profile").click()
    expect(page).to_have_url(f"{live_server}/me")


def test_on_a_desktop_the_main_menu_is_open_without_a_menu_button(page_as, live_server, world):
    page = page_as(world.admin, viewport=DESKTOP)
    page.goto(f"{live_server}/t/{world.team_id}/month/2027-03")
    menu = page.locator("header nav")

    expect(menu.get_by_text("Menu", exact=True)).to_be_hidden()
    expect(menu.get_by_role("link", name="My posts")).to_be_visible()
    menu.locator("#person-menu summary").click()
    expect(menu.get_by_role("link", name="Profile")).to_be_visible()


# Accessibility -------------------------------------------------------------------------------


def test_the_vendored_axe_core_is_the_published_4_14_1_build():
    digest = base64.b64encode(hashlib.sha384(AXE.read_bytes()).digest()).decode()
    assert digest == AXE_SHA384
    assert "Mozilla Public License" in (AXE.parent / "axe-core-LICENSE.txt").read_text()


def serious_axe_findings(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, as 'rule: element'.

    The script is evaluated by the test (not added as a <script>), so the page's CSP, which
    only allows the app's own scripts, stays on.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations
                .filter((rule) => rule.impact === "serious" || rule.impact === "critical")
                .flatMap((rule) => rule.nodes.map((node) => `${rule.id}: ${node.target}`));
        }"""
    )


# Both languages on both screens; dark mode once: its colours are the same in either language.
@pytest.mark.parametrize(
    ("language", "screen"),
    [
        ("en", "desktop"),
        ("en", "phone"),
        ("en", "phone in dark mode"),
        ("it", "desktop"),
        ("it", "phone"),
    ],
)
def test_axe_finds_nothing_serious_on_any_page(
    app, live_server, folks, page_as, new_page, language, screen
):
    world = build_world(app, live_server, folks, language)
    found = {}

    def look(page: Page, name: str) -> None:
        shoot(page, f"{screen}-{language}-{name}")
        if findings := serious_axe_findings(page):
            found[name] = findings

    context = {
        "viewport": DESKTOP if screen == "desktop" else PHONE,
        "locale": "it-IT" if language == "it" else "en-GB",
        "color_scheme": "dark" if "dark" in screen else "light",
    }
    visit_every_page(page_as, new_page, live_server, world, look, **context)

    assert not found, report(found)


def press_tab_until_a_post(page: Page, most: int = 10) -> int:
    """Tab (and Enter on the "Skip to posts" link) from the top until a post chip has focus."""
    for presses in range(1, most + 1):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.innerText.trim()") == "Skip to posts":
            page.keyboard.press("Enter")
        if page.evaluate("() => document.activeElement.matches('a.chip')"):
            return presses
    return most + 1


@pytest.mark.parametrize(
    "view", ["month/2027-03", "week/2027-03-08", "agenda", "/my/posts", "no JavaScript"]
)
def test_the_keyboard_reaches_the_first_post_in_a_few_presses(page_as, live_server, world, view):
    javascript = view != "no JavaScript"
    page = page_as(world.admin, viewport=DESKTOP, java_script_enabled=javascript)
    path = view if view.startswith("/") else f"/t/{world.team_id}/{view}"
    page.goto(live_server + (path if javascript else f"/t/{world.team_id}/month/2027-03"))
    first_chip = page.locator("main a.chip").first.get_attribute("id")

    assert press_tab_until_a_post(page) <= 5
    assert page.evaluate("() => document.activeElement.id") == first_chip


def test_skipping_to_posts_after_moving_to_another_month_lands_on_that_months_first_post(
    page_as, live_server, world
):
    page = page_as(world.admin, viewport=DESKTOP)
    page.goto(f"{live_server}/t/{world.team_id}/month/2027-02")  # no posts in February
    page.locator(".period a.nav-arrow").last.click()  # March, swapped in by htmx
    expect(page.locator("#period-title")).to_have_text("March 2027")

    page.get_by_role("link", name="Skip to posts").focus()
    page.keyboard.press("Enter")

    expect(page.locator("main a.chip").first).to_be_focused()
