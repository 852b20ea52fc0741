"""One-click actions from nudge emails, one-click unsubscribe, and nudge preferences.

An email link opens a small confirm page; only its POST acts, because mail scanners fetch
links. The links work without a session (the signed token is the authorisation) and only once.
"""

from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import mail
from app.auth import csrf, login_required, team_member
from app.errors import error_page
from app.forms import strip
from app.nudges import emails, plan, tokens
from app.planner import changes
from app.store import Conflict, people, posts, reminders, teams
from app.store.models import Person, Reminder
from app.web import now, render

bp = Blueprint("nudges", __name__)

SNOOZE = timedelta(days=1)


# One-click actions -------------------------------------------------------------------------


def _link_problem(status: int, message: str) -> Response:
    return make_response(*render("nudges/link_problem.html", status=status, message=message))


def _read(token: str) -> dict | None:
    try:
        return tokens.read(token, now())
    except tokens.ExpiredToken:
        return None
    except tokens.BadToken:
        abort(_link_problem(404, _("This link is not valid. Was it copied completely?")))


@bp.route("/n/<token>", methods=["GET", "POST"])
def act(token: str):
    payload = _read(token)
    if payload is None:
        return _link_problem(410, _("This link has expired."))
    if payload["a"] == "unsubscribe":
        return redirect(url_for("nudges.unsubscribe", token=token))
    team = teams.team(payload["t"])
    person = people.person(payload["u"])
    loaded = posts.load(payload["t"], payload["p"]) if team else None
    member = team.member(payload["u"]) if team else None
    if loaded is None or person is None or member is None or loaded[0].deleted_at:
        return _link_problem(410, _("This post is no longer there for you."))
    post, body = loaded
    action = payload["a"]
    teammates = [
        m
        for m in team.member_list()
        if m.role in ("admin", "editor") and m.person_id != person.person_id
    ]
    context = {
        "token": token,
        "action": action,
        "post": post,
        "team": team,
        "person": person,
        "teammates": teammates,
    }
    if request.method == "GET":
        return render("nudges/act.html", **context)

    fingerprint = tokens.fingerprint(token)
    expires = datetime.fromtimestamp(payload["e"], tz=now().tzinfo)
    if not people.use_link_once(fingerprint, now(), expires):
        return _link_problem(410, _("This link was used already."))
    try:
        done = _carry_out(action, payload, post, body, team, person, teammates)
    except _Refused as refused:
        people.forget_link(fingerprint)
        return render("nudges/act.html", status=422, error=str(refused), **context)
    except Conflict:
        people.forget_link(fingerprint)
        return error_page(409)
    return render("nudges/done.html", message=done, post=post, team=team)


class _Refused(Exception):
    """The form on the confirm page was not filled in right."""


def _carry_out(action, payload, post, body, team, person: Person, teammates) -> str:
    moment = now()
    if action == "published":
        link = (request.form.get("link") or "").strip()
        parts = urlsplit(link)
        if link and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise _Refused(_("Enter a web address starting with https://, or leave it empty."))
        changes.update(
            post,
            body,
            team,
            summary={"status": "published"},
            body_fields={"published_url": link} if link else {},
            actor=person.person_id,
            now=moment,
        )
        return _("“%(title)s” is marked as published. Thank you!", title=post.title)
    if action == "snooze":
        reminder = reminders.get(*Reminder.key(post.team_id, post.post_id, payload["k"]))
        if reminder is None:
            raise _Refused(_("This reminder is no longer planned."))
        reminders.snooze(reminder, moment + SNOOZE)
        return _("We will remind you again in a day. The post keeps its time.")
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
            note=person.name,
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
    payload = _read(token)
    if payload is None or payload["a"] != "unsubscribe":
        return _link_problem(404, _("This link is not valid. Was it copied completely?"))
    person = people.person(payload["u"])
    if person is None:
        return _link_problem(410, _("This account is no longer there."))
    if request.method == "GET":
        return render("nudges/unsubscribe.html", person=person, token=token)
    if person.nudges_on:
        people.update_preferences(person, nudges_on=False)
    return render("nudges/unsubscribe.html", person=person, token=token, done=True)


@bp.post("/t/<team_id>/nudges")
@team_member("admin")
def team_defaults(team_id: str):
    """A team's default lead times, for members who keep the team's."""
    chosen = sorted({int(m) for m in request.form.getlist("leads") if m.isdigit()}, reverse=True)
    if not chosen or not set(chosen) <= set(plan.LEAD_CHOICES):
        return error_page(422, _("Choose at least one time."))
    teams.set_lead_minutes(g.team, chosen)
    team = teams.team(team_id)
    moment = now()
    for post in posts.due_between(team_id, moment, moment + timedelta(days=60)):
        owner = team.member(post.owner_id) if post.owner_id else None
        if owner is not None and not owner.leads:
            reminders.write(plan.deadline_writes(post, team, moment))
    flash(_("The team's nudge times are saved."), "success")
    return redirect(url_for("teams.team_settings", team_id=team_id))


# Preferences -------------------------------------------------------------------------------


def _time(form, field):
    if field.data:
        try:
            hours, minutes = field.data.split(":")
            time(int(hours), int(minutes))
        except ValueError:
            raise ValidationError(_l("Enter a time like 21:00.")) from None


def _day(form, field):
    if field.data:
        try:
            date.fromisoformat(field.data)
        except ValueError:
            raise ValidationError(_l("Enter a date like 2026-12-24.")) from None


class PreferencesForm(Form):
    nudges_on = BooleanField(_l("Email me nudges"))
    custom_leads = BooleanField(_l("Use my own times instead of each team's"))
    leads = SelectMultipleField(
        _l("Remind me"),
        choices=lambda: [SelectChoice(str(m), label) for m, label in plan.LEAD_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    quiet_start = StringField(_l("Quiet from"), [_time], filters=[strip])
    quiet_end = StringField(_l("Quiet until"), [_time], filters=[strip])
    digest_on = BooleanField(_l("Send me a daily digest"))
    digest_at = StringField(_l("Digest at"), [_time], filters=[strip])
    away_from = StringField(_l("Away from"), [_day], filters=[strip])
    away_until = StringField(_l("Away until"), [_day], filters=[strip])

    def validate_quiet_end(self, field):
        if bool(field.data) != bool(self.quiet_start.data):
            raise ValidationError(_l("Give both ends of the quiet hours, or neither."))

    def validate_away_until(self, field):
        if bool(field.data) != bool(self.away_from.data):
            raise ValidationError(_l("Give the first and the last day, or neither."))
        if field.data and self.away_from.data and field.data < self.away_from.data:
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
        request.form,
        nudges_on=someone.nudges_on,
        custom_leads=bool(someone.lead_minutes),
        leads=[str(int(m)) for m in someone.lead_minutes or plan.DEFAULT_LEADS],
        quiet_start=someone.quiet_start,
        quiet_end=someone.quiet_end,
        digest_on=someone.digest_on,
        digest_at=someone.digest_at,
        away_from=someone.away_from or "",
        away_until=someone.away_until or "",
    )
    if request.method == "POST" and form.validate():
        was_away = (someone.away_from, someone.away_until)
        leads = (
            sorted((int(m) for m in form.leads.data), reverse=True)
            if form.custom_leads.data
            else None
        )
        old_leads = someone.lead_minutes
        people.update_preferences(
            someone,
            nudges_on=form.nudges_on.data,
            lead_minutes=leads,
            quiet_start=form.quiet_start.data or "",
            quiet_end=form.quiet_end.data or "",
            digest_on=form.digest_on.data,
            digest_at=form.digest_at.data or "08:00",
            away_from=form.away_from.data or None,
            away_until=form.away_until.data or None,
        )
        _plan_digest(someone)
        if leads != old_leads:
            _replan_my_posts(someone)
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


def _my_upcoming(someone: Person, days: int) -> list:
    moment = now()
    mine = posts.owned_between(someone.person_id, moment, moment + timedelta(days=days))
    return [post for post in mine if post.team_id in someone.team_entries()]


def _replan_my_posts(someone: Person) -> None:
    """New lead times apply to the person's upcoming posts at once."""
    found_teams = {}
    for post in _my_upcoming(someone, days=60):
        team = found_teams.setdefault(post.team_id, teams.team(post.team_id))
        if team is not None:
            reminders.write(plan.deadline_writes(post, team, now()))


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
                mail.send(emails.away_notice(admin, someone, team, team_posts, now()))
            except mail.MailError:
                flash(_("We could not tell %(name)s about your absence.", name=admin.name), "error")
