"""Reminders: one pending nudge each, found through the sparse, day-bucketed ``due`` index.

The index is partitioned by UTC day so that no single partition key takes every reminder's
writes. A run reads today's bucket up to now and the whole of the catch-up days before it;
sent and cancelled reminders leave the index, so what is read is what is due, whatever the
number of posts.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from app.store import keys
from app.store.models import Reminder

CATCH_UP_DAYS = 7


def plan(reminder: Reminder) -> None:
    """Store a reminder as pending, which puts it in the ``due`` index."""
    reminder.state = "pending"
    reminder.index_as_pending()
    reminder.save()


def due_at_or_before(now: datetime, catch_up_days: int = CATCH_UP_DAYS) -> Iterator[Reminder]:
    """Pending reminders due at or before ``now``, across all teams, oldest day first.

    One Query per day bucket (catch-up days + today). The index is eventually consistent:
    callers re-read a reminder before acting on it.
    """
    # "~" sorts after every character of an id, so every key of the instant `now` is included.
    upper = f"{keys.instant(now)}#~"
    for days_ago in range(catch_up_days, -1, -1):
        bucket = keys.due_bucket(now - timedelta(days=days_ago))
        yield from Reminder.due_index.query(bucket, Reminder.due_sk <= upper)
