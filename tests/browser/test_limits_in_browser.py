"""The limits of issue 9 as a person meets them, on a phone and in Italian: an admin takes tags
off the team's list, and a long discussion opens at its newest comments with "Show older"."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.planner.history import HISTORY_PAGE
from app.store import posts, teams

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def giulia(folks):
    """Giulia, admin of Cantina Aurora, reads Cadenza in Italian."""
    giulia = folks.person("giulia@example.com", name="Giulia Rossi", language="it")
    return giulia, folks.team(giulia, name="Cantina Aurora")


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_admin_takes_tags_off_the_teams_list_on_a_phone_in_italian(
    page_as, live_server, app, folks, giulia
):
    person, team = giulia
    used = {"vendemmia", "degustazione", "langhe"}
    post = folks.post(team, owner=person, created_by=person, status="draft", tags=used)
    page = page_as(person, viewport=PHONE)
    page.goto(f"{live_server}/t/{team.team_id}/settings")
    tags = page.locator("#tags-form")
    expect(tags.get_by_label("#degustazione")).to_be_visible()
    _no_sideways_scroll(page)

    tags.get_by_label("#degustazione").check()
    tags.get_by_label("#langhe").check()
    tags.get_by_role("button", name="Togli i tag scelti").click()
    expect(page.get_by_text("Tag tolti.")).to_be_visible()

    page.reload()
    expect(page.locator("#tags-form").get_by_label("#vendemmia")).to_be_visible()
    expect(page.locator("#tags-form").get_by_label("#degustazione")).to_have_count(0)
    with app.app_context():
        assert teams.team(team.team_id).tags == {"vendemmia"}
        assert posts.load(team.team_id, post.post_id)[0].tags == used  # the post keeps its tags


def test_a_long_discussion_opens_at_its_newest_comments_and_shows_older_ones_on_a_phone(
    page_as, live_server, folks, giulia
):
    person, team = giulia
    post = folks.post(team, owner=person, created_by=person, status="draft")
    start = datetime.now(UTC)
    count = HISTORY_PAGE + 5
    for number in range(count):
        posts.comment(
            post,
            actor=person.person_id,
            text=f"Commento {number}",
            now=start + timedelta(0, number),
        )
    page = page_as(person, viewport=PHONE)
    page.goto(f"{live_server}/t/{team.team_id}/posts/{post.post_id}")
    comments = page.locator("#history").get_by_text(re.compile(r"^Commento \d+$"))
    expect(comments).to_have_count(HISTORY_PAGE)
    expect(page.get_by_text(f"Commento {count - 1}", exact=True)).to_be_visible()
    _no_sideways_scroll(page)

    older = page.get_by_role("link", name="Mostra i precedenti")
    assert older.bounding_box()["height"] >= 44  # a touch target
    older.click()
    expect(comments).to_have_count(count)
    expect(page.get_by_text("Commento 0", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Mostra i precedenti")).to_have_count(0)
    _no_sideways_scroll(page)
