"""The scheduled job: send the nudges that are due, each exactly once.

For each reminder the due index returns: *claim* it (a conditional write with a lease), re-read
what it is about (the index lags, plans change), then send and *mark it sent* on condition the
lease is still this run's. SES has no idempotency key, so the lease is what keeps overlapping
runs, duplicate deliveries and retries from sending twice; a run that dies after sending and
before marking leaves a lease that expires, so the next run sends once more (the one duplicate
a crash at that exact point can cause). Transient failures (SES throttling, DynamoDB throttling)
give the reminder back with a backoff; a permanent rejection marks it failed, on the post and
on the person.

At most one email per person and post in a run: the due reminders are grouped by post and
recipient, the most relevant one of a group is sent (plan.relevance) and the others make way
(closed as superseded; an overdue nudge waits a day instead, so the three come one a day). The
admins' escalation waits until a day after the last overdue nudge, never goes to the owner,
and says why it comes (nudges off, away, or how many reminders went unanswered).

A shared post's co-owner's nudges (kinds ``co-…``, issue 11) go to a member of the partner
team: their member entry is read from that team (one GetItem more), and they go out only
while the teams are partners, the post is shared with that team and co-owned by them.
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
from app.store import (
    cadence,
    conditional_failure,
    kits,
    notifications,
    people,
    posts,
    reminders,
    sharing,
    teams,
)
from app.store.models import Activity, Member, Person, Playbook, Post, PostBody, Reminder, Team

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
    extended: int = 0  # schedules whose slots were planned further ahead
    emails: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What a post reminder is about, read in one request after the claim."""

    post: Post | None
    body: PostBody | None
    team: Team | None
    people: dict[str, Person]
    playbook: Playbook | None = None  # its checklists go in the post's nudge
    partner: Team | None = None  # the team a co-owner's nudge's recipient belongs to


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
        # Schedules first: the slots they plan now get their nudges in this same run.
        from app.schedules.planning import extend_due

        self.outcome.extended = extend_due(self.now)
        due = list(reminders.due_at_or_before(self.now, self.catch_up_days))
        for group in _by_post_and_person(due):
            if self._over_budget():
                self.outcome.left += len(group)
                continue
            self._one_mail(group)
        return self.outcome

    def _one_mail(self, group: list[Reminder]) -> None:
        """Act on the reminders of one person and post due in this run: the most relevant
        one is sent, the others make way for it (at most one email per person per post)."""
        queue = sorted(group, key=lambda found: plan.relevance(found.kind))
        context, mailed = None, False
        while queue:
            found = queue.pop(0)
            try:
                claimed = reminders.claim(found, self.run_id, self.now, self.lease)
            except TRANSIENT as error:  # it stays pending; the next run tries again
                log.warning("could not claim %s: %s", found.sk, error)
                claimed = None
            if claimed is None:
                # Another run has it (or it moved): that one speaks for this person and post.
                self.outcome.skipped += 1
                mailed = True
                continue
            try:
                if claimed.kind == "digest":
                    self._digest(claimed)
                    continue
                if claimed.kind == cadence.WEEKLY_KIND:
                    self._weekly_health(claimed)
                    continue
                if claimed.kind == notifications.KIND:
                    from app.notifications import batch  # only when a batch is due

                    batch.send(self, claimed)
                    continue
                if claimed.kind in kits.JOB_KINDS:  # a share kit's offers, or its nudge
                    from app.kits import job as kit_job

                    kit_job.run(self, claimed)
                    continue
                if claimed.kind == sharing.UNSHARING_KIND:  # an ended partnership's leftovers
                    if not sharing.finish_unsharing(claimed, self.run_id):
                        self._retry_later(claimed, "unsharing_unfinished")
                    continue
                context = context or self._context(claimed)
                spoke, brought_forward = self._process(claimed, context, mailed)
                mailed = mailed or spoke
                if brought_forward is not None:
                    queue.insert(0, brought_forward)
            except TRANSIENT as error:
                log.warning("nudge %s %s: %s; retrying later", claimed.pk, claimed.sk, error)
                self._retry_later(claimed, "storage_unavailable")
                mailed = True

    def _over_budget(self) -> bool:
        return self.monotonic() - self._started + self.interval > self.budget

    # One reminder ---------------------------------------------------------------------------

    def _process(
        self, reminder: Reminder, context: Context, mailed: bool
    ) -> tuple[bool, Reminder | None]:
        """Send, defer or close one reminder. Returns whether an email to its recipient went
        (or will go) out for it, and a reminder brought forward to go out in this run."""
        reason = self._stale(reminder, context)
        if reason:
            self._finish(reminder, "cancelled", reason, context)
            return False, None
        if plan.base_kind(reminder.kind).startswith("before-") and context.post.due <= self.now:
            brought_forward = None if mailed else self._becomes_overdue(reminder)
            self._finish(reminder, "cancelled", "past_due", context)
            return False, brought_forward
        if mailed:
            self._make_way(reminder, context)
            return False, None
        if reminder.kind == "escalate":
            return self._escalate(reminder, context), None
        recipients = self._recipients(reminder, context)
        if not recipients:
            person = context.people.get(reminder.person_id)
            # Mail to them bounced or was reported as spam: the post's timeline says so.
            stopped = person is not None and person.mail_problem
            self._finish(reminder, "cancelled", f"mail_{stopped}" if stopped else "nobody", context)
            return False, None
        deferred = self._outside_quiet_hours(reminder, context, recipients)
        if deferred:
            reminders.reschedule(reminder, self.run_id, deferred, note="quiet_hours")
            self.outcome.deferred += 1
            return True, None
        message = emails.nudge(
            reminder,
            context.post,
            context.body,
            context.team,
            recipients,
            self.now,
            playbook=context.playbook,
        )
        self._send(reminder, message, context, ", ".join(p.name or p.email for p in recipients))
        return True, None

    def _make_way(self, reminder: Reminder, context: Context) -> None:
        """Another email about this post goes to this person in this run. An overdue nudge
        waits a day (the three keep one a day, so "three reminders later" stays true); any
        other is closed as superseded."""
        if not plan.base_kind(reminder.kind).startswith("overdue-"):
            self._finish(reminder, "cancelled", "superseded", context)
            return
        later = self._a_day_after(self.now, reminder, context)
        reminders.reschedule(reminder, self.run_id, later, note="one_a_day")
        self.outcome.deferred += 1

    def _a_day_after(self, moment: datetime, reminder: Reminder, context: Context) -> datetime:
        """A local day after ``moment`` for its recipient, out of their quiet hours."""
        member = _member(reminder, context)
        if member is None:
            return moment + timedelta(days=1)
        later = plan.days_later(moment, 1, ZoneInfo(member.zone))
        return plan.outside_quiet_hours(later, member, None)

    def _escalate(self, reminder: Reminder, context: Context) -> bool:
        """Tell the team's other admins, once the owner's overdue nudges have all had their
        day, saying why: the owner's nudges are off, they are away, or how many reminders
        went unanswered. One Query (the post's reminders), for escalations only."""
        post = context.post
        found = reminders.of_post(post.team_id, post.post_id)
        deadline = [r for r in found if r.for_due == post.due]
        overdue = [r for r in deadline if r.kind.startswith("overdue-")]
        # A day after the last overdue nudge went out, or will go out (one may be waiting).
        last = [r.due for r in overdue if r.state == "pending"]
        last += [r.sent_at for r in overdue if r.state == "sent" and r.sent_at]
        member = context.team.member(post.owner_id)
        zone = ZoneInfo(member.zone if member else context.team.zone)
        ready = plan.days_later(max(last), 1, zone) if last else self.now
        if ready > self.now:
            reminders.reschedule(reminder, self.run_id, ready, note="waiting_for_nudges")
            self.outcome.deferred += 1
            return False
        recipients = self._recipients(reminder, context)
        if not recipients:
            others = [
                m
                for m in context.team.member_list()
                if m.role == "admin" and m.person_id != post.owner_id
            ]
            self._finish(reminder, "cancelled", "nobody" if others else "no_other_admin", context)
            return False
        owner = context.people.get(post.owner_id)
        why = self._unreachable(owner) if owner else None
        reminded = sum(1 for r in overdue if r.state == "sent")
        escalation = emails.Escalation(
            why or ("unanswered" if reminded else "unreached"),
            reminded=reminded,
            away_until=owner.away_until if why == "away" else None,
        )
        message = emails.nudge(
            reminder,
            post,
            context.body,
            context.team,
            recipients,
            self.now,
            escalation=escalation,
        )
        self._send(reminder, message, context, ", ".join(p.name or p.email for p in recipients))
        return True

    def _context(self, reminder: Reminder) -> Context:
        wanted = {
            Post.Meta.table_name: [
                Post.key(reminder.team_id, reminder.post_id),
                PostBody.key(reminder.team_id, reminder.post_id),
                Team.key(reminder.team_id),
                Playbook.key(reminder.team_id),
            ]
        }
        if reminder.person_id:
            wanted[Person.Meta.table_name] = [Person.key(reminder.person_id)]
        found: dict = {"people": {}}
        for raw in people.batch_get(wanted):
            kind = raw["sk"]["S"].split("#", 1)[0]
            model = {
                "POST": Post,
                "BODY": PostBody,
                "TEAM": Team,
                "PERSON": Person,
                "PLAYBOOK": Playbook,
            }[kind]
            item = model.from_raw_data(raw)
            if model is Person:
                found["people"][item.person_id] = item
            else:
                found[model] = item
        team = found.get(Team)
        if reminder.kind == "escalate" and team is not None:
            # The admins, and the owner (the email says why they were not reached).
            admins = {m.person_id for m in team.member_list() if m.role == "admin"}
            owner = found[Post].owner_id if Post in found else None
            wanted = {
                Person.Meta.table_name: [
                    Person.key(person_id) for person_id in sorted(admins | {owner} - {None})
                ]
            }
            for raw in people.batch_get(wanted):
                admin = Person.from_raw_data(raw)
                found["people"][admin.person_id] = admin
        post, partner = found.get(Post), None
        if plan.for_co_owner(reminder.kind) and post is not None and post.shared_with:
            # A co-owner's zone, quiet hours and membership are in their team: one GetItem.
            partner = teams.team(post.shared_with)
        return Context(
            post, found.get(PostBody), team, found["people"], found.get(Playbook), partner
        )

    def _stale(self, reminder: Reminder, context: Context) -> str | None:
        """Why this reminder no longer fits its post (None if it still does), as a note code
        (app.planner.history.NOTES says it in words)."""
        post = context.post
        if post is None or context.team is None:
            return "post_gone"
        if post.deleted_at is not None:
            return "post_trashed"
        kind = reminder.kind
        co_owner = plan.for_co_owner(kind)
        if co_owner and (
            context.partner is None
            or post.shared_with != context.partner.team_id
            or post.shared_with not in context.team.partner_entries()
        ):
            return "not_shared"  # unshared, or the partnership ended
        # Someone removed from the team (or who left) hears nothing more about its posts.
        if kind != "escalate" and _member(reminder, context) is None:
            return "left_team"
        if kind.startswith("review-"):
            if post.status != "in_review" or post.reviewer_id != reminder.person_id:
                return "review_over"
            return None
        if post.status in plan.DONE:
            return "post_done"
        if reminder.for_due is not None and post.due != reminder.for_due:
            return "post_moved"
        owner = post.co_owner_id if co_owner else post.owner_id
        if kind != "escalate" and owner != reminder.person_id:
            return "other_owner"
        return None

    def _recipients(self, reminder: Reminder, context: Context) -> list[Person]:
        if reminder.kind == "escalate":
            # Never an admin about their own post.
            candidates = [
                person
                for member in context.team.member_list()
                if member.role == "admin"
                and member.person_id != context.post.owner_id
                and (person := context.people.get(member.person_id))
            ]
        else:
            candidates = [context.people.get(reminder.person_id)]
        return [person for person in candidates if person and self._unreachable(person) is None]

    def _unreachable(self, person: Person) -> str | None:
        """Why nudges cannot reach this person now ("off", "away", "mail_stopped": SES
        reported their address as bouncing or complaining), or None."""
        return "off" if not person.nudges_on else self._mail_stopped_or_away(person)

    def _mail_stopped_or_away(self, person: Person) -> str | None:
        """Why no mail reaches this person now, whatever they asked for ("mail_stopped": SES
        reported their address as bouncing or complaining; "away"), or None."""
        if person.mail_problem:
            return "mail_stopped"
        today = self.now.astimezone(ZoneInfo(person.zone)).date().isoformat()
        away = person.away_from and person.away_until and person.away_from <= today
        return "away" if away and today <= person.away_until else None

    def _outside_quiet_hours(self, reminder, context, recipients) -> datetime | None:
        """A later time if the (single) recipient is in quiet hours now (a catch-up run)."""
        if reminder.kind == "escalate":
            return None
        member = _member(reminder, context)
        if member is None:
            return None
        moved = plan.outside_quiet_hours(self.now, member, None)
        return moved if moved != self.now else None

    def _becomes_overdue(self, reminder: Reminder) -> Reminder | None:
        """A before-due nudge found after the due time (a catch-up run) is not sent: the first
        overdue nudge is brought forward to now instead, to go out in this run."""
        # (a co-owner's before-due nudge brings their own overdue one forward)
        first = (reminders.CO_OWNER if plan.for_co_owner(reminder.kind) else "") + "overdue-1"
        overdue = reminders.get(*Reminder.key(reminder.team_id, reminder.post_id, first))
        if overdue is not None and overdue.state == "pending" and overdue.due > self.now:
            reminders.snooze(overdue, self.now)
            overdue.due = self.now
            return overdue
        return None

    # Sending --------------------------------------------------------------------------------

    def _send(self, reminder: Reminder, message, context: Context, sent_to: str) -> None:
        if self._last_send is not None:
            wait = self.interval - (self.monotonic() - self._last_send)
            if wait > 0:
                self.sleep(wait)  # SES's sending rate
        self._last_send = self.monotonic()
        try:
            mail.send(message, team_id=reminder.team_id, now=self.now)
        except mail.MailError as error:
            if error.permanent:
                self._failed(reminder, error.code, context)
            else:
                self._retry_later(reminder, error.code)
            return
        self.outcome.emails.append(message["To"])
        entry = self._entry(reminder, context, "nudged")
        self._mark(
            reminder, lambda: reminders.mark_sent(reminder, self.run_id, self.now, sent_to, entry)
        )
        self.outcome.sent += 1

    def _mark(self, reminder: Reminder, record: Callable[[], None]) -> None:
        """Record the sending (``record``: a write on condition the lease is this run's);
        retry lost writes that did not land (the mail is out)."""
        for attempt in range(MARK_ATTEMPTS):
            try:
                record()
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
        # The recipients: the person nudged, or for an escalation the admins (not the owner).
        recipients = (
            set(context.people) - {context.post.owner_id}
            if reminder.kind == "escalate"
            else {reminder.person_id}
        )
        for person in context.people.values():
            if person.person_id in recipients:
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

    def _send_unless_retried(
        self, reminder: Reminder, message, refused: str, team_id: str | None = None
    ) -> bool | None:
        """Send a digest or weekly email (counted in the team's daily cap if ``team_id``):
        True once sent; False if SES refused it for good (logged as ``refused``); None if it
        failed for now and ``reminder`` was given back to be tried again later."""
        try:
            mail.send(message, team_id=team_id, now=self.now)
        except mail.MailError as error:
            if not error.permanent:
                self._retry_later(reminder, error.code)
                return None
            log.warning("%s refused: %s", refused, error.code)
            return False
        self.outcome.sent += 1
        self.outcome.emails.append(message["To"])
        return True

    # The daily digest -----------------------------------------------------------------------

    def _digest(self, reminder: Reminder) -> None:
        person = people.person(reminder.person_id)
        if person is None or not person.digest_on:
            self._finish(reminder, "cancelled", "digest_off", None)
            return
        tomorrow = plan.next_digest(person.zone, person.digest_at, self.now)
        if self._unreachable(person) is None:
            overdue, upcoming = self._digest_posts(person)
            if overdue or upcoming:
                message = emails.digest(person, overdue, upcoming, self.now)
                refused = f"digest to person {person.person_id}"
                if self._send_unless_retried(reminder, message, refused) is None:
                    return
        # Giving it back for tomorrow is what marks today's digest done.
        reminders.reschedule(reminder, self.run_id, tomorrow, note="next_digest")

    def _digest_posts(self, person: Person) -> tuple[list, list]:
        """Their open posts due from two weeks ago to a week ahead, by due time: the posts they
        own and the mirrors of partners' posts they co-own, from one Query of ``by_owner``."""
        zone = ZoneInfo(person.zone)
        today = self.now.astimezone(zone).date()
        start = datetime.combine(today - timedelta(days=14), datetime.min.time(), tzinfo=zone)
        end = datetime.combine(today + timedelta(days=7), datetime.min.time(), tzinfo=zone)
        owned, co_owned = posts.owned_with_shared(person.person_id, start, end)
        mine = sorted(
            (
                post
                for post in (*owned, *co_owned)
                if post.team_id in person.team_entries() and post.status not in plan.DONE
            ),
            key=lambda post: post.due,
        )
        overdue = [post for post in mine if post.due < self.now]
        return overdue, [post for post in mine if post.due >= self.now]

    # The weekly Cadence health email ------------------------------------------------------

    def _weekly_health(self, reminder: Reminder) -> None:
        """An admin's weekly email about the team's rhythm (app.cadence.weekly): sent while
        they are its admin, then given back for the next Monday 08:00 their time."""
        from app.cadence import weekly  # what the web pages need too: only when one is due

        admin, team = weekly.recipient(reminder)
        why_not = weekly.wanted_by(admin, team)
        if why_not == "off":
            self._finish(reminder, "cancelled", "health_off", None)
            return
        next_week = weekly.next_monday(admin.zone, self.now)
        # Asked for explicitly: nudges turned off do not stop it; bounces and being away do.
        if why_not is None and self._mail_stopped_or_away(admin) is None:
            message = weekly.message(admin, team, self.now)
            # The team's daily cap too is tried again later.
            sent = self._send_unless_retried(
                reminder, message, f"health email to {admin.person_id}", team.team_id
            )
            if sent is None:
                return
            if sent:
                # Planning next week's is what marks this week's as sent.
                self._mark(
                    reminder,
                    lambda: cadence.sent_and_next(reminder, self.run_id, self.now, next_week),
                )
                return
        # Not sent (also to a demoted admin, who gets it again if made admin again): next week.
        reminders.reschedule(reminder, self.run_id, next_week, note="next_health")


def _member(reminder: Reminder, context: Context) -> Member | None:
    """The recipient's member entry: in the post's team, or for a co-owner's nudge in the
    partner team (None if they are not, or no longer, a member there)."""
    team = context.partner if plan.for_co_owner(reminder.kind) else context.team
    return team.member(reminder.person_id) if team is not None else None


def _by_post_and_person(due: list[Reminder]) -> list[list[Reminder]]:
    """Due reminders grouped by post and recipient (a digest is its own group), in the order
    the index returned them (oldest first)."""
    groups: dict[tuple[str, str, str], list[Reminder]] = {}
    for found in due:
        key = (found.pk, found.post_id, found.person_id) if found.post_id else (found.pk, "", "")
        groups.setdefault(key, []).append(found)
    return list(groups.values())
