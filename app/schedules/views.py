"""Schedule pages: the team's cadences, the form with its preview, skip, pause and delete."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app import values
from app.auth import RANKS, team_member
from app.errors import error_page
from app.schedules import planning, recurrence
from app.schedules.forms import ScheduleForm, day_names, nth_labels
from app.store import schedules
from app.store.schedules import ScheduleConflict
from app.web import go, now, render, wants_fragment

bp = Blueprint("schedules", __name__)

PREVIEW_COUNT = 10


def state_labels():
    return {
        "active": _l("Active"),
        "paused": _l("Paused"),
        "ended": _l("Ended"),
        "deleting": _l("Being deleted"),
    }


def _form(team, formdata=None, schedule=None, **data) -> ScheduleForm:
    options = {"channel_choices": team.channels or [], "members": team.member_list()}
    if schedule is not None and formdata is None:
        return ScheduleForm.for_schedule(schedule, **options)
    return ScheduleForm(formdata, **options, **data)


def _loaded(team_id: str, schedule_id: str):
    schedule = schedules.load(team_id, schedule_id)
    if schedule is None:
        abort(404)
    return schedule


def _can_edit() -> bool:
    return RANKS[g.role] >= RANKS["editor"]


def describe(schedule) -> str:
    """The rule in words: "every week on Tuesday, Friday at 18:00 (Europe/Rome)"."""
    cadence = recurrence.parse(schedule.rule)
    days = day_names()
    at = datetime.fromisoformat(schedule.starts_local).strftime("%H:%M")
    if cadence.freq == "weekly":
        on = ", ".join(days[day] for day in cadence.weekdays)
        text = ngettext(
            "every week on %(days)s", "every %(num)d weeks on %(days)s", cadence.every, days=on
        )
    elif cadence.month_day is not None:
        text = ngettext(
            "every month on day %(day)d",
            "every %(num)d months on day %(day)d",
            cadence.every,
            day=cadence.month_day,
        )
    else:
        text = ngettext(
            "every month on the %(nth)s %(weekday)s",
            "every %(num)d months on the %(nth)s %(weekday)s",
            cadence.every,
            nth=nth_labels()[str(cadence.nth)],
            weekday=days[cadence.weekday],
        )
    text = _("%(rule)s at %(time)s (%(zone)s)", rule=text, time=at, zone=schedule.zone)
    if cadence.until:
        text = _("%(rule)s, until %(date)s", rule=text, date=cadence.until.isoformat())
    if cadence.count:
        text = ngettext(
            "%(rule)s, %(num)d time", "%(rule)s, %(num)d times", cadence.count, rule=text
        )
    return text


def _page(team, form, *, schedule=None, status=200, preview=None, block=None, stale=False):
    return render(
        "schedules/edit.html",
        block,
        status,
        team=team,
        form=form,
        schedule=schedule,
        preview=preview,
        stale=stale,
        can_edit=_can_edit(),
        members={member.person_id: member for member in team.member_list()},
        # Shown outside the editor's block: an htmx swap of the editor needs no Query for it.
        upcoming=planning.upcoming(schedule, team, now(), PREVIEW_COUNT)
        if schedule and not wants_fragment()
        else [],
        rule_text=describe(schedule) if schedule else "",
        state_labels=state_labels(),
    )


def _preview(team, form):
    """The next occurrences the form describes, with their owners (nothing is written)."""
    trial = schedules.new_schedule(team.team_id, created_by=g.person.person_id, now=now())
    for name, value in form.attributes().items():
        setattr(trial, name, value)
    return planning.upcoming(trial, team, now(), PREVIEW_COUNT)


@bp.get("/t/<team_id>/schedules")
@team_member()
def index(team_id: str):
    team, moment = g.team, now()
    found = sorted(schedules.of_team(team_id), key=lambda each: each.title.casefold())
    rows = [
        {"schedule": each, "rule": describe(each), "next": planning.next_at(each, moment)}
        for each in found
    ]
    return render(
        "schedules/index.html",
        team=team,
        rows=rows,
        state_labels=state_labels(),
        can_edit=_can_edit(),
        members={member.person_id: member for member in team.member_list()},
    )


@bp.get("/t/<team_id>/schedules/new")
@team_member("editor")
def new(team_id: str):
    team = g.team
    form = _form(
        team,
        zone=team.zone,
        start=now().astimezone(ZoneInfo(team.zone)).date().isoformat(),
        at="18:00",
        owners=[g.person.person_id],
        # The new schedule's id, chosen now: sending the form again (after a fault, or a
        # double click) finishes that schedule instead of making a second one.
        schedule_id=schedules.new_id(),
    )
    return _page(team, form)


@bp.post("/t/<team_id>/schedules")
@team_member("editor")
def create(team_id: str):
    team = g.team
    form = _form(team, request.form)
    if not form.validate():
        return _page(team, form, status=422, block="schedule_editor")
    if "preview" in request.form:
        return _page(team, form, preview=_preview(team, form), block="schedule_editor")
    schedule_id = form.new_schedule_id() or schedules.new_id()
    schedule = schedules.new_schedule(
        team_id,
        created_by=g.person.person_id,
        now=now(),
        schedule_id=schedule_id,
        **form.attributes(),
    )
    try:
        outcome = planning.apply(schedule, team, now())
    except ScheduleConflict:  # sent again: the same schedule is finished, another refused
        stored = _loaded(team_id, schedule_id)
        if not _same(stored, form.attributes()):
            return _stale(team, stored)
        return _finish(team, stored, schedule_id)
    flash(
        ngettext(
            "Schedule saved: %(num)d post planned.",
            "Schedule saved: %(num)d posts planned.",
            outcome.planned,
        ),
        "success",
    )
    return go(url_for("schedules.show", team_id=team_id, schedule_id=schedule.schedule_id))


@bp.get("/t/<team_id>/schedules/<schedule_id>")
@team_member()
def show(team_id: str, schedule_id: str):
    schedule = _loaded(team_id, schedule_id)
    return _page(g.team, _form(g.team, schedule=schedule), schedule=schedule)


@bp.post("/t/<team_id>/schedules/<schedule_id>")
@team_member("editor")
def save(team_id: str, schedule_id: str):
    team, schedule = g.team, _loaded(team_id, schedule_id)
    if schedule.state == "deleting":
        return _being_deleted()
    form = _form(team, request.form)
    if not form.validate():
        return _page(team, form, schedule=schedule, status=422, block="schedule_editor")
    attributes = form.attributes()
    if "preview" in request.form:
        preview = _preview(team, form)
        return _page(team, form, schedule=schedule, preview=preview, block="schedule_editor")
    if _same(schedule, attributes):  # unchanged, or saved already by a try cut short
        return _finish(team, schedule, schedule_id)
    if form.expected_version() != schedule.version:
        return _stale(team, schedule)
    for name, value in attributes.items():
        setattr(schedule, name, value)
    try:
        outcome = planning.apply(schedule, team, now())
    except ScheduleConflict:
        return _stale(team, _loaded(team_id, schedule_id))
    _flash_outcome(outcome)
    return go(url_for("schedules.show", team_id=team_id, schedule_id=schedule_id))


def _same(schedule, attributes: dict) -> bool:
    """Whether the schedule is stored with these attributes already."""
    lists = ("owners", "channels")
    return all(
        (list(getattr(schedule, name) or []) if name in lists else getattr(schedule, name)) == value
        for name, value in attributes.items()
    )


def _finish(team, schedule, schedule_id: str):
    """Nothing to change: bring its slots in line if a save was cut short, then show it."""
    if planning.unfinished(schedule, now()):
        try:
            _flash_outcome(planning.extend(schedule, team, now()))
        except ScheduleConflict:
            return _stale(team, _loaded(team.team_id, schedule_id))
    else:
        flash(_("Nothing changed."), "success")
    return go(url_for("schedules.show", team_id=team.team_id, schedule_id=schedule_id))


def _stale(team, schedule):
    """Someone saved the schedule meanwhile: show it as it is now, with nothing overwritten."""
    return _page(team, _form(team, schedule=schedule), schedule=schedule, status=409, stale=True)


def _flash_outcome(outcome: planning.Outcome) -> None:
    changed = outcome.planned + outcome.replanned + outcome.withdrawn
    flash(
        _(
            "Schedule saved: %(changed)s re-planned, %(kept)s kept as people edited them.",
            changed=ngettext("%(num)d post", "%(num)d posts", changed),
            kept=ngettext("%(num)d post", "%(num)d posts", outcome.kept),
        ),
        "success",
    )


def _checked(team_id: str, schedule_id: str, *, version_needed: bool = True):
    """The schedule a small form acts on, and whether the page that sent it saw it as it is.

    A post's panel skips its occurrence without knowing the schedule's version: skipping a
    day overwrites nothing, and the write is still conditional on the version read here.
    """
    schedule = _loaded(team_id, schedule_id)
    sent = request.form.get("version")
    if sent is None and not version_needed:
        return schedule, True
    return schedule, values.count(sent) == schedule.version


@bp.post("/t/<team_id>/schedules/<schedule_id>/skip")
@team_member("editor")
def skip(team_id: str, schedule_id: str):
    day = values.day(request.form.get("day"))
    if day is None:
        abort(422)
    schedule, fresh = _checked(team_id, schedule_id, version_needed=False)
    if schedule.state == "deleting":
        return _being_deleted()
    if day.isoformat() in (schedule.skipped or ()):  # skipped already (perhaps cut short)
        return _finish(g.team, schedule, schedule_id)
    if not fresh:
        return _refused(team_id, schedule_id)
    today = now().astimezone(ZoneInfo(schedule.zone)).date()
    if day < today or not planning.occurs_on(schedule, day):
        return error_page(422, _("The schedule has no post to skip on that day."))
    coming = [skipped for skipped in schedule.skipped or () if skipped >= today.isoformat()]
    if len(coming) >= planning.MAX_SKIPPED:
        return error_page(
            422,
            _(
                "At most %(count)d posts can be skipped one by one: pause the schedule, or "
                "give it an end date.",
                count=planning.MAX_SKIPPED,
            ),
        )
    try:
        outcome = planning.skip(schedule, g.team, day, now())
    except ScheduleConflict:
        return _refused(team_id, schedule_id)
    if outcome.kept:
        flash(_("Skipped. Its post was edited by hand, so it stays in the calendar."), "success")
    else:
        flash(_("Skipped: that post is no longer planned."), "success")
    return _back(team_id, schedule_id)


@bp.post("/t/<team_id>/schedules/<schedule_id>/state")
@team_member("editor")
def change_state(team_id: str, schedule_id: str):
    action = request.form.get("action")
    if action not in ("pause", "resume"):
        abort(422)
    schedule, fresh = _checked(team_id, schedule_id)
    if schedule.state == "deleting":
        return _being_deleted()
    if schedule.state == {"pause": "paused", "resume": "active"}[action]:
        # In that state already, perhaps by a try cut short: its slots are brought in line
        # (a paused schedule is out of the index, so nothing else says whether that try ended).
        try:
            planning.extend(schedule, g.team, now())
        except ScheduleConflict:
            return _refused(team_id, schedule_id)
        return _back(team_id, schedule_id)
    if not fresh:
        return _refused(team_id, schedule_id)
    try:
        if action == "pause":
            outcome = planning.pause(schedule, g.team, now())
        else:
            outcome = planning.resume(schedule, g.team, now())
    except ScheduleConflict:
        return _refused(team_id, schedule_id)
    if action == "pause":
        flash(
            ngettext(
                "Paused: %(num)d planned post removed.",
                "Paused: %(num)d planned posts removed.",
                outcome.withdrawn,
            ),
            "success",
        )
    else:
        flash(
            ngettext(
                "Resumed: %(num)d post planned.", "Resumed: %(num)d posts planned.", outcome.planned
            ),
            "success",
        )
    return _back(team_id, schedule_id)


@bp.post("/t/<team_id>/schedules/<schedule_id>/delete")
@team_member("editor")
def delete(team_id: str, schedule_id: str):
    slots = request.form.get("slots")
    if slots not in ("keep", "remove"):
        abort(422)
    schedule, fresh = _checked(team_id, schedule_id)
    if not fresh and schedule.state != "deleting":  # deleting: a try cut short, finished now
        return _refused(team_id, schedule_id)
    try:
        outcome = planning.delete(schedule, g.team, now(), keep_slots=slots == "keep")
    except ScheduleConflict:
        return _refused(team_id, schedule_id)
    if slots == "keep":
        flash(_("Schedule deleted. Its posts stay in the calendar as ordinary posts."), "success")
    else:
        flash(
            ngettext(
                "Schedule deleted with %(num)d planned post.",
                "Schedule deleted with %(num)d planned posts.",
                outcome.withdrawn,
            ),
            "success",
        )
    return go(url_for("schedules.index", team_id=team_id))


@bp.errorhandler(planning.Unfinished)
def unfinished(_error):
    """Some posts could not be planned (the store was busy): the schedule is saved, and
    sending the form again, or the job within minutes, plans the rest."""
    return error_page(
        503,
        _(
            "The schedule is saved, but some of its posts could not be planned yet. Send it "
            "again, or wait a few minutes: Cadenza plans the rest."
        ),
    )


def _back(team_id: str, schedule_id: str):
    return go(url_for("schedules.show", team_id=team_id, schedule_id=schedule_id))


def _being_deleted():
    """A delete cut short by a fault: only deleting it again (which finishes the work) is
    allowed, so that nothing brings back a schedule someone chose to delete."""
    return error_page(
        409, _("This schedule is being deleted: delete it again to finish, nothing else.")
    )


def _refused(team_id: str, schedule_id: str):
    """A stale page's small form: a 409 page that says so."""
    return error_page(
        409,
        _("Someone changed this schedule meanwhile: nothing was done. Reload it and try again."),
    )
