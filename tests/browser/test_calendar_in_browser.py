"""The planner in a real browser: the month grid, the post panel, drag and drop, filters."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from app.store import posts

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Europe/Rome")  # the zone of everyone the `folks` fixture creates
# Tests that need no "today" use one month, so they never straddle one: March of next year,
# always ahead of the real date (Chromium keeps the real clock, see conftest.py) and with the
# switch to summer time on its last Sunday, which the keyboard move into April crosses.
YEAR = datetime.now(ZONE).year + 1
MONTH = f"{YEAR}-03"
TALL = {"width": 1400, "height": 1000}  # the whole month grid in view


def march(day: int) -> date:
    """A day of MONTH."""
    return date(YEAR, 3, day)


# The Monday of MONTH's second week (the 8th to the 14th): its whole week is in MONTH.
MONDAY = march(8 + (7 - march(8).weekday()) % 7)
WEDNESDAY, FRIDAY = MONDAY + timedelta(days=2), MONDAY + timedelta(days=4)


@dataclass
class Team:
    team_id: str
    admin: object  # Ada, who created the team
    editor: object  # Bruno

    def month_url(self, base: str, month: str = MONTH, **query: str) -> str:
        query_string = "&".join(f"{name}={value}" for name, value in query.items())
        return f"{base}/t/{self.team_id}/month/{month}" + (f"?{query_string}" if query else "")


@pytest.fixture
def team(folks) -> Team:
    ada = folks.person("ada@example.com", name="Ada Lovelace")
    bruno = folks.person("bruno@example.com", name="Bruno Munari")
    created = folks.team(ada, name="Cantina Aurora")
    folks.join(created, bruno, "editor")
    return Team(created.team_id, ada, bruno)


def add_post(app, team: Team, owner, title: str, day: date, at: time = time(9, 0)):
    """A post due on ``day`` at ``at`` (Rome time), straight into the store."""
    due = datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)
    with app.app_context():
        post = posts.new_post(
            team.team_id,
            title=title,
            zone=str(ZONE),
            created_by=owner.person_id,
            now=datetime.now(UTC),
            due=due,
            owner_id=owner.person_id,
            channels=["Instagram"],
            status="draft",
        )
        posts.create(post, copy="")
    return post


def stored(app, team: Team, post_id: str):
    with app.app_context():
        return posts.load(team.team_id, post_id)[0]


def cell(page: Page, day: date | str) -> Locator:
    return page.locator(f"td#day-{day if isinstance(day, str) else day.isoformat()}")


def chip(page: Page, post) -> Locator:
    return page.locator(f"a.chip#post-{post.post_id}")


def open_panel(page: Page, post) -> None:
    """Click a chip: the post panel opens beside the calendar."""
    chip(page, post).click()
    expect(page.locator("#panel #post-title")).to_have_text(post.title)


# Tests ---------------------------------------------------------------------------------------


def save_a_post_on_a_day(page: Page, base: str, team: Team) -> str:
    """On the current month, click a day's number, fill the form and save; the day, ISO."""
    page.goto(f"{base}/t/{team.team_id}/")
    expect(page.locator("#month-grid")).to_be_visible()
    day = page.locator("#month-grid td.day:not(.other-month)").nth(14).get_attribute("data-date")
    assert day, "no day cells in the current month"

    cell(page, day).locator("a.day-number").click()
    panel = page.locator("#panel")
    expect(panel.locator("#post-form")).to_be_visible()
    expect(panel.get_by_label("Date")).to_have_value(day)
    panel.get_by_label("Title").fill("Harvest open day")
    panel.get_by_label("Instagram").check()
    panel.get_by_role("button", name="Save post").click()
    expect(panel.locator("#post-title")).to_have_text("Harvest open day")
    return day


def test_clicking_a_day_opens_the_form_and_saves_a_post_on_that_day(page_as, live_server, team):
    page = page_as(team.admin)
    day = save_a_post_on_a_day(page, live_server, team)

    saved = cell(page, day).locator("a.chip", has_text="Harvest open day")
    expect(saved).to_be_visible()  # the calendar refreshed itself (calendar-changed)
    expect(saved.locator("time")).to_have_text("09:00")
    expect(saved).to_contain_text("Instagram")

    page.goto(f"{live_server}/t/{team.team_id}/")
    expect(cell(page, day).locator("a.chip", has_text="Harvest open day")).to_be_visible()


def test_reloading_after_saving_a_new_post_shows_the_post(page_as, live_server, team):
    page = page_as(team.admin)
    save_a_post_on_a_day(page, live_server, team)

    page.reload()

    expect(page.locator("#month-grid, #post-form")).not_to_have_count(0)  # loaded
    expect(page.locator("main")).to_contain_text("Harvest open day", timeout=1000)


def test_the_saved_message_stays_after_the_calendar_refreshes(page_as, live_server, team, app):
    post = add_post(app, team, team.admin, "Autumn tasting", march(9))
    page = page_as(team.admin)
    page.goto(team.month_url(live_server))
    open_panel(page, post)

    page.locator("#post-form").get_by_label("Title").fill("Autumn tasting: six wines")
    page.locator("#post-form").get_by_role("button", name="Save changes").click()

    expect(chip(page, post)).to_contain_text("Autumn tasting: six wines")  # refreshed
    expect(page.locator("#flash")).to_contain_text("Post saved.", timeout=1000)


def test_dragging_a_post_to_another_day_moves_it_and_keeps_its_time(
    page_as, live_server, team, app
):
    # From a Wednesday to the next week's Thursday; the Friday shares the Wednesday's row, so
    # re-rendering that whole row would wipe its mark too.
    start, target, other = WEDNESDAY, WEDNESDAY + timedelta(days=8), FRIDAY
    post = add_post(app, team, team.admin, "Barrel tasting", start, time(14, 35))
    # Chromium does not scroll during a native drag: both cells must be in the viewport.
    page = page_as(team.admin, viewport=TALL)
    page.goto(team.month_url(live_server))
    expect(chip(page, post)).to_be_visible()
    ids = {"from": f"day-{start}", "to": f"day-{target}", "other": f"day-{other}"}
    page.evaluate(
        """(ids) => {
            window.notReloaded = true;
            for (const id of Object.values(ids)) {
                document.getElementById(id).marked = true;
            }
            document.getElementById("calendar").marked = true;
        }""",
        ids,
    )

    chip(page, post).drag_to(cell(page, target))

    moved = cell(page, target).locator(f"#post-{post.post_id}")
    expect(moved).to_be_visible()
    expect(moved.locator("time")).to_have_text("14:35")
    expect(cell(page, start).locator("a.chip")).to_have_count(0)
    expect(page.locator(f"#post-{post.post_id}")).to_have_count(1)
    marks = page.evaluate(
        """(ids) => ({
            reloaded: window.notReloaded !== true,
            from: document.getElementById(ids.from).marked === true,
            to: document.getElementById(ids.to).marked === true,
            other: document.getElementById(ids.other).marked === true,
            calendar: document.getElementById("calendar").marked === true,
        })""",
        ids,
    )
    # Only the two day cells were swapped: the rest of the calendar is the same DOM.
    assert marks == {
        "reloaded": False,
        "from": False,
        "to": False,
        "other": True,
        "calendar": True,
    }, marks

    moved_post = stored(app, team, post.post_id)
    assert moved_post.due.astimezone(ZONE) == datetime.combine(target, time(14, 35), ZONE)
    page.goto(team.month_url(live_server))
    expect(cell(page, target).locator(f"#post-{post.post_id} time")).to_have_text("14:35")
    expect(cell(page, start).locator("a.chip")).to_have_count(0)


def test_dragging_an_idea_onto_a_day_plans_it_as_a_draft(page_as, live_server, team, app):
    with app.app_context():
        idea = posts.new_post(
            team.team_id,
            title="Meet the winemaker",
            zone=str(ZONE),
            created_by=team.editor.person_id,
            now=datetime.now(UTC),
        )
        posts.create(idea)
    page = page_as(team.admin, viewport=TALL)
    page.goto(team.month_url(live_server))
    expect(page.locator("#ideas-list").locator(f"#post-{idea.post_id}")).to_be_visible()

    chip(page, idea).drag_to(cell(page, march(16)))

    planned = cell(page, march(16)).locator(f"#post-{idea.post_id}")
    expect(planned).to_be_visible()
    expect(planned.locator("time")).to_have_text("09:00")  # ideas get the default time
    expect(planned.locator(".badge.status")).to_have_text("Draft")
    expect(page.locator(f"#idea-{idea.post_id}")).to_have_count(0)
    saved = stored(app, team, idea.post_id)
    assert (saved.status, saved.owner_id) == ("draft", team.admin.person_id)  # who planned it


def test_after_a_drop_the_address_is_still_the_month_and_reloading_shows_the_move(
    page_as, live_server, team, app
):
    post = add_post(app, team, team.admin, "Barrel tasting", march(10), time(14, 35))
    page = page_as(team.admin, viewport=TALL)
    page.goto(team.month_url(live_server))

    chip(page, post).drag_to(cell(page, march(18)))
    expect(cell(page, march(18)).locator(f"#post-{post.post_id}")).to_be_visible()

    expect(page).to_have_url(team.month_url(live_server), timeout=1000)
    page.reload()
    expect(cell(page, march(18)).locator(f"#post-{post.post_id} time")).to_have_text("14:35")


def test_dragging_a_post_in_the_week_view_moves_it(page_as, live_server, team, app):
    post = add_post(app, team, team.admin, "Barrel tasting", WEDNESDAY, time(14, 35))
    page = page_as(team.admin, viewport=TALL)
    page.goto(f"{live_server}/t/{team.team_id}/week/{MONDAY}")
    friday = page.locator(f'#week-grid [data-date="{FRIDAY}"]')

    with page.expect_response(re.compile(r"/move(\?|$)")) as answer:
        chip(page, post).drag_to(friday)
    assert answer.value.ok

    assert stored(app, team, post.post_id).due.astimezone(ZONE).date() == FRIDAY
    expect(friday.locator(f"#post-{post.post_id}")).to_be_visible(timeout=2000)


def test_filtering_by_owner_is_kept_in_the_url_and_the_back_button_restores_it(
    page_as, live_server, team, app
):
    adas = add_post(app, team, team.admin, "Ada's reel", march(4))
    brunos = add_post(app, team, team.editor, "Bruno's story", march(5))
    also_brunos = add_post(app, team, team.editor, "Bruno's recap", march(22))
    page = page_as(team.admin)
    start = team.month_url(live_server)
    page.goto(start)
    chips = page.locator("#month-grid a.chip")
    expect(chips).to_have_count(3)
    page.evaluate("window.notReloaded = true")

    page.locator("#filter-owner").select_option(label="Bruno Munari")

    expect(page).to_have_url(re.compile(rf"[?&]owner={team.editor.person_id}(&|$)"))
    expect(chips).to_have_count(2)
    expect(chip(page, brunos)).to_be_visible()
    expect(chip(page, also_brunos)).to_be_visible()
    expect(chip(page, adas)).to_have_count(0)
    expect(page.locator("#filter-owner")).to_have_value(team.editor.person_id)
    assert page.evaluate("window.notReloaded") is True  # swapped, not reloaded

    page.go_back()

    expect(page).to_have_url(start)
    expect(chips).to_have_count(3)
    expect(chip(page, adas)).to_be_visible()
    expect(page.locator("#filter-owner")).to_have_value("")

    page.go_forward()  # and forward again: the filtered calendar
    expect(page).to_have_url(re.compile(rf"[?&]owner={team.editor.person_id}(&|$)"))
    expect(chips).to_have_count(2)


def two_editors_open_the_same_post(page_as, live_server, team, app):
    post = add_post(app, team, team.admin, "Autumn tasting", march(9))
    ada, bruno = page_as(team.admin), page_as(team.editor)
    for page in (ada, bruno):
        page.goto(team.month_url(live_server))
        open_panel(page, post)

    ada.locator("#post-form").get_by_label("Title").fill("Autumn tasting: six wines")
    ada.locator("#post-form").get_by_role("button", name="Save changes").click()
    expect(ada.locator("#panel #post-title")).to_have_text("Autumn tasting: six wines")
    expect(chip(ada, post)).to_contain_text("Autumn tasting: six wines")  # calendar refreshed

    bruno.locator("#post-form").get_by_label("Title").fill("Autumn tasting with Enoteca Lumen")
    bruno.locator("#post-form").get_by_role("button", name="Save changes").click()
    conflict = bruno.locator("#panel .conflict")
    expect(conflict).to_be_visible()
    title_row = conflict.locator("tbody tr", has=bruno.locator("th", has_text="Title"))
    expect(title_row.locator("td.yours")).to_have_text("Autumn tasting with Enoteca Lumen")
    expect(title_row.locator("td.theirs")).to_have_text("Autumn tasting: six wines")
    assert stored(app, team, post.post_id).title == "Autumn tasting: six wines"  # not overwritten
    return post, ada, bruno


def test_an_edit_conflict_from_two_browsers_is_resolved_without_losing_either_version(
    page_as, live_server, team, app
):
    post, _ada, bruno = two_editors_open_the_same_post(page_as, live_server, team, app)

    bruno.locator("#keep-mine").click()

    expect(bruno.locator("#panel .conflict")).to_have_count(0)
    expect(bruno.locator("#panel #post-title")).to_have_text("Autumn tasting with Enoteca Lumen")
    expect(bruno.locator(f"#post-{post.post_id}")).to_contain_text(
        "Autumn tasting with Enoteca Lumen"
    )
    saved = stored(app, team, post.post_id)
    assert saved.title == "Autumn tasting with Enoteca Lumen"
    # Both versions are in the history: Ada's change, then Bruno's on top of it.
    history = bruno.locator("#history .changes")
    expect(history.filter(has_text="Autumn tasting: six wines")).not_to_have_count(0)
    expect(history.filter(has_text="Autumn tasting with Enoteca Lumen")).not_to_have_count(0)


def test_taking_theirs_after_an_edit_conflict_shows_the_saved_version(
    page_as, live_server, team, app
):
    post, _ada, bruno = two_editors_open_the_same_post(page_as, live_server, team, app)
    version = stored(app, team, post.post_id).version

    bruno.locator("#take-theirs").click()

    expect(bruno.locator("#panel .conflict")).to_have_count(0)
    expect(bruno.locator("#panel #post-title")).to_have_text("Autumn tasting: six wines")
    expect(bruno.locator("#post-form").get_by_label("Title")).to_have_value(
        "Autumn tasting: six wines"
    )
    saved = stored(app, team, post.post_id)
    assert (saved.title, saved.version) == ("Autumn tasting: six wines", version)


def test_switching_to_italian_translates_the_calendar(page_as, live_server, team):
    page = page_as(team.admin)
    page.goto(f"{live_server}/me")
    page.get_by_label("Language").select_option("it")
    page.locator("#profile-form").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")

    page.goto(team.month_url(live_server, "2026-11"))
    expect(page.locator("#period-title")).to_have_text("novembre 2026")
    headers = page.locator("#month-grid thead th")
    expect(headers).to_have_text(["lun", "mar", "mer", "gio", "ven", "sab", "dom"])
    expect(headers.first).to_have_attribute("abbr", "lunedì")
    nav = page.locator("nav.team-nav")
    expect(nav.get_by_role("link", name="Calendario")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Membri")).to_be_visible()
    expect(page.locator(".view-switch a")).to_have_text(["Mese", "Settimana", "Agenda"])
    expect(page.locator("#person-menu button[type=submit]")).to_have_text("Esci")
    expect(page.locator("#ideas-heading")).to_have_text("Idee")

    page.locator(".period a.nav-arrow").last.click()  # the next month, swapped by htmx
    expect(page.locator("#period-title")).to_have_text("dicembre 2026")


def test_the_keyboard_can_move_a_post_to_another_date(page_as, live_server, team, app):
    april = date(YEAR, 4, 7)  # after the switch to summer time: 17:45 is another UTC hour
    post = add_post(app, team, team.admin, "Cellar door hours", march(3), time(17, 45))
    page = page_as(team.admin)
    page.goto(team.month_url(live_server))
    chip(page, post).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#panel #post-title")).to_have_text("Cellar door hours")

    more = page.locator("#panel details.post-actions")
    more.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    move_date = page.locator("#move-date")
    expect(move_date).to_be_focused()
    expect(move_date).to_have_value(march(3).isoformat())
    move_date.fill(april.isoformat())
    page.keyboard.press("Enter")

    expect(page).to_have_url(team.month_url(live_server, f"{YEAR}-04"))
    moved = cell(page, april).locator(f"#post-{post.post_id}")
    expect(moved).to_be_visible()
    expect(moved.locator("time")).to_have_text("17:45")
    expect(page.locator("#flash")).to_contain_text("Post moved.")
    moved_post = stored(app, team, post.post_id)
    assert moved_post.due.astimezone(ZONE) == datetime.combine(april, time(17, 45), ZONE)
