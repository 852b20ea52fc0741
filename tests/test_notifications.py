"""Notifications: who is told that someone needs them, when, and in one email per batch."""

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from app import nudges
from app.planner import changes
from app.store import people, posts, teams
from tests.conftest import ROME, outbox

NEW_YORK = ZoneInfo("America/New_York")
LINK = re.compile(r"https?://\S+?(/n/[\w.-]+)")
BATCH_SUBJECT = re.compile(r"needs? you in|bisogno di te in")


@pytest.fixture
def cantina(app, folks, clock):
    """Cantina Aurora: Anna (admin), Marco (editor, Italian), Giulia (editor, owns the post),
    Vera (viewer); all in Rome. The clock stands at noon tomorrow in Rome."""
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(ses_rate=1000.0)
    anna = folks.person("anna@example.com", "Anna Rossi")
    marco = folks.person("marco@example.com", "Marco Bianchi", language="it")
    giulia = folks.person("giulia@example.com", "Giulia Verdi")
    vera = folks.person("vera@example.com", "Vera Neri")
    team = folks.team(anna, "Cantina Aurora")
    folks.join(team, marco, "editor")
    folks.join(team, giulia, "editor")
    folks.join(team, vera, "viewer")
    post = folks.post(team, owner=giulia, created_by=giulia, status="draft")
    return {
        "app": app,
        "folks": folks,
        "clock": clock,
        "team": team,
        "post": post,
        **{p.name.split()[0].lower(): p for p in (anna, marco, giulia, vera)},
    }


def at(world, hours: float = 0) -> datetime:
    """The fixture's instant (noon tomorrow in Rome) moved by ``hours``; the clock goes there."""
    moment = (world["folks"].now().astimezone(ROME).replace(hour=12, minute=0, second=0)) + (
        timedelta(hours=hours)
    )
    world["clock"].move_to(moment)
    return moment


def comment(world, who: str, text: str, post=None) -> None:
    post = post or world["post"]
    client = world["folks"].client_for(world[who])
    response = client.post(f"/t/{post.team_id}/posts/{post.post_id}/comments", data={"text": text})
    assert response.status_code == 302, response.text


def run(world, moment: datetime):
    return nudges.run_once(world["app"], moment)


def mails_to(world, who: str) -> list[dict]:
    """Notification emails to this person, oldest first."""
    return [
        mail
        for mail in reversed(outbox(world["app"]))
        if mail["to"] == world[who].email and BATCH_SUBJECT.search(mail["subject"])
    ]


def test_a_mention_emails_the_mentioned_and_the_owner_never_the_actor(cantina):
    start = at(cantina)
    comment(cantina, "anna", "@Marco Bianchi can you check the photo? https://x.test/@Vera")
    assert run(cantina, start + timedelta(minutes=1)).sent == 2
    (mail,) = mails_to(cantina, "marco")
    assert "Anna Rossi" in mail["text"] and "Tasting recap" in mail["text"]
    # Marco reads Italian: the due time in his zone and words (app/translations has the rest).
    due = format_datetime(cantina["post"].due, "EEE d MMM HH:mm", tzinfo=ROME, locale="it")
    assert due in mail["text"] and "Apri in Cadenza" in mail["text"]
    (owners,) = mails_to(cantina, "giulia")
    assert "Anna Rossi commented on your post" in owners["text"]
    assert not mails_to(cantina, "anna") and not mails_to(cantina, "vera")  # inside a link
    post = cantina["post"]
    assert f"/t/{post.team_id}/posts/{post.post_id}" in owners["html"]


def test_three_events_in_15_minutes_make_one_email_and_a_fourth_waits_15_minutes(cantina):
    start = at(cantina)
    comment(cantina, "anna", "first look")
    at(cantina, 0.05)
    comment(cantina, "marco", "@Giulia the crop is off")
    at(cantina, 0.1)
    comment(cantina, "vera", "lovely")
    assert run(cantina, start + timedelta(minutes=7)).sent == 1
    (batch,) = mails_to(cantina, "giulia")
    assert batch["subject"] == "3 things need you in Cantina Aurora"
    assert batch["text"].count("- ") == 3
    at(cantina, 0.2)  # 12:12, five minutes after the email
    comment(cantina, "anna", "one more thing")
    assert run(cantina, start + timedelta(minutes=20)).sent == 0  # held
    assert run(cantina, start + timedelta(minutes=22)).sent == 1  # 15 minutes after the first
    assert len(mails_to(cantina, "giulia")) == 2
    assert run(cantina, start + timedelta(minutes=40)).sent == 0


@pytest.mark.parametrize("zone", [ROME, NEW_YORK], ids=["Rome", "New York"])
def test_a_note_in_quiet_hours_arrives_when_they_end_in_the_recipient_zone(cantina, zone):
    giulia = cantina["giulia"]
    people.update_profile(giulia, name=giulia.name, language="en", zone=str(zone), week_start=0)
    people.update_preferences(giulia, quiet_start="22:00", quiet_end="07:00")
    day = at(cantina).astimezone(zone).date() + timedelta(days=1)
    late = datetime.combine(day, datetime.min.time(), zone) + timedelta(hours=23)
    cantina["clock"].move_to(late)
    comment(cantina, "anna", "@Giulia please look")
    morning = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    run(cantina, morning + timedelta(hours=6, minutes=59))
    assert not mails_to(cantina, "giulia")
    run(cantina, morning + timedelta(hours=7))
    (mail,) = mails_to(cantina, "giulia")
    # The recipient's local time, and the day: the note waited the night.
    assert "Yesterday 23:00 Anna Rossi mentioned you" in mail["text"]


def test_a_kind_switched_off_sends_nothing(cantina):
    start = at(cantina)
    people.update_preferences(cantina["giulia"], notify_off=["comment"])
    comment(cantina, "anna", "nice")
    run(cantina, start + timedelta(minutes=1))
    assert not mails_to(cantina, "giulia")


def test_someone_removed_from_the_team_hears_nothing(cantina):
    start = at(cantina)
    comment(cantina, "anna", "@Marco look")
    teams.remove_member(cantina["team"].team_id, cantina["marco"].person_id)
    run(cantina, start + timedelta(minutes=1))
    assert not mails_to(cantina, "marco")


def test_two_comments_at_the_same_moment_make_one_batch(cantina):
    start = at(cantina)
    post = cantina["post"]
    path = f"/t/{post.team_id}/posts/{post.post_id}/comments"
    clients = [cantina["folks"].client_for(cantina[who]) for who in ("anna", "marco")]
    barrier, statuses = threading.Barrier(2), []

    def send(client, text):
        barrier.wait()
        statuses.append(client.post(path, data={"text": text}).status_code)

    threads = [
        threading.Thread(target=send, args=(client, f"note {n}"))
        for n, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    run(cantina, start + timedelta(minutes=1))
    (batch,) = mails_to(cantina, "giulia")
    assert "note 0" in batch["text"] and "note 1" in batch["text"]


def test_two_overlapping_runs_send_one_email(cantina):
    start = at(cantina)
    comment(cantina, "anna", "@Marco look")
    threads = [
        threading.Thread(target=run, args=(cantina, start + timedelta(minutes=1))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run(cantina, start + timedelta(minutes=10))  # after any lease
    assert len(mails_to(cantina, "marco")) == 1


def _marcos_post_in_review(world):
    """Marco's "Vendemmia", due in two days, in review by Anna; and the moment (noon)."""
    start = at(world)
    post = posts.new_post(
        world["team"].team_id,
        title="Vendemmia",
        zone="Europe/Rome",
        created_by=world["marco"].person_id,
        now=start,
        due=start + timedelta(days=2),
        owner_id=world["marco"].person_id,
        channels=["Instagram"],
        status="in_review",
        reviewer_id=world["anna"].person_id,
    )
    with world["app"].app_context():
        changes.create(post, teams.team(post.team_id), start, copy="")
    return post, start


def test_a_review_decision_tells_the_owner_in_their_language(cantina):
    post, start = _marcos_post_in_review(cantina)
    client = cantina["folks"].client_for(cantina["anna"])
    path = f"/t/{post.team_id}/posts/{post.post_id}/review"
    data = {"decision": "changes", "comment": "Più luce", "version": "1"}
    assert client.post(path, data=data).status_code == 302
    run(cantina, start + timedelta(minutes=1))
    (mail,) = mails_to(cantina, "marco")
    assert "Anna Rossi ha chiesto modifiche" in mail["text"] and "Più luce" in mail["text"]
    assert "12:00" in mail["text"]  # Rome time


# One-click review actions (in the review request's nudge) ------------------------------------


def review_request(world, reviewer: str):
    """Giulia asks ``reviewer`` to review her post; the nudge goes out; its one-click links."""
    start = at(world)
    loaded, body = posts.load(world["post"].team_id, world["post"].post_id)
    with world["app"].app_context():
        changes.update(
            loaded,
            body,
            teams.team(loaded.team_id),
            summary={"status": "in_review", "reviewer_id": world[reviewer].person_id},
            body_fields={},
            actor=world["giulia"].person_id,
            now=start,
        )
    run(world, start + timedelta(seconds=30))
    (nudge,) = [m for m in outbox(world["app"]) if m["to"] == world[reviewer].email]
    links = [found.group(1) for found in LINK.finditer(nudge["text"])]
    return {"approve": links[0], "changes": links[1]}, nudge


def status(world) -> str:
    return posts.load(world["post"].team_id, world["post"].post_id)[0].status


def test_one_click_approve_is_safe_from_scanners_and_single_use(cantina):
    links, nudge = review_request(cantina, "anna")
    assert "Approve" in nudge["html"] and "Ask for changes" in nudge["text"]
    client = cantina["app"].test_client()
    page = client.get(links["approve"])  # a mail scanner fetching the link
    assert page.status_code == 200 and status(cantina) == "in_review"
    assert client.post(links["approve"]).status_code == 200
    assert status(cantina) == "approved"
    again = client.post(links["approve"])
    assert again.status_code == 410 and "used already" in again.text
    run(cantina, at(cantina, 0.5))
    assert "Anna Rossi approved your post" in mails_to(cantina, "giulia")[0]["text"]


def test_asking_for_changes_from_the_email_needs_a_word(cantina):
    links, _nudge = review_request(cantina, "anna")
    client = cantina["app"].test_client()
    assert client.post(links["changes"], data={"comment": " "}).status_code == 422
    assert client.post(links["changes"], data={"comment": "Brighter"}).status_code == 200
    assert status(cantina) == "draft"


def test_a_decision_on_a_version_changed_since_the_email_says_so_and_changes_nothing(cantina):
    links, _nudge = review_request(cantina, "anna")
    loaded, body = posts.load(cantina["post"].team_id, cantina["post"].post_id)
    with cantina["app"].app_context():  # Giulia edits the post after the email went out
        changes.update(
            loaded,
            body,
            teams.team(loaded.team_id),
            summary={"title": "Tasting recap, v2"},
            body_fields={},
            actor=cantina["giulia"].person_id,
            now=at(cantina, 0.1),
        )
    stale = cantina["app"].test_client().post(links["approve"])
    assert stale.status_code == 409 and "changed after this email" in stale.text
    assert status(cantina) == "in_review"


def test_a_reviewer_made_viewer_since_gets_a_clear_page_and_nothing_changes(cantina):
    links, _nudge = review_request(cantina, "marco")
    teams.change_role(cantina["team"].team_id, cantina["marco"].person_id, "viewer")
    client = cantina["app"].test_client()
    assert client.get(links["approve"]).status_code == 403
    assert client.post(links["approve"]).status_code == 403
    assert status(cantina) == "in_review"


def test_an_admin_takes_an_escalated_post_over_from_the_email(cantina):
    from app.nudges import emails
    from app.store import reminders

    post, anna = cantina["post"], cantina["anna"]
    loaded, body = posts.load(post.team_id, post.post_id)
    escalate = next(
        r for r in reminders.of_post(post.team_id, post.post_id) if r.kind == "escalate"
    )
    with cantina["app"].test_request_context():
        mail = emails.nudge(
            escalate,
            loaded,
            body,
            teams.team(post.team_id),
            [anna],
            at(cantina),
            emails.Escalation("unanswered", reminded=3),
        )
    text = mail.get_body(("plain",)).get_content()
    (link,) = [found.group(1) for found in LINK.finditer(text)]
    assert "Take it over" in text
    client = cantina["app"].test_client()
    assert client.get(link).status_code == 200
    assert posts.load(post.team_id, post.post_id)[0].owner_id == cantina["giulia"].person_id
    assert client.post(link).status_code == 200
    assert posts.load(post.team_id, post.post_id)[0].owner_id == anna.person_id


def test_the_emails_link_opens_the_post_after_signing_in(cantina, app):
    start = at(cantina)
    comment(cantina, "anna", "@Marco look")
    run(cantina, start + timedelta(minutes=1))
    (mail,) = mails_to(cantina, "marco")
    post = cantina["post"]
    path = f"/t/{post.team_id}/posts/{post.post_id}"
    assert path in mail["text"]
    stranger = app.test_client()
    assert stranger.get(path).status_code == 302  # to sign in, remembering where to go
    with stranger.session_transaction() as session:
        assert session["next"] == path


def test_a_decision_and_a_hand_over_in_one_save_make_one_batch_for_their_person(cantina):
    """Two notes for one person in one change: DynamoDB refuses a transaction that names the
    person's outbox twice, so the change must update it once for both."""
    post, start = _marcos_post_in_review(cantina)
    with cantina["app"].app_context():
        loaded, body = posts.load(post.team_id, post.post_id)
        changes.update(
            loaded,
            body,
            teams.team(post.team_id),
            summary={"status": "approved", "owner_id": cantina["giulia"].person_id},
            body_fields={},
            actor=cantina["anna"].person_id,
            now=start,
        )
    assert posts.load(post.team_id, post.post_id)[0].status == "approved"
    run(cantina, start + timedelta(minutes=1))
    (mail,) = mails_to(cantina, "giulia")
    text = mail["text"]  # both notes, in one email
    assert "handed this post over to you" in text and "approved your post" in text, text
