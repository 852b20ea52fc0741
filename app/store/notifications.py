"""Notifications: a person's notes (``PERSON#p`` / ``NOTE#<time>#<id>``, system table) and
their outbox (``NOTIFY#p`` / ``NOTIFY``, a Reminder of kind ``notify`` in the ``due`` index).

Recording is blind and unconditional, so it joins the transaction of the change that causes it
without adding a way for that change to fail: the note is put, and the outbox is updated with
``if_not_exists`` on its index keys, which puts it in the ``due`` index if no batch is pending
and leaves a pending batch's time as it is. Two notes at once therefore make one batch, never
two. Each note also adds one to the outbox's ``notes`` count: closing a batch the job found
empty is conditional on that count, so a note recorded in between is never left behind.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pynamodb.transactions import TransactWrite

from app.store import connection, keys
from app.store.models import Notification, Reminder
from app.store.reminders import due_again, pending

KIND = "notify"
KEPT_FOR = timedelta(days=14)  # a note no batch sent by then is gone (TTL)
BATCH_MOST = 60  # notes listed in one email; one transaction deletes them with the outbox


def outbox_key(person_id: str) -> tuple[str, str]:
    return f"NOTIFY#{person_id}", "NOTIFY"


@dataclass
class NoteWrites:
    """Notes to record in the transaction of the change that causes them."""

    notes: list[tuple[Notification, datetime]] = field(default_factory=list)

    def add(self, person_id: str, send_at: datetime, **values) -> None:
        """A note for ``person_id``; its batch goes at ``send_at`` unless one is pending."""
        at = values["at"]
        note = Notification(
            keys.person(person_id),
            f"{Notification.prefix()}{keys.precise_instant(at)}#{keys.new_id(8)}",
            expires_at=at + KEPT_FOR,
            **values,
        )
        self.notes.append((note, send_at))

    def __bool__(self) -> bool:
        return bool(self.notes)

    def add_to(self, transaction: TransactWrite) -> None:
        # A transaction may name an item once: one change with two notes for one person (a
        # review decision and a hand-over) updates that person's outbox once, for both.
        outboxes: dict[str, tuple[int, datetime]] = {}
        for note, send_at in self.notes:
            transaction.save(note)
            person_id = note.pk.removeprefix("PERSON#")
            count, earliest = outboxes.get(person_id, (0, send_at))
            outboxes[person_id] = count + 1, min(earliest, send_at)
        for person_id, (count, send_at) in outboxes.items():
            first = pending(Reminder(*outbox_key(person_id), due=send_at))
            transaction.update(
                Reminder(*outbox_key(person_id)),
                actions=[
                    Reminder.kind.set(KIND),
                    Reminder.person_id.set(person_id),
                    Reminder.state.set("pending"),
                    Reminder.due.set(Reminder.due | send_at),
                    Reminder.due_bucket.set(Reminder.due_bucket | first.due_bucket),
                    Reminder.due_sk.set(Reminder.due_sk | first.due_sk),
                    Reminder.notes.add(count),
                ],
            )


class Joined:
    """Several sets of writes added to one transaction (a post change's reminders and notes).
    Their notes are added as one set, so that two sets with a note for the same person still
    update that person's outbox once."""

    def __init__(self, *parts):
        notes = [part for part in parts if isinstance(part, NoteWrites)]
        others = [part for part in parts if part and not isinstance(part, NoteWrites)]
        merged = NoteWrites([note for part in notes for note in part.notes])
        self.parts = [*others, merged] if merged else others

    def __bool__(self) -> bool:
        return bool(self.parts)

    def add_to(self, transaction: TransactWrite) -> None:
        for part in self.parts:
            part.add_to(transaction)


def write(notes: NoteWrites) -> None:
    if notes:
        with TransactWrite(connection=connection()) as transaction:
            notes.add_to(transaction)


def waiting(person_id: str) -> list[Notification]:
    """The person's notes not sent yet, oldest first: one Query (TTL may lag, so a note past
    its 14 days may still be listed, and sent late, until DynamoDB deletes it)."""
    return list(
        Notification.query(
            keys.person(person_id),
            Notification.sk.startswith(Notification.prefix()),
            consistent_read=True,
            limit=BATCH_MOST,
        )
    )


def sent(outbox: Reminder, run_id: str, now: datetime, wake: datetime, notes: list) -> None:
    """Record a batch as sent, if this run still holds the outbox: its notes go, and the outbox
    comes back at ``wake`` (15 minutes on), when notes recorded meanwhile may go. One
    transaction (botocore's idempotency token makes a retry after a lost answer the same one).
    """
    with TransactWrite(connection=connection()) as transaction:
        transaction.update(
            outbox,
            actions=[
                *due_again(outbox, wake),
                Reminder.sent_at.set(now),
                Reminder.attempts.set(0),
                Reminder.note.set("notified"),
                Reminder.lease_owner.remove(),
                Reminder.lease_until.remove(),
            ],
            condition=Reminder.lease_owner == run_id,
        )
        for note in notes:
            transaction.delete(Notification(note.pk, note.sk))


def close_empty(outbox: Reminder, run_id: str, seen: int) -> None:
    """Take an outbox with no notes out of the index, on condition that no note was recorded
    since it was claimed (``seen``: its count then) and this run holds it."""
    count = Reminder.notes.does_not_exist() if not seen else Reminder.notes == seen
    outbox.update(
        actions=[
            Reminder.state.set("sent"),
            Reminder.lease_owner.remove(),
            Reminder.lease_until.remove(),
            Reminder.due_bucket.remove(),
            Reminder.due_sk.remove(),
        ],
        condition=(Reminder.lease_owner == run_id) & count,
    )
