"""Signing in and joining a team, as a person sees it in a real browser."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from app.store import teams

pytestmark = pytest.mark.browser

TEAM_PAGE = re.compile(r"/t/[^/]+/$")


def ask_for_a_link(page: Page, base: str, address: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(address)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.locator("main")).to_contain_text(address)


def newest_message(page: Page, base: str, address: str):
    """Open the outbox; the newest email to ``address`` in it (the outbox lists newest first)."""
    page.goto(f"{base}/dev/outbox")
    to_address = page.locator("header", has_text=re.compile(rf"(^|\s){re.escape(address)}(\s|$)"))
    return page.locator("article.outbox-message").filter(has=to_address).first


def follow_newest_link(page: Page, base: str, address: str) -> None:
    newest_message(page, base, address).locator("pre.text-part a").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/login/[\w-]+$"))


def fill_welcome(page: Page, name: str, team: str | None = None) -> None:
    expect(page.get_by_role("heading", name="Welcome to Cadenza")).to_be_visible()
    page.get_by_label("Your name").fill(name)
    if team is not None:
        page.get_by_label("Team name").fill(team)
    page.get_by_role("button", name="Continue").click()


def sign_in_as_new_person(page: Page, base: str, address: str) -> None:
    """Ask for a link, follow it from the outbox and confirm: the welcome page is next."""
    ask_for_a_link(page, base, address)
    follow_newest_link(page, base, address)
    expect(page.get_by_role("heading", name="Sign in to Cadenza")).to_be_visible()
    page.locator("#confirm-button").click()
    expect(page).to_have_url(f"{base}/welcome")


def sign_up(page: Page, base: str, address: str, name: str, team: str) -> None:
    """A new person signs in through the outbox and creates their first team."""
    sign_in_as_new_person(page, base, address)
    fill_welcome(page, name, team)
    expect(page.locator("nav.team-nav")).to_contain_text(team)
    expect(page).to_have_url(TEAM_PAGE)


def test_a_new_person_signs_in_through_the_outbox_link_and_sees_their_team(page, live_server):
    ask_for_a_link(page, live_server, "ada@example.com")

    follow_newest_link(page, live_server, "ada@example.com")
    expect(page.get_by_role("heading", name="Sign in to Cadenza")).to_be_visible()
    expect(page.locator("main")).to_contain_text("ada@example.com")
    page.locator("#confirm-button").click()

    expect(page).to_have_url(f"{live_server}/welcome")
    expect(page.get_by_label("Your name")).to_be_visible()
    expect(page.get_by_label("Team name")).to_be_visible()
    fill_welcome(page, "Ada", "Cantina Aurora")

    expect(page.locator("nav.team-nav")).to_contain_text("Cantina Aurora")
    switcher = page.locator("#team-switcher")
    expect(switcher.locator("summary")).to_have_text("Cantina Aurora")
    switcher.locator("summary").click()
    expect(switcher.get_by_role("link", name="Cantina Aurora")).to_be_visible()
    expect(page.locator("#person-menu summary")).to_have_text("Ada")
    expect(page.locator("#month-grid")).to_be_visible()


def test_the_welcome_form_leads_to_the_team_page_as_a_whole_page(page, live_server):
    sign_in_as_new_person(page, live_server, "ada@example.com")
    fill_welcome(page, "Ada", "Cantina Aurora")
    expect(page.locator("nav.team-nav")).to_contain_text("Cantina Aurora")

    assert TEAM_PAGE.search(page.url), page.url
    expect(page.locator("header")).to_have_count(1)
    expect(page.get_by_role("heading", name="Welcome to Cadenza")).to_have_count(0)


def test_an_admin_invites_someone_and_the_invitation_reaches_the_outbox(
    page, live_server, new_page
):
    sign_up(page, live_server, "ada@example.com", "Ada", "Cantina Aurora")
    page.locator("nav.team-nav").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()

    page.evaluate("window.notReloaded = true")
    invitations = page.locator("#invitations")
    invitations.get_by_label("Email").fill("bruno@example.com")
    invitations.get_by_label("Role").select_option("editor")
    invitations.get_by_role("button", name="Send invitation").click()

    expect(invitations.locator("ul.invites")).to_contain_text("bruno@example.com · Editor")
    expect(page.locator("#flash")).to_contain_text("Invitation sent to bruno@example.com.")
    expect(invitations.get_by_label("Email")).to_have_value("")
    assert page.evaluate("window.notReloaded") is True  # swapped, not reloaded

    message = newest_message(page, live_server, "bruno@example.com")
    # Names are anyone's text: the subject carries none; the body names both, the team quoted.
    expect(message.locator(".subject")).not_to_contain_text("Cantina Aurora")
    expect(message.locator("pre.text-part")).to_contain_text("Ada")
    expect(message.locator("pre.text-part")).to_contain_text("“Cantina Aurora”")
    link = message.locator("pre.text-part a").get_attribute("href")
    assert link and link.startswith(f"{live_server}/login/"), link

    bruno = new_page()
    bruno.goto(link)
    expect(bruno.get_by_role("heading", name="Join Cantina Aurora")).to_be_visible()
    expect(bruno.locator("main")).to_contain_text("bruno@example.com")
    bruno.locator("#confirm-button").click()

    expect(bruno).to_have_url(f"{live_server}/welcome")
    expect(bruno.get_by_label("Your name")).to_be_visible()
    expect(bruno.get_by_label("Team name")).to_have_count(0)  # the invitation brought a team
    fill_welcome(bruno, "Bruno")

    team_nav = bruno.locator("nav.team-nav")
    expect(team_nav).to_contain_text("Cantina Aurora")
    expect(team_nav.get_by_role("link", name="Settings")).to_have_count(0)  # not an admin
    expect(bruno.locator("#team-switcher summary")).to_have_text("Cantina Aurora")

    page.goto(f"{live_server}/")
    page.locator("nav.team-nav").get_by_role("link", name="Members").click()
    expect(page.locator("#member-list")).to_contain_text("Bruno")
    expect(page.locator("#member-list")).to_contain_text("bruno@example.com")
    expect(page.locator("#invitations ul.invites")).to_have_count(0)


def test_an_invited_person_is_welcomed_to_the_team(page, live_server, app, folks):
    admin = folks.person("ada@example.com", name="Ada")
    team = folks.team(admin, name="Cantina Aurora")
    with app.app_context():
        raw = teams.invite(
            team,
            address="bruno@example.com",
            role="editor",
            invited_by="Ada",
            now=datetime.now(UTC),
        )

    page.goto(f"{live_server}/login/{raw}")
    page.locator("#confirm-button").click()
    expect(page).to_have_url(f"{live_server}/welcome")
    expect(page.locator("#flash")).to_contain_text("Welcome to Cantina Aurora.", timeout=1000)


def test_the_login_form_shows_a_field_error_without_reloading(page, live_server):
    page.goto(f"{live_server}/login")
    page.evaluate("window.notReloaded = true")
    email = page.get_by_label("Email")
    email.fill("not-an-address")
    page.get_by_role("button", name="Email me a sign-in link").click()

    error = page.locator("#login-form .field-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(re.compile(r"\w"))
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", error.get_attribute("id") or "")
    expect(email).to_have_value("not-an-address")
    expect(page).to_have_url(f"{live_server}/login")
    assert page.evaluate("window.notReloaded") is True  # swapped, not reloaded

    email.fill("ada@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(error).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True


def test_pages_work_without_javascript(new_page, live_server):
    page = new_page(java_script_enabled=False)
    ask_for_a_link(page, live_server, "carla@example.com")
    expect(page).to_have_url(f"{live_server}/login")  # a plain POST answered with a page

    follow_newest_link(page, live_server, "carla@example.com")
    page.locator("#confirm-button").click()
    fill_welcome(page, "Carla", "Forno Carla")

    expect(page).to_have_url(TEAM_PAGE)
    expect(page.locator("nav.team-nav")).to_contain_text("Forno Carla")
    switcher = page.locator("#team-switcher")
    switcher.locator("summary").click()
    expect(switcher.get_by_role("link", name="Forno Carla")).to_be_visible()
    switcher.locator("summary").click()  # closed again: it covers the team nav

    page.locator("nav.team-nav").get_by_role("link", name="Members").click()
    expect(page.locator("#member-list")).to_contain_text("carla@example.com")
