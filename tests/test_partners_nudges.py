"""A shared post's co-owner is nudged too (issue 11), each owner by their own preferences.

Cantina Aurora (Giulia, in Rome, English, one day ahead) shares a post with its partner
Enoteca Lumen, co-owned there by Sam (in New York, Italian, four hours ahead). Sam's nudges
live in Aurora's partition as ``co-`` kinds, planned from Sam's entry in Lumen's members map.
"""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from test_injected_faults import (  # noqa: F401 (quick_retries: a fixture)
    Injector,
    Slot,
    cases,
    offenders_of_faulted_runs,
    quick_retries,
    saved_store,
)
from test_partners import _partnered

from app import nudges
from app.nudges import plan
from app.planner import changes
from app.store import partners, people, playbook, posts, reminders, teams
from tests.conftest import outbox

ROME, NEW_YORK = ZoneInfo("Europe/Rome"), ZoneInfo("America/New_York")


@pytest.fixture
def shared(app, folks, clock):
    app.extensions["cadenza"] = app.extensions["cadenza"].replace(ses_rate=1000.0)
    giulia = folks.person("giulia@aurora.example.com", "Giulia", zone="Europe/Rome")
    tom = folks.person("tom@lumen.example.com", "Tom")
    sam = folks.person("sam@lumen.example.com", "Sam", language="it", zone="America/New_York")
    aurora, lumen = folks.team(giulia, "Cantina Aurora"), folks.team(tom, "Enoteca Lumen")
    folks.join(lumen, sam, "editor")
    _partnered(app, folks, {"aurora": aurora, "lumen": lumen, "tom": tom})
    now = folks.now()
    with app.app_context():
        people.update_preferences(people.person(giulia.person_id), lead_minutes=[1440])
        people.update_preferences(people.person(sam.person_id), lead_minutes=[240])
    # Due in three days at 18:00 in Rome: Sam's four hours before is his morning.
    day = now.astimezone(ROME).date() + timedelta(days=3)
    due = datetime.combine(day, time(18), tzinfo=ROME)
    post = posts.new_post(
        aurora.team_id,
        title="Vendemmia",
        zone="Europe/Rome",
        created_by=giulia.person_id,
        now=now,
        due=due,
        owner_id=giulia.person_id,
        channels=["Instagram"],
        status="approved",
    )
    world = {"app": app, "folks": folks, "aurora": aurora, "lumen": lumen, "post": post}
    world.update(giulia=giulia, tom=tom, sam=sam)
    with app.app_context():
        changes.create(post, teams.team(aurora.team_id), now, copy="")
    share(world, co_owner=(sam.person_id, "Sam"))
    return world


def share(world, *, co_owner, partner=True):
    app, aurora = world["app"], world["aurora"]
    with app.app_context():
        changes.share(
            posts.load(aurora.team_id, world["post"].post_id)[0],
            teams.team(aurora.team_id),
            actor=world["giulia"].person_id,
            partner_id=world["lumen"].team_id if partner else None,
            co_owner=co_owner,
            origin_name="Cantina Aurora",
            shown={},
            now=world["folks"].now(),
        )


def nudges_of(world) -> dict:
    """The post's pending nudges: kind -> (person, due)."""
    with world["app"].app_context():
        found = reminders.of_post(world["aurora"].team_id, world["post"].post_id)
    return {r.kind: (r.person_id, r.due) for r in found if r.state == "pending"}


def run(world, at):
    return nudges.run_once(world["app"], at)


def test_each_owner_is_nudged_at_their_own_lead_time_in_their_zone_and_language(shared):
    due, giulia, sam = shared["post"].due, shared["giulia"], shared["sam"]
    planned = nudges_of(shared)
    assert planned["before-1440"] == (giulia.person_id, plan.before(due, 1440, ROME))
    assert planned["co-before-240"] == (sam.person_id, due - timedelta(hours=4))
    assert "before-240" not in planned and "co-before-1440" not in planned
    assert planned["co-overdue-1"][0] == sam.person_id and "co-escalate" not in planned
    run(shared, plan.before(due, 1440, ROME))
    run(shared, due - timedelta(hours=4))
    to_sam, to_giulia = outbox(shared["app"])[:2]
    assert to_giulia["to"] == giulia.email and to_giulia["subject"].startswith("Tomorrow 18:00")
    assert to_sam["to"] == sam.email
    in_new_york = due.astimezone(NEW_YORK).strftime("%H:%M")
    assert to_sam["subject"].startswith(f"Oggi {in_new_york}")  # his zone, his language
    # Sam's links open his team's page of the post, where he publishes with Lumen's link.
    lumen, aurora, post_id = shared["lumen"].team_id, shared["aurora"].team_id, post_id_of(shared)
    assert f"/t/{lumen}/shared/{aurora}/{post_id}" in to_sam["text"]
    assert f"/t/{lumen}/shared/{aurora}/{post_id}" in to_sam["html"]
    assert "/nudges/" not in to_sam["text"].replace("/me/nudges", "")
    assert f"/t/{aurora}/posts/{post_id}" in to_giulia["text"]
    # The page the link opens is Sam's to see.
    page = shared["folks"].client_for(sam).get(f"/t/{lumen}/shared/{aurora}/{post_id}")
    assert page.status_code == 200 and "Vendemmia" in page.text


def test_the_co_owners_nudge_shows_the_copy_but_not_the_owning_teams_notes_or_playbook(shared):
    """The co-owner reads what their team's page of the post shows: its copy. The owning
    team's notes and playbook checklists stay in the owning team (the owner's nudge has them)."""
    app, aurora, giulia = shared["app"], shared["aurora"], shared["giulia"]
    with app.app_context():
        checklists = {"Instagram": ["Tag the estate's account"]}
        playbook.save(
            aurora.team_id,
            guidelines="",
            checklists=checklists,
            version=None,
            actor=giulia.person_id,
            now=shared["folks"].now(),
        )
        post, body = posts.load(aurora.team_id, post_id_of(shared))
        changes.update(
            post,
            body,
            teams.team(aurora.team_id),
            summary={},
            body_fields={"notes": "Margin 40%, internal", "copy": "Vendemmia 2026 is in!"},
            actor=giulia.person_id,
            now=shared["folks"].now(),
        )
    due = shared["post"].due
    run(shared, plan.before(due, 1440, ROME))
    run(shared, due - timedelta(hours=4))
    to_giulia, to_sam = (
        next(m for m in outbox(app) if m["to"] == who.email) for who in (giulia, shared["sam"])
    )
    for part in ("text", "html"):
        assert (
            "Vendemmia 2026 is in!" in to_sam[part] and "Vendemmia 2026 is in!" in to_giulia[part]
        )
        assert "Margin 40%" not in to_sam[part] and "Tag the estate" not in to_sam[part]
        assert "Margin 40%" in to_giulia[part] and "Tag the estate" in to_giulia[part]


def post_id_of(world) -> str:
    return world["post"].post_id


def test_a_co_owner_with_nudges_off_gets_none_while_the_owner_still_does(shared):
    with shared["app"].app_context():
        people.update_preferences(people.person(shared["sam"].person_id), nudges_on=False)
    due = shared["post"].due
    run(shared, plan.before(due, 1440, ROME))
    run(shared, due - timedelta(hours=4))
    assert [mail["to"] for mail in outbox(shared["app"])] == [shared["giulia"].email]


def test_moving_the_post_plans_both_again(shared):
    new_due = shared["post"].due + timedelta(days=2)
    stored = posts.load(shared["aurora"].team_id, post_id_of(shared))[0]
    with shared["app"].app_context():
        changes.move(
            teams.team(shared["aurora"].team_id),
            post_id_of(shared),
            seen_due=stored.due,
            seen_owner=stored.owner_id,
            seen_status=stored.status,
            due=new_due,
            zone="Europe/Rome",
            actor=shared["giulia"].person_id,
            now=shared["folks"].now(),
            version=stored.version,
        )
    planned = nudges_of(shared)
    assert planned["before-1440"][1] == plan.before(new_due, 1440, ROME)
    assert planned["co-before-240"][1] == new_due - timedelta(hours=4)
    assert planned["co-overdue-1"][1] > new_due


def test_unsharing_or_ending_the_partnership_drops_the_co_owners_nudges_only(shared):
    owners = {"before-1440", "overdue-1", "overdue-2", "overdue-3", "escalate"}
    share(shared, co_owner=None)  # still shared, without a co-owner
    assert set(nudges_of(shared)) == owners
    share(shared, co_owner=(shared["sam"].person_id, "Sam"))
    assert "co-before-240" in nudges_of(shared)
    share(shared, co_owner=None, partner=False)
    assert set(nudges_of(shared)) == owners
    share(shared, co_owner=(shared["sam"].person_id, "Sam"))
    with shared["app"].app_context():
        ending = teams.team(shared["lumen"].team_id)
        partners.end(ending, shared["aurora"].team_id, shared["folks"].now())
    assert set(nudges_of(shared)) == owners
    run(shared, shared["post"].due - timedelta(hours=4))
    assert [mail["to"] for mail in outbox(shared["app"])] == [shared["giulia"].email]


def test_a_co_owners_nudge_is_not_sent_once_the_post_is_no_longer_theirs(shared):
    """What changed after the reminder was read by the index: the job reads again."""
    with shared["app"].app_context():
        teams.remove_member(shared["lumen"].team_id, shared["sam"].person_id)
    outcome = run(shared, shared["post"].due - timedelta(hours=4))
    assert outcome.emails == [shared["giulia"].email] and outcome.cancelled == 1
    with shared["app"].app_context():
        found = reminders.of_post(shared["aurora"].team_id, post_id_of(shared))
    assert {r.kind: r.note for r in found}["co-before-240"] == "left_team"


def test_two_overlapping_runs_send_each_once(shared):
    at = shared["post"].due - timedelta(hours=4)
    threads = [threading.Thread(target=run, args=(shared, at)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run(shared, at + timedelta(minutes=10))
    sent = sorted(mail["to"] for mail in outbox(shared["app"]))
    assert sent == sorted([shared["giulia"].email, shared["sam"].email])


def test_a_co_owner_choosing_other_lead_times_gets_their_nudges_planned_again(shared):
    saved = (
        shared["folks"]
        .client_for(shared["sam"])
        .post(
            "/me/nudges",
            data={
                "nudges_on": "y",
                "custom_leads": "y",
                "leads": ["1440"],
                "quiet_start": "21:00",
                "quiet_end": "08:00",
                "digest_at": "08:00",
            },
        )
    )
    assert saved.status_code == 302
    planned, due = nudges_of(shared), shared["post"].due
    assert planned["co-before-1440"] == (shared["sam"].person_id, plan.before(due, 1440, NEW_YORK))
    assert (
        "co-before-240" not in planned and planned["before-1440"][0] == shared["giulia"].person_id
    )
    # The owner's timeline lists both owners' nudges.
    page = (
        shared["folks"]
        .client_for(shared["giulia"])
        .get(f"/t/{shared['aurora'].team_id}/posts/{post_id_of(shared)}")
    )
    assert "1 day before (co-owner)" in page.text and "→ Sam" in page.text


@pytest.mark.usefixtures("quick_retries")
def test_the_co_owners_nudge_goes_out_once_whatever_aws_call_fails(shared, inject):
    """As the owner's (tests/test_injected_faults.py): a run meets a fault at one of its AWS
    calls (the partner team's GetItem among them), the next is clean; Sam's nudge goes out
    once, or is marked failed when SES refused it for good; none is left pending."""
    run(shared, plan.before(shared["post"].due, 1440, ROME))  # Giulia's, out of the way
    at = shared["post"].due - timedelta(hours=4)
    start, slot, recorder = saved_store(), Slot(inject), Injector()
    slot.run(recorder, lambda: run(shared, at))
    assert outbox(shared["app"])[0]["to"] == shared["sam"].email
    assert "GetItem" in [call.operation for call in recorder.calls]  # Lumen's members

    def check(fault) -> list[str]:
        run(shared, at + timedelta(minutes=10))  # past the lease and backoffs
        with shared["app"].app_context():
            found = reminders.of_post(shared["aurora"].team_id, post_id_of(shared))
        state = {r.kind: r.state for r in found}["co-before-240"]
        sent = sum(mail["to"] == shared["sam"].email for mail in outbox(shared["app"]))
        if (sent, state) in ((1, "sent"), (0, "failed")):
            return []
        return [f"sent {sent} times, left {state}"]

    grid = cases(recorder.calls)
    offenders = offenders_of_faulted_runs(slot, start, grid, lambda: run(shared, at), check)
    assert not offenders, "\n".join(offenders)
