"""Items stay under DynamoDB's 400 KB, at the largest sizes the forms accept: each item type
at its maximum, and the post that started it (a 300,000-character copy could not be saved
again, its history entry held two copies).

moto does not apply the item limit inside transactions; ``tests/conftest.py`` does, for every
test, as DynamoDB would (a ValidationException).
"""

from datetime import UTC, date, datetime, timedelta

import test_planner
from test_planner_everyday import _full_post, _panel_of, _save, edited, form_fields
from werkzeug.datastructures import MultiDict
from wtforms.validators import Length

from app.events.forms import EventForm, StepForm, TemplateForm
from app.forms import ProfileForm, TeamForm
from app.kits.forms import SUGGESTED_NETWORKS
from app.notifications import record
from app.nudges import plan
from app.planner import changes
from app.planner import forms as planner_forms
from app.planner.forms import MAX_BODY_BYTES, MAX_TAG_LENGTH, MAX_TAGS, PostForm
from app.planner.history import COMMENT_LIMIT
from app.playbook.forms import checklist_field, playbook_form
from app.schedules import recurrence
from app.schedules.forms import MAX_ROTATION, ScheduleForm
from app.schedules.planning import MAX_SKIPPED
from app.store import events, kits, partners, posts, teams
from app.store import feeds as stored_feeds
from app.store import playbook as stored_playbook
from app.store import profiles as stored_profiles
from app.store import schedules as stored_schedules
from app.store.models import (
    CALENDAR_MODELS,
    SYSTEM_MODELS,
    Activity,
    CsvImport,
    CsvImportChunk,
    EmailOwner,
    Event,
    Invite,
    Kit,
    KitOffer,
    Member,
    Notification,
    PartnerInvite,
    Person,
    Playbook,
    Post,
    PostBody,
    ProfileCopy,
    RateCounter,
    Reminder,
    Schedule,
    SeriesTemplate,
    Session,
    SharedEvent,
    SharedPost,
    SignInToken,
    Team,
    UsedLink,
)
from app.store.notifications import NoteWrites, outbox_key
from app.store.playbook import MAX_GUIDELINES, MAX_ITEM_LENGTH, MAX_ITEMS
from tests.conftest import ITEM_LIMIT_BYTES, ITEM_TOO_LARGE, dynamodb_error, item_bytes

cantina = test_planner.cantina  # the fixture: Anna (admin), Bruno (editor), Carla (viewer)
LONGEST_COPY = "Vino. " * (MAX_BODY_BYTES // 6 - 10)  # just under the form's limit


def test_a_post_with_the_longest_copy_the_form_accepts_can_be_edited_again_and_again(app, cantina):
    team, bruno = cantina["team"], cantina["bruno"]
    post = _full_post(cantina)
    client = cantina["folks"].client_for(bruno)
    for copy in (LONGEST_COPY, LONGEST_COPY[:-6] + "Pane. ", LONGEST_COPY):
        shown = form_fields(_panel_of(client, team, post))
        response = _save(client, team, post, edited(shown, copy=copy))
        assert response.status_code == 302, response.text[:300]
        assert posts.load(team.team_id, post.post_id)[1].copy == copy
    history = posts.history(team.team_id, post.post_id)
    edits = [entry for entry in history if "copy" in entry.changes]
    assert len(edits) >= 3
    # The history says that the copy was edited, and keeps no copy of it.
    assert all(len(str(entry.changes)) < 1_000 for entry in edits)


# Every item type at the largest the app lets anyone make it ---------------------------------
#
# Text is measured in its widest UTF-8 form (4-byte characters), since every limit counts
# characters except the post body's, which counts bytes.

WIDE = "𝄞"
LIMIT = ITEM_LIMIT_BYTES


def _longest(field) -> int:
    """The ``max`` of an (unbound) form field's Length validator: the limit the form applies."""
    (length,) = [
        check
        for check in field.kwargs.get("validators", field.args[1:2][0])
        if isinstance(check, Length)
    ]
    return length.max


NAME, TEAM_NAME, EMAIL = _longest(ProfileForm.name), _longest(TeamForm.team_name), 254
TITLE, CHANNEL = _longest(PostForm.title), teams.MAX_CHANNEL_NAME


def _size(model) -> int:
    return item_bytes(model.serialize())


def _largest_person(now, number: int = 0) -> Person:
    someone = Person(
        *Person.key(f"{number:016d}"),
        person_id=f"{number:016d}",
        email=f"{number:016d}".rjust(EMAIL - len("@example.com"), "p") + "@example.com",
        name=WIDE * NAME,
        zone="America/Argentina/ComodRivadavia",
        created_at=now,
        lead_minutes=list(plan.LEAD_CHOICES),
        away_from="2026-12-01",
        away_until="2026-12-31",
        last_failure={"at": now.isoformat(), "reason": "MessageRejected", "post": WIDE * TITLE},
        mail_problem="complaint",
        mail_problem_at=now,
        mail_problem_reason="x" * 200,
        mail_works_at=now,
        signed_in_by_link_at=now,
        # Every calendar feed a person may have, each a team's with every filter set.
        feeds={
            f"{team:016d}-{number:08d}": {
                "hash": "h" * 64,
                "kind": "team",
                "team": f"{team:016d}",
                "filters": {
                    "owner": f"{number:016d}",
                    "channel": WIDE * CHANNEL,
                    "status": "in_review",
                    "tag": WIDE * MAX_TAG_LENGTH,
                },
                "owner_name": WIDE * NAME,
                "created_at": "2026-12-01T00:00:00Z",
            }
            for team in range(stored_feeds.MAX_FEEDS)
        },
        # Every personal profile a person may have, at the widest the form accepts.
        profiles={
            f"{profile:012d}": {
                "network": "linkedin",
                "handle": WIDE * stored_profiles.MAX_HANDLE,
                "url": WIDE * stored_profiles.MAX_URL,
                "rev": "r" * 8,
                "created_at": "2026-12-01T00:00:00.000000Z",
            }
            for profile in range(stored_profiles.MAX_PROFILES)
        },
        teams={
            # An admin of each, who asked for each team's weekly Cadence health email.
            f"{team:016d}": {"name": WIDE * TEAM_NAME, "role": "admin", "weekly_health": True}
            for team in range(teams.MAX_TEAMS_PER_PERSON)
        },
    )
    return someone


def test_the_largest_person_item_stays_under_the_limit(app):
    someone = _largest_person(datetime.now(UTC))
    print(f"largest person: {_size(someone):,} bytes")
    assert _size(someone) < LIMIT / 10
    someone.save()


def test_the_largest_team_item_stays_under_the_limit(app):
    now = datetime.now(UTC)
    members = {}
    for number in range(teams.MAX_PEOPLE):
        person = _largest_person(now, number)
        members[person.person_id] = {
            **teams.member_entry(person, "editor", now),
            **person.nudge_preferences(),
        }
    team = Team(
        *Team.key("t" * 16),
        team_id="t" * 16,
        name=WIDE * TEAM_NAME,
        zone="America/Argentina/ComodRivadavia",
        language="it",
        channels=[WIDE * CHANNEL for _ in range(teams.MAX_CHANNELS)],
        tags={
            f"{number:03d}" + WIDE * (MAX_TAG_LENGTH - 3) for number in range(teams.MAX_TEAM_TAGS)
        },
        lead_minutes=list(plan.LEAD_CHOICES),
        members=members,
        admin_count=teams.MAX_PEOPLE,
        created_by="p" * 16,
        created_at=now,
        partners={
            f"{number:016d}": {
                "name": WIDE * TEAM_NAME,
                "colour": max(partners.COLOURS, key=len),
                "since": "2026-12-01T00:00:00Z",
            }
            for number in range(partners.MAX_PARTNERS)
        },
        partners_version=10**9,
    )
    assert _size(team) < LIMIT / 2
    team.save()


def _largest_post_values(variant: str) -> dict:
    return {
        "title": variant + WIDE * (TITLE - 1),
        "channels": [variant + WIDE * (CHANNEL - 1) for _ in range(teams.MAX_CHANNELS)],
        "tags": {f"{variant}{n:02d}" + WIDE * (MAX_TAG_LENGTH - 3) for n in range(MAX_TAGS)},
    }


def _largest_profiles(person_id: str, variant: str) -> list[ProfileCopy]:
    """The owner's every own profile (issue 12), each with the longest handle."""
    return [
        ProfileCopy(
            person=person_id,
            id=f"{variant}{n:011d}",
            network="linkedin",
            handle=variant + WIDE * (stored_profiles.MAX_HANDLE - 1),
        )
        for n in range(stored_profiles.MAX_PROFILES)
    ]


def test_the_largest_post_its_body_and_its_history_stay_under_the_limit(app, folks):
    """Written through the store, as a save writes them: a summary with the longest title, every
    channel and tag, a body with copy and notes at the form's byte limit, and a history entry
    for a change of every field at once."""
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna)
    channels = {*_largest_post_values("a")["channels"], *_largest_post_values("b")["channels"]}
    teams.set_channels(team, sorted(channels)[: teams.MAX_CHANNELS])
    team = teams.team(team.team_id)
    now = datetime.now(UTC)
    first = {**_largest_post_values("a"), "profiles": _largest_profiles(anna.person_id, "a")}
    post = posts.new_post(
        team.team_id,
        zone="America/Argentina/ComodRivadavia",
        created_by=anna.person_id,
        now=now,
        due=now + timedelta(days=3),
        owner_id=anna.person_id,
        **first,
    )
    half = MAX_BODY_BYTES // 2 // 4
    with app.app_context():
        changes.create(post, team, now, copy=WIDE * half, notes=WIDE * half)
    post, body = posts.load(team.team_id, post.post_id)
    second = {**_largest_post_values("b"), "profiles": _largest_profiles(anna.person_id, "b")}
    with app.app_context():
        changes.update(
            post,
            body,
            team,
            summary={**second, "due": now + timedelta(days=4)},
            body_fields={
                "copy": "x" + WIDE * (half - 1),
                "notes": "y" + WIDE * (half - 1),
                "published_url": "https://example.com/" + "p" * 1980,
            },
            actor=anna.person_id,
            now=now,
        )
    post, body = posts.load(team.team_id, post.post_id)
    # Shared with a partner (issue 11): the sharing fields at their limits, and the mirror.
    post.shared_with, post.co_owner_id = "t" * 16, "p" * 16
    post.co_owner_name, post.origin_name = WIDE * NAME, WIDE * TEAM_NAME
    post.partner_published_url = "https://example.com/" + "p" * 1980
    assert _size(SharedPost.of(post)) < LIMIT / 10
    assert len(post.profiles) == stored_profiles.MAX_PROFILES
    print(f"largest post: {_size(post):,} bytes")
    assert _size(post) < LIMIT / 10
    assert _size(body) < LIMIT
    for entry in posts.history(team.team_id, post.post_id):
        assert _size(entry) < LIMIT / 10


def test_the_largest_playbook_stays_well_under_the_limit(app, folks):
    """The longest guidelines, and a full checklist of the longest items for each of the 30
    channels with the longest names: saved through the form, then measured."""
    anna = folks.person("anna@example.com", "Anna")
    team = folks.team(anna)
    channels = [f"{n:02d}" + WIDE * (CHANNEL - 2) for n in range(teams.MAX_CHANNELS)]
    teams.set_channels(team, channels)
    checklist = "\n".join(f"{n:02d}" + WIDE * (MAX_ITEM_LENGTH - 2) for n in range(MAX_ITEMS))
    form = playbook_form(
        channels,
        MultiDict(
            {
                "guidelines": WIDE * MAX_GUIDELINES,
                **{checklist_field(channel): checklist for channel in channels},
            }
        ),
    )
    assert form.validate(), form.errors
    stored_playbook.save(
        team.team_id,
        guidelines=form.guidelines.data,
        checklists=form.checklists(),
        version=None,
        actor=anna.person_id,
        now=datetime.now(UTC),
    )
    largest = stored_playbook.load(team.team_id)
    assert sum(len(items) for _channel, items in largest.checklist(channels)) == 30 * MAX_ITEMS
    print(f"largest playbook: {_size(largest):,} bytes")
    assert _size(largest) < LIMIT * 0.6
    # A post's ticks are its checklists' items: they count in its body's bytes with the copy.
    post_form = PostForm(
        MultiDict(
            [("title", "t"), ("copy", "x" * (MAX_BODY_BYTES - 100))]
            + [("channels", channel) for channel in channels[:2]]
            + [("checked", item) for _c, items in largest.checklist(channels[:1]) for item in items]
        ),
        channel_choices=channels,
        members=[],
        zone="UTC",
        playbook=largest,
    )
    assert not post_form.validate() and "too long to store" in str(post_form.copy.errors[0])


def test_the_longest_comment_stays_far_under_the_limit(app, folks):
    anna = folks.person("anna@example.com", "Anna")
    post = folks.post(folks.team(anna), owner=anna, created_by=anna, status="draft")
    entry = posts.comment(
        post, actor=anna.person_id, text=WIDE * COMMENT_LIMIT, now=post.created_at
    )
    assert _size(entry) < LIMIT / 10


def test_the_largest_event_and_series_template_stay_under_the_limit(app):
    """An event at every field's limit; a template of MAX_STEPS steps, each on all of a
    team's channels at their longest, with the longest label, pattern and owner."""
    now = datetime.now(UTC)
    event = events.new_event(
        "t" * 16,
        "e" * 16,
        created_by="p" * 16,
        now=now,
        title=WIDE * _longest(EventForm.title),
        kind="k" * events.MAX_STEP_ID,
        place=WIDE * _longest(EventForm.place),
        starts_at=now,
        ends_at=now,
        zone="America/Argentina/ComodRivadavia",
        notes=WIDE * _longest(EventForm.notes),
        partner=WIDE * _longest(EventForm.partner),
        owner_id="p" * 16,
        state="cancelled",
    )
    event.version = 10**9
    event.shared_with, event.origin_name = "b" * 16, WIDE * TEAM_NAME
    step = {
        "step": "s" * events.MAX_STEP_ID,
        "label": WIDE * _longest(StepForm.label),
        "days": events.MIN_DAYS,
        "time": "23:59",
        "title": WIDE * _longest(StepForm.title),
        "channels": [WIDE * CHANNEL] * teams.MAX_CHANNELS,
        "owner": "p" * 16,
    }
    template = events.new_template(
        "t" * 16,
        "s" * events.MAX_STEP_ID,
        name=WIDE * _longest(TemplateForm.name),
        steps=[step] * events.MAX_STEPS,
        now=now,
    )
    assert _size(event) < 12_000
    assert _size(SharedEvent.of(event)) < 2_500  # its partner's mirror: no notes
    assert _size(template) < LIMIT / 4


def test_the_largest_schedule_stays_under_the_limit(app):
    """A schedule at every field's limit: the longest title pattern and rule, a rotation of
    the most people, all of a team's channels at their longest, the most days skipped."""
    now = datetime.now(UTC)
    schedule = stored_schedules.new_schedule(
        "t" * 16,
        created_by="p" * 16,
        now=now,
        title=WIDE * _longest(ScheduleForm.title),
        rule=recurrence.weekly(range(7), 52, until=now.date()),
        zone="America/Argentina/ComodRivadavia",
        starts_local="2026-12-01T18:00",
        starts_at=now,
        owners=["p" * 16] * MAX_ROTATION,
        channels=[WIDE * CHANNEL] * teams.MAX_CHANNELS,
        skipped={(date(2100, 1, 1) + timedelta(days=n)).isoformat() for n in range(MAX_SKIPPED)},
        planned_until=now,
        turn=MAX_ROTATION,
        state="paused",
    )
    schedule.version = 10**9
    stored_schedules.index_for_extension(schedule, now)
    assert len(schedule.skipped) == MAX_SKIPPED
    assert _size(schedule) < 12_000


def test_the_small_items_stay_small(app):
    """Invitations, sign-in tokens, sessions, used links, rate counters, address owners and
    reminders hold ids, instants and at most an address and a name."""
    now = datetime.now(UTC)
    address = "a" * (EMAIL - len("@example.com")) + "@example.com"
    items = [
        Invite(
            *Invite.key("t" * 16, "h" * 64),
            team_id="t" * 16,
            token_hash="h" * 64,
            email=address,
            role="editor",
            invited_by=WIDE * NAME,
            created_at=now,
            expires_at=now,
        ),
        SignInToken(
            *SignInToken.key("h" * 64),
            email=address,
            purpose="invite",
            team_id="t" * 16,
            role="editor",
            created_at=now,
            expires_at=now,
            used_at=now,
        ),
        PartnerInvite(
            *PartnerInvite.key("t" * 16, "h" * 64),
            team_id="t" * 16,
            token_hash="h" * 64,
            email=address,
            invited_by="p" * 16,
            created_at=now,
            expires_at=now,
        ),
        Session(*Session.key("h" * 64), person_id="p" * 16, created_at=now, expires_at=now),
        UsedLink(*UsedLink.key("h" * 64), used_at=now, expires_at=now),
        RateCounter(f"RATE#sign-in-email#{address}", "1" * 10, hits=10**9, expires_at=now),
        EmailOwner(*EmailOwner.key(address), person_id="p" * 16),
        Reminder(
            *Reminder.key("t" * 16, "p" * 16, "overdue-3"),
            team_id="t" * 16,
            post_id="p" * 16,
            kind="overdue-3",
            person_id="p" * 16,
            due=now,
            for_due=now,
            lease_owner="r" * 32,
            lease_until=now,
            attempts=10**6,
            sent_at=now,
            sent_to=address,
            note="MailFromDomainNotVerifiedException",
            handed_by="p" * 16,
            due_bucket="DUE#2026-12-01",
            due_sk="x" * 120,
        ),
    ]
    written = {type(item) for item in items} | {Person, Team, Post, PostBody, Activity}
    written |= {Event, SharedEvent, SeriesTemplate}  # measured at their limits above
    written |= {Playbook}  # test_the_largest_playbook_stays_well_under_the_limit
    written |= {Schedule}  # test_the_largest_schedule_stays_under_the_limit
    written |= {Notification}  # test_a_notification_stays_small
    written |= {SharedPost}  # with the largest post
    written |= {CsvImport, CsvImportChunk}  # test_a_csv_import_and_its_rows_stay_under_the_limit
    written |= {Kit, KitOffer}  # test_the_largest_kit_its_offer_note_and_post_stay_under_the_limit
    assert written == set(CALENDAR_MODELS + SYSTEM_MODELS)
    for item in items:
        assert _size(item) < 2_000, type(item).__name__


def test_a_notification_stays_small(app):
    """A note copies a post's title (200 characters), the actor's name and the comment cut
    to 280 characters; its outbox is a reminder with a count."""
    now = datetime.now(UTC)
    note = NoteWrites()
    note.add(
        "p" * 16,
        now,
        kind="mention",
        team_id="t" * 16,
        post_id="p" * 16,
        title=WIDE * TITLE,
        due=now,
        actor_id="p" * 16,
        actor_name=WIDE * NAME,
        text=WIDE * record.TEXT_KEPT,
        at=now,
    )
    ((item, _send_at),) = note.notes
    assert _size(item) < 4_000
    outbox = Reminder(
        *outbox_key("p" * 16),
        kind="notify",
        person_id="p" * 16,
        due=now,
        notes=10**9,
        sent_at=now,
        lease_owner="r" * 32,
        lease_until=now,
        attempts=10**6,
        note="storage_unavailable",
        due_bucket="DUE#2026-12-01",
        due_sk="x" * 120,
    )
    assert _size(outbox) < 2_000


def test_a_write_too_large_for_dynamodb_is_a_clear_413_and_writes_nothing(
    app, cantina, monkeypatch
):
    """Were a form's limit ever set above what DynamoDB holds, the person would be told to
    shorten their text — not that storage is down, nor that someone else changed the post."""
    monkeypatch.setattr(planner_forms, "MAX_BODY_BYTES", 2 * LIMIT)
    team, bruno = cantina["team"], cantina["bruno"]
    post = _full_post(cantina)
    before = posts.load(team.team_id, post.post_id)[1].copy
    client = cantina["folks"].client_for(bruno)
    shown = form_fields(_panel_of(client, team, post))
    response = _save(client, team, post, edited(shown, copy="Vino. " * 70_000))
    assert response.status_code == 413, response.text[:300]
    assert "too large to store" in response.text
    assert posts.load(team.team_id, post.post_id)[1].copy == before


def test_a_transaction_cancelled_for_an_item_too_large_is_no_conflict(app, cantina, inject):
    """DynamoDB may give the size as a transaction's cancellation reason: still "too large",
    not "someone changed this at the same time"."""

    def cancelled_for_size(event_name, request):
        if event_name == "before-send.dynamodb.TransactWriteItems":
            reason = {"Code": "ValidationError", "Message": ITEM_TOO_LARGE}
            return dynamodb_error(request, "TransactionCanceledException", reasons=[reason])
        return None

    team, bruno = cantina["team"], cantina["bruno"]
    post = _full_post(cantina)
    client = cantina["folks"].client_for(bruno)
    shown = form_fields(_panel_of(client, team, post))
    inject(cancelled_for_size)
    response = _save(client, team, post, edited(shown, copy="Vino."))
    assert response.status_code == 413, response.text[:300]


def test_a_csv_import_and_its_rows_stay_under_the_limit(app):
    """An import's rows wait in chunks of at most 100 rows and 380,000 bytes of JSON (a row
    longer alone is refused in the preview); its header keeps counts and 50 column names of
    80 characters."""
    from app.spreadsheets import rows as csv_rows
    from app.store import imports

    now = datetime.now(UTC)
    row = {
        "line": 2000,
        "title": WIDE * TITLE,
        "due": now.isoformat(),
        "zone": "America/Argentina/ComodRivadavia",
        "owner_id": "p" * 16,
        "channels": [WIDE * CHANNEL] * 30,
        "status": "published",
        "tags": [WIDE * MAX_TAG_LENGTH] * MAX_TAGS,
        # Quotes and line breaks: each doubles in JSON.
        "copy": '"\n' * 20_000,
        "notes": "",
        "published_url": "https://" + "a" * 1990,
        "given_id": "i" * 64,
        "post_id": "imp-" + "f" * 16,
        "errors": [],
        "state": "new",
    }
    chunks = csv_rows.chunks([dict(row, line=n) for n in range(2000)])
    assert max(len(chunk) for chunk in chunks) <= csv_rows.CHUNK_ROWS
    largest = max(chunks, key=lambda chunk: len(imports.encode(chunk)))
    item = CsvImportChunk(
        *CsvImportChunk.key("t" * 16, "i" * 16, 999), rows=imports.encode(largest), expires_at=now
    )
    assert _size(item) < LIMIT
    room = csv_rows.MAX_ROW_JSON - csv_rows.json_bytes(dict(row, copy=""))
    (alone,) = csv_rows.chunks([dict(row, copy="x" * room)])  # the longest row accepted
    item.rows = imports.encode(alone)
    assert _size(item) < LIMIT
    # Confirmed after the team changed: every row left out, with a long reason (wide text).
    reason = WIDE * 300
    item.rows = imports.encode([csv_rows.left_out(row, reason) for row in largest])
    assert _size(item) <= len(imports.encode(largest).encode()) + 1000 < LIMIT
    header = imports.new_import(
        "t" * 16,
        created_by="p" * 16,
        now=now,
        file_name=WIDE * 200,
        zone="America/Argentina/ComodRivadavia",
        delimiter=";",
        columns=[WIDE * 80] * csv_rows.MAX_COLUMNS,
        ignored=[WIDE * 80] * csv_rows.MAX_COLUMNS,
        rows_total=2000,
        rows_new=2000,
    )
    header.lease_until, header.lease_holder = now, "h" * 16
    assert _size(header) < 40_000


def test_the_largest_kit_its_offer_note_and_post_stay_under_the_limit(app):
    """A share kit (issue 12) at every field's limit: every suggestion, the most people
    chosen, every partner; an offer of it with the longest reason and names; its note; and
    the post taken from it, whose copy (the suggestion and hashtags) is its seed too, which
    its person can still save (the planner's byte limit)."""
    now = datetime.now(UTC)
    kit = kits.new_kit(
        Team(*Team.key("t" * 16), team_id="t" * 16),
        "k" * 16,
        created_by=Member("p" * 16, WIDE * NAME, "p@example.com", "editor", "2026-12-01"),
        now=now,
        zone="America/Argentina/ComodRivadavia",
        title=WIDE * kits.MAX_TITLE,
        story=WIDE * kits.MAX_STORY,
        facts=WIDE * kits.MAX_FACTS,
        suggestions={
            network: WIDE * kits.MAX_SUGGESTION for network in ("any", *SUGGESTED_NETWORKS)
        },
        hashtags=WIDE * kits.MAX_HASHTAGS,
        starts=now,
        ends=now + timedelta(days=kits.MAX_WINDOW_DAYS),
        audience="chosen",
        chosen=[f"{n:016d}" for n in range(teams.MAX_PEOPLE)],
        partners=[f"{n:016d}" for n in range(partners.MAX_PARTNERS)],
    )
    kit.save()  # as DynamoDB takes it
    kit.version = 10**9
    print(f"largest kit: {_size(kit):,} bytes")
    assert _size(kit) < LIMIT / 2
    offer = KitOffer(
        *KitOffer.key(kit.team_id, kit.kit_id, "p" * 16),
        kit_team_id=kit.team_id,
        kit_id=kit.kit_id,
        person_id="p" * 16,
        name=WIDE * NAME,
        team_id="b" * 16,
        team_name=WIDE * TEAM_NAME,
        title=kit.title,
        starts=kit.starts,
        ends=kit.ends,
        state="passed",
        reason=WIDE * kits.MAX_REASON,
        decided_at=now,
        post_id=kits.taken_post_id(kit.kit_id, "p" * 16),
        offered_at=now,
        nudged_at=now,
    )
    offer.place()
    assert _size(offer) < 5_000
    note = NoteWrites()
    note.add(
        "p" * 16,
        now,
        kind="kit-nudge",
        team_id="b" * 16,
        post_id=kit.kit_id,
        kit_team_id=kit.team_id,
        title=kit.title,
        due=kit.ends,
        actor_id=kit.created_by,
        actor_name=kit.created_by_name,
        text=kit.story[: record.TEXT_KEPT],
        at=now,
    )
    ((item, _send_at),) = note.notes
    assert _size(item) < 4_000
    copy = "\n\n".join((kit.suggestion_for("linkedin"), kit.hashtags))
    notes = "\n\n".join((kit.story, kit.facts))
    body = PostBody(
        *PostBody.key("b" * 16, offer.post_id), copy=copy, notes=notes, seed=copy, expires_at=now
    )
    assert len(copy.encode()) + len(notes.encode()) < MAX_BODY_BYTES
    assert _size(body) < LIMIT / 4
