"""The nudge job's cost with 20 due reminders among 100, 10,000 and 50,000 posts.

Prints the DynamoDB calls and items read per run (they must not grow with the number of
posts) and the run's time at 50,000 posts: the job's own time, with the time spent waiting for
moto subtracted (moto answers an index Query by sorting the whole table in Python, which
DynamoDB does not do), and, for the record, the wall time with moto.
"""

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.update(
    AWS_EC2_METADATA_DISABLED="true",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    CADENZA_MODE="test",
)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine  # noqa: E402
from moto import mock_aws  # noqa: E402

from app import create_app, mail, nudges, store  # noqa: E402
from app.config import Config  # noqa: E402
from app.store import meter, people, posts, reminders, teams  # noqa: E402
from app.store.models import Post, PostBody, Reminder  # noqa: E402

DUE_PER_RUN = 20
SIZES = (100, 10_000, 50_000)
# The clock is pinned (ticking on) where the bench starts, so the app's own reads of the clock
# (sessions, link expiry, email dates) agree with the instants given to the job.
START = datetime(2026, 12, 1, 9, tzinfo=UTC)


def main() -> None:
    with mock_aws(), time_machine.travel(START, tick=True):
        # A run stops claiming after its time budget; moto is slow, so the bench gives it plenty.
        config = Config(mode="test", ses_rate=10_000.0, nudge_budget_seconds=3600.0)
        app = create_app(config.with_mode_defaults())
        with app.app_context():
            store.create_tables()
            mail.verify_sender(app.extensions["cadenza"].sender)
            owner = people.find_or_create_person("owner@example.com", START, "en", "UTC")
            people.update_profile(owner, name="Owner", language="en", zone="UTC", week_start=0)
            team = teams.create_team(owner, name="Bench", zone="UTC", language="en", now=START)
            people.update_preferences(owner, quiet_start="", quiet_end="")
        stored, results = 0, {}
        for round_number, size in enumerate(SIZES):
            now = START + timedelta(hours=round_number)
            _add_posts(team.team_id, owner.person_id, size - stored - DUE_PER_RUN, now, due=False)
            _add_posts(team.team_id, owner.person_id, DUE_PER_RUN, now, due=True)
            stored = size
            with meter.metered() as counted:
                started = time.perf_counter()
                outcome = nudges.run_once(app, now)
                elapsed = time.perf_counter() - started
            assert outcome.sent == DUE_PER_RUN, outcome
            results[size] = (len(counted.calls), counted.items, elapsed - counted.seconds, elapsed)
    for size, (calls, items, _own, _wall) in results.items():
        print(f"nudge_job_calls_{size}: {calls}")
        print(f"nudge_job_items_read_{size}: {items}")
    _calls, _items, own, wall = results[SIZES[-1]]
    print(f"nudge_job_seconds_{SIZES[-1]}: {own:.2f}")
    print(f"nudge_job_seconds_with_moto_{SIZES[-1]}: {wall:.1f}")


def _add_posts(team_id: str, owner_id: str, count: int, now: datetime, *, due: bool) -> None:
    """Posts far in the future (no nudge due), or due in an hour with a nudge due now."""
    with Post.batch_write() as batch:
        for n in range(count):
            when = now + (timedelta(minutes=59) if due else timedelta(days=30 + n % 300))
            post = posts.new_post(
                team_id,
                title=f"Post {n}",
                zone="UTC",
                created_by=owner_id,
                now=now,
                due=when,
                owner_id=owner_id,
                channels=["Instagram"],
                status="approved",
            )
            post.version = 1
            batch.save(post)
            if due:
                batch.save(PostBody(*PostBody.key(team_id, post.post_id), copy="Copy"))
                batch.save(
                    reminders.pending(
                        Reminder(
                            *Reminder.key(team_id, post.post_id, "before-60"),
                            team_id=team_id,
                            post_id=post.post_id,
                            kind="before-60",
                            person_id=owner_id,
                            due=now - timedelta(minutes=1),
                            for_due=when,
                        )
                    )
                )


if __name__ == "__main__":
    main()
