"""Cadence health: each admin's weekly health email.

The weekly email is a Reminder (kind ``health``) at ``TEAM#<t>`` / ``HEALTH#<person>``, in the
``due`` index while pending, so the scheduled job finds it with the nudges and the digests and
sends it with the same claim, lease and mark. Whether an admin asked for it is also written
in their own team entry (``Person.teams[t]["weekly_health"]``), in the same transaction: the
health page reads the person with the session anyway, so showing the toggle costs no request.
"""

from datetime import datetime

from pynamodb.transactions import TransactWrite

from app.store import NotFound, connection, keys, lost_conditions_raise
from app.store.models import Person, Reminder
from app.store.reminders import due_again, pending

WEEKLY_KIND = "health"
OPT_IN = "weekly_health"  # the key in the person's team entry


def weekly_key(team_id: str, person_id: str) -> tuple[str, str]:
    return keys.team(team_id), f"HEALTH#{person_id}"


def weekly_on(someone: Person, team_id: str) -> bool:
    """Whether this person asked for the team's weekly health email."""
    return bool(someone.team_entries().get(team_id, {}).get(OPT_IN))


def start_weekly(someone: Person, team_id: str, first: datetime) -> None:
    """Turn the weekly email on, the first due at ``first``; NotFound if no longer a member."""
    weekly = Reminder(
        *weekly_key(team_id, someone.person_id),
        team_id=team_id,
        kind=WEEKLY_KIND,
        person_id=someone.person_id,
        due=first,
    )
    _write(someone, team_id, Person.teams[team_id][OPT_IN].set(True), put=pending(weekly))


def stop_weekly(someone: Person, team_id: str) -> None:
    """Turn it off: the pending email leaves the ``due`` index with its item."""
    _write(someone, team_id, Person.teams[team_id][OPT_IN].remove())


def _write(someone: Person, team_id: str, action, put: Reminder | None = None) -> None:
    with (
        lost_conditions_raise(NotFound("member")),
        TransactWrite(connection=connection()) as transaction,
    ):
        transaction.update(someone, actions=[action], condition=Person.teams[team_id].exists())
        if put is not None:
            transaction.save(put)
        else:
            transaction.delete(Reminder(*weekly_key(team_id, someone.person_id)))


def sent_and_next(reminder: Reminder, run_id: str, now: datetime, following: datetime) -> None:
    """Record this week's email as sent and plan the next one, if this run still holds the
    lease. A transaction, not an UpdateItem: botocore gives it an idempotency token, so a
    retry after a lost answer is the same write again, not one its own condition refuses."""
    with TransactWrite(connection=connection()) as transaction:
        transaction.update(
            reminder,
            actions=[
                *due_again(reminder, following),
                Reminder.sent_at.set(now),
                Reminder.note.set("next_health"),
                Reminder.attempts.set(0),
                Reminder.lease_owner.remove(),
                Reminder.lease_until.remove(),
            ],
            condition=Reminder.lease_owner == run_id,
        )
