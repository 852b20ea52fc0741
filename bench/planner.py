"""Month view and drag-and-drop move, for a team with 200 posts in the month (some of them
slots of a schedule and posts of an event's series) and 6 events.

5,000 more posts sit in other months and other teams. Prints the figures issue 3 names:
DynamoDB calls and items read by one month view, its server time (p50 over 40 requests, the
time spent inside moto subtracted: moto's in-process DynamoDB is not what production waits
for), and the calls and response size of one move.
"""

import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.update(
    AWS_EC2_METADATA_DISABLED="true",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    CADENZA_MODE="test",
)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine  # noqa: E402
from moto import mock_aws  # noqa: E402

from app import create_app, store  # noqa: E402
from app.config import Config  # noqa: E402
from app.planner import periods  # noqa: E402
from app.store import events, meter, people, posts, teams  # noqa: E402
from app.store.models import Post  # noqa: E402

ROME = ZoneInfo("Europe/Rome")
MONTH_POSTS, OTHER_POSTS, REQUESTS, MONTH_EVENTS = 200, 5000, 40, 6
# The clock is pinned (ticking on) a few days before the month it shows, so the one-day
# session stays valid and the figures are the same whenever the bench runs.
NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)


def main() -> None:
    with mock_aws(), time_machine.travel(NOW, tick=True):
        app = create_app(Config(mode="test").with_mode_defaults())
        now = NOW
        with app.app_context():
            store.create_tables()
            admin = people.find_or_create_person("bench@example.com", now, "en", "Europe/Rome")
            people.update_profile(
                admin, name="Bench Admin", language="en", zone="Europe/Rome", week_start=0
            )
            team = teams.create_team(
                admin, name="Bench", zone="Europe/Rome", language="en", now=now
            )
            noise = []
            for n in range(MONTH_POSTS):
                due = datetime(2026, 12, 1 + n % 31, 8 + n % 12, tzinfo=ROME).astimezone(UTC)
                planned = _post(team.team_id, admin.person_id, due, now, f"December {n}")
                if n % 10 == 0:  # a post of an event's series
                    planned.event_id, planned.series_step = "bench-event", "teaser"
                elif n % 7 == 0:  # a schedule's slot
                    planned.schedule_id = "bench-schedule"
                    planned.occurrence = f"{due:%Y-%m-%dT%H:%M}"
                noise.append(planned)
            for n in range(MONTH_EVENTS):
                starts = datetime(2026, 12, 2 + 5 * n, 18, tzinfo=ROME).astimezone(UTC)
                event = events.new_event(
                    team.team_id,
                    f"benchevent{n:06d}",
                    created_by=admin.person_id,
                    now=now,
                    title=f"Tasting {n}",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=3),
                    zone="Europe/Rome",
                    owner_id=admin.person_id,
                    state="cancelled" if n == 0 else "planned",
                )
                events.create(event)
            for n in range(OTHER_POSTS):
                team_id = team.team_id if n % 2 else f"other-team-{n % 9}"
                due = now + timedelta(days=40 + n % 400) if n % 2 else now + timedelta(days=10)
                noise.append(_post(team_id, admin.person_id, due, now, f"Other {n}"))
            with Post.batch_write() as batch:
                for post in noise:
                    batch.save(post)
            session_id = people.start_session(admin.person_id, now, timedelta(days=1))
        client = app.test_client()
        with client.session_transaction() as session:
            session["sid"], session["pid"] = session_id, admin.person_id
        url = f"/t/{team.team_id}/month/2026-12"

        with meter.metered() as one:
            started = time.perf_counter()
            response = client.get(url)
            first_request_s = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        assert response.text.count('<a class="chip ') == MONTH_POSTS
        assert response.text.count('<a class="event-band') == MONTH_EVENTS

        # moto answers an index Query by sorting the whole table in Python (seconds here, where
        # DynamoDB reads just the month), so the render time is measured with the two Queries
        # answered from the first request's results; sessions still go to moto.
        with app.app_context():
            start, end = periods.bounds(date(2026, 12, 1), date(2027, 1, 1), ROME)
            answers = {
                "calendar": posts.calendar_between(team.team_id, start, end),
                "ideas": posts.ideas(team.team_id),
            }
        real_calendar_between, real_ideas = posts.calendar_between, posts.ideas
        posts.calendar_between = lambda *args: tuple(map(list, answers["calendar"]))
        posts.ideas = lambda *args: list(answers["ideas"])
        server_ms = []
        try:
            for _ in range(REQUESTS):
                with meter.metered() as counted:
                    started = time.perf_counter()
                    assert client.get(url).status_code == 200
                    elapsed = time.perf_counter() - started
                server_ms.append((elapsed - counted.seconds) * 1000)
        finally:
            posts.calendar_between, posts.ideas = real_calendar_between, real_ideas

        with app.app_context():
            target = posts.due_between(
                team.team_id, datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC)
            )[0]
        csrf = _csrf(client, app)
        with meter.metered() as moved:
            response = client.post(
                f"/t/{team.team_id}/posts/{target.post_id}/move",
                data={
                    "date": "2026-12-20",
                    "version": str(target.version),
                    "due": target.due.isoformat(),
                    "owner": target.owner_id,
                    "status": target.status,
                    "month": "2026-12",
                },
                headers={"HX-Request": "true", "X-CSRFToken": csrf},
            )
        assert response.status_code == 200, response.text

    print(f"month_view_dynamodb_calls: {len(one.calls)}")
    print(f"month_view_items_read: {one.items}")
    print(f"month_view_render_p50_ms: {statistics.median(server_ms):.1f}")
    print(f"month_view_moto_request_seconds: {first_request_s:.1f}")
    print(f"move_dynamodb_calls: {len(moved.calls)}")
    print(f"move_response_bytes: {len(response.data)}")


def _post(team_id, owner_id, due, now, title):
    post = posts.new_post(
        team_id,
        title=title,
        zone="Europe/Rome",
        created_by=owner_id,
        now=now,
        due=due,
        owner_id=owner_id,
        channels=["Instagram", "Facebook"],
        status="draft",
        tags=["bench"],
    )
    post.version = 1  # as posts.create would leave it (a batch write skips versioning)
    return post


def _csrf(client, app) -> str:
    import secrets

    from itsdangerous import URLSafeTimedSerializer

    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


if __name__ == "__main__":
    main()
