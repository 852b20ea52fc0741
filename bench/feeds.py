"""Calendar feeds: a person's feed and a team's feed with 500 posts in their window (and 6
events in the team's), fetched as a calendar server does (no session).

Prints the DynamoDB calls of one fetch of each (``feed_dynamodb_calls`` is the larger), the
items read, and the server time of a fetch (p50 over 20, the time spent inside moto
subtracted), response size included.
"""

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

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
from app.store import events, meter, people, posts, teams  # noqa: E402
from app.store import feeds as stored_feeds  # noqa: E402
from app.store.models import Post  # noqa: E402
from app.web import link_to  # noqa: E402

POSTS, EVENTS, REQUESTS = 500, 6, 20
NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)  # pinned (ticking on): the same figures every day


def main() -> None:
    with mock_aws(), time_machine.travel(NOW, tick=True):
        app = create_app(Config(mode="test").with_mode_defaults())
        with app.app_context():
            store.create_tables()
            owner = people.find_or_create_person("bench@example.com", NOW, "en", "Europe/Rome")
            people.update_profile(
                owner, name="Bench Owner", language="en", zone="Europe/Rome", week_start=0
            )
            team = teams.create_team(
                owner, name="Bench", zone="Europe/Rome", language="en", now=NOW
            )
            batch = []
            for n in range(POSTS):  # over the feed's window: two months back, a year ahead
                due = NOW + timedelta(days=-55 + n * 440 // POSTS, hours=n % 9)
                post = posts.new_post(
                    team.team_id,
                    title=f"Post {n}",
                    zone="Europe/Rome",
                    created_by=owner.person_id,
                    now=NOW,
                    due=due,
                    owner_id=owner.person_id,
                    channels=["Instagram", "Facebook"],
                    status="draft",
                    tags=["bench"],
                )
                post.version = 1  # as posts.create leaves it (a batch write skips versioning)
                batch.append(post)
            with Post.batch_write() as writing:
                for post in batch:
                    writing.save(post)
            for n in range(EVENTS):
                starts = NOW + timedelta(days=10 + 30 * n)
                events.create(
                    events.new_event(
                        team.team_id,
                        f"benchevent{n:06d}",
                        created_by=owner.person_id,
                        now=NOW,
                        title=f"Tasting {n}",
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=3),
                        zone="Europe/Rome",
                        owner_id=owner.person_id,
                    )
                )
            addresses = {}
            for kind, team_id in (("person", ""), ("team", team.team_id)):
                someone = people.person(owner.person_id)
                feed, secret = stored_feeds.create(someone, now=NOW, team_id=team_id)
                url = link_to(
                    "feeds.feed", person_id=owner.person_id, feed_id=feed.feed_id, token=secret
                )
                addresses[kind] = urlsplit(url).path
        client = app.test_client()
        figures = {}
        for kind, address in addresses.items():
            with meter.metered() as one:
                response = client.get(address)
            assert response.status_code == 200, response.status_code
            assert response.data.count(b"BEGIN:VEVENT") == POSTS + (EVENTS if kind == "team" else 0)
            server_ms = []
            for _ in range(REQUESTS):
                with meter.metered() as counted:
                    started = time.perf_counter()
                    assert client.get(address).status_code == 200
                    elapsed = time.perf_counter() - started
                server_ms.append((elapsed - counted.seconds) * 1000)
            figures[kind] = (len(one.calls), one.items, statistics.median(server_ms), response)

    print(f"feed_dynamodb_calls: {max(calls for calls, *_rest in figures.values())}")
    print(f"feed_render_ms_500_posts: {figures['person'][2]:.1f}")
    for kind, (calls, items, render_ms, response) in figures.items():
        print(f"{kind}_feed_dynamodb_calls: {calls}")
        print(f"{kind}_feed_items_read: {items}")
        print(f"{kind}_feed_render_ms_500_posts: {render_ms:.1f}")
        print(f"{kind}_feed_bytes: {len(response.data)}")


if __name__ == "__main__":
    main()
