"""Events: the list, a new event with its series (previewed, then planned), the event page
(edit: its series follows; cancel: its drafts go or stay; share with a partner team), the
partner team's read-only page of a shared event, and the team's series templates."""

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, request, url_for
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _

from app import values
from app.auth import RANKS, team_member
from app.errors import error_page
from app.events import series
from app.events.forms import EventForm, ShareForm, TemplateForm
from app.store import events, keys, sharing
from app.store.events import EventConflict
from app.web import go, now, render

bp = Blueprint("events", __name__)


def _members():
    return g.team.member_list()


def _event_form(formdata=None, templates=None, **values) -> EventForm:
    return EventForm(
        formdata,
        members=_members(),
        templates=templates if templates is not None else series.team_templates(g.team),
        **values,
    )


def _loaded(team_id: str, event_id: str):
    event = events.load(team_id, event_id)
    if event is None:
        abort(404)
    return event


def _unfinished():
    message = _(
        "The event is saved, but not every post of its series could be changed just now. "
        "Send the form again to finish: no post is changed twice."
    )
    return error_page(503, message)


def _when(moment) -> str:
    return format_datetime(moment, "EEE d MMM yyyy, HH:mm")  # in the reader's zone


# The list ----------------------------------------------------------------------------------


@bp.get("/t/<team_id>/events")
@team_member()
def index(team_id: str):
    moment = now()
    found = sorted(events.of_team(team_id), key=lambda event: event.starts_at)
    return render(
        "events/index.html",
        team=g.team,
        upcoming=[event for event in found if event.ends_at >= moment],
        past=[event for event in found if event.ends_at < moment][::-1],
        can_edit=RANKS[g.role] >= RANKS["editor"],
    )


# A new event and its series ----------------------------------------------------------------


@bp.get("/t/<team_id>/events/new")
@team_member("editor")
def new(team_id: str):
    templates = series.team_templates(g.team)
    day = request.args.get("date", "")
    form = _event_form(
        templates=templates,
        event_id=keys.new_id(),
        zone=g.team.zone,
        owner=g.person.person_id,
        start_day=day,
        start_at="18:00",
        end_at="21:00",
        template=templates[0].template_id,
    )
    return render("events/new.html", team=g.team, form=form, proposals=None)


def _chosen_steps(proposals, form: EventForm):
    """The steps ticked in the preview, with the owners chosen there; (steps, error)."""
    ticked = set(request.form.getlist("steps"))
    owners = {choice.value for choice in form.owner.choices[1:]}
    chosen = []
    for proposed in proposals:
        if proposed.step.step not in ticked or proposed.past:
            continue
        owner = request.form.get(f"owner-{proposed.step.step}", proposed.owner_id)
        if owner not in owners:
            return [], _("Choose each post's owner among those who can post.")
        proposed.owner_id = owner
        chosen.append(proposed)
    return chosen, None


@bp.post("/t/<team_id>/events")
@team_member("editor")
def create(team_id: str):
    team, moment, actor = g.team, now(), g.person.person_id
    templates = series.team_templates(team)
    form = _event_form(request.form, templates=templates)
    if not form.validate() or not form.event_id.data:
        if not form.event_id.errors and not form.event_id.data:
            form.event_id.errors = [_("This page is out of date: reload it.")]
        return render("events/new.html", status=422, team=team, form=form, proposals=None)
    template = next((t for t in templates if t.template_id == form.template.data), None)
    event = events.new_event(
        team_id,
        form.event_id.data,
        created_by=actor,
        now=moment,
        kind=template.template_id if template else "",
        **form.fields(),
    )
    proposals = series.proposal(event, template, team, moment) if template else []
    previewed = request.form.get("previewed") == form.template.data
    if template and (request.form.get("action") != "create" or not previewed):
        return render(
            "events/new.html", team=team, form=form, proposals=proposals, series_template=template
        )
    chosen, error = _chosen_steps(proposals, form)
    if error:
        return render(
            "events/new.html",
            status=422,
            team=team,
            form=form,
            proposals=proposals,
            series_template=template,
            steps_error=error,
        )
    try:
        events.create(event)
    except EventConflict:
        # The same form sent again (its answer lost, or a fault before its series was
        # planned): the event is there; planning the rest is safe, each post exists once.
        stored = events.load(team_id, event.event_id)
        if stored is None or stored.created_by != actor or stored.title != event.title:
            return error_page(409, _("This page is out of date: reload it."))
        event = stored
    try:
        planned, past = series.plan(event, chosen, team, actor=actor, now=moment)
    except series.Unfinished:
        return _unfinished()
    flash(_("Event saved."), "success")
    if planned:
        flash(
            ngettext(
                "%(num)d post of its series planned as a draft.",
                "%(num)d posts of its series planned as drafts.",
                len(planned),
            ),
            "success",
        )
    for proposed in past + [p for p in proposals if p.past]:
        flash(
            _(
                "“%(step)s” was not planned: its time, %(when)s, has passed.",
                step=proposed.step.label,
                when=_when(proposed.due),
            ),
            "warning",
        )
    return go(url_for("events.show", team_id=team_id, event_id=event.event_id))


# The event page ----------------------------------------------------------------------------


def _share_form(event, formdata=None) -> ShareForm:
    return ShareForm(
        formdata,
        partners=g.team.partner_entries(),
        partner=event.shared_with or "",
        version=str(event.version),
    )


def _page(event, *, form=None, status=200, cancel_error=None, conflict=None, share_form=None):
    can_edit = RANKS[g.role] >= RANKS["editor"]
    if form is None and can_edit and event.state != "cancelled":
        form = EventForm.for_event(event, members=_members(), templates=[])
    partners = g.team.partner_entries()
    if share_form is None and can_edit and partners:
        share_form = _share_form(event)
    return render(
        "events/show.html",
        status=status,
        team=g.team,
        event=event,
        local_start=series.local_start(event),
        posts=series.series_of(event),
        members={member.person_id: member for member in _members()},
        form=form if can_edit else None,
        can_edit=can_edit,
        cancel_error=cancel_error,
        conflict=conflict,
        moment=now(),
        zone=ZoneInfo(g.person.zone),
        shared_with=partners.get(event.shared_with) if event.shared_with else None,
        share_form=share_form if can_edit else None,
    )


@bp.get("/t/<team_id>/events/<event_id>")
@team_member()
def show(team_id: str, event_id: str):
    return _page(_loaded(team_id, event_id))


def _already_saved(stored, fields: dict) -> bool:
    """Whether the stored event is what the form asks for (its earlier sending landed)."""
    return all(getattr(stored, name) == value for name, value in fields.items())


def _stale(event):
    message = _(
        "Someone else saved this event while you were editing it: it shows here as it is "
        "now. Nothing of yours was saved; make your change again."
    )
    return _page(event, status=409, conflict=message)


@bp.post("/t/<team_id>/events/<event_id>")
@team_member("editor")
def save(team_id: str, event_id: str):
    team, moment = g.team, now()
    event = _loaded(team_id, event_id)
    if event.state == "cancelled":
        return error_page(409, _("This event is cancelled: it can no longer be changed."))
    form = _event_form(request.form, templates=[])
    form.template.data = ""
    if not form.validate():
        return _page(event, form=form, status=422)
    fields, was = form.fields(), event.starts_at
    if str(event.version) != form.version.data and not _already_saved(event, fields):
        return _stale(event)
    if not _already_saved(event, fields):  # saved as shown, it changes nothing
        try:
            events.save(event, now=moment, **fields)
        except EventConflict:
            event = _loaded(team_id, event_id)
            if not _already_saved(event, fields):  # else its answer was lost: it is saved
                return _stale(event)
    flash(_("Event saved."), "success")
    # Its series follows its start; a form sent again after a fault finishes the moving.
    try:
        moved, left = series.follow(event, team, moment)
    except series.Unfinished:
        return _unfinished()
    if moved:
        flash(
            ngettext(
                "%(num)d post of its series moved with it.",
                "%(num)d posts of its series moved with it.",
                len(moved),
            ),
            "success",
        )
    if moved or event.starts_at != was:
        for each in left:
            flash(
                _(
                    "“%(title)s” was not moved: %(reason)s.",
                    title=each.post.title,
                    reason=each.because,
                ),
                "warning",
            )
    return go(url_for("events.show", team_id=team_id, event_id=event_id))


@bp.post("/t/<team_id>/events/<event_id>/cancel")
@team_member("editor")
def cancel(team_id: str, event_id: str):
    team, moment = g.team, now()
    event = _loaded(team_id, event_id)
    choice = request.form.get("series")
    if choice not in ("remove", "keep"):
        message = _("Say what happens to the posts of its series.")
        return _page(event, status=422, cancel_error=message)
    if event.state != "cancelled":
        if str(event.version) != request.form.get("version"):
            return _stale(event)
        try:
            events.save(event, now=moment, state="cancelled")
        except EventConflict:
            event = _loaded(team_id, event_id)
            if event.state != "cancelled":  # else its answer was lost: it is cancelled
                return _stale(event)
    # Cancelled already: the same answer sent again (after a fault) finishes the removal.
    removed, kept = [], []
    if choice == "remove":
        try:
            removed, kept = series.withdraw_untouched(event, team, moment)
        except series.Unfinished:
            return _unfinished()
    flash(_("Event cancelled."), "success")
    if removed:
        flash(
            ngettext(
                "%(num)d untouched draft of its series removed.",
                "%(num)d untouched drafts of its series removed.",
                len(removed),
            ),
            "success",
        )
    for each in kept:
        flash(
            _("“%(title)s” was kept: %(reason)s.", title=each.post.title, reason=each.because),
            "warning",
        )
    return go(url_for("events.show", team_id=team_id, event_id=event_id))


# Sharing with a partner team ---------------------------------------------------------------


@bp.post("/t/<team_id>/events/<event_id>/share")
@team_member("editor")
def share(team_id: str, event_id: str):
    """Share the event with one of the team's partners, or stop sharing it: its series posts
    are not shared with it (each is shared from its own panel)."""
    event = _loaded(team_id, event_id)
    form = _share_form(event, request.form)
    if not form.validate():
        return _page(event, status=422, share_form=form)
    if values.count(form.version.data) != event.version:
        return _stale(event)
    chosen = form.partner.data or None
    if chosen != event.shared_with:
        try:
            events.share(event, partner_id=chosen, origin_name=g.team.name, now=now())
        except EventConflict:
            return _stale(_loaded(team_id, event_id))
    flash(_("Sharing saved.") if chosen else _("No longer shared."), "success")
    return go(url_for("events.show", team_id=team_id, event_id=event_id))


@bp.get("/t/<team_id>/shared-events/<origin_id>/<event_id>")
@team_member()
def shared(team_id: str, origin_id: str, event_id: str):
    """An event a partner team shares with this one: what it says, read-only."""
    found = sharing.shared_event(g.team, origin_id, event_id)
    if found is None:
        abort(404)
    event, origin = found
    owner = origin.member(event.owner_id) if event.owner_id else None
    return render(
        "events/shared.html",
        team=g.team,
        partner=g.team.partner_entries()[origin_id],
        event=event,
        owner_name=owner.name if owner else "",
        local_start=series.local_start(event),
    )


# Series templates --------------------------------------------------------------------------


def _template_form(template=None, formdata=None) -> TemplateForm:
    options = {"members": _members(), "channels": g.team.channels or []}
    if template is not None:
        return TemplateForm.for_template(template, **options)
    return TemplateForm(formdata, **options)


def _templates_page(templates, *, status=200, sent=None, conflict=None):
    """The list of templates and one's form: ``sent`` as it was sent, else the one the
    address names (``?template=<id>``, ``new`` for a blank one), else the first."""
    if sent is not None:
        chosen = sent.template_id.data or "new"
        form = sent
    else:
        wanted = request.args.get("template", "")
        known = {template.template_id: template for template in templates}
        chosen = wanted if wanted in known or wanted == "new" else templates[0].template_id
        blank = series.Template("", "", [])
        form = _template_form(known.get(chosen, blank))
    return render(
        "events/series.html",
        status=status,
        team=g.team,
        templates=templates,
        chosen=chosen,
        form=form,
        can_add=len(templates) < events.MAX_TEMPLATES,
        stored=any(template.stored for template in templates),
        conflict=conflict,
    )


def _item(team_id: str, template: series.Template, moment):
    return events.new_template(
        team_id,
        template.template_id,
        name=template.name,
        steps=[step.stored() for step in template.steps],
        now=moment,
    )


@bp.get("/t/<team_id>/series")
@team_member("admin")
def templates(team_id: str):
    return _templates_page(series.team_templates(g.team))


@bp.post("/t/<team_id>/series")
@team_member("admin")
def save_template(team_id: str):
    team, moment = g.team, now()
    current = series.team_templates(team)
    stored = any(template.stored for template in current)
    form = _template_form(formdata=request.form)
    template_id = form.template_id.data or ""
    existing = next((t for t in current if t.template_id == template_id), None)
    if template_id and existing is None:
        return _templates_page(current, status=409, conflict=_("This template is gone."))
    if existing is not None and stored and str(existing.version) != form.version.data:
        message = _("Someone else saved this template meanwhile: here it is as it is now.")
        return _templates_page(current, status=409, conflict=message)
    # The defaults are offered until the team saves: its first save keeps the others too.
    adopted = [_item(team_id, t, moment) for t in current if not stored and t is not existing]
    if request.form.get("action") == "delete":
        if existing is None:
            abort(422)
        try:
            if stored:
                events.delete_template(_stored(team_id, existing))
            else:
                events.save_templates(adopted.pop(), adopted=adopted)
        except EventConflict:
            message = _("Someone else saved this template meanwhile: here it is as it is now.")
            return _templates_page(series.team_templates(team), status=409, conflict=message)
        flash(_("Template removed."), "success")
        return go(url_for("events.templates", team_id=team_id))
    if not form.validate():
        return _templates_page(current, status=422, sent=form)
    if existing is None and len(current) >= events.MAX_TEMPLATES:
        form.name.errors = [
            _("A team keeps at most %(count)d templates.", count=events.MAX_TEMPLATES)
        ]
        return _templates_page(current, status=422, sent=form)
    steps = form.built_steps(existing.steps if existing else [])
    changed = events.new_template(
        team_id,
        template_id or keys.new_id(8),
        name=form.name.data,
        steps=[step.stored() for step in steps],
        now=moment,
    )
    if existing is not None and stored:
        if (existing.name, existing.steps) == (changed.name, steps):
            flash(_("Template saved."), "success")  # as shown: nothing to write
            return go(url_for("events.templates", team_id=team_id, template=template_id))
        changed.version = existing.version
    try:
        events.save_templates(changed, adopted=adopted)
    except EventConflict:
        message = _("Someone else saved the templates meanwhile: here they are as they are now.")
        return _templates_page(series.team_templates(team), status=409, conflict=message)
    flash(_("Template saved."), "success")
    return go(url_for("events.templates", team_id=team_id, template=changed.template_id))


def _stored(team_id: str, template: series.Template):
    """The stored item of a template, at the version it was read with (to delete it)."""
    item = events.new_template(
        team_id, template.template_id, name=template.name, steps=[], now=now()
    )
    item.version = template.version
    return item
