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
from app.planner import periods
from app.store import events, keys, people, posts, schedules

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
