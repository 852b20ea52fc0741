"""A bounced address, as its owner sees it on a phone: the notice on their page, in their
language and zone, and the button that resumes their mail."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from playwright.sync_api import expect

from app.store import people
from tests.browser.test_phone_and_accessibility import serious_axe_findings

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_a_bounced_person_reads_why_on_a_phone_in_italian_and_resumes_their_mail(
    folks, page_as, live_server
):
    marco = folks.person("marco@example.com", "Marco Bianchi", language="it", zone="Europe/Rome")
    folks.team(marco, "Cantina Aurora")
    bounced_at = folks.now() - timedelta(hours=3)
    people.mark_mail_problem(marco.person_id, "bounce", "550 5.1.1 user unknown", bounced_at)
    when = format_datetime(
        bounced_at, "d MMMM y, HH:mm", tzinfo=ZoneInfo("Europe/Rome"), locale="it"
    )

    page = page_as(marco, viewport=PHONE)
    page.goto(f"{live_server}/me")
    notice = page.locator("#mail-notice")
    expect(notice).to_contain_text(
        f"La posta a marco@example.com è tornata indietro il {when}: 550 5.1.1 user unknown."
    )
    expect(notice).to_contain_text("I tuoi promemoria sono sospesi")
    button = notice.get_by_role("button", name="Ho risolto, invia di nuovo")
    expect(button).to_be_visible()
    # It fits the phone: nothing scrolls sideways, and the button takes a thumb.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert button.bounding_box()["height"] >= 44
    assert serious_axe_findings(page) == []

    button.click()
    expect(page.locator("#flash")).to_contain_text("Cadenza ti scriverà di nuovo.")
    page.reload()
    expect(page.get_by_role("heading", name="Il tuo profilo")).to_be_visible()
    expect(page.locator("#mail-notice")).to_have_count(0)
    assert people.person(marco.person_id).mail_problem is None
