"""Record what needs someone, in the same transaction as the change that causes it.

Called from the places that cause notifications (a comment, a post change): each returns the
writes (``NoteWrites``) to add to that change's transaction. Deciding costs no read: the team's
``members`` map, loaded by the request anyway, says who is a member, their zone and quiet hours,
and whether their nudges are on or their mail stopped. The person's switches, absence and the
rest are checked when the batch is sent (app.notifications.batch).
"""

import re
from datetime import datetime

from app.nudges import plan
from app.store.models import Member, Post, Team
from app.store.notifications import NoteWrites

MOST_MENTIONED = 10  # notified per comment: a comment naming the whole team is a broadcast
TEXT_KEPT = 280  # of a comment or a review note, in the email
_LINK = re.compile(r"\S+://\S+")  # an @Name inside an address is part of the address


def mentioned(text: str, team: Team) -> list[str]:
    """The members a comment mentions as ``@Full Name`` or ``@First`` (a first name only
    when no other member shares it), in the order they appear."""
    names: dict[str, set[str]] = {}
    for member in team.member_list():
        if member.name:
            names.setdefault(member.name.casefold(), set()).add(member.person_id)
            first = member.name.split()[0].casefold()
            names.setdefault(first, set()).add(member.person_id)
    unique = {name: ids for name, ids in names.items() if len(ids) == 1}
    if not unique:
        return []
    pattern = re.compile(
        "@(" + "|".join(re.escape(name) for name in sorted(unique, key=len, reverse=True)) + r")\b",
        re.IGNORECASE,
    )
    found: list[str] = []
    for match in pattern.finditer(_LINK.sub(" ", text)):
        (person_id,) = unique[match.group(1).casefold()]
        if person_id not in found:
            found.append(person_id)
    return found


def for_comment(team: Team, post: Post, actor: str, text: str, now: datetime) -> NoteWrites:
    """The people mentioned, and the post's owner (unless mentioned too: one note is enough)."""
    notes = NoteWrites()
    people = mentioned(text, team)[:MOST_MENTIONED]
    for person_id in people:
        _add(notes, team, post, "mention", person_id, actor, text, now)
    if post.owner_id and post.owner_id not in people:
        _add(notes, team, post, "comment", post.owner_id, actor, text, now)
    return notes


def for_change(
    team: Team,
    before: Post,
    after: Post,
    *,
    actor: str,
    now: datetime,
    kind: str = "changed",
    text: str = "",
    handed_over: bool = False,
    actor_name: str = "",
) -> NoteWrites:
    """A review decision, to the post's owner; a new owner, told the post is theirs (unless a
    hand-over from an email, whose own nudge says so: ``handed_over``). ``actor_name``: the
    name of an actor who is not a member (a partner team's admin deciding a review)."""
    notes = NoteWrites()
    said = {"actor_name": actor_name}
    if before.status == "in_review" and after.status != "in_review":
        if after.status == "approved":
            _add(notes, team, after, "approved", after.owner_id, actor, text, now, **said)
        elif kind == "changes" or actor == before.reviewer_id:
            _add(notes, team, after, "changes", after.owner_id, actor, text, now, **said)
    if after.owner_id != before.owner_id and not handed_over:
        _add(notes, team, after, "handed", after.owner_id, actor, "", now)
    return notes


def for_partner_review(partner: Team, post: Post, *, actor: str, actor_name: str, now: datetime):
    """A shared post just put in review: a note to each admin of the partner team it is
    shared with (``partner``), who may approve it for the owning team, carrying the version
    their one-click decision is about: the one the change being written makes."""
    notes = NoteWrites()
    for member in partner.member_list():
        if member.role != "admin" or member.person_id == actor:
            continue
        if not member.nudges_on or member.mail_problem:
            continue
        notes.add(
            member.person_id,
            plan.outside_quiet_hours(now, member, None),
            kind="review",
            team_id=post.team_id,
            post_id=post.post_id,
            title=post.title,
            due=post.due,
            actor_id=actor,
            actor_name=actor_name,
            at=now,
            partner_id=partner.team_id,
            team_name=post.origin_name,
            version=post.version + 1,  # the write is conditional on the version and adds one
        )
    return notes


def _add(notes, team, post, kind, person_id, actor, text, now, actor_name="") -> None:
    """A note for a member who can be told: never the person who acted."""
    member = team.member(person_id) if person_id else None
    if member is None or person_id == actor or not member.nudges_on or member.mail_problem:
        return
    by = team.member(actor)
    notes.add(
        person_id,
        plan.outside_quiet_hours(now, member, None),
        kind=kind,
        team_id=post.team_id,
        post_id=post.post_id,
        title=post.title,
        due=post.due,
        actor_id=actor,
        actor_name=by.name if by is not None else actor_name,
        text=text[:TEXT_KEPT],
        at=now,
    )


def for_kit(kit, member: Member, team_id: str, kind: str, now: datetime) -> NoteWrites:
    """A share kit offered to ``member`` in ``team_id`` (kind "kit"), or the half-window nudge
    to take it or pass ("kit-nudge"): never to the person who made the kit."""
    notes = NoteWrites()
    if member.person_id == kit.created_by or not member.nudges_on or member.mail_problem:
        return notes
    notes.add(
        member.person_id,
        plan.outside_quiet_hours(now, member, None),
        kind=kind,
        team_id=team_id,
        post_id=kit.kit_id,
        kit_team_id=kit.team_id,
        title=kit.title,
        due=kit.ends,
        actor_id=kit.created_by,
        actor_name=kit.created_by_name,
        text=kit.story[:TEXT_KEPT],
        at=now,
    )
    return notes
