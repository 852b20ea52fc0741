"""Send a person's batch of notifications: one email listing everything since the last one.

The scheduled job claims the person's outbox (``NOTIFY#p``, a reminder in the ``due`` index)
with a lease, like a nudge, and calls ``send``: it reads the person and their waiting notes
(one GetItem, one Query), sends one email and, in one transaction on condition the lease is
still this run's, deletes the notes it listed and gives the outbox back for 15 minutes later.
So two overlapping runs send once, a failed send is tried again with the notes kept, and a
note recorded while a batch goes out waits for the next one, at least 15 minutes after.
"""

from datetime import datetime, timedelta

from flask_babel import force_locale, gettext, ngettext
from pynamodb.exceptions import UpdateError

from app.notifications import BATCH_EVERY_MINUTES, SWITCH_OF
from app.nudges import plan, tokens
from app.nudges.emails import action_link, to_person, when
from app.store import conditional_failure, kits, people, reminders
from app.store import notifications as store
from app.store.models import Member, Notification, Person, Reminder
from app.web import link_to

EVERY = timedelta(minutes=BATCH_EVERY_MINUTES)


def send(job, outbox: Reminder) -> None:
    """Send the batch of the claimed ``outbox`` (``job``: the run, app.nudges.job.Job)."""
    now = job.now
    person = people.person(outbox.person_id)
    notes = store.waiting(outbox.person_id) if person is not None else []
    if not notes:
        _close_empty(job, outbox)
        return
    later = _not_yet(person, outbox, now)
    if later is not None:
        reminders.reschedule(outbox, job.run_id, later, note="quiet_hours")
        job.outcome.deferred += 1
        return
    wanted = _undecided_kits([note for note in notes if _wanted(job, person, note)], person)
    if wanted:
        teams = sorted({note.team_id for note in wanted})
        biggest = max(teams, key=lambda team_id: sum(n.team_id == team_id for n in wanted))
        refused = f"notifications to person {person.person_id}"
        # Counted in the team with the most of its entries: the team's daily cap holds it back.
        if job._send_unless_retried(outbox, message(person, wanted, now), refused, biggest) is None:
            return
    # The notes not wanted (switched off, left the team, away) go with the ones sent.
    job._mark(outbox, lambda: store.sent(outbox, job.run_id, now, now + EVERY, notes))


def _close_empty(job, outbox: Reminder) -> None:
    try:
        store.close_empty(outbox, job.run_id, int(outbox.notes or 0))
    except UpdateError as error:
        if not conditional_failure(error):
            raise
        # A note came after the claim (or the lease was lost): the next run looks again.
        if reminders.still_mine(outbox, job.run_id):
            reminders.reschedule(outbox, job.run_id, job.now, note="notified")
    job.outcome.skipped += 1


def _not_yet(person: Person, outbox: Reminder, now: datetime) -> datetime | None:
    """When the batch may go, if not now: 15 minutes after the last one, out of quiet hours."""
    ready = max(now, outbox.sent_at + EVERY) if outbox.sent_at else now
    member = Member(
        person.person_id, person.name, person.email, "", "", **person.nudge_preferences()
    )
    ready = plan.outside_quiet_hours(ready, member, None)
    return ready if ready > now else None


def _wanted(job, person: Person, note: Notification) -> bool:
    """Whether the note is still for them: in the post's team, the kind switched on, nudges
    on, their address working and they are not away."""
    # A partner's review request is for its admins, while they are (the note names the team).
    member = (
        person.role_in(note.team_id) is not None
        if note.partner_id is None
        else person.role_in(note.partner_id) == "admin"
    )
    return (
        member
        and SWITCH_OF.get(note.kind) not in (person.notify_off or ())
        and job._unreachable(person) is None
    )


def _undecided_kits(notes: list[Notification], person: Person) -> list[Notification]:
    """The notes, but those of share kits the person no longer has to decide on (the kit
    deleted, their offer withdrawn, or they took it or passed meanwhile); each kit with its
    title and window's end as they are now. One BatchGetItem of their offers, only when the
    batch names a kit."""
    kit_notes = [note for note in notes if note.kit_team_id is not None]
    if not kit_notes:
        return notes
    offers = kits.offers_to(person.person_id, [(n.kit_team_id, n.post_id) for n in kit_notes])
    kept = []
    for note in notes:
        if note.kit_team_id is not None:
            offer = offers.get((note.kit_team_id, note.post_id))
            if offer is None or offer.state != "offered":
                continue
            note.title, note.due = offer.title, offer.ends
        kept.append(note)
    return kept


def message(person: Person, notes: list[Notification], now: datetime):
    """One email listing the notes, grouped by post (newest activity first within a post),
    in the person's language, times in their zone."""
    teams = {team_id: entry["name"] for team_id, entry in person.team_entries().items()}
    with force_locale(person.language):
        by_post: dict[tuple[str, str], list[Notification]] = {}
        for note in notes:
            by_post.setdefault((note.team_id, note.post_id), []).append(note)
        posts = [
            {
                "title": found[-1].title,
                # A partner's post under its own team's name (the reader is not in it; a
                # note recorded before notes carried it: under the reader's team).
                "team": found[-1].team_name or teams.get(found[-1].partner_id or team_id, ""),
                "due": when(found[-1].due, person, now) if found[-1].due else "",
                **_links(person, found[-1], team_id, post_id),
                "entries": [
                    {
                        "what": _what(note),
                        "text": note.text,
                        # Notes can wait a night (quiet hours): "Yesterday 22:10", not "22:10".
                        "at": when(note.at, person, now),
                    }
                    for note in found
                ],
            }
            for (team_id, post_id), found in by_post.items()
        ]
        named = {note.partner_id or note.team_id for note in notes}
        place = teams.get(next(iter(named)), "Cadenza") if len(named) == 1 else "Cadenza"
        subject = ngettext(
            "%(num)d thing needs you in %(team)s",
            "%(num)d things need you in %(team)s",
            len(notes),
            team=place,
        )
        return to_person("notifications", person, now, subject, posts=posts)


def _links(person: Person, note: Notification, team_id: str, post_id: str) -> dict:
    """Where the post opens; for a partner's review request, on the person's team's shared
    page, with one-click Approve and Ask for changes links signed for them (and the version
    the post was put in review at: changed since, the link asks for a look); for a share kit,
    its page and its signed link."""
    if note.kit_team_id is not None:
        return _kit_links(person, note)
    if note.partner_id is None:
        return {"link": link_to("planner.show", team_id=team_id, post_id=post_id)}
    expires = (note.due or note.at) + tokens.VALID_AFTER_DUE
    signed = {
        action: action_link(
            action,
            person_id=person.person_id,
            team_id=team_id,
            post_id=post_id,
            kind="partner-review",
            expires=expires,
            version=int(note.version),
            partner=note.partner_id,
        )
        for action in ("approve", "changes")
    }
    shared = link_to("sharing.show", team_id=note.partner_id, origin_id=team_id, post_id=post_id)
    return {"link": shared, "approve": signed["approve"], "changes": signed["changes"]}


def _kit_links(person: Person, note: Notification) -> dict:
    """A share kit's page in Cadenza, and its page behind a link signed for this person alone,
    which takes it or passes once, while the kit's window is open. The page checks the kit's
    end as it is then: the token outlives the end as mailed (``note.due``) by a week, so a
    window made longer since keeps the link working."""
    page = {"team_id": note.team_id, "origin_id": note.kit_team_id, "kit_id": note.post_id}
    token = tokens.sign(
        "kit",
        person_id=person.person_id,
        team_id=note.team_id,
        post_id=note.post_id,
        partner=note.kit_team_id,
        expires=note.due + tokens.VALID_AFTER_DUE,
    )
    return {"link": link_to("kits.offer", **page), "take": link_to("kits.signed", token=token)}


def _what(note: Notification) -> str:
    who = note.actor_name or gettext("Someone")
    return {
        "mention": gettext("%(name)s mentioned you", name=who),
        "comment": gettext("%(name)s commented on your post", name=who),
        "approved": gettext("%(name)s approved your post", name=who),
        "changes": gettext("%(name)s asked for changes", name=who),
        "handed": gettext("%(name)s handed this post over to you", name=who),
        "review": gettext("%(name)s asks your team to review this shared post", name=who),
        "kit": gettext("%(name)s offers you a share kit: say it your way", name=who),
        "kit-nudge": gettext("Half-way through its window: will you share it, or pass?"),
    }[note.kind]
