"""One-click actions from nudge emails, one-click unsubscribe, and nudge preferences.

An email link opens a small confirm page; only its POST acts, because mail scanners fetch
links. The links work without a session (the signed token is the authorisation) and only once;
their pages speak the recipient's language and say so when a link was used already.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pynamodb.exceptions import PynamoDBException
from wtforms import BooleanField, Form, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from app import mail, values
from app.auth import csrf, link_page, login_required, speaking, team_member
from app.errors import error_page
from app.forms import checkboxes, posted, strip, valid_clock, valid_day
from app.kits import voice
from app.notifications import SWITCHES
from app.nudges import emails, plan, replan, tokens
from app.planner import changes
from app.planner.history import COMMENT_LIMIT
from app.store import Conflict, NotFound, people, posts, reminders, teams
from app.store.models import Person, Reminder
from app.web import now, render

bp = Blueprint("nudges", __name__)

SNOOZE = timedelta(days=1)
STORAGE_ERRORS = (PynamoDBException, BotoCoreError, ClientError)


# One-click actions -------------------------------------------------------------------------


def link_problem(status: int, message, recipient: Person | None = None) -> Response:
    """A page saying why a link cannot be used (``message`` lazy: it is shown in their language)."""
    language = recipient.language if recipient is not None else None
    return link_page(language, "nudges/link_problem.html", status, message=message)


def _open(token: str) -> tuple[dict, Person | None]:
    """The link's payload and the person it is for; aborts with a page saying what is wrong."""
    try:
        payload = tokens.read(token, now())
    except tokens.ExpiredToken as expired:
        recipient = people.person(expired.payload["u"])
        abort(link_problem(410, _l("This link has expired."), recipient))
    except tokens.BadToken:
        abort(link_problem(404, _l("This link is not valid. Was it copied completely?")))
    return payload, people.person(payload["u"])


@bp.route("/n/<token>", methods=["GET", "POST"])
def act(token: str):
    payload, recipient = _open(token)
    if payload["a"] == "unsubscribe":
        return redirect(url_for("nudges.unsubscribe", token=token))
    if payload["a"] == "kit":  # a share kit's page for its person (app.kits)
        return redirect(url_for("kits.signed", token=token))
    # Remembered by what the token says, not by how it is spelled (base64 has many spellings).
    fingerprint = tokens.fingerprint(payload)
    # Used already (opened again, or fetched by a scanner): say so, and offer no form to send.
    if people.link_used(fingerprint):
        return link_problem(410, _l("This link was used already."), recipient)
    team = teams.team(payload["t"])
    loaded = posts.load(payload["t"], payload["p"]) if team else None
    if loaded is None or recipient is None:
        return link_problem(410, _l("This post is no longer there for you."), recipient)
    post, body = loaded
    partner = None
    if "b" in payload:  # a partner team's person: its co-owner publishing, an admin deciding
        partner = teams.team(payload["b"])
        refusal = _partner_refusal(partner, team, post, recipient, payload["a"])
    else:
        refusal = _refusal(team, post, recipient, payload["a"])
    if refusal is not None:
        return link_problem(*refusal, recipient)
    if "v" in payload and payload["v"] != post.version:
        message = _l(
            "“%(title)s” was changed after this email was sent. Open it to review what it "
            "says now.",
            title=post.title,
        )
        return link_problem(409, message, recipient)
    action = payload["a"]
    teammates = [
        m
        for m in team.member_list()
        if m.role in changes.EDITING_ROLES and m.person_id != recipient.person_id
    ]
    context = {
        "token": token,
        "action": action,
        "post": post,
        "team": team,
        "recipient": recipient,
        "teammates": teammates,
        "partner": partner,
        "post_link": (
            url_for(
                "sharing.show", team_id=payload["b"], origin_id=team.team_id, post_id=post.post_id
            )
            if "b" in payload
            else url_for("planner.show", team_id=team.team_id, post_id=post.post_id)
        ),
    }
    if request.method == "GET":
        return link_page(recipient.language, "nudges/act.html", **context)

    expires = datetime.fromtimestamp(payload["e"], tz=now().tzinfo)
    if not people.use_link_once(fingerprint, now(), expires):
        return link_problem(410, _l("This link was used already."), recipient)
    try:
        with speaking(recipient.language):  # what it answers is for them, too
            done = _carry_out(action, payload, post, body, team, recipient, teammates)
    except _Refused as refused:
        people.forget_link(fingerprint)
        return link_page(recipient.language, "nudges/act.html", 422, error=str(refused), **context)
    except changes.Refused as refused:  # the planner's rule, e.g. on the chosen new owner
        people.forget_link(fingerprint)
        return link_page(
            recipient.language, "nudges/act.html", 422, error=refused.message, **context
        )
    except Conflict:
        people.forget_link(fingerprint)
        message = _l("Someone changed this post at the same time. Please open the link again.")
        return link_problem(409, message, recipient)
    except STORAGE_ERRORS:
        # Not carried out: the link stays usable, for the person to try again as asked.
        people.forget_link(fingerprint)
        raise
    return link_page(
        recipient.language,
        "nudges/done.html",
        message=done,
        post=post,
        post_link=context["post_link"],
    )


# What each action writes to the post (a handover's new owner is chosen on the page; taking
# a post over makes its new owner the person acting).
WRITES = {
    "published": {"status": "published"},
    "snooze": {},
    "handover": {},
    "approve": {"status": "approved"},
    "changes": {"status": "draft"},
    "takeover": {},
}
REVIEW_ACTIONS = ("approve", "changes")


def _refusal(team, post, person: Person, action: str):
    """Why this person may no longer act on the post, as (status, message); None if they may.

    An email outlives what it was sent for. The person may have lost their role or left the
    team, or the action may not suit the post's status any more: the planner's own rule
    (``changes.refusal``, which every route applies) says so, and the page answers 403 as the
    planner's routes do. Or the post moved on (410): trashed, published or skipped, or handed
    to someone else (an admin may still act on any post, as in the planner).
    """
    # First whether they may change the post at all (changing nothing tests only that).
    refused = changes.refusal(team, person.person_id, post, post)
    if refused is not None:
        return 403, refused.message
    if post.deleted_at is not None:
        return 410, _l("This post is in the trash. Restore it to edit it.")
    admin = team.member(person.person_id).role == "admin"
    if action in REVIEW_ACTIONS:
        # The reviewer's decision: only while the review they were asked for is under way.
        if post.status != "in_review":
            message = _l("“%(title)s” is not waiting for a review any more.", title=post.title)
            return 410, message
        if post.reviewer_id != person.person_id and not admin:
            return 410, _l("Someone else reviews “%(title)s” now.", title=post.title)
    elif action == "takeover":
        if post.owner_id == person.person_id:
            return 410, _l("“%(title)s” is yours already.", title=post.title)
    elif post.owner_id != person.person_id and not admin:
        return 410, _l("“%(title)s” belongs to someone else now.", title=post.title)
    if post.status in plan.DONE:
        return 410, _l("“%(title)s” is done already: published or skipped.", title=post.title)
    writes = {"owner_id": person.person_id} if action == "takeover" else WRITES[action]
    refused = changes.refusal(team, person.person_id, post, posts.preview(post, writes))
    if refused is not None:
        return 403, refused.message
    return None


def _partner_refusal(partner, team, post, person: Person, action: str):
    """Why a person of the partner team (``partner``, None if gone) may no longer act on this
    post, as (status, message): the rule of the partner's shared page (``sharing.shared_post``,
    ``may_publish_shared``, ``approve_shared``), with their part in their team as it is now.
    A co-owner publishes for their team once: a second link finds that side published."""
    if (
        partner is None
        or team.team_id not in partner.partner_entries()
        or post.shared_with != partner.team_id
        or post.deleted_at is not None
    ):
        message = _l(
            "“%(title)s” is no longer shared with your team, so this link can no longer act.",
            title=post.title,
        )
        return 410, message
    member = partner.member(person.person_id)
    if action == "published":
        if not changes.may_publish_shared(post, member):
            message = _l("Only the post's co-owner or your team's editors can mark it published.")
            return 403, message
        if post.partner_published_url:
            message = _l(
                "“%(title)s” is marked as published for your team already.", title=post.title
            )
            return 410, message
        if post.status == "skipped":
            message = _l("“%(title)s” is done already: published or skipped.", title=post.title)
            return 410, message
        if post.status not in ("approved", "published"):
            return 403, _l("A post is published once it is approved (ask its owner).")
        return None
    if member is None or member.role != "admin":
        return 403, _l("Only your team's admins can approve a post a partner team shares.")
    if post.status != "in_review":
        return 410, _l("“%(title)s” is not waiting for a review any more.", title=post.title)
    return None


class _Refused(Exception):
    """The form on the confirm page was not filled in right."""


def _changes_asked() -> dict:
    note = (request.form.get("comment") or "").strip()
    if not note:
        raise _Refused(_("Say what should change, so the author knows."))
    return {"kind": "changes", "text": note[:COMMENT_LIMIT]}


def _published_link() -> str:
    """The optional link to the published post, as typed on the confirm page."""
    link = (request.form.get("link") or "").strip()
    if link and not values.web_address(link):
        raise _Refused(_("Enter a web address starting with https://, or leave it empty."))
    return link


def _carry_out(action, payload, post, body, team, person: Person, teammates) -> str:
    moment = now()
    if "b" in payload and action == "published":  # the co-owner, for their team's side
        link = _published_link()
        if not link and post.status == "published":
            raise _Refused(_("It is published already: enter the link your team published."))
        changes.publish_shared(
            post,
            body,
            team,
            url=link or None,
            actor=person.person_id,
            actor_name=person.name,
            now=moment,
        )
        return _("“%(title)s” is marked as published for your team. Thank you!", title=post.title)
    if "b" in payload:  # a partner's decision: what it may write is approve_shared's
        details = _changes_asked() if action == "changes" else {"kind": "approved"}
        changes.approve_shared(
            post, body, team, actor=person.person_id, actor_name=person.name, now=moment, **details
        )
        if action == "approve":
            return _("“%(title)s” is approved. Its owner is told.", title=post.title)
        return _("Changes are asked on “%(title)s”. Its owner is told.", title=post.title)
    if action == "published":
        link = _published_link()
        was = post.status
        changes.update(
            post,
            body,
            team,
            summary={"status": "published"},
            body_fields={"published_url": link} if link else {},
            actor=person.person_id,
            now=moment,
        )
        done = _("“%(title)s” is marked as published. Thank you!", title=post.title)
        return (
            f"{done} {voice.OWN_VOICE}" if voice.echoed(was, post, body, person.person_id) else done
        )
    if action == "snooze":
        reminder = reminders.get(*Reminder.key(post.team_id, post.post_id, payload["k"]))
        if reminder is None:
            raise _Refused(_("This reminder is no longer planned."))
        later = moment + SNOOZE
        reminders.snooze(reminder, later)
        # The person asked for quiet about this post until then: their other nudges of it due
        # earlier wait too (the job then sends one and spaces overdue ones a day apart).
        for other in reminders.of_post(post.team_id, post.post_id):
            if (
                other.sk != reminder.sk
                and other.person_id == reminder.person_id
                and other.state == "pending"
                and other.due < later
            ):
                reminders.snooze(other, later)
        return _("We will remind you again in a day. The post keeps its time.")
    if action in ("approve", "changes", "takeover"):
        summary = {"owner_id": person.person_id} if action == "takeover" else WRITES[action]
        details = {"kind": "approved"} if action == "approve" else {}
        if action == "changes":
            details = _changes_asked()
        changes.update(
            post,
            body,
            team,
            summary=summary,
            body_fields={},
            actor=person.person_id,
            now=moment,
            **details,
        )
        if action == "approve":
            return _("“%(title)s” is approved. Its owner is told.", title=post.title)
        if action == "changes":
            return _("Changes are asked on “%(title)s”. Its owner is told.", title=post.title)
        return _("“%(title)s” is yours now, with its nudges.", title=post.title)
    chosen = request.form.get("to", "")
    if chosen not in {m.person_id for m in teammates}:
        raise _Refused(_("Choose the teammate who takes the post over."))
    handover = reminders.pending(
        Reminder(
            *Reminder.key(post.team_id, post.post_id, "handover"),
            team_id=post.team_id,
            post_id=post.post_id,
            kind="handover",
            person_id=chosen,
            due=moment,
            for_due=post.due,
            handed_by=person.person_id,
        )
    )
    changes.update(
        post,
        body,
        team,
        summary={"owner_id": chosen},
        body_fields={},
        actor=person.person_id,
        now=moment,
        extra_reminders=(handover,),
    )
    return _(
        "%(name)s now owns “%(title)s” and gets its nudges.",
        name=team.member(chosen).name,
        title=post.title,
    )


@bp.route("/n/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST here with no cookie and no form token
def unsubscribe(token: str):
    payload, recipient = _open(token)
    if payload["a"] != "unsubscribe":
        return link_problem(404, _l("This link is not valid. Was it copied completely?"))
    if recipient is None:
        return link_problem(410, _l("This account is no longer there."))
    if tokens.revoked(payload, recipient):
        message = _l(
            "This link was replaced when your nudges were turned back on. Use the link in a "
            "newer email, or turn nudges off in your preferences."
        )
        return link_problem(410, message, recipient)
    if request.method == "POST" and recipient.nudges_on:
        people.update_preferences(recipient, nudges_on=False)
    # Nudges already off (this link was used, or they were turned off): nothing to confirm.
    return link_page(
        recipient.language,
        "nudges/unsubscribe.html",
        recipient=recipient,
        token=token,
        done=not recipient.nudges_on,
    )


@bp.post("/t/<team_id>/nudges")
@team_member("admin")
def team_defaults(team_id: str):
    """A team's default lead times, for members who keep the team's."""
    sent = {values.count(m) for m in request.form.getlist("leads")}
    if not sent or not sent <= set(plan.LEAD_CHOICES):  # an unreadable one is None: no choice
        return error_page(422, _("Choose at least one time."))
    chosen = sorted(sent, reverse=True)
    # Unchanged times plan nothing again: re-planning would undo the snoozed nudges.
    if chosen != [int(m) for m in g.team.lead_minutes]:
        # Planned first: a failure in between leaves the old times, and saving again plans.
        _replan_team_defaults(g.team, chosen)
        try:
            teams.set_lead_minutes(g.team, chosen)
        except NotFound:  # the team was deleted meanwhile
            abort(404)
    flash(_("The team's nudge times are saved."), "success")
    return redirect(url_for("teams.team_settings", team_id=team_id))


def _replan_team_defaults(team, minutes: list[int]) -> None:
    """The team's new default times apply at once to the posts of members who keep them, and
    to the partners' posts they co-own (issue 11): the team's one ``by_due`` Query holds both,
    the team's posts and the mirrors of the posts shared with it."""
    moment = now()

    def keeps_defaults(person_id) -> bool:
        member = team.member(person_id) if person_id else None
        return member is not None and not member.leads

    found, _events, shared = posts.calendar_with_shared(team.team_id, moment, moment + replan.AHEAD)
    owned = [post for post in found if keeps_defaults(post.owner_id)]
    co_owned = [
        mirror
        for mirror in shared
        if keeps_defaults(mirror.owner_id) and mirror.status not in plan.DONE
    ]

    def as_saved(read):
        read.lead_minutes = minutes
        return read

    replan.replan_posts(owned, moment, as_saved)
    replan.replan_co_owned(co_owned, moment, as_saved)


# Preferences -------------------------------------------------------------------------------


_time = valid_clock(_l("Enter a time like 21:00."))
_day = valid_day(_l("Enter a date like 2026-12-24."))


class PreferencesForm(Form):
    nudges_on = BooleanField(_l("Email me nudges"))
    custom_leads = BooleanField(_l("Use my own times instead of each team's"))
    leads = checkboxes(
        _l("Remind me"),
        choices=lambda: [SelectChoice(str(m), label) for m, label in plan.LEAD_LABELS.items()],
    )
    quiet_start = StringField(_l("Quiet from"), [_time], filters=[strip])
    quiet_end = StringField(_l("Quiet until"), [_time], filters=[strip])
    digest_on = BooleanField(_l("Send me a daily digest"))
    digest_at = StringField(_l("Digest at"), [_time], filters=[strip])
    away_from = StringField(_l("Away from"), [_day], filters=[strip])
    away_until = StringField(_l("Away until"), [_day], filters=[strip])
    notify = checkboxes(
        _l("Email me when"),
        choices=lambda: [SelectChoice(kind, label) for kind, label in SWITCHES.items()],
    )

    def validate_quiet_end(self, field):
        if bool(field.data) != bool(self.quiet_start.data):
            raise ValidationError(_l("Give both ends of the quiet hours, or neither."))

    def validate_away_until(self, field):
        if bool(field.data) != bool(self.away_from.data):
            raise ValidationError(_l("Give the first and the last day, or neither."))
        first, last = values.day(self.away_from.data), values.day(field.data)
        if first and last and last < first:
            raise ValidationError(_l("The last day comes after the first."))

    def validate_leads(self, field):
        if self.custom_leads.data and not field.data:
            raise ValidationError(_l("Choose at least one time, or use the team's."))

    def validate_digest_at(self, field):
        if self.digest_on.data and not field.data:
            raise ValidationError(_l("Choose when the digest comes."))


@bp.route("/me/nudges", methods=["GET", "POST"])
@login_required
def preferences():
    someone: Person = g.person
    form = PreferencesForm(
        posted(),
        nudges_on=someone.nudges_on,
        custom_leads=bool(someone.lead_minutes),
        leads=[str(int(m)) for m in someone.lead_minutes or plan.DEFAULT_LEADS],
        quiet_start=someone.quiet_start,
        quiet_end=someone.quiet_end,
        digest_on=someone.digest_on,
        digest_at=someone.digest_at,
        away_from=someone.away_from or "",
        away_until=someone.away_until or "",
        notify=[kind for kind in SWITCHES if kind not in (someone.notify_off or ())],
    )
    if request.method == "POST" and form.validate():
        was_away = (someone.away_from, someone.away_until)
        was_digest = (someone.digest_on, someone.digest_at)
        was_quiet = (someone.quiet_start, someone.quiet_end)
        leads = (
            sorted((int(m) for m in form.leads.data), reverse=True)
            if form.custom_leads.data
            else None
        )
        old_leads = [int(m) for m in someone.lead_minutes] if someone.lead_minutes else None
        chosen = {
            "nudges_on": form.nudges_on.data,
            "lead_minutes": leads,
            "quiet_start": form.quiet_start.data or "",
            "quiet_end": form.quiet_end.data or "",
            "digest_on": form.digest_on.data,
            "digest_at": form.digest_at.data or "08:00",
            "away_from": form.away_from.data or None,
            "away_until": form.away_until.data or None,
            # Only what is switched off is stored: a new kind starts on for everyone.
            "notify_off": [kind for kind in SWITCHES if kind not in form.notify.data] or None,
        }
        # Planned before they are saved: a failure in between leaves the old preferences
        # stored, so saving again plans again (saved first, the plans would stay stale).
        # Only what changed is planned again: a planned digest or nudge may have been snoozed.
        after = Person.from_raw_data(someone.serialize())
        for name, value in chosen.items():
            setattr(after, name, value)
        if (after.digest_on, after.digest_at) != was_digest:
            _plan_digest(after)
        # Planned times follow the lead times and quiet hours: plan them again.
        if leads != old_leads or (after.quiet_start, after.quiet_end) != was_quiet:
            replan.replan_my_posts(someone, now(), after.nudge_preferences())
        people.update_preferences(someone, **chosen)
        if someone.away_from and (someone.away_from, someone.away_until) != was_away:
            _tell_admins_about_absence(someone)
        flash(_("Your nudge preferences are saved."), "success")
        return redirect(url_for("nudges.preferences"))
    status = 422 if request.method == "POST" else 200
    return render(
        "nudges/preferences.html",
        "preferences_form",
        status,
        form=form,
        failure=someone.last_failure.as_dict() if someone.last_failure else None,
    )


def _plan_digest(someone: Person) -> None:
    key = Reminder.digest_key(someone.person_id)
    if not someone.digest_on:
        reminders.write(reminders.ReminderWrites(delete=[Reminder(*key)]))
        return
    due = plan.next_digest(someone.zone, someone.digest_at, now())
    digest = Reminder(*key, kind="digest", person_id=someone.person_id, due=due)
    reminders.write(reminders.ReminderWrites(put=[reminders.pending(digest)]))


def _tell_admins_about_absence(someone: Person) -> None:
    """Email each team's admins the posts due while this person is away."""
    zone = ZoneInfo(someone.zone)
    first = datetime.combine(date.fromisoformat(someone.away_from), datetime.min.time(), zone)
    last = datetime.combine(date.fromisoformat(someone.away_until), datetime.max.time(), zone)
    due = [
        post
        for post in posts.owned_between(someone.person_id, first, last)
        if post.team_id in someone.team_entries() and post.status not in plan.DONE
    ]
    for team_id in {post.team_id for post in due}:
        team = teams.team(team_id)
        if team is None:
            continue
        team_posts = [post for post in due if post.team_id == team_id]
        for member in team.member_list():
            admin = people.person(member.person_id) if member.role == "admin" else None
            if admin is None or admin.person_id == someone.person_id:
                continue
            try:
                notice = emails.away_notice(admin, someone, team, team_posts, now())
                mail.send(notice, team_id=team_id, now=now())
            except mail.MailError:
                flash(_("We could not tell %(name)s about your absence.", name=admin.name), "error")
