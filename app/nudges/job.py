"""The scheduled job: send the nudges that are due, each exactly once.

For each reminder the due index returns: *claim* it (a conditional write with a lease), re-read
what it is about (the index lags, plans change), then send and *mark it sent* on condition the
lease is still this run's. SES has no idempotency key, so the lease is what keeps overlapping
runs, duplicate deliveries and retries from sending twice; a run that dies after sending and
before marking leaves a lease that expires, so the next run sends once more (the one duplicate
a crash at that exact point can cause). Transient failures (SES throttling, DynamoDB throttling)
give the reminder back with a backoff; a permanent rejection marks it failed, on the post and
on the person.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from app import mail
from app.nudges import emails, plan
from app.store import conditional_failure, people, posts, reminders
from app.store.models import Activity, Person, Post, PostBody, Reminder, Team

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
MARK_ATTEMPTS = 5
TRANSIENT = (PynamoDBException, BotoCoreError, ClientError)


@dataclass
class Outcome:
    sent: int = 0
    cancelled: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another run, or no longer due
    left: int = 0  # due, but over this run's time budget
    emails: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What a post reminder is about, read in one request after the claim."""

    post: Post | None
    body: PostBody | None
    team: Team | None
    people: dict[str, Person]


class Job:
    def __init__(
        self,
        now: datetime,
        *,
        budget_seconds: float,
        send_rate: float,
        lease: timedelta,
        catch_up_days: int = reminders.CATCH_UP_DAYS,
        run_id: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.now = now
        self.budget = budget_seconds
        self.interval = 1 / send_rate if send_rate > 0 else 0.0
        self.lease = lease
        self.catch_up_days = catch_up_days
        self.run_id = run_id or uuid.uuid4().hex
        self.monotonic, self.sleep = monotonic, sleep
        self.outcome = Outcome()
        self._started = monotonic()
        self._last_send: float | None = None

    # The run ----------------------------------------------------------------------------------

    def run(self) -> Outcome:
        for found in reminders.due_at_or_before(self.now, self.catch_up_days):
            if self._over_budget():
                self.outcome.left += 1
                continue
            try:
                claimed = reminders.claim(found, self.run_id, self.now, self.lease)
            except TRANSIENT as error:  # it stays pending; the next run tries again
                log.warning("could not claim %s: %s", found.sk, error)
                self.outcome.skipped += 1
                continue
            if claimed is None:
                self.outcome.skipped += 1
                continue
            try:
                self._process(claimed)
            except TRANSIENT as error:
                log.warning("nudge %s %s: %s; retrying later", claimed.pk, claimed.sk, error)
                self._retry_later(claimed, "storage_unavailable")
        return self.outcome

    def _over_budget(self) -> bool:
        return self.monotonic() - self._started + self.interval > self.budget

    # One reminder ---------------------------------------------------------------------------

    def _process(self, reminder: Reminder) -> None:
        if reminder.kind == "digest":
            self._digest(reminder)
            return
        context = self._context(reminder)
        reason = self._stale(reminder, context)
        if reason:
            self._finish(reminder, "cancelled", reason, context)
            return
        if reminder.kind.startswith("before-") and context.post.due <= self.now:
            self._becomes_overdue(reminder, context)
            return
        recipients = self._recipients(reminder, context)
        if not recipients:
            self._finish(reminder, "cancelled", "nobody", context)
            return
        deferred = self._outside_quiet_hours(reminder, context, recipients)
        if deferred:
            reminders.reschedule(reminder, self.run_id, deferred, note="quiet_hours")
            self.outcome.deferred += 1
            return
        message = emails.nudge(
            reminder, context.post, context.body, context.team, recipients, self.now
        )
        self._send(reminder, message, context, ", ".join(p.name or p.email for p in recipients))

    def _context(self, reminder: Reminder) -> Context:
        wanted = {
            Post.Meta.table_name: [
                Post.key(reminder.team_id, reminder.post_id),
                PostBody.key(reminder.team_id, reminder.post_id),
                Team.key(reminder.team_id),
            ]
        }
        if reminder.person_id:
            wanted[Person.Meta.table_name] = [Person.key(reminder.person_id)]
        found: dict = {"people": {}}
        for raw in people.batch_get(wanted):
            kind = raw["sk"]["S"].split("#", 1)[0]
            model = {"POST": Post, "BODY": PostBody, "TEAM": Team, "PERSON": Person}[kind]
            item = model.from_raw_data(raw)
            if model is Person:
                found["people"][item.person_id] = item
            else:
                found[model] = item
        team = found.get(Team)
        if reminder.kind == "escalate" and team is not None:
            admins = [m.person_id for m in team.member_list() if m.role == "admin"]
            wanted = {Person.Meta.table_name: [Person.key(person_id) for person_id in admins]}
            for raw in people.batch_get(wanted):
                admin = Person.from_raw_data(raw)
                found["people"][admin.person_id] = admin
        return Context(found.get(Post), found.get(PostBody), team, found["people"])

    def _stale(self, reminder: Reminder, context: Context) -> str | None:
        """Why this reminder no longer fits its post (None if it still does), as a note code
        (app.planner.history.NOTES says it in words)."""
        post = context.post
        if post is None or context.team is None:
            return "post_gone"
        if post.deleted_at is not None:
            return "post_trashed"
        kind = reminder.kind
        if kind.startswith("review-"):
            if post.status != "in_review" or post.reviewer_id != reminder.person_id:
                return "review_over"
            return None
        if post.status in plan.DONE:
            return "post_done"
        if reminder.for_due is not None and post.due != reminder.for_due:
            return "post_moved"
        if kind != "escalate" and post.owner_id != reminder.person_id:
            return "other_owner"
        return None

    def _recipients(self, reminder: Reminder, context: Context) -> list[Person]:
        if reminder.kind == "escalate":
            candidates = [
                person
                for member in context.team.member_list()
                if member.role == "admin" and (person := context.people.get(member.person_id))
            ]
        else:
            candidates = [context.people.get(reminder.person_id)]
        return [person for person in candidates if person and self._reachable(person)]

    def _reachable(self, person: Person) -> bool:
        if not person.nudges_on:
            return False
        today = self.now.astimezone(ZoneInfo(person.zone)).date().isoformat()
        away = person.away_from and person.away_until and person.away_from <= today
        return not (away and today <= person.away_until)

    def _outside_quiet_hours(self, reminder, context, recipients) -> datetime | None:
        """A later time if the (single) recipient is in quiet hours now (a catch-up run)."""
        if reminder.kind == "escalate":
            return None
        member = context.team.member(recipients[0].person_id)
        if member is None:
            return None
        moved = plan.outside_quiet_hours(self.now, member, None)
        return moved if moved != self.now else None

    def _becomes_overdue(self, reminder: Reminder, context: Context) -> None:
        """A before-due nudge found after the due time (a catch-up run) is not sent: the first
        overdue nudge is brought forward to now instead."""
        overdue = reminders.get(*Reminder.key(reminder.team_id, reminder.post_id, "overdue-1"))
        if overdue is not None and overdue.state == "pending" and overdue.due > self.now:
            reminders.snooze(overdue, self.now)
        self._finish(reminder, "cancelled", "past_due", context)

    # Sending --------------------------------------------------------------------------------

    def _send(self, reminder: Reminder, message, context: Context, sent_to: str) -> None:
        if self._last_send is not None:
            wait = self.interval - (self.monotonic() - self._last_send)
            if wait > 0:
                self.sleep(wait)  # SES's sending rate
        self._last_send = self.monotonic()
        try:
            mail.send(message)
        except mail.MailError as error:
            if error.permanent:
                self._failed(reminder, error.code, context)
            else:
                self._retry_later(reminder, error.code)
            return
        self.outcome.emails.append(message["To"])
        entry = self._entry(reminder, context, "nudged")
        self._mark(reminder, sent_to, entry)
        self.outcome.sent += 1

    def _mark(self, reminder: Reminder, sent_to: str, entry: Activity | None) -> None:
        """Record the sending; retry lost writes that did not land (the mail is out)."""
        for attempt in range(MARK_ATTEMPTS):
            try:
                reminders.mark_sent(reminder, self.run_id, self.now, sent_to, entry)
                return
            except TRANSIENT as error:
                if conditional_failure(error) and not self._still_mine(reminder):
                    log.warning(
                        "lease on %s %s lost before marking it sent", reminder.pk, reminder.sk
                    )
                    return
                self.sleep(min(0.2 * 2**attempt, 2.0))
        log.error("could not mark %s %s sent; its lease will expire", reminder.pk, reminder.sk)

    def _still_mine(self, reminder: Reminder) -> bool:
        """Whether a lost condition was really lost (True when that cannot be told now)."""
        try:
            return reminders.still_mine(reminder, self.run_id)
        except TRANSIENT:
            return True

    def _retry_later(self, reminder: Reminder, reason: str) -> None:
        backoff = min(timedelta(minutes=2 ** max(int(reminder.attempts or 1) - 1, 0)), MAX_BACKOFF)
        try:
            reminders.reschedule(reminder, self.run_id, self.now + backoff, note=reason)
        except TRANSIENT as error:  # the lease expires and a later run retries anyway
            log.warning("could not give back %s %s: %s", reminder.pk, reminder.sk, error)
        self.outcome.deferred += 1

    def _failed(self, reminder: Reminder, reason: str, context: Context) -> None:
        self._finish(reminder, "failed", reason, context)
        for person in context.people.values():
            if reminder.kind == "escalate" or person.person_id == reminder.person_id:
                person.update(
                    actions=[
                        Person.last_failure.set(
                            {
                                "at": self.now.isoformat(),
                                "reason": reason,
                                "post": context.post.title if context.post else "",
                            }
                        )
                    ]
                )

    def _finish(self, reminder: Reminder, state: str, note: str, context: Context | None):
        kind = "nudge_failed" if state == "failed" else None
        entry = self._entry(reminder, context, kind) if kind else None
        reminders.finish(reminder, self.run_id, state, note, entry)
        if state == "failed":
            self.outcome.failed += 1
        else:
            self.outcome.cancelled += 1

    def _entry(self, reminder, context, kind) -> Activity | None:
        if context is None or context.post is None:
            return None
        return Activity.new(
            reminder.team_id,
            reminder.post_id,
            person_id=reminder.person_id,  # the recipient ("" for the admins)
            kind=kind,
            text=reminder.kind,
            at=self.now,
        )

    # The daily digest -----------------------------------------------------------------------

    def _digest(self, reminder: Reminder) -> None:
        person = people.person(reminder.person_id)
        if person is None or not person.digest_on:
            self._finish(reminder, "cancelled", "digest_off", None)
            return
        tomorrow = plan.next_digest(person.zone, person.digest_at, self.now)
        if self._reachable(person):
            overdue, upcoming = self._digest_posts(person)
            if overdue or upcoming:
                message = emails.digest(person, overdue, upcoming, self.now)
                try:
                    mail.send(message)
                except mail.MailError as error:
                    if not error.permanent:
                        self._retry_later(reminder, error.code)
                        return
                    log.warning("digest to %s refused: %s", person.email, error.code)
                else:
                    self.outcome.sent += 1
                    self.outcome.emails.append(message["To"])
        # Giving it back for tomorrow is what marks today's digest done.
        reminders.reschedule(reminder, self.run_id, tomorrow, note="next_digest")

    def _digest_posts(self, person: Person) -> tuple[list[Post], list[Post]]:
        zone = ZoneInfo(person.zone)
        today = self.now.astimezone(zone).date()
        start = datetime.combine(today - timedelta(days=14), datetime.min.time(), tzinfo=zone)
        end = datetime.combine(today + timedelta(days=7), datetime.min.time(), tzinfo=zone)
        mine = [
            post
            for post in posts.owned_between(person.person_id, start, end)
            if post.team_id in person.team_entries() and post.status not in plan.DONE
        ]
        overdue = [post for post in mine if post.due < self.now]
        return overdue, [post for post in mine if post.due >= self.now]
