"""The cost of the job's schedule step with 10 and 1,000 active schedules that need nothing.

Prints the DynamoDB calls the extension step makes (they must not grow with the number of
schedules: one Query of the ``due`` index, bucket EXTEND, finds none due), and, as a check that
the step does work when there is some, the calls to extend one due schedule among them.
"""

import os
import sys
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

from app import create_app, store  # noqa: E402
from app.config import Config  # noqa: E402
from app.schedules import planning, recurrence  # noqa: E402
from app.store import meter, people, schedules, teams  # noqa: E402
from app.store.models import Schedule  # noqa: E402

SIZES = (10, 1000)
START = datetime(2026, 12, 1, 9, tzinfo=UTC)


def main() -> None:
    with mock_aws(), time_machine.travel(START, tick=True):
        app = create_app(Config(mode="test").with_mode_defaults())
        with app.test_request_context():
            store.create_tables()
            owner = people.find_or_create_person("owner@example.com", START, "en", "UTC")
            team = teams.create_team(owner, name="Bench", zone="UTC", language="en", now=START)
            stored, results = 0, {}
            for size in SIZES:
                _add_schedules(team.team_id, owner.person_id, size - stored)
                stored = size
                with meter.metered() as counted:
                    extended = planning.extend_due(START)
                assert extended == 0, extended
                results[size] = len(counted.calls)
            # One schedule due among them: the step extends it (and only it).
            due = schedules.new_schedule(
                team.team_id, created_by=owner.person_id, now=START, **_attributes(owner.person_id)
            )
            planning.apply(due, teams.team(team.team_id), START)
            later = START + planning.EXTEND_EVERY
            with meter.metered() as counted:
                assert planning.extend_due(later) == 1
            one_due = len(counted.calls)
    for size, calls in results.items():
        print(f"schedule_extend_calls_{size}: {calls}")
    print(f"schedule_extend_calls_one_due_among_{SIZES[-1]}: {one_due}")


def _attributes(owner_id: str) -> dict:
    return {
        "title": "Instagram — {date}",
        "rule": recurrence.weekly([1, 4]),
        "zone": "Europe/Rome",
        "starts_local": "2026-12-01T18:00",
        "owners": [owner_id],
        "channels": ["Instagram"],
    }


def _add_schedules(team_id: str, owner_id: str, count: int) -> None:
    """Active schedules, planned a moment ago: in the index, due for extension in a week."""
    with Schedule.batch_write() as batch:
        for _n in range(count):
            schedule = schedules.new_schedule(
                team_id, created_by=owner_id, now=START, **_attributes(owner_id)
            )
            schedule.starts_at = START
            schedule.planned_until = START + planning.HORIZON
            schedule.version = 1
            extend_at = START + planning.EXTEND_EVERY + timedelta(minutes=1)
            schedules.index_for_extension(schedule, extend_at)
            batch.save(schedule)


if __name__ == "__main__":
    main()
