"""Post changes with their nudges re-planned in the same transaction, and who may make them.

Every change to a post (creating, saving, moving, trashing, restoring, reviewing, acting from
an email) goes through here, so a moved post is nudged at its new time, a new owner gets the
nudges, a published or deleted post gets no more, and the status rule below holds on every
path: ``tests/test_status_rule.py`` fails if any other module writes posts itself.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.notifications import record
from app.nudges import plan
from app.store import posts, teams
from app.store.models import Member, Post, PostBody, Team
from app.store.notifications import Joined
from app.store.reminders import ReminderWrites

EDITING_ROLES = ("admin", "editor")


class Refused(Exception):
    """A change the person's role or part in the post does not allow: nothing was written.

    ``field`` is the post form's field the message belongs next to.
    """

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field, self.message = field, message


def status_change_allowed(
    role: str | None, from_status: str | None, to_status: str, *, is_owner: bool, is_reviewer: bool
) -> bool:
    """Whether someone may move a post between two statuses (``from_status`` None: creating it).

    Admins may do anything, viewers nothing. Approval is the assigned reviewer's, never the
    owner's, so "approved" means someone else read the post; only its owner publishes or skips
    it, and "published" is reached through "approved". Anyone who edits may plan and ask for a
    review; a review under way ends by the reviewer's decision or by the owner withdrawing it.
    """
    if role == "admin":
        return True
    if role != "editor":
        return False
    start = from_status or "idea"
    if start == to_status:
        return True
    if to_status == "approved":
        return start == "in_review" and is_reviewer and not is_owner
    if to_status == "published":
        return start == "approved" and is_owner
    if to_status == "skipped":
        return is_owner
    if start == "in_review":
        return is_reviewer or is_owner
    return True


OWN_PROFILES_ONLY = _l(
    "A post goes out only on its owner's own profiles: choose them after choosing the owner."
)


def refusal(team: Team, actor: str, before: Post | None, after: Post) -> Refused | None:
    """Why ``actor`` may not turn ``before`` (None: nothing yet) into ``after``, or None."""
    member = team.member(actor)
    role = member.role if member is not None else None
    if role not in EDITING_ROLES:
        return Refused("status", _l("Your role in this team does not allow changing posts."))
    if any(copy.person != after.owner_id for copy in after.profiles or []):
        return Refused("profiles", OWN_PROFILES_ONLY)  # an admin's change too
    if role == "admin":
        return None
    came_from = before.status if before is not None else None
    # Parts as they were: taking a post over, or naming oneself, is no licence in the same step.
    owner = before.owner_id if before is not None else after.owner_id
    allowed = status_change_allowed(
        role,
        came_from,
        after.status,
        is_owner=owner == actor,
        is_reviewer=before is not None and before.reviewer_id == actor,
    )
    if not allowed:
        return Refused("status", _refused_status(came_from, after.status))
    named = after.reviewer_id != (before.reviewer_id if before is not None else None)
    asked = after.status == "in_review" and (came_from != "in_review" or named)
    if after.reviewer_id == actor and (named or asked):
        return Refused(
            "reviewer", _l("Ask someone else to review it: nobody reviews for themselves.")
        )
    owner_changed = before is None or before.owner_id != after.owner_id
    if (
        (asked or owner_changed)
        and after.status == "in_review"
        and after.reviewer_id is not None
        and after.reviewer_id == after.owner_id
    ):
        return Refused("reviewer", _l("The post's owner cannot review it: choose someone else."))
    return None


def _refused_status(from_status: str | None, to_status: str):
    if to_status == "approved":
        return _l("Only the post's reviewer, or an admin, can approve it.")
    if to_status == "published" and from_status != "approved":
        return _l("A post is published once it is approved (an admin can publish it directly).")
    if from_status == "in_review":
        return _l("Only the reviewer, the post's owner or an admin can end its review.")
    return _l("Only the post's owner, or an admin, can set this status.")


def _check(team: Team, actor: str, before: Post | None, after: Post) -> None:
    refused = refusal(team, actor, before, after)
    if refused is not None:
        raise refused


def _replan(before: Post, after: Post, team: Team, now: datetime):
    """The nudges to write for a change. A deadline planned again when some of its moments
    have passed (moved away and back, trashed and restored) costs one Query of the post's
    history: the nudges already sent for that deadline are not sent a second time."""
    sent = {}
    replanned = plan.deadline_changed(before, after) and plan.passed_kinds(after, team, now)
    # A hand-over keeps the deadline, whose passed moments the plan in force knows (_passed).
    handed_over = before.due == after.due and plan.passed_kinds(before, team, now)
    if replanned and not handed_over:
        sent = plan.sent_for(posts.history(after.team_id, after.post_id), before.due, after.due)
    return _with_co_owner(plan.reminder_writes(before, after, team, now, sent), before, after, now)


def _with_co_owner(
    writes: ReminderWrites, before: Post | None, after: Post, now: datetime
) -> ReminderWrites:
    """``writes`` and the co-owner's nudges (issue 11). The partner team's item (the co-owner's
    zone, lead times, quiet hours) costs one GetItem, only when a co-owner's nudges are planned
    afresh: a shared post's deadline moved, or a co-owner named."""
    if not plan.co_owner_changed(before, after):
        return writes
    plannable = after.co_owner_id and after.due and not after.deleted_at
    plannable = plannable and after.status not in plan.DONE
    partner = teams.team(after.shared_with) if plannable else None
    more = plan.co_owner_writes(before, after, partner, now)
    return ReminderWrites(writes.put + more.put, writes.delete + more.delete)


def create(post: Post, team: Team, now: datetime, **body) -> None:
    _check(team, post.created_by, None, post)
    writes = plan.reminder_writes(None, post, team, now)
    posts.create(post, reminders=writes, known_tags=team.tags, **body)


def take_kit(post: Post, team: Team, now: datetime, taken, **body) -> None:
    """Write the post a person takes a share kit as, with its nudges and its offer marked
    taken (``taken``: app.store.kits.OfferTaken), in one transaction: PostConflict if they
    took it already (in another tab: the post's id is made from the kit's and theirs)."""
    _check(team, post.created_by, None, post)
    writes = plan.reminder_writes(None, post, team, now)
    posts.create(post, reminders=Joined(writes, taken), activity="kit", **body)


def plan_post(post: Post, team: Team, now: datetime, *, activity: str = "planned", **body) -> bool:
    """Write a post that a schedule, an event's series or a new membership planned, with its
    nudges; False if it exists already. No role check here: whoever set up the schedule or the
    event was checked then, and the post is a draft owned by a member."""
    writes = plan.reminder_writes(None, post, team, now)
    return posts.plan_new(post, reminders=writes, activity=activity, **body)


def import_post(post: Post, team: Team, now: datetime, **body) -> bool:
    """Write a post read from a CSV file, with its nudges, as the status rule allows its
    importer; False if a post with its id exists (its id is made from its content, so a file
    imported twice writes its posts once)."""
    _check(team, post.created_by, None, post)
    writes = plan.reminder_writes(None, post, team, now)
    return posts.plan_new(post, reminders=writes, activity="imported", known_tags=team.tags, **body)


def replan_post(post: Post, team: Team, *, summary: dict, now: datetime) -> Post | None:
    """Change a planned post nobody has touched (its schedule edited, its event moved), its
    nudges re-planned with it; None if someone changed it meanwhile (it keeps their edits)."""
    after = posts.preview(post, summary)
    writes = _replan(post, after, team, now)
    try:
        return posts.replan(post, summary=summary, now=now, reminders=writes)
    except posts.PostConflict:
        return None


def withdraw_post(post: Post, team: Team, now: datetime) -> bool:
    """Remove a planned post nobody has touched, and its pending nudges; False if someone
    changed it meanwhile (it stays)."""
    after = posts.preview(post, {"deleted_at": now})
    try:
        writes = _with_co_owner(plan.reminder_writes(post, after, team, now), post, after, now)
        posts.withdraw(post, reminders=writes)
    except posts.PostConflict:
        return False
    return True


def update(
    post: Post,
    body: PostBody,
    team: Team,
    *,
    summary: dict,
    body_fields: dict,
    actor: str,
    now: datetime,
    extra_reminders: tuple = (),
    **details,
) -> Post:
    if "owner_id" in summary and "profiles" not in summary and post.profiles:
        # Handed over (a nudge's link, not the form): the former owner's profiles stay theirs.
        kept = [copy for copy in post.profiles if copy.person == summary["owner_id"]]
        summary = {**summary, "profiles": kept or None}
    after = posts.preview(post, summary)
    _check(team, actor, post, after)
    writes = _replan(post, after, team, now)
    writes.put.extend(extra_reminders)
    notes = record.for_change(
        team,
        post,
        after,
        actor=actor,
        now=now,
        kind=details.get("kind", "changed"),
        text=details.get("text", ""),
        handed_over=any(reminder.kind == "handover" for reminder in extra_reminders),
    )
    if after.shared_with and after.status == "in_review" and post.status != "in_review":
        # The partner team's admins may approve it: their review request (one GetItem more).
        partner = teams.team(after.shared_with)
        by = team.member(actor)
        if partner is not None:
            asked = record.for_partner_review(
                partner, after, actor=actor, actor_name=by.name if by else "", now=now
            )
            notes = Joined(notes, asked)
    return posts.update(
        post,
        body,
        summary=summary,
        body_fields=body_fields,
        actor=actor,
        now=now,
        reminders=Joined(writes, notes),
        known_tags=team.tags,
        **details,
    )


def share(
    post: Post,
    team: Team,
    *,
    actor: str,
    partner_id: str | None,
    co_owner: tuple[str, str] | None,
    now: datetime,
    partner: Team | None = None,
    **sharing,
) -> Post:
    """Share a post with a partner team, change or stop it: an editor's or admin's of the
    owning team. The owner's nudges stay as they are; the co-owner's are planned, moved to a
    new co-owner or dropped in the same transaction (``partner``: the partner team as the
    caller read it, else read here when a co-owner's nudges are planned)."""
    member = team.member(actor)
    if member is None or member.role not in EDITING_ROLES:
        raise Refused("partner", _l("Your role in this team does not allow changing posts."))
    after = posts.preview(
        post, {"shared_with": partner_id, "co_owner_id": co_owner[0] if co_owner else None}
    )
    if partner is not None and partner.team_id == partner_id:
        writes = plan.co_owner_writes(post, after, partner, now)
    else:
        writes = _with_co_owner(ReminderWrites(), post, after, now)
    notes = None
    if partner_id and partner_id != post.shared_with and post.status == "in_review":
        # Shared while in review: the new partner's admins may approve it, as when a shared
        # post enters review (``update``); their request goes in this same transaction.
        if partner is None or partner.team_id != partner_id:
            partner = teams.team(partner_id)
        if partner is not None:
            notes = record.for_partner_review(
                partner, post, actor=actor, actor_name=member.name or "", now=now
            )
    return posts.share(
        post,
        actor=actor,
        partner_id=partner_id,
        co_owner=co_owner,
        now=now,
        reminders=Joined(writes, notes),
        **sharing,
    )


def move(
    team: Team,
    post_id: str,
    *,
    seen_due,
    seen_owner,
    seen_status: str,
    due,
    zone: str,
    actor: str,
    now: datetime,
    version: int,
) -> Post:
    before = Post(
        *Post.key(team.team_id, post_id),
        team_id=team.team_id,
        post_id=post_id,
        due=seen_due,
        owner_id=seen_owner,
        status=seen_status,
    )
    after = Post(
        *Post.key(team.team_id, post_id),
        team_id=team.team_id,
        post_id=post_id,
        due=due,
        owner_id=seen_owner or actor,
        status="draft" if seen_status == "idea" else seen_status,
    )
    _check(team, actor, before, after)
    writes = _replan(before, after, team, now)

    def as_shared(current: Post) -> ReminderWrites:
        # Only a shared post's move reads it (the blind write cannot): its co-owner's too.
        moved = posts.preview(
            current, {"due": due, "owner_id": after.owner_id, "status": after.status, "zone": zone}
        )
        return _with_co_owner(writes, current, moved, now)

    return posts.move(
        team.team_id,
        post_id,
        version=version,
        seen_due=seen_due,
        seen_owner=seen_owner,
        seen_status=seen_status,
        due=due,
        zone=zone,
        actor=actor,
        now=now,
        reminders=writes,
        shared_reminders=as_shared,
    )


def may_publish_shared(post: Post, member: Member | None) -> bool:
    """Whether a member of the team a post is shared with may mark it published for that
    team: its co-owner (whatever their role there), or that team's editors and admins."""
    if member is None:
        return False
    return post.co_owner_id == member.person_id or member.role in EDITING_ROLES


def publish_shared(
    post: Post,
    body: PostBody,
    team: Team,
    *,
    url: str | None,
    actor: str,
    actor_name: str,
    now: datetime,
) -> Post:
    """A partner team's co-owner (or editor) marks a post ``team`` shared with it published,
    with that side's own link (None: none given, from an email's one-click link). Nothing
    else is theirs to change: the owning team's status rule still says a post is published
    once approved, so only an approved (or published) post takes it. The caller checked the
    actor's part on the partner side (``may_publish_shared``)."""
    if post.status not in ("approved", "published"):
        raise Refused("url", _l("A post is published once it is approved (ask its owner)."))
    summary = {"status": "published", "partner_published_url": url}
    return _partner_write(post, body, team, summary, actor=actor, actor_name=actor_name, now=now)


def approve_shared(
    post: Post,
    body: PostBody,
    team: Team,
    *,
    actor: str,
    actor_name: str,
    now: datetime,
    kind: str = "approved",
    text: str = "",
) -> Post:
    """An admin of the partner team a post of ``team`` is shared with approves it in review,
    or asks for changes (``kind`` "changes", ``text`` saying what): the caller checked the
    part. The partner's decision counts as the reviewer's, and its owner is told as by one;
    ``actor_name`` names the partner person in the post's history and the owner's email."""
    if post.status != "in_review":
        raise Refused("status", _l("This post is not waiting for a review any more."))
    summary = {"status": "approved" if kind == "approved" else "draft"}
    return _partner_write(
        post, body, team, summary, actor=actor, actor_name=actor_name, now=now, kind=kind, text=text
    )


def _partner_write(
    post: Post,
    body: PostBody,
    team: Team,
    summary: dict,
    *,
    actor: str,
    actor_name: str,
    now: datetime,
    kind: str = "changed",
    text: str = "",
) -> Post:
    """Write what a person of the partner team (no member of ``team``, named ``actor_name``)
    decided on a shared post: its nudges planned again and its owner told of a review
    decision (``record.for_change``: a publication tells nobody), in one transaction."""
    after = posts.preview(post, summary)
    notes = record.for_change(
        team, post, after, actor=actor, now=now, kind=kind, text=text, actor_name=actor_name
    )
    return posts.update(
        post,
        body,
        summary=summary,
        body_fields={},
        actor=actor,
        actor_name=actor_name,
        now=now,
        kind=kind,
        text=text,
        reminders=Joined(_replan(post, after, team, now), notes),
    )


def trash(post: Post, body: PostBody, team: Team, *, actor: str, now: datetime) -> None:
    after = posts.preview(post, {"deleted_at": now})
    _check(team, actor, post, after)
    writes = _with_co_owner(plan.reminder_writes(post, after, team, now), post, after, now)
    posts.trash(post, body, actor=actor, now=now, reminders=writes)


def restore(post: Post, body: PostBody, team: Team, *, actor: str, now: datetime) -> None:
    after = posts.preview(post, {"deleted_at": None})
    _check(team, actor, post, after)
    writes = _replan(post, after, team, now)
    posts.restore(post, body, actor=actor, now=now, reminders=writes)
