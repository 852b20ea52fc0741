"""The data layout: every access pattern is one Query or Get on a key or index, never a Scan."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from app import store
from app.store import keys, meter, people, posts, reminders, teams
from app.store.models import CALENDAR_MODELS, Post, Reminder, SignInToken

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _post(team_id, due=None, owner=None, title="Post", created=NOW):
    return posts.new_post(
        team_id,
        title=title,
        zone="Europe/Rome",
        created_by="someone",
        now=created,
        due=due,
        owner_id=owner,
        channels=["Instagram"],
    )


def _bulk(items):
    with Post.batch_write() as batch:
        for item in items:
            batch.save(item)


def test_month_query_reads_only_that_months_posts_however_many_others_exist(app):
    for day in range(1, 21):
        posts.create(_post("t1", due=datetime(2026, 12, day, 10, tzinfo=UTC)))
    start, end = datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    with meter.metered() as before:
        assert len(posts.due_between("t1", start, end)) == 20

    noise = [_post("t1", due=NOW + timedelta(days=40 + i % 300)) for i in range(2500)]
    noise += [_post(f"other{i % 7}", due=datetime(2026, 12, 5, tzinfo=UTC)) for i in range(2500)]
    _bulk(noise)

    with meter.metered() as after:
        found = posts.due_between("t1", start, end)
    assert len(found) == 20
    assert after.calls == before.calls == ["Query"]
    assert after.items == before.items == 20


def test_period_bounds_include_the_start_and_exclude_the_end(app):
    start, end = datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    at_start, at_end = _post("t1", due=start, title="first"), _post("t1", due=end, title="next")
    just_before_end = _post("t1", due=end - timedelta(seconds=1), title="last")
    for post in (at_start, at_end, just_before_end):
        posts.create(post)
    assert [p.title for p in posts.due_between("t1", start, end)] == ["first", "last"]


def test_a_saved_post_is_in_the_very_next_view(app):
    post = _post("t1", due=NOW + timedelta(hours=2))
    posts.create(post)
    assert [p.post_id for p in posts.due_between("t1", NOW, NOW + timedelta(days=1))] == [
        post.post_id
    ]


def test_my_posts_span_all_my_teams_and_only_mine(app):
    mine = [
        _post(team, due=NOW + timedelta(days=day), owner="p1")
        for team, day in (("t1", 1), ("t2", 2), ("t3", 3))
    ]
    others = [
        _post("t1", due=NOW + timedelta(days=1), owner="p2"),
        _post("t2", due=NOW + timedelta(days=50), owner="p1"),
    ]
    for post in mine + others:
        posts.create(post)
    with meter.metered() as counted:
        found = posts.owned_between("p1", NOW, NOW + timedelta(days=30))
    assert [(p.team_id, p.post_id) for p in found] == [(p.team_id, p.post_id) for p in mine]
    assert counted.calls == ["Query"] and counted.items == 3


def test_ideas_are_undated_posts_oldest_first(app):
    older = _post("t1", title="older", created=NOW - timedelta(days=2))
    newer = _post("t1", title="newer", created=NOW)
    dated = _post("t1", title="dated", due=NOW)
    for post in (newer, dated, older):
        posts.create(post)
    with meter.metered() as counted:
        assert [p.title for p in posts.ideas("t1")] == ["older", "newer"]
    assert counted.calls == ["Query"] and counted.items == 2


def test_a_post_sits_in_exactly_one_of_calendar_ideas_and_trash(app):
    post = _post("t1", due=NOW, owner="p1")
    assert (post.due_key, post.idea_key, post.trash_key) == (
        f"{keys.instant(NOW)}#{post.post_id}",
        None,
        None,
    )
    assert post.owner_pk == "OWNER#p1"
    post.due = None
    post.place()
    assert post.due_key is None and post.idea_key and post.owner_pk is None
    post.deleted_at = NOW
    post.place()
    assert post.trash_key and post.idea_key is None and post.due_key is None


def test_members_of_a_team_and_teams_of_a_person(app, folks):
    anna, bruno = (
        folks.person("anna@example.com", "Anna"),
        folks.person("bruno@example.com", "Bruno"),
    )
    first, _second = folks.team(anna, "Cantina"), folks.team(anna, "Enoteca")
    folks.join(first, bruno, "viewer")
    with meter.metered() as counted:
        assert [(m.name, m.role) for m in teams.team(first.team_id).member_list()] == [
            ("Anna", "admin"),
            ("Bruno", "viewer"),
        ]
    assert counted.calls == ["GetItem"]
    with meter.metered() as counted:
        anna_again = people.person(anna.person_id)
    assert counted.calls == ["GetItem"]
    assert [(t["name"], t["role"]) for t in anna_again.team_list()] == [
        ("Cantina", "admin"),
        ("Enoteca", "admin"),
    ]
    assert people.person(bruno.person_id).role_in(first.team_id) == "viewer"


def test_a_person_is_found_by_email_whatever_its_case(app, folks):
    anna = folks.person("Anna.Rossi@Example.com", "Anna")
    assert people.person_by_email("anna.rossi@example.COM").person_id == anna.person_id
    assert people.person_by_email("someone@example.com") is None


def test_two_first_sign_ins_with_one_address_make_one_person(app):
    found, barrier = [], threading.Barrier(6)

    def sign_up():
        barrier.wait()
        found.append(people.find_or_create_person("same@example.com", NOW, "en", "UTC").person_id)

    threads = [threading.Thread(target=sign_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1


def test_tokens_are_stored_only_as_their_hash(app):
    raw, token = people.issue_token("anna@example.com", "sign_in", NOW, timedelta(minutes=10))
    assert raw not in token.pk and token.pk == f"TOKEN#{people.hash_secret(raw)}"
    assert len(raw) >= 43  # 256 bits, base64url
    with meter.metered() as counted:
        assert people.token(raw, NOW).email == "anna@example.com"
    assert counted.calls == ["GetItem"]
    assert SignInToken.get(token.pk, "TOKEN").email == "anna@example.com"


def _reminder(team_id, post_id, due, kind="before"):
    return Reminder(
        *Reminder.key(team_id, post_id, kind),
        team_id=team_id,
        post_id=post_id,
        kind=kind,
        person_id="p1",
        due=due,
    )


def test_due_reminders_come_from_the_index_whatever_the_number_of_posts(app):
    for hours in (1, 30, 24 * 6):
        reminders.pending(_reminder("t1", f"past{hours}", NOW - timedelta(hours=hours))).save()
    reminders.pending(_reminder("t2", "now", NOW)).save()
    reminders.pending(_reminder("t1", "future", NOW + timedelta(minutes=1))).save()
    reminders.pending(
        _reminder("t1", "too-old", NOW - timedelta(days=reminders.CATCH_UP_DAYS + 1))
    ).save()

    with meter.metered() as before:
        due = [r.post_id for r in reminders.due_at_or_before(NOW)]
    assert due == ["past144", "past30", "past1", "now"]

    _bulk([_post(f"t{i % 5}", due=NOW - timedelta(hours=i % 48)) for i in range(3000)])
    with meter.metered() as after:
        assert [r.post_id for r in reminders.due_at_or_before(NOW)] == due
    assert after.calls == before.calls == ["Query"] * (reminders.CATCH_UP_DAYS + 1)
    assert after.items == before.items == 4


def test_a_sent_reminder_leaves_the_due_index(app):
    reminder = _reminder("t1", "p", NOW - timedelta(minutes=5))
    reminders.pending(reminder).save()
    reminder.update(
        actions=[Reminder.due_bucket.remove(), Reminder.due_sk.remove(), Reminder.state.set("sent")]
    )
    assert list(reminders.due_at_or_before(NOW)) == []


def test_every_team_scoped_key_starts_with_the_team(app):
    more = {
        "Team": (),
        "Playbook": (),
        "Reminder": ("X", "before"),
        "SharedPost": ("A", "X"),
        "SharedEvent": ("A", "X"),
        "CsvImportChunk": ("X", 1),
        "KitOffer": ("X", "P"),
    }
    team_keys = [
        model.key("T1", *more.get(model.__name__, ("X",)))
        for model in CALENDAR_MODELS
        if hasattr(model, "key")
    ]
    assert team_keys and all(pk == "TEAM#T1" for pk, _sk in team_keys)


def test_the_no_scan_guard_fails_any_scan(app):
    # The guard in conftest raises an AssertionError, whatever PynamoDB wraps around it.
    with pytest.raises(AssertionError, match="a Scan was issued"):
        list(Post.scan())


def test_the_tables_have_the_indexes_the_access_patterns_need(app):
    calendar, system = store.table_definitions()
    assert {i["IndexName"] for i in calendar["LocalSecondaryIndexes"]} == {
        "by_due",
        "ideas",
        "trash",
    }
    assert {i["IndexName"] for i in calendar["GlobalSecondaryIndexes"]} == {"by_owner", "due"}
    assert "LocalSecondaryIndexes" not in system and "GlobalSecondaryIndexes" not in system
    assert (
        calendar["KeySchema"]
        == system["KeySchema"]
        == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    )


def test_key_instants_are_fixed_width_utc(app):
    assert keys.instant(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    rome = datetime(2026, 12, 1, 0, 30).astimezone()  # any aware value is converted to UTC
    assert keys.instant(rome).endswith("Z")
    with pytest.raises(ValueError):
        keys.instant(datetime(2026, 1, 1))  # noqa: DTZ001
