"""Nudges: what people receive, when, and that each is sent exactly once."""

import inspect
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from app import nudges
from app.nudges import plan, tokens
from app.planner import changes
from app.store import people, posts, reminders, teams
from app.store.models import Reminder
from tests.conftest import dynamodb_error, outbox, ses_error

ROME = ZoneInfo("Europe/Rome")


def rome(*args) -> datetime:
    return datetime(*args, tzinfo=ROME).astimezone(UTC)


@pytest.fixture
def nudging(app, folks, clock):
    """Cantina Aurora: Anna (admin, English) and Marco (editor, Italian), both in Rome.

    The clock is pinned (ticking) at noon on 1 December 2026, before every date these tests
    plan, so pages, links and the job agree with them whenever the suite runs.
    """
    clock.move_to(rome(2026, 12, 1, 12))
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(ses_rate=1000.0)
    anna = folks.person("anna@example.com", "Anna Rossi", zone="Europe/Rome")
    marco = folks.person("marco@example.com", "Marco Bianchi", language="it", zone="Europe/Rome")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, marco, "editor")
    return {"app": app, "folks": folks, "anna": anna, "marco": marco, "team_id": team.team_id}


def make_post(world, owner, due, title="Tasting recap", created=None, **values):
    team = teams.team(world["team_id"])
    post = posts.new_post(
        world["team_id"],
        title=title,
        zone="Europe/Rome",
        # Anna, the admin, may create a post already approved (an editor may not).
        created_by=world["anna"].person_id,
        now=created or due - timedelta(days=10),
        due=due,
        owner_id=owner.person_id,
        channels=values.pop("channels", ["Instagram"]),
        status=values.pop("status", "approved"),
        **values,
    )
    with world["app"].app_context():
        changes.create(
            post,
            team,
            created or due - timedelta(days=10),
            copy="Come taste 🍷",
            notes="Tag @enoteca",
        )
    return post


def edit(world, post, actor, at: datetime, summary=None, body_fields=None) -> None:
    """The actor saves the post at ``at`` with these summary and body fields changed."""
    loaded, body = posts.load(post.team_id, post.post_id)
    with world["app"].app_context():
        changes.update(
            loaded,
            body,
            teams.team(post.team_id),
            summary=summary or {},
            body_fields=body_fields or {},
            actor=actor.person_id,
            now=at,
        )


def ask_for_review(world, post, author, reviewer, at: datetime) -> None:
    """The author sends the post for review to the reviewer at ``at``."""
    summary = {"status": "in_review", "reviewer_id": reviewer.person_id}
    edit(world, post, author, at, summary=summary)


def run(world, at: datetime):
    return nudges.run_once(world["app"], at)


def sent(world) -> list[dict]:
    return outbox(world["app"])


def pending_kinds(post) -> dict[str, datetime]:
    return {
        r.kind: r.due for r in reminders.of_post(post.team_id, post.post_id) if r.state == "pending"
    }


# What people receive -----------------------------------------------------------------------


def test_the_owner_is_nudged_a_day_and_an_hour_before_by_default(nudging):
    post = make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    assert pending_kinds(post) == {
        "before-1440": rome(2026, 12, 4, 10),
        "before-60": rome(2026, 12, 5, 9),
        "overdue-1": rome(2026, 12, 5, 12),
        "overdue-2": rome(2026, 12, 6, 12),
        "overdue-3": rome(2026, 12, 7, 12),
        "escalate": rome(2026, 12, 8, 12),
    }
    assert run(nudging, rome(2026, 12, 4, 9, 59)).sent == 0
    assert run(nudging, rome(2026, 12, 4, 10)).sent == 1
    assert run(nudging, rome(2026, 12, 4, 10, 5)).sent == 0  # never twice
    (mail,) = sent(nudging)
    assert mail["to"] == "anna@example.com"
    assert mail["subject"] == "Tomorrow 10:00 · Instagram · Tasting recap"
    assert "Come taste 🍷" in mail["text"] and "Tag @enoteca" in mail["text"]
    assert "Mark as published" in mail["html"] and "Open in Cadenza" in mail["text"]
    assert f"/t/{post.team_id}/posts/{post.post_id}" in mail["text"]
    assert mail["headers"]["Content-Type"].startswith("multipart/alternative")
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.match(r"<https?://\S+/n/unsubscribe/\S+>", mail["headers"]["List-Unsubscribe"])
    assert run(nudging, rome(2026, 12, 5, 9)).sent == 1
    assert sent(nudging)[0]["subject"] == "Today 10:00 · Instagram · Tasting recap"


def test_an_italian_owner_gets_italian_nudges_in_their_zone(nudging):
    make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10), channels=["Instagram", "Facebook"])
    run(nudging, rome(2026, 12, 4, 10))
    (mail,) = sent(nudging)
    assert mail["subject"] == "Domani 10:00 · Instagram, Facebook · Tasting recap"
    assert "Segna come pubblicato" in mail["text"]


def test_people_choose_their_lead_times_and_teams_set_defaults(nudging):
    anna, marco = nudging["anna"], nudging["marco"]
    people.update_preferences(people.person(marco.person_id), lead_minutes=[4320, 1440, 120])
    mine = make_post(nudging, marco, rome(2026, 12, 10, 10))
    assert {k for k in pending_kinds(mine) if k.startswith("before")} == {
        "before-4320",
        "before-1440",
        "before-120",
    }
    teams.set_lead_minutes(teams.team(nudging["team_id"]), [240])
    theirs = make_post(nudging, anna, rome(2026, 12, 10, 15), title="Team default")
    assert {k for k in pending_kinds(theirs) if k.startswith("before")} == {"before-240"}


def test_an_overdue_post_is_nudged_three_times_then_the_admins_are_told(nudging):
    make_post(nudging, nudging["marco"], rome(2026, 12, 5, 10))
    moments = [
        rome(2026, 12, 5, 12),
        rome(2026, 12, 6, 12),
        rome(2026, 12, 7, 12),
        rome(2026, 12, 8, 12),
        rome(2026, 12, 20, 12),
    ]
    for moment in moments:
        run(nudging, moment)
    mails = list(reversed(sent(nudging)))
    late = [m for m in mails if m["subject"].startswith("In ritardo")]
    assert len(late) == 3 and all(m["to"] == "marco@example.com" for m in late)
    escalations = [m for m in mails if m["to"] == "anna@example.com"]
    assert len(escalations) == 1
    assert escalations[0]["subject"] == "Still not published · Tasting recap · Marco Bianchi"
    # The before-due nudges were missed (the first run is after the due time): they became
    # the first overdue nudge instead of arriving late.
    assert len(mails) == 3 + 1


def test_publishing_stops_the_nudges(nudging, folks):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    loaded, body = posts.load(post.team_id, post.post_id)
    client = folks.client_for(anna)
    response = client.post(
        f"/t/{post.team_id}/posts/{post.post_id}",
        data={
            "title": post.title,
            "copy": "x",
            "channels": ["Instagram"],
            "owner": anna.person_id,
            "day": "2026-12-05",
            "at": "10:00",
            "status": "published",
            "reviewer": "",
            "tags": "",
            "notes": "",
            "published_url": "",
            "version": str(loaded.version),
        },
    )
    assert response.status_code == 302
    assert pending_kinds(post) == {}
    for day in range(3, 10):
        run(nudging, rome(2026, 12, day, 13))
    assert sent(nudging) == []


def test_moving_a_post_nudges_at_the_new_time_and_never_at_the_old(nudging, folks):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    client = folks.client_for(anna)
    response = client.post(
        f"/t/{post.team_id}/posts/{post.post_id}/move",
        data={
            "date": "2026-12-12",
            "version": str(post.version),
            "due": post.due.isoformat(),
            "owner": anna.person_id,
            "status": post.status,
            "month": "2026-12",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert pending_kinds(post)["before-1440"] == rome(2026, 12, 11, 10)
    assert run(nudging, rome(2026, 12, 4, 10)).sent == 0
    assert run(nudging, rome(2026, 12, 11, 10)).sent == 1


def test_a_new_owner_gets_the_nudges(nudging, folks):
    anna, marco = nudging["anna"], nudging["marco"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    loaded, body = posts.load(post.team_id, post.post_id)
    with nudging["app"].app_context():
        changes.update(
            loaded,
            body,
            teams.team(post.team_id),
            summary={"owner_id": marco.person_id},
            body_fields={},
            actor=anna.person_id,
            now=rome(2026, 11, 30, 9),
        )
    run(nudging, rome(2026, 12, 4, 10))
    # The nudge, and the notification that Anna handed the post to him.
    assert [m["to"] for m in sent(nudging)] == ["marco@example.com"] * 2


def test_a_trashed_post_gets_no_more_nudges(nudging, folks):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    assert (
        folks.client_for(anna).post(f"/t/{post.team_id}/posts/{post.post_id}/trash").status_code
        == 302
    )
    assert pending_kinds(post) == {}
    run(nudging, rome(2026, 12, 6, 9))
    assert sent(nudging) == []


def test_a_stale_reminder_left_by_an_earlier_plan_is_cancelled_not_sent(nudging):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    old = Reminder(
        *Reminder.key(post.team_id, post.post_id, "before-30"),
        team_id=post.team_id,
        post_id=post.post_id,
        kind="before-30",
        person_id=anna.person_id,
        due=rome(2026, 12, 1, 9),
        for_due=rome(2026, 12, 1, 9, 30),
    )
    reminders.pending(old).save()
    outcome = run(nudging, rome(2026, 12, 1, 9))
    assert outcome.sent == 0 and outcome.cancelled == 1
    assert reminders.get(old.pk, old.sk).note == "post_moved"


def test_the_reviewer_is_nudged_when_asked_and_again_a_day_later(nudging, folks):
    anna, marco = nudging["anna"], nudging["marco"]
    post = make_post(nudging, marco, rome(2026, 12, 20, 10), status="draft")
    ask_for_review(nudging, post, marco, anna, rome(2026, 12, 1, 10))
    assert run(nudging, rome(2026, 12, 1, 10, 1)).sent == 1
    assert sent(nudging)[0]["to"] == "anna@example.com"
    assert sent(nudging)[0]["subject"].startswith("Please review · Tasting recap")
    assert run(nudging, rome(2026, 12, 2, 9)).sent == 0
    assert run(nudging, rome(2026, 12, 2, 10)).sent == 1
    loaded, _body = posts.load(post.team_id, post.post_id)
    with nudging["app"].app_context():
        changes.update(
            loaded,
            _body,
            teams.team(post.team_id),
            summary={"status": "approved"},
            body_fields={},
            actor=anna.person_id,
            now=rome(2026, 12, 2, 11),
        )
    assert not [k for k in pending_kinds(post) if k.startswith("review")]


def test_the_daily_digest_comes_once_at_the_persons_hour_overdue_first(nudging, folks):
    marco = nudging["marco"]
    make_post(nudging, marco, rome(2026, 12, 3, 10), title="Late one")
    make_post(nudging, marco, rome(2026, 12, 6, 18), title="This week")
    make_post(nudging, marco, rome(2026, 12, 20, 18), title="Too far")
    client = folks.client_for(marco)
    response = client.post(
        "/me/nudges",
        data={
            "nudges_on": "y",
            "digest_on": "y",
            "digest_at": "07:30",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "away_from": "",
            "away_until": "",
        },
    )
    assert response.status_code == 302
    digest = reminders.get(*Reminder.digest_key(marco.person_id))
    assert digest.due > datetime.now(UTC)
    digest.update(actions=[Reminder.due.set(rome(2026, 12, 4, 7, 30))])
    reminders.pending(reminders.get(digest.pk, digest.sk)).save()
    outcome = run(nudging, rome(2026, 12, 4, 7, 31))
    digests = [m for m in sent(nudging) if m["subject"].startswith("La tua settimana")]
    assert outcome.sent >= 1 and len(digests) == 1
    text = digests[0]["text"]
    assert text.index("Late one") < text.index("This week") and "Too far" not in text
    assert reminders.get(digest.pk, digest.sk).due == rome(2026, 12, 5, 7, 30)
    run(nudging, rome(2026, 12, 4, 9))
    assert len([m for m in sent(nudging) if m["subject"].startswith("La tua settimana")]) == 1


# Quiet hours, DST, vacation ----------------------------------------------------------------


def test_a_nudge_in_quiet_hours_waits_for_the_morning(nudging):
    # Due at 22:30: the one-hour nudge (21:30) falls in 21:00–08:00 … after the due time,
    # so it comes at the start of the quiet hours instead, the evening before (21:00).
    post = make_post(nudging, nudging["anna"], rome(2026, 12, 5, 22, 30))
    assert pending_kinds(post)["before-60"] == rome(2026, 12, 5, 21, 0)
    # Due at 10:00: the day-before nudge at 10:00 is fine; due at 08:30, the one-hour nudge
    # (07:30) moves to the end of the quiet hours (08:00), still before the post.
    early = make_post(nudging, nudging["anna"], rome(2026, 12, 9, 8, 30), title="Early")
    assert pending_kinds(early)["before-60"] == rome(2026, 12, 9, 8, 0)


def test_quiet_hours_across_midnight_move_a_2am_nudge_to_8(nudging):
    member = teams.team(nudging["team_id"]).member(nudging["anna"].person_id)
    assert plan.outside_quiet_hours(rome(2026, 12, 5, 2, 0), member, None) == rome(2026, 12, 5, 8)
    assert plan.outside_quiet_hours(rome(2026, 12, 5, 23, 0), member, None) == rome(2026, 12, 6, 8)
    deadline = rome(2026, 12, 6, 7)
    assert plan.outside_quiet_hours(rome(2026, 12, 6, 6, 0), member, deadline) == rome(
        2026, 12, 5, 21
    )
    assert plan.outside_quiet_hours(rome(2026, 12, 5, 12), member, None) == rome(2026, 12, 5, 12)


@pytest.mark.parametrize(
    ("due", "nudge_utc_hour"),
    [
        (datetime(2027, 3, 28, 9), 8),  # due in summer time, the day before is winter (UTC+1)
        (datetime(2026, 10, 25, 9), 7),  # due in winter time, the day before is summer (UTC+2)
    ],
)
def test_a_day_before_nudge_keeps_the_local_hour_across_dst(nudging, due, nudge_utc_hour):
    post = make_post(nudging, nudging["anna"], due.replace(tzinfo=ROME).astimezone(UTC))
    nudge = pending_kinds(post)["before-1440"]
    assert nudge.astimezone(ROME).hour == 9
    assert nudge.hour == nudge_utc_hour and nudge.astimezone(ROME).date() == (
        due.date() - timedelta(days=1)
    )


def test_vacation_stops_nudges_flags_the_calendar_and_tells_the_admin(nudging, folks):
    marco = nudging["marco"]
    post = make_post(nudging, marco, rome(2026, 12, 24, 10), title="Christmas eve")
    response = folks.client_for(marco).post(
        "/me/nudges",
        data={
            "nudges_on": "y",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "digest_at": "08:00",
            "away_from": "2026-12-20",
            "away_until": "2026-12-27",
        },
    )
    assert response.status_code == 302
    (notice,) = [m for m in sent(nudging) if m["to"] == "anna@example.com"]
    assert "Marco Bianchi" in notice["subject"] and "Christmas eve" in notice["text"]
    page = folks.client_for(nudging["anna"]).get(f"/t/{post.team_id}/month/2026-12").text
    chip = page.split(f'id="post-{post.post_id}"')[1].split("</a>")[0]
    assert "Owner away" in chip
    outcome = run(nudging, rome(2026, 12, 23, 10))
    assert outcome.sent == 0 and outcome.cancelled == 1
    assert [m["to"] for m in sent(nudging)] == ["anna@example.com"]


# One-click actions and unsubscribing -------------------------------------------------------


def _links(mail) -> dict[str, str]:
    found = dict(
        re.findall(
            r"^(Mark as published|Snooze 1 day|Hand over to a teammate): (\S+)", mail["text"], re.M
        )
    )
    return {name: urlsplit(url).path for name, url in found.items()}


@pytest.fixture
def nudged(nudging):
    post = make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 4, 10))
    return post, _links(sent(nudging)[0])


def test_mark_as_published_from_the_email_needs_no_session_and_a_confirm(nudging, nudged):
    post, links = nudged
    stranger = nudging["app"].test_client()  # not signed in
    page = stranger.get(links["Mark as published"])
    assert page.status_code == 200 and "Mark this post as published?" in page.text
    assert posts.load(post.team_id, post.post_id)[0].status == "approved"  # GET changes nothing
    done = stranger.post(links["Mark as published"], data={"link": "https://instagram.com/p/1"})
    assert done.status_code == 200 and "is marked as published" in done.text
    stored, body = posts.load(post.team_id, post.post_id)
    assert stored.status == "published" and body.published_url == "https://instagram.com/p/1"
    assert pending_kinds(post) == {}
    again = stranger.post(links["Mark as published"])
    assert again.status_code == 410 and "used already" in again.text


def test_a_published_link_past_two_thousand_characters_is_refused_and_the_link_stays_usable(
    nudging, nudged
):
    """The same bound as the post form's (and the CSV import's) published link."""
    post, links = nudged
    client = nudging["app"].test_client()
    too_long = "https://instagram.com/p/" + "x" * 2000
    refused = client.post(links["Mark as published"], data={"link": too_long})
    assert refused.status_code == 422 and "web address" in refused.text
    assert posts.load(post.team_id, post.post_id)[0].status == "approved"
    done = client.post(links["Mark as published"], data={"link": "https://instagram.com/p/1"})
    assert done.status_code == 200


def test_snooze_moves_only_the_reminder(nudging, nudged):
    post, links = nudged
    client = nudging["app"].test_client()
    assert client.post(links["Snooze 1 day"]).status_code == 200
    assert pending_kinds(post)["before-1440"] > datetime.now(UTC) + timedelta(hours=23)
    assert posts.load(post.team_id, post.post_id)[0].due == post.due


def test_handing_over_gives_the_post_and_its_nudges_to_a_teammate(nudging, nudged):
    post, links = nudged
    marco = nudging["marco"]
    client = nudging["app"].test_client()
    page = client.get(links["Hand over to a teammate"])
    assert "Marco Bianchi" in page.text
    assert client.post(links["Hand over to a teammate"], data={"to": "nobody"}).status_code == 422
    assert (
        client.post(links["Hand over to a teammate"], data={"to": marco.person_id}).status_code
        == 200
    )
    assert posts.load(post.team_id, post.post_id)[0].owner_id == marco.person_id
    run(nudging, datetime.now(UTC) + timedelta(minutes=1))
    handover = [m for m in sent(nudging) if m["to"] == "marco@example.com"]
    assert handover and handover[0]["subject"].startswith("Affidato a te")


def test_tampered_and_expired_links_explain_themselves(nudging, nudged):
    post, links = nudged
    client = nudging["app"].test_client()
    path = links["Snooze 1 day"]
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    response = client.get(tampered)
    assert (
        response.status_code == 404 and "not valid" in response.text and "/login" in response.text
    )
    with nudging["app"].test_request_context():
        expired = tokens.sign(
            "snooze",
            person_id=nudging["anna"].person_id,
            team_id=post.team_id,
            post_id=post.post_id,
            kind="before-1440",
            expires=datetime.now(UTC) - timedelta(seconds=1),
        )
    response = client.post(f"/n/{expired}")
    assert response.status_code == 410 and "expired" in response.text


def test_links_expire_a_week_after_the_posts_due_time(nudging, nudged):
    post, links = nudged
    with nudging["app"].test_request_context():
        payload = tokens.read(links["Snooze 1 day"].rsplit("/", 1)[1], datetime.now(UTC))
    assert payload["e"] == int((post.due + timedelta(days=7)).timestamp())


def test_one_click_unsubscribe_works_without_cookies_or_form_token(nudging, nudged):
    anna = nudging["anna"]
    mail = sent(nudging)[0]
    path = urlsplit(mail["headers"]["List-Unsubscribe"].strip("<>")).path
    bare = nudging["app"].test_client()
    confirm = bare.get(path)
    assert confirm.status_code == 200 and people.person(anna.person_id).nudges_on
    response = bare.post(path, data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert response.status_code == 200 and "No more nudges" in response.text
    assert not people.person(anna.person_id).nudges_on
    outcome = run(nudging, rome(2026, 12, 5, 9))
    assert outcome.sent == 0
    # Back on from the preferences page.
    client = nudging["folks"].client_for(anna)
    client.post(
        "/me/nudges",
        data={"nudges_on": "y", "quiet_start": "21:00", "quiet_end": "08:00", "digest_at": "08:00"},
    )
    assert people.person(anna.person_id).nudges_on


def test_preferences_validate_every_field(nudging, folks):
    client = folks.client_for(nudging["anna"])
    response = client.post(
        "/me/nudges",
        data={
            "custom_leads": "y",
            "quiet_start": "25:00",
            "quiet_end": "",
            "digest_on": "y",
            "digest_at": "",
            "away_from": "2026-12-20",
            "away_until": "2026-12-01",
        },
    )
    assert response.status_code == 422
    for message in (
        "Enter a time like 21:00.",
        "Give both ends of the quiet hours, or neither.",
        "Choose at least one time, or use the team",
        "Choose when the digest comes.",
        "The last day comes after the first.",
    ):
        assert message in response.text, message


# Failures, catch-up, rate, entry points ----------------------------------------------------


def test_a_permanent_rejection_is_shown_on_the_post_and_the_person(nudging, folks, inject):
    anna = nudging["anna"]
    inject(
        lambda event, request: (
            ses_error(request, "MessageRejected")
            if event == "before-send.ses.SendRawEmail"
            else None
        )
    )
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    outcome = run(nudging, rome(2026, 12, 4, 10))
    assert outcome.failed == 1 and outcome.sent == 0
    client = folks.client_for(anna)
    panel = client.get(f"/t/{post.team_id}/posts/{post.post_id}").text
    assert "could not be delivered" in panel
    assert "could not be delivered" in client.get("/me/nudges").text
    assert run(nudging, rome(2026, 12, 4, 11)).sent == 0  # not retried


def test_after_an_outage_a_missed_before_nudge_becomes_the_overdue_one(nudging):
    post = make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    outcome = run(nudging, rome(2026, 12, 5, 10, 30))  # the scheduler was down since the 4th
    mails = sent(nudging)
    assert outcome.sent == 1 and len(mails) == 1
    assert mails[0]["subject"].startswith("Overdue")
    assert "before-1440" not in pending_kinds(post) and "overdue-1" not in pending_kinds(post)


def test_a_run_sends_what_fits_in_its_budget_and_leaves_the_rest(nudging):
    nudging["app"].extensions["cadenza"] = (
        nudging["app"].extensions["cadenza"].replace(ses_rate=1.0, nudge_budget_seconds=2.5)
    )
    for n in range(5):
        make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10 + n), title=f"Post {n}")
    first = run(nudging, rome(2026, 12, 5, 8, 30))  # 1 email a second: 3 fit in 2.5 s
    assert first.sent == 3 and first.left == 2
    second = run(nudging, rome(2026, 12, 5, 8, 31))
    third = run(nudging, rome(2026, 12, 5, 8, 32))
    assert first.sent + second.sent + third.sent == 5


def test_a_zappa_scheduled_event_runs_the_job(nudging, monkeypatch):
    make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    monkeypatch.setattr(nudges, "_application", nudging["app"])
    event = {
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": ["arn:aws:events:eu-west-1:1:rule/cadenza-dev-app.nudges.run"],
        "kwargs": {"now": rome(2026, 12, 4, 10).isoformat()},
    }
    assert nudges.run(event, None)["sent"] == 1
    signature = inspect.signature(nudges.run)
    assert list(signature.parameters) == ["event", "context"]
    assert all(p.default is inspect.Parameter.empty for p in signature.parameters.values())


def test_the_run_logs_the_real_error_before_raising_it(nudging, monkeypatch, caplog):
    def broken(app, now):
        raise RuntimeError("the real reason")

    monkeypatch.setattr(nudges, "run_once", broken)
    monkeypatch.setattr(nudges, "_application", nudging["app"])
    with pytest.raises(RuntimeError):
        nudges.run({}, None)
    assert "the real reason" in caplog.text


def test_the_cli_runs_the_job_at_a_simulated_time(nudging):
    make_post(nudging, nudging["anna"], rome(2026, 12, 5, 10))
    runner = nudging["app"].test_cli_runner()
    result = runner.invoke(nudges.nudge_command, ["--now", "2026-12-04T10:00:00+01:00"])
    assert result.exit_code == 0 and "sent 1" in result.output
    bad = runner.invoke(nudges.nudge_command, ["--now", "2026-12-04T10:00:00"])
    assert bad.exit_code != 0


def test_the_post_panel_shows_the_nudge_timeline(nudging, folks):
    anna = nudging["anna"]
    post = make_post(nudging, anna, rome(2026, 12, 5, 10))
    run(nudging, rome(2026, 12, 4, 10))
    panel = folks.client_for(anna).get(f"/t/{post.team_id}/posts/{post.post_id}").text
    timeline = panel.split('id="nudges"')[1].split("</section>")[0]
    assert "1 day before" in timeline and "sent to Anna Rossi" in timeline
    assert "1 hour before" in timeline and "planned for" in timeline
    assert "Cadenza nudged <strong>Anna Rossi</strong>" in panel.split('id="history"')[1]


# Reliability -------------------------------------------------------------------------------


def _due_reminders(world, count: int, at: datetime) -> None:
    """``count`` posts due an hour after ``at``, each with a one-hour nudge due a minute ago."""
    from app.store.models import Post, PostBody

    anna = people.person(world["anna"].person_id)
    people.update_preferences(anna, quiet_start="", quiet_end="")  # nudges at any hour
    with Post.batch_write() as batch:
        for n in range(count):
            post = posts.new_post(
                world["team_id"],
                title=f"Post {n:03d}",
                zone="Europe/Rome",
                created_by=anna.person_id,
                now=at - timedelta(days=1),
                due=at + timedelta(minutes=59),
                owner_id=anna.person_id,
                channels=["Instagram"],
                status="approved",
            )
            post.version = 1
            batch.save(post)
            batch.save(PostBody(*PostBody.key(post.team_id, post.post_id), copy=f"Copy {n}"))
            batch.save(
                reminders.pending(
                    Reminder(
                        *Reminder.key(post.team_id, post.post_id, "before-60"),
                        team_id=post.team_id,
                        post_id=post.post_id,
                        kind="before-60",
                        person_id=anna.person_id,
                        due=at - timedelta(minutes=1),
                        for_due=post.due,
                    )
                )
            )


def _emails_per_post(world) -> dict[str, int]:
    counts: dict[str, int] = {}
    for mail in sent(world):
        title = mail["subject"].rsplit(" · ", 1)[-1]
        counts[title] = counts.get(title, 0) + 1
    return counts


def test_ten_overlapping_runs_with_injected_failures_send_each_nudge_exactly_once(
    nudging, inject, monkeypatch
):
    import random
    import threading

    import botocore.endpoint

    # botocore really retries the injected throttles; only its waiting is skipped.
    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)
    # Time budgets are another test's subject: here every run may work until it is done.
    config = nudging["app"].extensions["cadenza"]
    nudging["app"].extensions["cadenza"] = config.replace(nudge_budget_seconds=600.0)

    at = rome(2026, 12, 5, 10)
    _due_reminders(nudging, 200, at)
    rng, rng_lock, injected = random.Random(20261126), threading.Lock(), {"n": 0, "on": True}
    writes = ("UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems")

    def chaos(event, request):
        _before, service, operation = event.split(".")
        if not injected["on"]:
            return None
        with rng_lock:
            roll = rng.random()
        if service == "dynamodb" and operation in writes and roll < 0.05:
            injected["n"] += 1
            if operation == "TransactWriteItems":
                return dynamodb_error(
                    request, "TransactionCanceledException", [{"Code": "ConditionalCheckFailed"}]
                )
            return dynamodb_error(request, "ConditionalCheckFailedException")
        if service == "dynamodb" and roll > 0.95:
            injected["n"] += 1
            return dynamodb_error(request, "ProvisionedThroughputExceededException")
        if service == "ses" and roll < 0.10:
            injected["n"] += 1
            return ses_error(request, "Throttling")
        return None

    inject(chaos)
    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(run(nudging, at))) for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 10 and injected["n"] > 50
    injected["on"] = False  # two more runs, once the leases of interrupted claims expired
    run(nudging, at + timedelta(minutes=10))
    run(nudging, at + timedelta(minutes=20))
    counts = _emails_per_post(nudging)
    assert len(counts) == 200, f"lost: {200 - len(counts)}"
    assert set(counts.values()) == {1}, {t: n for t, n in counts.items() if n != 1}
    assert list(reminders.due_at_or_before(at + timedelta(minutes=30))) == []


class Crash(BaseException):
    """The process dies (not an error the job could catch)."""


def test_a_crash_between_sending_and_marking_sends_at_most_one_duplicate(nudging, monkeypatch):
    at = rome(2026, 12, 5, 10)
    _due_reminders(nudging, 3, at)
    real_mark = reminders.mark_sent

    def die_once(*args, **kwargs):
        monkeypatch.setattr(reminders, "mark_sent", real_mark)
        raise Crash()

    monkeypatch.setattr(reminders, "mark_sent", die_once)
    with pytest.raises(Crash):
        run(nudging, at)
    assert len(sent(nudging)) == 1
    assert run(nudging, at + timedelta(minutes=1)).sent == 2  # the crashed one is still leased
    assert run(nudging, at + timedelta(minutes=6)).sent == 1  # its lease expired: sent again
    assert run(nudging, at + timedelta(minutes=12)).sent == 0
    assert sorted(_emails_per_post(nudging).values()) == [1, 1, 2]
