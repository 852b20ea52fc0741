"""What one run of the nudge job sends: one email per person and post, escalations that tell
the truth, hand-overs, zone changes, and the order of a post's nudge timeline."""

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from app.store import meter, people, teams
from tests import test_nudges
from tests.formdata import form_in
from tests.test_nudges import _links, ask_for_review, make_post, pending_kinds, rome, run, sent

# The fixtures of tests/test_nudges.py: Cantina Aurora with Anna (admin, English) and Marco
# (editor, Italian) in Rome; ``nudged``: Anna's post and the links of its day-before email.
nudging = test_nudges.nudging
nudged = test_nudges.nudged

NEW_YORK = ZoneInfo("America/New_York")


def timeline(world, post, viewer) -> list[str]:
    """The post panel's nudge timeline as the viewer reads it, one line per nudge."""
    panel = world["folks"].client_for(viewer).get(f"/t/{post.team_id}/posts/{post.post_id}").text
    section = panel.split('id="nudges"')[1].split("</section>")[0]
    items = re.findall(r"<li[^>]*>(.*?)</li>", section, re.S)
    return [html.unescape(" ".join(re.sub(r"<[^>]+>", "", item).split())) for item in items]


def line(lines: list[str], label: str) -> str:
    (found,) = [entry for entry in lines if entry.startswith(f"{label} ·")]
    return found


def mails_to(world, address: str) -> list[dict]:
    return [mail for mail in sent(world) if mail["to"] == address]


def escalations(world) -> list[dict]:
    return [mail for mail in sent(world) if mail["subject"].startswith("Still not published")]


# One email per person and post in a run ----------------------------------------------------


def test_a_draft_dated_three_days_ago_gets_one_overdue_mail_and_no_escalation(nudging, clock):
    clock.move_to(rome(2026, 12, 8, 13))
    post = make_post(
        nudging,
        nudging["marco"],
        rome(2026, 12, 5, 10),
        status="draft",
        created=rome(2026, 12, 8, 13),
    )
    outcome = run(nudging, rome(2026, 12, 8, 13, 1))
    (mail,) = sent(nudging)  # not three "In ritardo" and an escalation in the same minute
    assert outcome.sent == 1 and mail["to"] == "marco@example.com"
    assert mail["subject"].startswith("In ritardo · ")
    lines = timeline(nudging, post, nudging["anna"])
    assert line(lines, "Overdue nudge 1").startswith("Overdue nudge 1 · sent to Marco Bianchi")
    for later in ("Overdue nudge 2", "Overdue nudge 3"):
        assert "(moved: overdue nudges come one a day)" in line(lines, later)
    assert "(waiting for the overdue nudges to go out first)" in line(lines, "Escalation to admins")


def test_the_admins_hear_only_after_three_overdue_nudges_went_out(nudging, clock):
    clock.move_to(rome(2026, 12, 8, 13))
    make_post(
        nudging,
        nudging["marco"],
        rome(2026, 12, 5, 10),
        status="draft",
        created=rome(2026, 12, 8, 13),
    )
    for day in (8, 9, 10):
        run(nudging, rome(2026, 12, day, 13, 1))
        late = mails_to(nudging, "marco@example.com")
        assert len(late) == day - 7, f"one overdue nudge a day, on the {day}th"
        assert escalations(nudging) == []
    run(nudging, rome(2026, 12, 11, 13, 1))
    (escalation,) = escalations(nudging)
    assert escalation["to"] == "anna@example.com"
    assert (
        "Marco Bianchi has not published this post: 3 reminders went unanswered."
        in (escalation["text"])
    )
    run(nudging, rome(2026, 12, 20, 13))
    assert len(sent(nudging)) == 4


def test_after_an_outage_an_italian_owner_gets_one_in_ritardo_mail(nudging):
    make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 7, 12, 30))  # the scheduler was down since the 4th
    mails = sent(nudging)
    assert [mail["subject"].split(" · ")[0] for mail in mails] == ["In ritardo"]
    assert escalations(nudging) == []


def test_the_day_before_and_hour_before_nudges_due_together_make_one_mail(nudging):
    post = make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 5, 9, 5))  # the scheduler was down since the 4th
    (mail,) = sent(nudging)
    assert mail["subject"] == "Today 10:00 · Instagram · Tasting recap"
    assert line(timeline(nudging, post, nudging["anna"]), "1 day before") == (
        "1 day before · not sent: superseded by a more relevant nudge sent at the same time"
    )


def test_nudges_held_back_by_quiet_hours_come_as_one_mail(nudging):
    make_post(nudging, nudging["anna"], rome(2026, 12, 5, 9))
    run(nudging, rome(2026, 12, 5, 7))  # a catch-up run in quiet hours: the day-before waits
    assert sent(nudging) == []
    run(nudging, rome(2026, 12, 5, 8))  # ... and the hour-before is due too
    assert [mail["subject"] for mail in sent(nudging)] == [
        "Today 09:00 · Instagram · Tasting recap"
    ]


def test_a_review_request_and_its_reminder_due_together_make_one_mail(nudging):
    anna, marco = nudging["anna"], nudging["marco"]
    post = make_post(nudging, marco, rome(2026, 12, 20, 10), status="draft")
    ask_for_review(nudging, post, marco, anna, rome(2026, 12, 1, 10))
    run(nudging, rome(2026, 12, 2, 11))  # the scheduler was down since the 1st
    assert [mail["subject"].split(" · ")[0] for mail in sent(nudging)] == ["Please review"]


def test_a_runs_cost_follows_the_due_nudges_not_the_posts(nudging):
    for hour in (10, 11, 12):
        make_post(nudging, nudging["anna"], rome(2026, 12, 5, hour), title=f"At {hour}")
    for hour in (14, 15):
        make_post(nudging, nudging["anna"], rome(2026, 12, 20, hour), title=f"Later {hour}")
    with meter.metered() as counted:
        outcome = run(nudging, rome(2026, 12, 4, 12))
    assert outcome.sent == 3
    # One Query for the schedules due for extension (none), one per day bucket (today and 7
    # catch-up days), then per nudge: claim, one BatchGetItem for what it is about, the
    # team's count of the day's mail, and the transaction that marks it sent.
    assert counted.calls.count("Query") == 1 + 8
    assert len(counted.calls) == 1 + 8 + 3 * 4


# Escalations that tell the truth -----------------------------------------------------------


def _overdue_days(world, *days):
    for day in days:
        run(world, rome(2026, 12, day, 12))


def test_an_admin_who_owns_the_post_is_not_told_about_it(nudging, folks):
    luca = folks.person("luca@example.com", "Luca Verdi", zone="Europe/Rome")
    folks.join(teams.team(nudging["team_id"]), luca, "admin")
    make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    _overdue_days(nudging, 5, 6, 7, 8)
    assert [mail["to"] for mail in escalations(nudging)] == ["luca@example.com"]


def test_an_only_admin_who_owns_the_post_gets_no_escalation(nudging):
    post = make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    _overdue_days(nudging, 5, 6, 7, 8)
    assert escalations(nudging) == []
    assert line(timeline(nudging, post, nudging["anna"]), "Escalation to admins") == (
        "Escalation to admins · not sent: the owner is the team's only admin"
    )


def test_the_escalation_says_when_the_owner_has_nudges_switched_off(nudging):
    people.update_preferences(people.person(nudging["marco"].person_id), nudges_on=False)
    make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10))
    _overdue_days(nudging, 5, 6, 7, 8)
    (escalation,) = escalations(nudging)
    assert escalation["to"] == "anna@example.com"
    assert "Marco Bianchi has nudges switched off" in escalation["text"]
    assert "reminder" not in escalation["text"].split("Tasting recap")[0]


def test_the_escalation_says_until_when_the_owner_is_away(nudging):
    marco = people.person(nudging["marco"].person_id)
    people.update_preferences(marco, away_from="2026-12-04", away_until="2026-12-20")
    make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10))
    _overdue_days(nudging, 5, 6, 7, 8)
    (escalation,) = escalations(nudging)
    assert "Marco Bianchi is away until 20 Dec." in escalation["text"]


# Hand-overs --------------------------------------------------------------------------------


def test_a_hand_over_sends_the_new_owner_one_mail_naming_who_handed_it_over(nudging, nudged, clock):
    post, links = nudged  # Anna got "Tomorrow 10:00" on the 4th at 10:00
    clock.move_to(rome(2026, 12, 4, 10, 5))
    client = nudging["app"].test_client()
    marco = nudging["marco"]
    assert (
        client.post(links["Hand over to a teammate"], data={"to": marco.person_id}).status_code
        == 200
    )
    run(nudging, rome(2026, 12, 4, 10, 6))
    (handover,) = mails_to(nudging, "marco@example.com")
    assert "Anna Rossi" in handover["subject"] and "Anna Rossi" in handover["text"]
    run(nudging, rome(2026, 12, 5, 9))  # the hour-before nudge is the new owner's now
    assert len(mails_to(nudging, "marco@example.com")) == 2
    assert len(mails_to(nudging, "anna@example.com")) == 1


def test_a_hand_over_and_a_nudge_due_in_the_same_run_make_one_mail(nudging, nudged, clock):
    post, links = nudged
    clock.move_to(rome(2026, 12, 5, 8, 58))  # two minutes before the hour-before nudge
    client = nudging["app"].test_client()
    marco = nudging["marco"]
    assert (
        client.post(links["Hand over to a teammate"], data={"to": marco.person_id}).status_code
        == 200
    )
    run(nudging, rome(2026, 12, 5, 9, 1))
    (handover,) = mails_to(nudging, "marco@example.com")
    assert "Anna Rossi" in handover["subject"]
    assert line(timeline(nudging, post, nudging["anna"]), "1 hour before") == (
        "1 hour before · not sent: superseded by a more relevant nudge sent at the same time"
    )


def test_handing_over_an_overdue_post_does_not_send_its_overdue_nudge_again(nudging, clock):
    anna, marco = nudging["anna"], nudging["marco"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 5, 12))
    (overdue,) = [m for m in sent(nudging) if m["subject"].startswith("Overdue")]
    clock.move_to(rome(2026, 12, 5, 12, 10))
    client = nudging["app"].test_client()
    link = _links(overdue)["Hand over to a teammate"]
    assert client.post(link, data={"to": marco.person_id}).status_code == 200
    run(nudging, rome(2026, 12, 5, 12, 15))
    (handover,) = mails_to(nudging, "marco@example.com")  # no "In ritardo" with it
    assert "Anna Rossi" in handover["subject"]
    assert line(timeline(nudging, post, anna), "Overdue nudge 1").startswith(
        "Overdue nudge 1 · sent to Anna Rossi"
    )
    run(nudging, rome(2026, 12, 6, 12))  # the next overdue nudge goes to the new owner
    assert mails_to(nudging, "marco@example.com")[0]["subject"].startswith("In ritardo")


# Zone and preference changes ---------------------------------------------------------------


def test_changing_zone_plans_the_upcoming_nudges_in_the_new_zone(nudging, clock):
    anna = nudging["anna"]
    soon = make_post(nudging, anna, rome(2026, 12, 2, 9), title="Soon")
    later = make_post(nudging, anna, rome(2026, 12, 10, 10), title="Later")
    run(nudging, rome(2026, 12, 1, 9))  # "Tomorrow 09:00 · … · Soon"
    clock.move_to(rome(2026, 12, 1, 12))
    response = (
        nudging["folks"]
        .client_for(anna)
        .post(
            "/me",
            data={
                "name": "Anna Rossi",
                "language": "en",
                "zone": "America/New_York",
                "week_start": "0",
            },
        )
    )
    assert response.status_code == 302
    # 10:00 in Rome is 04:00 in New York, inside her quiet hours (21:00-08:00 there).
    assert pending_kinds(later) == {
        "before-1440": datetime(2026, 12, 9, 8, tzinfo=NEW_YORK),
        "before-60": datetime(2026, 12, 9, 21, tzinfo=NEW_YORK),
        "overdue-1": datetime(2026, 12, 10, 8, tzinfo=NEW_YORK),
        "overdue-2": datetime(2026, 12, 11, 8, tzinfo=NEW_YORK),
        "overdue-3": datetime(2026, 12, 12, 8, tzinfo=NEW_YORK),
        "escalate": datetime(2026, 12, 13, 6, tzinfo=NEW_YORK),
    }
    # The day-before nudge she already got is not planned again at its New York time.
    assert "before-1440" not in pending_kinds(soon)
    run(nudging, datetime(2026, 12, 1, 8, tzinfo=NEW_YORK))
    assert len(sent(nudging)) == 1


def test_changing_quiet_hours_plans_the_upcoming_nudges_again(nudging):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 10, 8, 30))
    assert pending_kinds(post)["before-60"] == rome(2026, 12, 10, 8)  # end of quiet hours
    response = (
        nudging["folks"]
        .client_for(anna)
        .post(
            "/me/nudges",
            data={"nudges_on": "y", "quiet_start": "", "quiet_end": "", "digest_at": "08:00"},
        )
    )
    assert response.status_code == 302
    assert pending_kinds(post)["before-60"] == rome(2026, 12, 10, 7, 30)


# The timeline ------------------------------------------------------------------------------


def test_the_timeline_lists_overdue_nudges_in_numeric_order_after_a_snooze(nudging, clock):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 5, 12))
    run(nudging, rome(2026, 12, 6, 12))
    clock.move_to(rome(2026, 12, 6, 12, 10))
    snooze = _links(sent(nudging)[0])["Snooze 1 day"]  # from overdue nudge 2
    assert nudging["app"].test_client().post(snooze).status_code == 200
    labels = [entry.split(" · ")[0] for entry in timeline(nudging, post, anna)]
    assert labels == [
        "1 day before",
        "1 hour before",
        "Overdue nudge 1",
        "Overdue nudge 2",
        "Overdue nudge 3",
        "Escalation to admins",
    ]


def test_a_snoozed_overdue_nudge_does_not_come_minutes_after_the_next_one(nudging, clock):
    anna = nudging["anna"]
    make_post(nudging, anna, rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 5, 12))
    run(nudging, rome(2026, 12, 6, 12))
    clock.move_to(rome(2026, 12, 6, 12, 10))
    snooze = _links(sent(nudging)[0])["Snooze 1 day"]  # from overdue nudge 2
    assert nudging["app"].test_client().post(snooze).status_code == 200
    before = len(mails_to(nudging, "anna@example.com"))
    for minute in (1, 11, 21):  # overdue nudge 3 was due at 12:00, the snoozed one at 12:10
        run(nudging, rome(2026, 12, 7, 12, minute))
    assert len(mails_to(nudging, "anna@example.com")) == before + 1


# A deadline planned again ------------------------------------------------------------------


def _drag(world, post, day: str) -> None:
    """Anna drops the post on ``day`` in the month view, from the post as it is now."""
    client = world["folks"].client_for(world["anna"])
    shown = form_in(client.get(f"/t/{post.team_id}/posts/{post.post_id}").text, id="move-form")
    data = {**shown.data().to_dict(), "date": day, "month": day[:7]}
    moved = client.post(f"/t/{post.team_id}/posts/{post.post_id}/move", data=data)
    assert moved.status_code in (200, 302), moved.text


def test_an_overdue_post_dragged_away_and_back_is_not_nudged_again(nudging, clock):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 5, 12))
    assert [m["subject"][:7] for m in sent(nudging)] == ["Overdue"]
    clock.move_to(rome(2026, 12, 5, 12, 10))
    _drag(nudging, post, "2026-12-09")  # a slip of the mouse, undone at once
    _drag(nudging, post, "2026-12-05")
    run(nudging, rome(2026, 12, 5, 12, 15))
    assert len(sent(nudging)) == 1, "the same overdue nudge again"
    assert line(timeline(nudging, post, anna), "Overdue nudge 1").startswith(
        "Overdue nudge 1 · sent to Anna Rossi"
    )
    run(nudging, rome(2026, 12, 6, 12))  # the next one comes on its day
    assert len(mails_to(nudging, "anna@example.com")) == 2


def test_an_overdue_post_trashed_and_restored_is_not_nudged_again(nudging, folks, clock):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 5, 12))
    clock.move_to(rome(2026, 12, 5, 12, 10))
    client = folks.client_for(anna)
    for action in ("trash", "restore"):
        answer = client.post(f"/t/{post.team_id}/posts/{post.post_id}/{action}")
        assert answer.status_code in (200, 302)
    run(nudging, rome(2026, 12, 5, 12, 15))
    assert len(sent(nudging)) == 1, "the same overdue nudge again"


def test_someone_removed_from_the_team_is_not_nudged_about_its_posts(nudging):
    make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10))
    teams.remove_member(nudging["team_id"], nudging["marco"].person_id)
    outcome = run(nudging, rome(2026, 12, 4, 10, 1))  # the day-before nudge's moment
    assert outcome.sent == 0 and outcome.cancelled == 1
    assert sent(nudging) == []
