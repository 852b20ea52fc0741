"""Reminders: one nudge each, found through the sparse, day-bucketed ``due`` index.

The index is partitioned by UTC day so that no single partition key takes every reminder's
writes. A run reads today's bucket up to now and the whole of the catch-up days before it;
sent and cancelled reminders leave the index, so what is read is what is due, whatever the
number of posts.

Sending is exactly-once as far as the store can make it: a run *claims* a reminder with a
conditional write that takes a lease, sends, then *marks it sent* on condition it still holds
the lease. A run that dies between the two leaves a lease that expires, and the next run sends
(at most one duplicate, for a crash exactly between sending and marking).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.transactions import TransactWrite

from app.store import conditional_failure, connection, keys
from app.store.models import Activity, Reminder

CATCH_UP_DAYS = 7


@dataclass
class ReminderWrites:
    """Reminders to (re)plan and to drop, written in the same transaction as a post change."""

    put: list[Reminder] = field(default_factory=list)
    delete: list[Reminder] = field(default_factory=list)

    def add_to(self, transaction: TransactWrite) -> None:
        for reminder in self.put:
            transaction.save(reminder)
        for reminder in self.delete:
            transaction.delete(reminder)


def write(writes: ReminderWrites) -> None:
    if writes.put or writes.delete:
        with TransactWrite(connection=connection()) as transaction:
            writes.add_to(transaction)


def pending(reminder: Reminder) -> Reminder:
    """Ready a reminder to be written as pending (which puts it in the ``due`` index)."""
    reminder.index_as_pending()
    return reminder


def due_at_or_before(now: datetime, catch_up_days: int = CATCH_UP_DAYS) -> Iterator[Reminder]:
    """Pending reminders due at or before ``now``, across all teams, oldest day first.

    One Query per day bucket (catch-up days + today). The index is eventually consistent:
    the claim re-checks each reminder with a conditional write.
    """
    # "~" sorts after every character of a key, so every key of the instant `now` is included.
    upper = f"{keys.instant(now)}#~"
    for days_ago in range(catch_up_days, -1, -1):
        bucket = keys.due_bucket(now - timedelta(days=days_ago))
        yield from Reminder.due_index.query(bucket, Reminder.due_sk <= upper)


def of_post(team_id: str, post_id: str) -> list[Reminder]:
    """A post's reminders (pending and sent), for its nudge timeline: one Query."""
    return list(
        Reminder.query(
            keys.team(team_id),
            Reminder.sk.startswith(Reminder.prefix(post_id)),
            consistent_read=True,
        )
    )


# The kinds of a shared post's co-owner's nudges start with this (app.nudges.plan): ending the
# sharing finds them by it.
CO_OWNER = "co-"


def of_co_owner(team_id: str, post_id: str) -> list[Reminder]:
    """A shared post's co-owner's reminders (to drop with the sharing): one Query."""
    return list(
        Reminder.query(
            keys.team(team_id),
            Reminder.sk.startswith(Reminder.prefix(post_id) + CO_OWNER),
            consistent_read=True,
        )
    )


def claim(found: Reminder, run_id: str, now: datetime, lease: timedelta) -> Reminder | None:
    """Take a lease on a due reminder; None if another run has it or it is no longer due.

    Returns the reminder as stored now (the index may lag behind the table).
    """
    reminder = Reminder(found.pk, found.sk)
    condition = (
        (Reminder.state == "pending")
        & (Reminder.due <= now)
        & (Reminder.lease_until.does_not_exist() | (Reminder.lease_until < now))
    )
    try:
        reminder.update(
            actions=[
                Reminder.lease_owner.set(run_id),
                Reminder.lease_until.set(now + lease),
                Reminder.attempts.add(1),
            ],
            condition=condition,
        )
    except UpdateError as error:
        if conditional_failure(error):
            return None
        raise
    return reminder


def still_mine(reminder: Reminder, run_id: str) -> bool:
    """Re-read after a lost condition: is the lease still this run's (the write did not land)?"""
    try:
        current = Reminder.get(reminder.pk, reminder.sk, consistent_read=True)
    except Reminder.DoesNotExist:
        return False
    return current.state == "pending" and current.lease_owner == run_id


def mark_sent(
    reminder: Reminder, run_id: str, now: datetime, sent_to: str, entry: Activity | None
) -> None:
    """Record the sending (and its history entry) if this run still holds the lease."""
    actions = [Reminder.state.set("sent"), Reminder.sent_at.set(now), Reminder.sent_to.set(sent_to)]
    _close(reminder, run_id, actions, entry)


def finish(reminder: Reminder, run_id: str, state: str, note: str, entry: Activity | None):
    """Close a reminder without sending it (cancelled) or after a permanent failure."""
    _close(reminder, run_id, [Reminder.state.set(state), Reminder.note.set(note)], entry)


def _close(reminder: Reminder, run_id: str, actions: list, entry: Activity | None) -> None:
    """Release the lease and leave the index, on condition the lease is still this run's."""
    with TransactWrite(connection=connection()) as transaction:
        transaction.update(
            reminder,
            actions=[
                *actions,
                Reminder.lease_owner.remove(),
                Reminder.lease_until.remove(),
                Reminder.due_bucket.remove(),
                Reminder.due_sk.remove(),
            ],
            condition=Reminder.lease_owner == run_id,
        )
        if entry is not None:
            transaction.save(entry)


def due_again(reminder: Reminder, due: datetime) -> list:
    """The actions that put a reminder back in the index, pending, due at ``due``."""
    moved = pending(Reminder(reminder.pk, reminder.sk, due=due))
    return [
        Reminder.due.set(due),
        Reminder.due_bucket.set(moved.due_bucket),
        Reminder.due_sk.set(moved.due_sk),
        Reminder.state.set("pending"),
    ]


def reschedule(reminder: Reminder, run_id: str, due: datetime, note: str | None = None) -> None:
    """Give the reminder back for a later run (a retry, quiet hours, the next digest)."""
    actions = [
        *due_again(reminder, due),
        Reminder.lease_owner.remove(),
        Reminder.lease_until.remove(),
    ]
    if note is not None:
        actions.append(Reminder.note.set(note))
    reminder.update(actions=actions, condition=Reminder.lease_owner == run_id)


def snooze(reminder: Reminder, due: datetime) -> None:
    """Send this reminder again later (its post keeps its time)."""
    reminder.update(
        actions=[*due_again(reminder, due), Reminder.attempts.set(0)],
        condition=Reminder.pk.exists(),
    )


def get(pk: str, sk: str) -> Reminder | None:
    try:
        return Reminder.get(pk, sk, consistent_read=True)
    except Reminder.DoesNotExist:
        return None
