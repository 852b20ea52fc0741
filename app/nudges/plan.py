"""Which nudges a post should get, and when: pure functions of the post, its team and now.

Deadline nudges (before due, overdue, the admins' escalation) follow the post's due time,
owner and status; review nudges follow "in review" and the reviewer. Times are planned in the
recipient's local wall-clock time (DST-safe) and moved out of their quiet hours.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from app.store import keys
from app.store.models import Activity, Member, Post, Reminder, Team
from app.store.reminders import CO_OWNER, ReminderWrites, pending

# The lead times a person can choose, in minutes.
LEAD_LABELS = {
    10080: _l("1 week before"),
    4320: _l("3 days before"),
    1440: _l("1 day before"),
    240: _l("4 hours before"),
    120: _l("2 hours before"),
    60: _l("1 hour before"),
    30: _l("30 minutes before"),
    15: _l("15 minutes before"),
}
LEAD_CHOICES = tuple(LEAD_LABELS)
DEFAULT_LEADS = (1440, 60)
OVERDUE_AFTER = timedelta(hours=2)  # then once a (local) day, three times; then the admins
OVERDUE_TIMES = 3
REVIEW_AGAIN_AFTER = timedelta(hours=24)
DONE = ("published", "skipped")
DEADLINE_KINDS = (
    *(f"before-{minutes}" for minutes in LEAD_CHOICES),
    *(f"overdue-{n}" for n in range(1, OVERDUE_TIMES + 1)),
    "escalate",
)
REVIEW_KINDS = ("review-1", "review-2")
# A shared post's co-owner (a member of the partner team, issue 11) is nudged like its owner,
# from their own member entry there, as these kinds in the post's partition (the post's
# timeline and every re-planning find them with the owner's); never an escalation: that is
# the owning team's admins'.
CO_OWNER_KINDS = tuple(CO_OWNER + kind for kind in DEADLINE_KINDS if kind != "escalate")


def base_kind(kind: str) -> str:
    """The owner's kind a co-owner's nudge is the like of ("co-before-60": "before-60")."""
    return kind.removeprefix(CO_OWNER)


def for_co_owner(kind: str) -> bool:
    return kind.startswith(CO_OWNER)


@dataclass(frozen=True)
class Planned:
    kind: str
    person_id: str
    due: datetime
    for_due: datetime | None = None


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_window(moment: datetime, member: Member) -> tuple[datetime, datetime] | None:
    """The quiet hours (UTC start, end) that contain ``moment``, if any."""
    if not member.quiet:
        return None
    zone = ZoneInfo(member.zone)
    start, end = _clock(member.quiet[0]), _clock(member.quiet[1])
    local = moment.astimezone(zone)
    # A window that crosses midnight (21:00–08:00) started either today or yesterday.
    for day in (local.date(), local.date() - timedelta(days=1)):
        opens = datetime.combine(day, start, tzinfo=zone)
        closes = datetime.combine(day + timedelta(days=1 if end <= start else 0), end, tzinfo=zone)
        if opens.astimezone(UTC) <= moment < closes.astimezone(UTC):
            return opens.astimezone(UTC), closes.astimezone(UTC)
    return None


def outside_quiet_hours(moment: datetime, member: Member, deadline: datetime | None) -> datetime:
    """Move a nudge out of the recipient's quiet hours: to their end, or, if that is after the
    post's due time, to their start (the evening before)."""
    window = quiet_window(moment, member)
    if window is None:
        return moment
    opens, closes = window
    if deadline is not None and closes > deadline:
        return opens
    return closes


def before(due: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    """``minutes`` before ``due``; whole days count in wall-clock time, so "1 day before" a
    09:00 post is 09:00 the day before even across a DST switch (23 or 25 hours)."""
    days, rest = divmod(minutes, 1440)
    local = due.astimezone(zone)
    day_before = datetime.combine(local.date() - timedelta(days=days), local.time(), tzinfo=zone)
    return day_before.astimezone(UTC) - timedelta(minutes=rest)


def days_later(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    later = datetime.combine(local.date() + timedelta(days=days), local.time(), tzinfo=zone)
    return later.astimezone(UTC)


def _deadline_moments(post: Post, owner: Member, team: Team) -> list[Planned]:
    """Every moment of a deadline's plan for its owner, whether past or not."""
    zone = ZoneInfo(owner.zone)
    planned = [
        Planned(
            f"before-{int(minutes)}",
            owner.person_id,
            outside_quiet_hours(before(post.due, int(minutes), zone), owner, post.due),
            post.due,
        )
        for minutes in owner.leads or team.lead_minutes or DEFAULT_LEADS
    ]
    first_late = post.due + OVERDUE_AFTER
    for n in range(OVERDUE_TIMES):
        at = outside_quiet_hours(days_later(first_late, n, zone), owner, None)
        planned.append(Planned(f"overdue-{n + 1}", owner.person_id, at, post.due))
    escalation = days_later(first_late, OVERDUE_TIMES, zone)  # a day after the last one
    planned.append(Planned("escalate", "", escalation, post.due))
    return planned


def _deadline_owner(post: Post, team: Team) -> Member | None:
    """The member a post's deadline nudges are for (None: the post has no deadline to nudge)."""
    owner = team.member(post.owner_id) if post.owner_id else None
    if owner is None or post.due is None or post.deleted_at is not None or post.status in DONE:
        return None
    return owner


def deadline_nudges(post: Post, team: Team, now: datetime) -> list[Planned]:
    owner = _deadline_owner(post, team)
    if owner is None:
        return []
    return [
        nudge
        for nudge in _deadline_moments(post, owner, team)
        # a lead time already past when the post is planned is not sent late
        if not nudge.kind.startswith("before-") or nudge.due > now
    ]


def _co_owner(post: Post, partner: Team | None) -> Member | None:
    """The partner's member a post's co-owner nudges are for (None: none to plan)."""
    if partner is None or post.shared_with != partner.team_id or not post.co_owner_id:
        return None
    if post.due is None or post.deleted_at is not None or post.status in DONE:
        return None
    return partner.member(post.co_owner_id)


def co_owner_nudges(post: Post, partner: Team | None, now: datetime) -> list[Planned]:
    """The co-owner's deadline nudges: their lead times (or their team's), in their zone, out
    of their quiet hours."""
    co_owner = _co_owner(post, partner)
    if co_owner is None:
        return []
    return [
        Planned(CO_OWNER + nudge.kind, nudge.person_id, nudge.due, nudge.for_due)
        for nudge in _deadline_moments(post, co_owner, partner)
        if nudge.kind != "escalate"
    ]


def _co_owned(post: Post | None) -> tuple | None:
    return (post.shared_with, post.co_owner_id) if post and post.shared_with else None


def co_owner_involved(before: Post | None, after: Post) -> bool:
    """Whether a change touches a co-owner's nudges (a post co-owned before or after it)."""
    return any(shared and shared[1] for shared in (_co_owned(before), _co_owned(after)))


def co_owner_changed(before: Post | None, after: Post) -> bool:
    """Whether the co-owner's nudges must be planned again: their deadline, or who co-owns."""
    if not co_owner_involved(before, after):
        return False
    return _co_owned(before) != _co_owned(after) or deadline_changed(before, after)


def co_owner_writes(
    before: Post | None, after: Post, partner: Team | None, now: datetime
) -> ReminderWrites:
    """The co-owner's nudges when a post goes from ``before`` to ``after`` (``partner``: the
    team it is shared with, read by the caller only if ``after`` has a co-owner to plan for).
    For a new co-owner every moment is planned as for a new owner (a lead time already past
    is not sent late); for the same one, a moment already past is left as it is, so a moved
    deadline never sends again what they had (a leftover is cancelled by the job: its
    ``for_due`` no longer matches)."""
    writes = ReminderWrites()
    if not co_owner_changed(before, after):
        return writes
    planned = [
        nudge
        for nudge in co_owner_nudges(after, partner, now)
        if not base_kind(nudge.kind).startswith("before-") or nudge.due > now
    ]
    kept = set()
    if _co_owned(before) == _co_owned(after):
        kept = {nudge.kind for nudge in planned if nudge.due <= now}
    _replace(writes, after, CO_OWNER_KINDS, planned, kept)
    return writes


def _passed(before: Post | None, after: Post, team: Team, now: datetime) -> set[str]:
    """The kinds whose moment has passed under the plan in force, when the same deadline is
    planned again for someone else (a hand-over, a re-assignment): they were sent to the
    previous owner, or are being sent, so they are left as they are instead of being sent again.
    """
    if before is None or before.due != after.due or _deadline_owner(after, team) is None:
        return set()
    return passed_kinds(before, team, now)


def passed_kinds(post: Post, team: Team, now: datetime) -> set[str]:
    """The deadline nudges whose moment for the post's deadline has passed."""
    owner = _deadline_owner(post, team)
    if owner is None:
        return set()
    return {nudge.kind for nudge in _deadline_moments(post, owner, team) if nudge.due <= now}


def sent_for(history: list[Activity], due: datetime | None, deadline: datetime) -> dict:
    """The deadline nudges a post's history (newest first) shows sent while it was due at
    ``deadline``, by kind; ``due`` is its due time now. Walking back through the history, each
    change of the due time says what it was before."""
    then, wanted, found = keys.instant(due) if due else "", keys.instant(deadline), {}
    for entry in history:
        if entry.kind == "nudged" and then == wanted and entry.text in DEADLINE_KINDS:
            found.setdefault(entry.text, entry)
        for name, earlier, _later in entry.change_list():
            if name == "due":
                then = earlier
    return found


def review_nudges(post: Post, team: Team, now: datetime) -> list[Planned]:
    reviewer = team.member(post.reviewer_id) if post.reviewer_id else None
    if reviewer is None or post.status != "in_review" or post.deleted_at is not None:
        return []
    return [
        Planned("review-1", reviewer.person_id, outside_quiet_hours(now, reviewer, None)),
        Planned(
            "review-2",
            reviewer.person_id,
            outside_quiet_hours(now + REVIEW_AGAIN_AFTER, reviewer, None),
        ),
    ]


def deadline_changed(before: Post | None, after: Post) -> bool:
    """Whether the deadline nudges must be planned again."""
    if before is None:
        return True
    return (
        before.due != after.due
        or before.owner_id != after.owner_id
        or (before.status in DONE) != (after.status in DONE)
        or (before.deleted_at is None) != (after.deleted_at is None)
    )


def review_changed(before: Post | None, after: Post) -> bool:
    in_review = (before is not None and before.status == "in_review", after.status == "in_review")
    if in_review == (False, False):
        return False
    return (
        in_review[0] != in_review[1]
        or before.reviewer_id != after.reviewer_id
        or (before.deleted_at is None) != (after.deleted_at is None)
    )


def next_digest(member_zone: str, at: str, now: datetime) -> datetime:
    """The next local ``at`` (e.g. 08:00) after ``now``, as UTC."""
    zone = ZoneInfo(member_zone)
    local = now.astimezone(zone)
    for day in (local.date(), local.date() + timedelta(days=1), local.date() + timedelta(days=2)):
        moment = datetime.combine(day, _clock(at), tzinfo=zone).astimezone(UTC)
        if moment > now:
            return moment
    raise AssertionError("unreachable: a day always has a next morning")


def reminder_writes(
    before: Post | None, after: Post, team: Team, now: datetime, sent: dict | None = None
) -> ReminderWrites:
    """What to write when a post goes from ``before`` to ``after``: nothing if neither its
    deadline nor its review changed (so nudges already sent are not sent again). ``sent``:
    the nudges already sent for ``after``'s deadline (``sent_for``), recorded as sent again
    instead of planned (a post moved away and back, or trashed and restored)."""
    writes = ReminderWrites()
    if deadline_changed(before, after):
        kept = _passed(before, after, team, now)
        sent = {kind: entry for kind, entry in (sent or {}).items() if kind not in kept}
        planned = deadline_nudges(after, team, now)
        _replace(writes, after, DEADLINE_KINDS, planned, kept | set(sent))
        writes.put.extend(_already_sent(after, kind, entry) for kind, entry in sent.items())
    if review_changed(before, after):
        _replace(writes, after, REVIEW_KINDS, review_nudges(after, team, now))
    return writes


def deadline_writes(
    post: Post, team: Team, now: datetime, history: list[Reminder] = ()
) -> ReminderWrites:
    """The deadline nudges planned afresh (after the owner changed their zone or lead times).

    ``history`` is the post's reminders as stored: a nudge that already had its moment for
    this deadline (sent, closed, or due now) is left as it is, never planned a second time.
    """
    writes = ReminderWrites()
    _replace(
        writes, post, DEADLINE_KINDS, deadline_nudges(post, team, now), _had(history, post, now)
    )
    return writes


def co_owner_deadline_writes(
    post: Post, partner: Team, now: datetime, history: list[Reminder]
) -> ReminderWrites:
    """The co-owner's nudges planned afresh (after they changed their zone, lead times or
    quiet hours), as ``deadline_writes`` plans the owner's."""
    writes = ReminderWrites()
    planned = [
        nudge
        for nudge in co_owner_nudges(post, partner, now)
        if not base_kind(nudge.kind).startswith("before-") or nudge.due > now
    ]
    _replace(writes, post, CO_OWNER_KINDS, planned, _had(history, post, now))
    return writes


def _had(history: list[Reminder], post: Post, now: datetime) -> set[str]:
    """The kinds that already had their moment for the post's deadline (sent, closed, due)."""
    return {
        reminder.kind
        for reminder in history
        if reminder.for_due == post.due and (reminder.state != "pending" or reminder.due <= now)
    }


def _replace(
    writes: ReminderWrites, post: Post, kinds, planned: list[Planned], kept=frozenset()
) -> None:
    wanted = {nudge.kind: nudge for nudge in planned}
    for kind in kinds:
        if kind in kept:
            continue
        nudge = wanted.get(kind)
        if nudge is None:
            writes.delete.append(Reminder(*Reminder.key(post.team_id, post.post_id, kind)))
            continue
        writes.put.append(
            pending(
                _reminder(
                    post, kind, person_id=nudge.person_id, due=nudge.due, for_due=nudge.for_due
                )
            )
        )


def _already_sent(post: Post, kind: str, entry: Activity) -> Reminder:
    return _reminder(
        post,
        kind,
        person_id=entry.person_id,
        due=entry.at,
        for_due=post.due,
        state="sent",
        sent_at=entry.at,
    )


def _reminder(post: Post, kind: str, **values) -> Reminder:
    return Reminder(
        *Reminder.key(post.team_id, post.post_id, kind),
        team_id=post.team_id,
        post_id=post.post_id,
        kind=kind,
        **values,
    )


# The order of a post's nudges: the deadline's in sequence (numbers compared as numbers), then
# a hand-over, then the review requests.
TIMELINE = (*DEADLINE_KINDS, "handover", *REVIEW_KINDS, *CO_OWNER_KINDS)


def in_order(found: list[Reminder]) -> list[Reminder]:
    """A post's nudges for its timeline: "Overdue nudge 2" before 3 even when 2 was snoozed
    past 3's time (a kind no longer planned goes last, by time)."""
    position = {kind: n for n, kind in enumerate(TIMELINE)}
    return sorted(found, key=lambda r: (position.get(r.kind, len(TIMELINE)), r.due))


def relevance(kind: str) -> tuple[int, int]:
    """How relevant a nudge is when several for one person and post are due in one run (the
    smallest goes out): a hand-over says it all; then the first overdue nudge (the others
    follow a day apart); then the nearest before-due one (its "Today 10:00" is the true one);
    then the latest review request."""
    name, _dash, number = base_kind(kind).partition("-")
    rank = {"handover": 0, "overdue": 1, "before": 2, "review": 3}.get(name, 4)
    # A kind with no number of its own (a share kit's "kit-half") comes in no sequence.
    order = int(number) if number.isdigit() else 0
    return rank, -order if name == "review" else order
