"""Forms in a real browser: they show what is stored, and saving one changes only what changed."""

import pytest
from playwright.sync_api import Page, expect

from app.nudges import tokens
from app.store import people, teams

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def field(page: Page, selector: str):
    return expect(page.locator(f"#preferences-form {selector}"))


@pytest.mark.parametrize(
    ("language", "viewport"), [("en", None), ("it", PHONE)], ids=["english", "italian-phone"]
)
def test_nudge_preferences_show_what_was_saved_and_keep_nudges_on(
    folks, page_as, live_server, language, viewport
):
    bruno = folks.person("bruno@example.com", "Bruno Munari", language=language)
    folks.team(bruno, "Cantina Aurora")
    page = page_as(bruno, **({"viewport": viewport} if viewport else {}))
    page.goto(f"{live_server}/me/nudges")
    field(page, "#nudges_on").to_be_checked()  # someone new gets nudges
    field(page, "input[name=leads][value='1440']").to_be_checked()  # the team's times shown

    page.locator("#custom_leads").check()
    page.locator("input[name=leads][value='4320']").check()
    page.locator("input[name=leads][value='60']").uncheck()
    page.locator("#digest_on").check()
    page.locator("#digest_at").fill("07:30")
    page.locator("#preferences-form button[type=submit]").click()
    expect(page.locator("#flash .notice-success")).to_be_visible()

    page.reload()
    field(page, "#nudges_on").to_be_checked()
    field(page, "#custom_leads").to_be_checked()
    field(page, "input[name=leads][value='4320']").to_be_checked()
    field(page, "input[name=leads][value='1440']").to_be_checked()
    field(page, "input[name=leads][value='60']").not_to_be_checked()
    field(page, "#digest_on").to_be_checked()
    field(page, "#digest_at").to_have_value("07:30")

    # Only the quiet hours change; everything else stays as it was.
    page.locator("#quiet_start").fill("22:30")
    page.locator("#preferences-form button[type=submit]").click()
    expect(page.locator("#flash .notice-success")).to_be_visible()
    page.reload()
    field(page, "#quiet_start").to_have_value("22:30")
    field(page, "#nudges_on").to_be_checked()
    field(page, "#custom_leads").to_be_checked()
    field(page, "#digest_on").to_be_checked()
    stored = people.person(bruno.person_id)
    assert stored.nudges_on and stored.digest_on and stored.quiet_start == "22:30"
    assert [int(m) for m in stored.lead_minutes] == [4320, 1440]
    # The page fits the phone: nothing scrolls sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_demoting_the_only_admin_explains_itself_beside_the_member_table(
    folks, page_as, live_server, javascript
):
    anna = folks.person("anna@example.com", "Anna Rossi")
    bruno = folks.person("bruno@example.com", "Bruno Munari")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, bruno, "editor")
    page = page_as(anna, java_script_enabled=javascript)
    page.goto(f"{live_server}/t/{team.team_id}/members")

    page.locator(f"#role-{anna.person_id}").select_option("editor")
    if not javascript:
        page.locator(f"#member-{anna.person_id} button", has_text="Change").click()

    members = page.locator("#member-list")
    expect(members.get_by_role("alert")).to_contain_text("A team needs at least one admin")
    expect(page.locator("body")).not_to_contain_text("Changed meanwhile")
    expect(members.locator("table")).to_contain_text("Bruno Munari")
    expect(page.locator(f"#role-{anna.person_id}")).to_have_value("admin")  # as stored
    expect(page.locator("#invite-form")).to_be_visible()  # the rest of the page is still there


def test_a_nudge_link_opens_in_the_recipients_language_and_works_once(
    app, folks, new_page, live_server
):
    marco = folks.person("marco@example.com", "Marco Bianchi", language="it")
    team = teams.team(folks.team(marco, "Cantina Aurora").team_id)
    post = folks.post(team, owner=marco, created_by=marco, status="draft")
    with app.test_request_context():
        token = tokens.sign(
            "snooze",
            person_id=marco.person_id,
            team_id=team.team_id,
            post_id=post.post_id,
            kind="before-1440",
            expires=post.due + tokens.VALID_AFTER_DUE,
        )
    page = new_page(locale="en-GB", viewport=PHONE)  # an English phone, not signed in
    page.goto(f"{live_server}/n/{token}")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.locator("#person-menu")).to_have_count(0)
    page.locator("#act-button").click()
    expect(page.locator("#done-message")).to_contain_text("Te lo ricorderemo di nuovo")

    page.goto(f"{live_server}/n/{token}")
    expect(page.locator("#link-problem")).to_have_text("Questo link è già stato usato.")
    expect(page.locator("main form")).to_have_count(0)
