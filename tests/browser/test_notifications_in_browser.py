"""Notifications in a real browser: an editor mentions a colleague in a comment, the job sends
the batch, the colleague reads it in the outbox and approves the post from the review
request's one-click link (a confirm page, then the button); the post shows it approved after a
reload. On a desktop and a phone, in English and Italian."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app import nudges
from app.planner import changes
from app.store import people, posts, teams
from tests.browser.test_phone_and_accessibility import PHONE

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
WORDS = {
    "en": {"comment": "Add comment", "review": "Please review", "approved": "Approved"},
    "it": {"comment": "Aggiungi commento", "review": "Da rivedere", "approved": "Approvato"},
}


@pytest.fixture
def review(app, folks):
    """Marco's post in review by Sara (both editors of Cantina Aurora), due in two days."""
    anna = folks.person("anna@example.com", "Anna Rossi")
    marco = folks.person("marco@example.com", "Marco Bianchi")
    sara = folks.person("sara@example.com", "Sara Verdi")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, marco, "editor")
    folks.join(team, sara, "editor")
    now = folks.now()
    post = posts.new_post(
        team.team_id,
        title="Harvest teaser",
        zone="Europe/Rome",
        created_by=marco.person_id,
        now=now,
        due=now + timedelta(days=2),
        owner_id=marco.person_id,
        channels=["Instagram"],
        status="in_review",
        reviewer_id=sara.person_id,
    )
    with app.app_context():
        changes.create(post, teams.team(team.team_id), now, copy="New wine, first look")
    return {"app": app, "folks": folks, "marco": marco, "sara": sara, "post": post}


def message_to(page, base: str, address: str, subject: re.Pattern):
    page.goto(f"{base}/dev/outbox")
    return (
        page.locator("article.outbox-message")
        .filter(has=page.locator("header", has_text=address))
        .filter(has_text=subject)
        .first
    )


@pytest.mark.parametrize(("language", "viewport"), [("en", DESKTOP), ("en", PHONE), ("it", PHONE)])
def test_a_mention_reaches_the_colleague_who_approves_from_the_email(
    page_as, live_server, review, language, viewport
):
    marco, sara, post, words = review["marco"], review["sara"], review["post"], WORDS[language]
    with review["app"].app_context():
        for someone in (marco, sara):
            people.update_profile(
                someone, name=someone.name, language=language, zone="Europe/Rome", week_start=0
            )
    panel = f"{live_server}/t/{post.team_id}/posts/{post.post_id}"
    page = page_as(marco, viewport=viewport)
    page.goto(panel)
    page.locator("#comment-text").fill("@Sara Verdi is the teaser warm enough?")
    page.get_by_role("button", name=words["comment"]).click()
    expect(page.locator("#history")).to_contain_text("is the teaser warm enough?")
    page.reload()  # stored, not only shown
    expect(page.locator("#history")).to_contain_text("is the teaser warm enough?")

    nudges.run_once(review["app"], review["folks"].now() + timedelta(minutes=1))

    reader = page_as(sara, viewport=viewport)
    batch = message_to(reader, live_server, sara.email, re.compile("need|bisogno"))
    expect(batch.locator("pre.text-part")).to_contain_text("Marco Bianchi")
    expect(batch.locator("pre.text-part")).to_contain_text("Harvest teaser")
    expect(batch.locator("pre.text-part")).to_contain_text("is the teaser warm enough?")

    request = message_to(reader, live_server, sara.email, re.compile(words["review"]))
    request.locator("pre.text-part a[href*='/n/']").first.click()
    expect(reader.locator("#act-button")).to_be_visible()
    assert posts.load(post.team_id, post.post_id)[0].status == "in_review"  # a GET acts not
    reader.locator("#act-button").click()
    expect(reader.locator("main")).to_contain_text("Harvest teaser")

    page.goto(panel)
    expect(page.locator(".badge.status")).to_have_text(words["approved"])
