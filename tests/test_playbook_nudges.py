"""The nudge email carries the playbook's checklists of the post's channels, in the
recipient's language; an event's recap asks how it went."""

from datetime import timedelta

import pytest

from app.planner import changes
from app.store import playbook as stored_playbook
from app.store import posts, teams
from tests.test_nudges import edit, make_post, nudging, rome, run, sent  # noqa: F401 (a fixture)

INSTAGRAM = ["Photo is square or 4:5", "Location tagged"]


@pytest.fixture
def world(nudging):  # noqa: F811
    """test_nudges' Cantina Aurora: Anna (admin, English), Marco (editor, Italian)."""
    return nudging


def write_playbook(world):
    stored_playbook.save(
        world["team_id"],
        guidelines="Warm, never pushy.",
        checklists={"Instagram": INSTAGRAM, "X": ["Under 280 characters"]},
        version=None,
        actor=world["anna"].person_id,
        now=rome(2026, 12, 1, 12),
    )


def tick(world, post, owner, items):
    edit(world, post, owner, rome(2026, 12, 1, 12), body_fields={"checked": items})


def test_the_nudge_carries_the_checklist_with_the_ticked_items_marked(world):
    write_playbook(world)
    post = make_post(world, world["anna"], rome(2026, 12, 5, 10), channels=["Instagram"])
    tick(world, post, world["anna"], ["Location tagged"])
    assert run(world, rome(2026, 12, 4, 10)).sent == 1
    (mail,) = sent(world)
    assert (
        "Checklist:\nInstagram\n  [ ] Photo is square or 4:5\n  [x] Location tagged\n"
        in (mail["text"])
    )
    assert "☐ Photo is square or 4:5</li><li>☑ Location tagged</li>" in mail["html"]
    assert "Under 280 characters" not in mail["text"]  # X is not one of the post's channels
    assert "Hello Anna Rossi, one of your posts is coming up:" in mail["text"]


def test_an_italian_recipient_reads_the_checklist_in_italian(world):
    write_playbook(world)
    make_post(world, world["marco"], rome(2026, 12, 5, 10), channels=["X", "Instagram"])
    run(world, rome(2026, 12, 4, 10))
    (mail,) = sent(world)
    # The team's items as written, Cadenza's words in Marco's language.
    assert "Lista di controllo:\nX\n  [ ] Under 280 characters\nInstagram\n" in mail["text"]
    assert "Lista di controllo</p>" in mail["html"]


def test_a_team_without_a_playbook_gets_the_usual_nudge(world):
    make_post(world, world["anna"], rome(2026, 12, 5, 10))
    run(world, rome(2026, 12, 4, 10))
    (mail,) = sent(world)
    assert "Checklist" not in mail["text"] and "Checklist" not in mail["html"]


def test_an_events_recap_nudge_asks_how_it_went(world):
    anna, moment = world["anna"], rome(2026, 12, 1, 12)
    recap = posts.new_post(
        world["team_id"],
        title="Tasting: the recap",
        zone="Europe/Rome",
        created_by=anna.person_id,
        now=moment,
        due=rome(2026, 12, 6, 10),
        owner_id=anna.person_id,
        channels=["Instagram"],
        status="draft",
    )
    recap.event_id, recap.series_step = "tasting", "recap"
    with world["app"].app_context():
        changes.create(recap, teams.team(world["team_id"]), moment)
    other = make_post(world, anna, rome(2026, 12, 6, 10) + timedelta(minutes=5), "Teaser")
    run(world, rome(2026, 12, 5, 10, 5))
    by_title = {mail["subject"].rsplit(" · ", 1)[1]: mail for mail in sent(world)}
    assert "Hello Anna Rossi, how did it go? Post the photos:" in by_title[recap.title]["text"]
    assert "how did it go? Post the photos" in by_title[recap.title]["html"]
    assert "coming up" not in by_title[recap.title]["text"]
    assert "how did it go" not in by_title[other.title]["text"]
