"""A team's daily mail limit: however its people use Cadenza, one team cannot make Cadenza's
SES send more than ``mail.TEAM_DAILY_MAIL_LIMIT`` messages a day. What the limit holds back
is sent later, once, never lost; other teams are not affected."""

import pytest

from app import mail
from app.store import teams
from tests import test_nudges
from tests.conftest import outbox
from tests.test_nudges import make_post, rome, run, sent

nudging = test_nudges.nudging  # Cantina Aurora: Anna (admin) and Marco (editor), in Rome


@pytest.fixture
def limit_of_two(monkeypatch):
    monkeypatch.setattr(mail, "TEAM_DAILY_MAIL_LIMIT", 2)


def _posts_due(world, count: int, day: int) -> None:
    for number in range(count):
        make_post(world, world["marco"], rome(2026, 12, day, 10 + number), title=f"Post {number}")


def test_nudges_over_the_teams_daily_limit_wait_for_the_next_day_and_go_out_once(
    nudging, limit_of_two
):
    _posts_due(nudging, 3, 5)  # three day-before nudges due on the 4th, 10:00 to 12:00
    first = run(nudging, rome(2026, 12, 4, 13))
    assert first.sent == 2 and first.deferred == 1
    assert len(sent(nudging)) == 2
    # Later the same day the limit still holds: nothing more goes out.
    assert run(nudging, rome(2026, 12, 4, 16)).sent == 0
    # The next morning (before any of the day's own nudges) the held one goes out, once.
    assert run(nudging, rome(2026, 12, 5, 8, 30)).sent == 1
    subjects = [message["subject"] for message in sent(nudging)]
    assert len(subjects) == len(set(subjects)) == 3, subjects


def test_the_limit_is_per_team(nudging, limit_of_two):
    _posts_due(nudging, 2, 5)
    other_admin = nudging["folks"].person("olga@example.com", "Olga", zone="Europe/Rome")
    other = nudging["folks"].team(other_admin, "Oleificio")
    elsewhere = {**nudging, "team_id": other.team_id, "anna": other_admin, "marco": other_admin}
    _posts_due(elsewhere, 2, 5)
    assert run(nudging, rome(2026, 12, 4, 13)).sent == 4


def test_an_invitation_over_the_daily_limit_says_so_and_leaves_nothing_behind(
    nudging, limit_of_two, clock
):
    _posts_due(nudging, 2, 5)
    run(nudging, rome(2026, 12, 4, 13))  # the day's two messages
    clock.move_to(rome(2026, 12, 4, 13, 5))
    admin = nudging["folks"].client_for(nudging["anna"])
    team_id = nudging["team_id"]
    refused = admin.post(
        f"/t/{team_id}/members/invite", data={"email": "guest@example.com", "role": "editor"}
    )
    assert refused.status_code == 429
    assert "This team has sent all the email it can for today" in refused.text
    assert teams.pending_invites(team_id, rome(2026, 12, 4, 13)) == []
    assert len(outbox(nudging["app"])) == 2
