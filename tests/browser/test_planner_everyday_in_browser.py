"""Everyday calendar use in a real browser (issue 7): merges, grey days, headings, addresses."""

import re
from datetime import date, datetime, time, timedelta

import pytest
import test_calendar_in_browser
from playwright.sync_api import expect
from test_calendar_in_browser import (
    MONDAY,
    TALL,
    WEDNESDAY,
    YEAR,
    ZONE,
    add_post,
    cell,
    chip,
    march,
    open_panel,
    stored,
)

from app.store import posts

pytestmark = pytest.mark.browser
team = test_calendar_in_browser.team  # the fixture: Ada (admin) and Bruno (editor)
TUESDAY = MONDAY + timedelta(days=1)


def grey_days() -> list[date]:
    """The days on March's grid outside March, in order, for weeks starting on Monday (as the
    team fixture's people have them). Whole weeks around 31 days leave at least four: before
    1 March, after the 31st or both, depending on the year."""
    first = march(1) - timedelta(days=march(1).weekday())
    last = march(31) + timedelta(days=6 - march(31).weekday())
    grid = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in grid if day.month != 3]


def _body(app, team, post_id: str):
    with app.app_context():
        return posts.load(team.team_id, post_id)[1]


def test_changes_to_different_fields_from_a_stale_page_are_both_kept(
    page_as, live_server, team, app
):
    post = add_post(app, team, team.admin, "Autumn tasting", TUESDAY, time(10, 0))
    ada, bruno = page_as(team.admin), page_as(team.editor)
    for page in (ada, bruno):
        page.goto(team.month_url(live_server))
        open_panel(page, post)

    ada_form = ada.locator("#post-form")
    ada_form.get_by_label("Copy").fill("Six wines, one evening.")
    ada_form.get_by_label("Time").fill("18:30")
    ada_form.get_by_role("button", name="Save changes").click()
    expect(chip(ada, post).locator("time")).to_have_text("18:30")

    bruno_form = bruno.locator("#post-form")  # still the page Bruno opened before Ada saved
    bruno_form.get_by_label("Title").fill("Autumn tasting with Enoteca Lumen")
    bruno_form.get_by_label("Facebook").check()
    bruno_form.get_by_role("button", name="Save changes").click()

    expect(bruno.locator("#panel #post-title")).to_have_text("Autumn tasting with Enoteca Lumen")
    expect(bruno.locator("#panel .conflict")).to_have_count(0)
    expect(bruno.locator("#post-form").get_by_label("Copy")).to_have_value(
        "Six wines, one evening."
    )
    expect(chip(bruno, post).locator("time")).to_have_text("18:30")
    saved = stored(app, team, post.post_id)
    assert saved.title == "Autumn tasting with Enoteca Lumen"
    assert sorted(saved.channels) == ["Facebook", "Instagram"]
    assert saved.due.astimezone(ZONE) == datetime.combine(TUESDAY, time(18, 30), tzinfo=ZONE)
    assert _body(app, team, post.post_id).copy == "Six wines, one evening."


def test_a_conflict_asks_only_about_the_field_both_changed(page_as, live_server, team, app):
    post = add_post(app, team, team.admin, "Autumn tasting", TUESDAY)
    ada, bruno = page_as(team.admin), page_as(team.editor)
    for page in (ada, bruno):
        page.goto(team.month_url(live_server))
        open_panel(page, post)

    ada_form = ada.locator("#post-form")
    ada_form.get_by_label("Title").fill("Autumn tasting: six wines")
    ada_form.get_by_label("Copy").fill("Ada's copy")
    ada_form.get_by_role("button", name="Save changes").click()
    expect(chip(ada, post)).to_contain_text("Autumn tasting: six wines")

    bruno_form = bruno.locator("#post-form")
    bruno_form.get_by_label("Title").fill("Autumn tasting with Enoteca Lumen")
    bruno_form.get_by_label("Notes").fill("Bruno's notes")
    bruno_form.get_by_role("button", name="Save changes").click()

    rows = bruno.locator("#panel .conflict tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.locator("th")).to_have_text("Title")
    expect(rows.locator("td.yours")).to_have_text("Autumn tasting with Enoteca Lumen")
    expect(rows.locator("td.theirs")).to_have_text("Autumn tasting: six wines")

    bruno.locator("#keep-mine").click()

    expect(bruno.locator("#panel .conflict")).to_have_count(0)
    expect(bruno.locator("#panel #post-title")).to_have_text("Autumn tasting with Enoteca Lumen")
    body = _body(app, team, post.post_id)
    assert (body.copy, body.notes) == ("Ada's copy", "Bruno's notes")


def test_the_grid_shows_and_takes_posts_on_the_grey_days(page_as, live_server, team, app):
    shown, target = grey_days()[0], grey_days()[-1]
    neighbour = add_post(app, team, team.admin, "Wine fair", shown)
    barrel = add_post(app, team, team.admin, "Barrel tasting", WEDNESDAY, time(14, 35))
    # Chromium does not scroll during a native drag: the grid's last row must be in view.
    page = page_as(team.admin, viewport={**TALL, "height": 1400})
    page.goto(team.month_url(live_server))
    for day in (shown, target):
        expect(cell(page, day)).to_have_class(re.compile("other-month"))
    expect(cell(page, shown).locator(f"#post-{neighbour.post_id}")).to_be_visible()

    chip(page, barrel).drag_to(cell(page, target))

    expect(cell(page, target).locator(f"#post-{barrel.post_id} time")).to_have_text("14:35")
    expect(cell(page, WEDNESDAY).locator("a.chip")).to_have_count(0)
    assert stored(app, team, barrel.post_id).due.astimezone(ZONE) == datetime.combine(
        target, time(14, 35), tzinfo=ZONE
    )


def test_headings_capitalise_only_their_first_letter(page_as, live_server, team, folks, app):
    add_post(app, team, team.admin, "Autumn tasting", TUESDAY)
    page = page_as(team.admin)
    page.goto(f"{live_server}/t/{team.team_id}/week/{MONDAY.isoformat()}")
    assert page.locator("#period-title").inner_text() == f"Week of {MONDAY.day} March {YEAR}"

    marco = folks.person("marco@example.com", name="Marco", language="it")
    folks.join(team, marco, "editor")
    italian = page_as(marco)
    italian.goto(f"{live_server}/t/{team.team_id}/week/{MONDAY.isoformat()}")
    assert (
        italian.locator("#period-title").inner_text() == f"Settimana del {MONDAY.day} marzo {YEAR}"
    )
    italian.goto(team.month_url(live_server))
    assert italian.locator("#period-title").inner_text() == f"Marzo {YEAR}"
    italian.goto(f"{live_server}/t/{team.team_id}/agenda?from={MONDAY.isoformat()}")
    assert (
        italian.locator(f"#agenda-{TUESDAY.isoformat()}").inner_text()
        == f"Martedì {TUESDAY.day} marzo"
    )


def test_closing_the_panel_leaves_the_calendars_address(page_as, live_server, team, app):
    post = add_post(app, team, team.admin, "Autumn tasting", TUESDAY)
    page = page_as(team.admin)
    page.goto(team.month_url(live_server))
    open_panel(page, post)
    expect(page).to_have_url(re.compile(rf"/posts/{post.post_id}$"))

    page.keyboard.press("Escape")

    expect(page.locator("#panel #post-title")).to_have_count(0)
    assert page.url == team.month_url(live_server)


@pytest.mark.parametrize("javascript", [True, False])
def test_a_chosen_filter_gives_a_clean_address(page_as, live_server, team, javascript):
    page = page_as(team.admin, java_script_enabled=javascript)
    page.goto(team.month_url(live_server))

    page.locator("#filter-status").select_option("draft")
    if not javascript:
        page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(team.month_url(live_server, status="draft"))
    expect(page.locator("#filter-status")).to_have_value("draft")


def test_asking_for_changes_without_a_comment_says_so_beside_the_box(
    page_as, live_server, team, app
):
    due = datetime.combine(TUESDAY, time(10), tzinfo=ZONE)
    with app.app_context():
        post = posts.new_post(
            team.team_id,
            title="Autumn tasting",
            zone=str(ZONE),
            created_by=team.editor.person_id,
            now=due,
            due=due,
            owner_id=team.editor.person_id,
            status="in_review",
            reviewer_id=team.admin.person_id,
        )
        posts.create(post)
    page = page_as(team.admin)
    page.goto(team.month_url(live_server))
    open_panel(page, post)

    page.locator("#panel").get_by_role("button", name="Ask for changes").click()

    expect(page.locator("#review-comment-error")).to_have_text(
        "Say what should change, so the author knows."
    )
    expect(page.get_by_label("Comment (needed when you ask for changes)")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.locator("#panel #post-form")).to_be_visible()
    expect(page.locator("#panel #post-title")).to_have_text("Autumn tasting")
    assert stored(app, team, post.post_id).status == "in_review"
