"""Bounces and complaints: SES tells Cadenza, through SNS, that mail to someone cannot be
delivered; nudges to them pause, their page says why, and they can ask for mail again."""

import html
import inspect
import json
import logging
import re
import sys
import types

import pytest

from app import bounces
from app.store import people, teams
from tests import test_nudges
from tests.conftest import link_in, outbox, sent_mail_requests
from tests.formdata import form_in
from tests.test_nudge_runs import escalations, line, timeline
from tests.test_nudges import make_post, rome, run, sent

# Cantina Aurora with Anna (admin, English) and Marco (editor, Italian), both in Rome; the
# clock at noon on 1 December 2026 (see tests/test_nudges.py).
nudging = test_nudges.nudging

TOPIC = "arn:aws:sns:eu-west-1:123456789012:cadenza-test-mail-events"
UNKNOWN_USER = "smtp; 550 5.1.1 <marco@example.com>: Recipient address rejected: User unknown"


def ses_event(kind: str, address: str, *, at: str = "2026-12-03T23:30:00.000Z", **details):
    """What SES publishes to the configuration set's SNS topic for one recipient."""
    mail = {
        "timestamp": "2026-12-03T23:29:58.000Z",
        "source": "Cadenza <cadenza@cadenza.localhost>",
        "messageId": "0102018e-example-000000",
        "destination": [address],
        "commonHeaders": {"to": [address], "subject": "Domani 10:00 · Instagram"},
        "tags": {"ses:configuration-set": ["cadenza-test"]},
    }
    if kind == "Bounce":
        body = {
            "bounce": {
                "bounceType": details.get("bounce_type", "Permanent"),
                "bounceSubType": details.get("sub_type", "General"),
                "bouncedRecipients": [
                    {
                        "emailAddress": address,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": details.get("diagnostic", UNKNOWN_USER),
                    }
                ],
                "timestamp": at,
                "feedbackId": "0102018e-feedback-000000",
                "reportingMTA": "dsn; a1-2.smtp-out.eu-west-1.amazonses.com",
            }
        }
    else:
        body = {
            "complaint": {
                "complainedRecipients": [{"emailAddress": address}],
                "timestamp": at,
                "feedbackId": "0102018e-complaint-000000",
                "userAgent": "Yahoo!-Mail-Feedback/2.0",
                "complaintFeedbackType": details.get("feedback", "abuse"),
                "arrivalDate": at,
            }
        }
    return {"eventType": kind, "mail": mail, **body}


def sns(*messages) -> dict:
    """The event Zappa's handler passes on for an SNS subscription (one record per message)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC}:0b6941c2-example",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": f"95df01b4-ee98-5cb9-9903-4c221d41eb5{n}",
                    "TopicArn": TOPIC,
                    "Subject": None,
                    "Message": json.dumps(message),
                    "Timestamp": "2026-12-03T23:30:01.000Z",
                },
            }
            for n, message in enumerate(messages)
        ]
    }


def _wsgi_module(app) -> types.ModuleType:
    """A stand-in for ``app.wsgi`` whose one app is ``app`` (importing the real one would
    build an app from the environment)."""
    wsgi = types.ModuleType("app.wsgi")
    wsgi.one_app = types.SimpleNamespace(get=lambda: app)
    wsgi.app = app
    return wsgi


@pytest.fixture
def feedback(nudging, monkeypatch):
    """Deliver SNS events as Lambda would: through ``app.bounces.handle``, on the app that
    ``app.wsgi`` built (here, the test app stands in for that module)."""
    monkeypatch.setitem(sys.modules, "app.wsgi", _wsgi_module(nudging["app"]))

    def deliver(*messages):
        return bounces.handle(sns(*messages), None)

    return deliver


def page_of(world, someone, path="/me") -> str:
    return world["folks"].client_for(someone).get(path).text


def notice(page: str) -> str:
    """The mail notice of a page as read (tags dropped), or "" when there is none."""
    found = re.search(r'<div id="mail-notice".*?</div>', page, re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())) if found else ""


# The SNS entry point ------------------------------------------------------------------------


def test_a_permanent_bounce_pauses_nudges_and_the_persons_page_says_why(nudging, feedback, caplog):
    marco, anna = nudging["marco"], nudging["anna"]
    caplog.set_level(logging.INFO)
    assert feedback(ses_event("Bounce", "Marco@Example.com"))["marked"] == 1
    found = people.person(marco.person_id)
    assert found.mail_problem == "bounce"
    assert found.mail_problem_reason.startswith("550 5.1.1")
    assert found.nudges_on  # a bounce pauses nudges; it does not change the preference
    # Marco reads Italian, in Rome: 23:30 UTC on the 3rd is 00:30 on the 4th there.
    said = notice(page_of(nudging, marco))
    assert said.startswith(
        "La posta a marco@example.com è tornata indietro il 4 dicembre 2026, 00:30"
    )
    assert "User unknown" in said and "Ho risolto, invia di nuovo" in said
    assert notice(page_of(nudging, marco, "/me/nudges")) == said
    assert notice(page_of(nudging, anna)) == ""
    assert marco.person_id in caplog.text
    assert "marco@example.com" not in caplog.text.lower()


def test_an_english_reader_sees_the_notice_in_english_in_their_zone(nudging, feedback, folks):
    anna = nudging["anna"]
    people.update_profile(
        people.person(anna.person_id),
        name="Anna Rossi",
        language="en",
        zone="Europe/London",
        week_start=0,
    )
    feedback(ses_event("Bounce", "anna@example.com", diagnostic="smtp; 552 mailbox full"))
    said = notice(page_of(nudging, anna))
    assert said.startswith(
        "Mail to anna@example.com bounced on 3 December 2026, 23:30: 552 mailbox full. "
        "Nudges to you are paused"
    )
    assert "I fixed it, send again" in said


def test_a_transient_bounce_is_logged_and_marks_nobody(nudging, feedback, caplog):
    marco = nudging["marco"]
    caplog.set_level(logging.INFO)
    outcome = feedback(ses_event("Bounce", "marco@example.com", bounce_type="Transient"))
    assert outcome["marked"] == 0 and outcome["transient"] == 1
    assert people.person(marco.person_id).mail_problem is None
    assert notice(page_of(nudging, marco)) == ""
    assert f"transient bounce for person {marco.person_id}" in caplog.text
    assert "marco@example.com" not in caplog.text


def test_a_complaint_turns_nudges_off_and_the_page_says_so(nudging, feedback):
    marco = nudging["marco"]
    assert feedback(ses_event("Complaint", "marco@example.com"))["marked"] == 1
    found = people.person(marco.person_id)
    assert found.mail_problem == "complaint" and found.mail_problem_reason == "abuse"
    assert not found.nudges_on
    member = teams.team(nudging["team_id"]).member(marco.person_id)
    assert not member.nudges_on and member.mail_problem == "complaint"
    said = notice(page_of(nudging, marco))
    assert "segnalata come spam" in said and "Riattiva i miei promemoria" in said


def test_a_duplicate_or_late_delivery_changes_nothing(nudging, feedback, folks, clock):
    marco = nudging["marco"]
    event = ses_event("Bounce", "marco@example.com")
    assert feedback(event)["marked"] == 1
    assert feedback(event) == {"marked": 0, "unchanged": 1, "transient": 0, "unknown": 0}
    older = ses_event("Bounce", "marco@example.com", at="2026-12-02T08:00:00.000Z")
    assert feedback(older)["unchanged"] == 1
    assert people.person(marco.person_id).mail_problem_at.isoformat().startswith("2026-12-03T23:30")
    # Once Marco says the mailbox works, the same feedback delivered again does not undo that.
    clock.move_to(rome(2026, 12, 4, 9))
    client = folks.client_for(marco)
    form = form_in(client.get("/me").text, id="mail-resume-form")
    client.post(form.action, data=form.data(), csrf=False)
    assert feedback(event)["unchanged"] == 1
    assert people.person(marco.person_id).mail_problem is None
    # A new bounce, later than that, pauses nudges again.
    later = ses_event("Bounce", "marco@example.com", at="2030-01-01T00:00:00.000Z")
    assert feedback(later)["marked"] == 1


def test_feedback_about_an_unknown_address_and_messages_that_are_not_feedback_are_ignored(
    nudging, feedback
):
    outcome = feedback(
        ses_event("Bounce", "nobody@example.com"),
        ses_event("Complaint", "someone.else@example.com"),
        {"eventType": "Delivery", "mail": {"destination": ["marco@example.com"]}},
    )
    assert outcome == {"marked": 0, "unchanged": 0, "transient": 0, "unknown": 2}
    published_by_hand = sns("test")
    published_by_hand["Records"][0]["Sns"]["Message"] = "Hello from the console"
    outcome = bounces.handle(published_by_hand, None)
    assert outcome == {"marked": 0, "unchanged": 0, "transient": 0, "unknown": 0}
    assert people.person_by_email("nobody@example.com") is None  # nobody was created
    assert people.person(nudging["marco"].person_id).mail_problem is None


def test_the_entry_point_takes_exactly_what_zappa_passes_and_logs_real_errors(
    nudging, feedback, monkeypatch, caplog
):
    signature = inspect.signature(bounces.handle)
    assert list(signature.parameters) == ["event", "context"]
    assert all(p.default is inspect.Parameter.empty for p in signature.parameters.values())

    def broken(*args, **kwargs):
        raise RuntimeError("the real reason")

    monkeypatch.setattr(people, "mark_mail_problem", broken)
    with pytest.raises(RuntimeError):
        feedback(ses_event("Bounce", "marco@example.com"))
    assert "the real reason" in caplog.text


def test_the_entry_point_reuses_the_app_that_app_wsgi_built(nudging, monkeypatch):
    built = []
    monkeypatch.setattr("app.create_app", lambda *args: built.append(args))
    monkeypatch.setitem(sys.modules, "app.wsgi", _wsgi_module(nudging["app"]))
    assert bounces.handle(sns(ses_event("Bounce", "marco@example.com")), None)["marked"] == 1
    assert built == []


# What the nudge job does ---------------------------------------------------------------------


def test_the_job_does_not_nudge_a_bounced_owner_and_the_post_says_why(nudging, feedback):
    marco, anna = nudging["marco"], nudging["anna"]
    post = make_post(nudging, marco, rome(2026, 12, 5, 10))
    feedback(ses_event("Bounce", "marco@example.com", at="2026-12-02T09:00:00.000Z"))
    outcome = run(nudging, rome(2026, 12, 4, 10))
    assert outcome.sent == 0 and sent(nudging) == []
    assert line(timeline(nudging, post, anna), "1 day before") == (
        "1 day before · not sent: mail to their address bounced"
    )
    # The overdue nudges are not sent either, and the admins hear why, as for nudges off.
    for day in (5, 6, 7, 8):
        run(nudging, rome(2026, 12, day, 12))
    assert [mail["to"] for mail in sent(nudging)] == ["anna@example.com"]
    (escalation,) = escalations(nudging)
    assert "Cadenza's reminders did not reach Marco Bianchi" in escalation["text"]


def test_the_job_does_not_nudge_someone_who_complained(nudging, feedback):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    feedback(ses_event("Complaint", "anna@example.com", at="2026-12-02T09:00:00.000Z"))
    assert run(nudging, rome(2026, 12, 4, 10)).sent == 0
    assert line(timeline(nudging, post, anna), "1 day before") == (
        "1 day before · not sent: they reported Cadenza's mail as spam"
    )


def test_once_resumed_the_next_nudge_goes_out(nudging, feedback, folks):
    marco = nudging["marco"]
    make_post(nudging, marco, rome(2026, 12, 5, 10))
    feedback(ses_event("Bounce", "marco@example.com", at="2026-12-02T09:00:00.000Z"))
    assert run(nudging, rome(2026, 12, 4, 10)).sent == 0
    client = folks.client_for(marco)
    form = form_in(client.get("/me/nudges").text, id="mail-resume-form")
    response = client.post(form.action, data=form.data(), csrf=False)
    assert response.status_code == 302 and response.location == "/me/nudges"
    assert run(nudging, rome(2026, 12, 5, 9)).sent == 1
    assert sent(nudging)[0]["to"] == "marco@example.com"


# Signing in and the resume button -------------------------------------------------------------


def test_sign_in_mail_still_goes_and_signing_in_with_it_clears_the_bounce(nudging, feedback):
    marco = nudging["marco"]
    feedback(ses_event("Bounce", "marco@example.com"))
    client = nudging["app"].test_client()
    assert client.post("/login", data={"email": "marco@example.com"}).status_code == 200
    (mail,) = outbox(nudging["app"])
    assert mail["to"] == "marco@example.com"
    path = link_in(mail)
    client.get(path)
    assert client.post(path).status_code == 302
    assert people.person(marco.person_id).mail_problem is None
    assert notice(client.get("/me").text) == ""


def test_signing_in_does_not_undo_a_complaint(nudging, feedback, client):
    marco = nudging["marco"]
    feedback(ses_event("Complaint", "marco@example.com"))
    client.post("/login", data={"email": "marco@example.com"})
    path = link_in(outbox(nudging["app"])[0])
    client.get(path)
    client.post(path)
    found = people.person(marco.person_id)
    assert found.mail_problem == "complaint" and not found.nudges_on


def test_the_resume_button_needs_the_form_token_and_clears_the_mark(nudging, feedback, folks):
    marco = nudging["marco"]
    feedback(ses_event("Bounce", "marco@example.com"))
    client = folks.client_for(marco)
    form = form_in(client.get("/me").text, id="mail-resume-form")
    assert form.method == "post"
    assert client.post(form.action, data={}, csrf=False).status_code == 400
    assert people.person(marco.person_id).mail_problem == "bounce"
    response = client.post(form.action, data=form.data(), csrf=False, follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/me"
    assert notice(response.text) == ""
    assert "Cadenza ti scriverà di nuovo" in response.text
    member = teams.team(nudging["team_id"]).member(marco.person_id)
    assert member.mail_problem is None


def test_resuming_after_a_complaint_turns_nudges_back_on(nudging, feedback, folks):
    anna = nudging["anna"]
    feedback(ses_event("Complaint", "anna@example.com"))
    client = folks.client_for(anna)
    form = form_in(client.get("/me/nudges").text, id="mail-resume-form")
    client.post(form.action, data=form.data(), csrf=False)
    found = people.person(anna.person_id)
    assert found.mail_problem is None and found.nudges_on


def test_the_resume_button_never_redirects_elsewhere(nudging, feedback, folks):
    feedback(ses_event("Bounce", "marco@example.com"))
    client = folks.client_for(nudging["marco"])
    form = form_in(client.get("/me").text, id="mail-resume-form")
    data = form.data()
    data["next"] = "https://evil.example/"
    assert client.post(form.action, data=data, csrf=False).location == "/me"


def test_admins_see_a_badge_next_to_a_bounced_member(nudging, feedback, folks):
    anna, marco = nudging["anna"], nudging["marco"]
    feedback(ses_event("Bounce", "marco@example.com"))
    members = f"/t/{nudging['team_id']}/members"

    def row(viewer, member) -> str:
        page = page_of(nudging, viewer, members)
        return re.search(rf'<tr id="member-{member.person_id}">.*?</tr>', page, re.S).group(0)

    assert '<span class="badge late">Mail bounced</span>' in row(anna, marco)
    assert "badge" not in row(anna, anna)
    # An editor does not see it; the bounced person reads their own page instead.
    assert "badge" not in row(marco, marco)


# Sending ------------------------------------------------------------------------------------


def test_every_mail_is_sent_with_the_configuration_set(nudging, inject, client):
    app = nudging["app"]
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(
        mail_configuration_set="cadenza-test"
    )
    seen = sent_mail_requests(inject)
    make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    assert run(nudging, rome(2026, 12, 4, 10)).sent == 1
    client.post("/login", data={"email": "anna@example.com"})
    assert len(seen) == 2
    assert {parameters.get("ConfigurationSetName") for parameters in seen} == {"cadenza-test"}


def test_without_a_configuration_set_mail_is_sent_without_one(nudging, inject, client):
    seen = sent_mail_requests(inject)
    client.post("/login", data={"email": "anna@example.com"})
    (parameters,) = seen
    assert "ConfigurationSetName" not in parameters


def test_a_refused_message_is_logged_without_the_address(nudging, inject, caplog):
    from tests.conftest import ses_error

    inject(
        lambda event, request: (
            ses_error(request, "MessageRejected")
            if event == "before-send.ses.SendRawEmail"
            else None
        )
    )
    make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 4, 10))
    assert "MessageRejected" in caplog.text
    assert "marco@example.com" not in caplog.text
