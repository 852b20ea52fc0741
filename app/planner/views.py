"""The planner's pages: month, week and agenda views of a team's posts, My posts, and the post
panel."""

from datetime import date, timedelta
from functools import wraps
from itertools import groupby
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, make_response, redirect, request, session, url_for
from flask_babel import format_number
from flask_babel import gettext as _

from app import playbook, values
from app.auth import RANKS, login_required, team_member
from app.errors import error_page
from app.events import series
from app.i18n import STATUS_LABELS
from app.kits import voice
from app.notifications import record
from app.nudges import plan
from app.planner import changes, history, periods
from app.planner.board import Board, overdue
from app.planner.filters import Filters, today, viewer_zone
from app.planner.forms import (
    CHANNEL_LIMITS,
    TITLE_LIMITS,
    PostForm,
    channel_warnings,
    merge,
)
from app.planner.history import COMMENT_LIMIT, HISTORY_PAGE
from app.store import NotFound, people, posts, profiles, reminders, teams
from app.store.models import Event, Post, PostBody, SharedEvent, SharedPost
from app.store.posts import PostConflict
from app.web import TemplateMacros, go, now, render, wants_fragment

bp = Blueprint("planner", __name__)

AGENDA_DAYS = 30
OVERDUE_LOOKBACK_DAYS = 14


# Helpers of the views -----------------------------------------------------------------------


def _address() -> str:
    """This page's address without empty query values (a submitted filter form sends them)."""
    kept = [(name, value) for name, value in request.args.items(multi=True) if value]
    return request.script_root + request.path + (f"?{urlencode(kept)}" if kept else "")


def clean_address(view):
    """Answer a calendar view at its clean address: filters with no value are left out.

    Without JavaScript the filter form's GET redirects there; an htmx swap pushes it instead.
    """

    @wraps(view)
    def answer(*args, **kwargs):
        if all(value for _name, value in request.args.items(multi=True)):
            return view(*args, **kwargs)
        if not wants_fragment():
            return redirect(_address())
        response = make_response(view(*args, **kwargs))
        response.headers["HX-Push-Url"] = _address()
        return response

    return answer


def _view_context(team, filters: Filters, *, days, month=None, **context) -> dict:
    """What every calendar view's template gets: the team, its filters and the board."""
    board = Board(
        team_id=team.team_id,
        members={member.person_id: member for member in team.member_list()},
        zone=viewer_zone(),
        moment=now(),
        can_edit=RANKS[g.role] >= RANKS["editor"],
        posts_by_day=days,
        month=month,
        partners=team.partner_entries(),
    )
    return {
        "team": team,
        "filters": filters,
        "board": board,
        "month": month,
        "today": board.today,
        "can_edit": board.can_edit,
        "here": _address(),
        **context,
    }


def _with_shared(team, start, end, filters: Filters) -> tuple[list, list[Event]]:
    """The team's posts in [start, end) the filters keep, with its partners' posts shared with
    it (while still partners), and its events with its partners' shared events (likewise):
    one Query (``posts.calendar_items``)."""
    found = posts.calendar_items(team.team_id, start, end)
    partners = team.partner_entries()
    shared = [item for item in found[SharedPost] if item.origin_team_id in partners]
    shown_events = [item for item in found[SharedEvent] if item.origin_team_id in partners]
    kept = [post for post in [*found[Post], *shared] if filters.keep(post)]
    return kept, [*found[Event], *shown_events]


def _by_day(found: list[Post], zone: ZoneInfo) -> dict[date, list[Post]]:
    ordered = sorted(found, key=lambda post: post.due)
    return {
        day: list(group)
        for day, group in groupby(ordered, key=lambda post: periods.local_day(post.due, zone))
    }


# A fair can last days: its band shows on each (a week at most, the period's own days only).
EVENT_DAYS_SHOWN = 7


def _events_by_day(found: list[Event], zone: ZoneInfo) -> dict[date, list[Event]]:
    """Events on each local day they last. Post filters never hide them: an event is owned by
    no channel, status or tag, and the posts it drives make sense only beside it."""
    days: dict[date, list[Event]] = {}
    for event in sorted(found, key=lambda event: event.starts_at):
        first = periods.local_day(event.starts_at, zone)
        last = periods.local_day(max(event.starts_at, event.ends_at - timedelta(seconds=1)), zone)
        for offset in range(min((last - first).days, EVENT_DAYS_SHOWN - 1) + 1):
            days.setdefault(first + timedelta(days=offset), []).append(event)
    return days


# Calendar views ----------------------------------------------------------------------------


@bp.get("/t/<team_id>/")
@team_member()
@clean_address
def calendar(team_id: str):
    session["team"] = team_id
    return _month_page(g.team, periods.Month.containing(today()))


@bp.get("/t/<team_id>/month/<month>")
@team_member()
@clean_address
def month(team_id: str, month: str):
    parsed = periods.Month.parse(month)
    if parsed is None:
        abort(404)
    return _month_page(g.team, parsed)


def _month_page(team, month: periods.Month):
    zone, filters = viewer_zone(), Filters.from_request(team)
    weeks = month.weeks(g.person.week_start)
    # The grid's whole weeks, grey days of the months around included: still one Query.
    start, end = periods.bounds(weeks[0][0], weeks[-1][-1] + timedelta(days=1), zone)
    found, found_events = _with_shared(team, start, end, filters)
    context = _view_context(
        team,
        filters,
        view="month",
        events=_events_by_day(found_events, zone),
        month=month,
        weeks=weeks,
        days=_by_day(found, zone),
        ideas=[post for post in posts.ideas(team.team_id) if filters.keep(post)],
    )
    return render("planner/month.html", "calendar", **context)


@bp.get("/t/<team_id>/week/<day>")
@team_member()
@clean_address
def week(team_id: str, day: str):
    parsed = values.day(day)
    if parsed is None:
        abort(404)
    team, zone, filters = g.team, viewer_zone(), Filters.from_request(g.team)
    first = periods.week_of(parsed, g.person.week_start)
    if first != parsed:
        return redirect(url_for("planner.week", team_id=team_id, day=first, **filters.args()))
    after = first + timedelta(days=7)
    found, found_events = _with_shared(team, *periods.bounds(first, after, zone), filters)
    context = _view_context(
        team,
        filters,
        view="week",
        events=_events_by_day(found_events, zone),
        first=first,
        week_days=[first + timedelta(days=n) for n in range(7)],
        days=_by_day(found, zone),
        previous=first - timedelta(days=7),
        next=after,
    )
    return render("planner/week.html", "calendar", **context)


@bp.get("/t/<team_id>/agenda")
@team_member()
@clean_address
def agenda(team_id: str):
    team, zone, filters = g.team, viewer_zone(), Filters.from_request(g.team)
    first = values.day(request.args.get("from")) or today()
    lookback = first - timedelta(days=OVERDUE_LOOKBACK_DAYS)
    after = first + timedelta(days=AGENDA_DAYS)
    found, found_events = _with_shared(team, *periods.bounds(lookback, after, zone), filters)
    start, moment = periods.local_midnight(first, zone), now()
    context = _view_context(
        team,
        filters,
        view="agenda",
        days=_by_day([post for post in found if post.due >= start], zone),
        events=_events_by_day([e for e in found_events if e.ends_at > start], zone),
        late=[post for post in found if post.due < start and overdue(post, moment)],
        first=first,
        after=after,
        last=after - timedelta(days=1),
        previous=first - timedelta(days=AGENDA_DAYS),
    )
    return render("planner/agenda.html", "calendar", **context)


@bp.get("/my/posts")
@login_required
def my_posts():
    """The signed-in person's posts in every team: overdue ones, then the next 30 days."""
    zone, moment = viewer_zone(), now()
    first = moment.astimezone(zone).date()
    start, end = periods.bounds(
        first - timedelta(days=OVERDUE_LOOKBACK_DAYS), first + timedelta(days=AGENDA_DAYS), zone
    )
    my_teams = g.person.team_entries()
    # Partners' posts the person co-owns come from the same Query: shown by the team they are
    # shared with, while the person is in it.
    owned, shared = posts.owned_with_shared(g.person.person_id, start, end)
    found = {(post.team_id, post.post_id): post for post in owned if post.team_id in my_teams}
    found.update({(item.pk, item.sk): item for item in shared if item.team_id in my_teams})
    # by_owner is a GSI (eventually consistent): make sure the post just saved is there.
    just_saved = session.pop("just_saved", None)
    if just_saved and tuple(just_saved) not in found and just_saved[0] in my_teams:
        loaded = posts.load(*just_saved)
        if loaded and loaded[0].owner_id == g.person.person_id and loaded[0].due:
            found[tuple(just_saved)] = loaded[0]
    mine = [post for post in found.values() if start <= post.due < end]
    midnight = periods.local_midnight(first, zone)
    days = _by_day([post for post in mine if post.due >= midnight], zone)
    # Posts of several teams: no dragging here, owners are all the same person.
    board = Board(
        team_id="", members={}, zone=zone, moment=moment, can_edit=False, posts_by_day=days
    )
    return render(
        "planner/my_posts.html",
        late=sorted(
            (p for p in mine if p.due < midnight and overdue(p, moment)), key=lambda p: p.due
        ),
        board=board,
        team_names={team_id: entry["name"] for team_id, entry in my_teams.items()},
        today=first,
    )


# The post panel ----------------------------------------------------------------------------


def _form(team, formdata=None, post=None, body=None, current=None, **values) -> PostForm:
    """The post form: ``post`` and ``body`` show a stored post, ``formdata`` what was sent
    (for the ``current`` post, whose owner and reviewer stay choosable)."""
    options = {
        "channel_choices": team.channels or [],
        "members": team.member_list(),
        "zone": g.person.zone,
        "team_tags": team.tags,
        "playbook": playbook.current(team.team_id),
        "profiles_of": lambda person_id: _owner_profiles(team, person_id),
    }
    if post is not None:
        return PostForm.for_post(post, body, **options)
    return PostForm(formdata, current=current, **options, **values)


def _owner_profiles(team, person_id: str) -> list:
    """A member's own profiles, which a post they own may go out on: the signed-in person's
    from their session's item, another member's by one GetItem of their person item."""
    if person_id == g.person.person_id:
        return profiles.profiles_of(g.person)
    if team.member(person_id) is None:
        return []  # not one of the team's: the owner field refuses it
    someone = people.person(person_id)
    return profiles.profiles_of(someone) if someone is not None else []


def _loaded(team_id: str, post_id: str):
    """The post and its body; the team's playbook comes in the same read (``g.playbook``)."""
    loaded = posts.load_for_writing(team_id, post_id)
    if loaded is None:
        abort(404)
    post, body, g.playbook = loaded
    return post, body


def _panel(
    team,
    post,
    body,
    *,
    form=None,
    status=200,
    conflict=None,
    review_error=None,
    before=None,
    block="panel",
    **comment,
):
    """The post panel (or its ``block``), its comments and history from ``before``;
    ``comment`` has the comment form's ``comment_text`` and ``comment_error``."""
    return render(
        "planner/post.html",
        block,
        status,
        team=team,
        post=post,
        body=body,
        form=form or _form(team, post=post, body=body),
        **_activity(team, post, before),
        **comment,
        nudges=plan.in_order(reminders.of_post(team.team_id, post.post_id)),
        members={member.person_id: member for member in team.member_list()},
        warnings=channel_warnings(post.channel_names(), post.title, body.copy),
        conflict=conflict,
        review_error=review_error,
        can_edit=RANKS[g.role] >= RANKS["editor"],
        can_review=post.status == "in_review" and _may_approve(team, post),
        moment=now(),
        zone=viewer_zone(),
        part_of=series.part_of(post),
    )


def _activity(team, post: Post, before: str | None) -> dict:
    """A page of the post's comments and history, newest first, and where the older start."""
    try:
        shown, older = posts.activity_page(
            team.team_id, post.post_id, size=HISTORY_PAGE, before=before
        )
    except posts.BadCursor:
        abort(404)
    return {"history": shown, "older": older, "before": before}


def _may_approve(team, post: Post) -> bool:
    """Whether the review buttons are for this person: the status rule says so."""
    approved = posts.preview(post, {"status": "approved"})
    return changes.refusal(team, g.person.person_id, post, approved) is None


@bp.get("/t/<team_id>/posts/new")
@team_member("editor")
def new_post(team_id: str):
    day = values.day(request.args.get("date"))
    form = _form(
        g.team,
        day=day.isoformat() if day else "",
        at="09:00" if day else "",
        owner=g.person.person_id if day else "",
        status="draft" if day else "idea",
    )
    return render(
        "planner/new.html",
        "panel",
        team=g.team,
        form=form,
        day=day,
    )


@bp.post("/t/<team_id>/posts")
@team_member("editor")
def create(team_id: str):
    team = g.team
    form = _form(team, request.form)
    if not form.validate():
        return render(
            "planner/new.html",
            "panel",
            422,
            team=team,
            form=form,
            day=None,
        )
    summary, body = form.summary(), form.body()
    post = posts.new_post(team_id, created_by=g.person.person_id, now=now(), **summary)
    try:
        changes.create(post, g.team, now(), **body)
    except changes.Refused as refused:
        form = _refused(form, refused)
        return render("planner/new.html", "panel", 422, team=team, form=form, day=None)
    except PostConflict:
        form = _tags_changed(form)
        return render("planner/new.html", "panel", 409, team=team, form=form, day=None)
    _remember_saved(post)
    flash(_("Post saved."), "success")
    if not wants_fragment():
        return redirect(_calendar_url(team_id, post))
    panel, _status = _panel(team, post, PostBody(*PostBody.key(team_id, post.post_id), **body))
    return panel, 201, {"HX-Trigger": "calendar-changed"}


def _calendar_url(team_id: str, post: Post) -> str:
    if post.due is None:
        return url_for("planner.calendar", team_id=team_id)
    month = periods.Month.containing(periods.local_day(post.due, viewer_zone()))
    return url_for("planner.month", team_id=team_id, month=str(month))


def _remember_saved(post: Post) -> None:
    if post.owner_id == g.person.person_id and post.due:
        session["just_saved"] = [post.team_id, post.post_id]


@bp.get("/t/<team_id>/posts/<post_id>")
@team_member()
def show(team_id: str, post_id: str):
    post, body = _loaded(team_id, post_id)
    before = request.args.get("before")
    if before is not None and wants_fragment():  # "Show older", in place of the link
        return render(
            "planner/post.html",
            "older",
            team=g.team,
            post=post,
            members={member.person_id: member for member in g.team.member_list()},
            **_activity(g.team, post, before),
        )
    return _panel(g.team, post, body, before=before)


@bp.post("/t/<team_id>/posts/<post_id>")
@team_member("editor")
def save(team_id: str, post_id: str):
    team = g.team
    post, body = _loaded(team_id, post_id)
    if post.deleted_at is not None:
        return error_page(409, _("This post is in the trash. Restore it to edit it."))
    form = _form(team, request.form, current=post)
    if not form.validate():
        return _panel(team, post, body, form=form, status=422)
    was = post.status
    # Saved meanwhile (seen here, or lost the conditional write): merge once against what the
    # editor started from. Saved meanwhile again after that means others keep saving: ask.
    merged = False
    for _attempt in range(2):
        if form.expected_version() != post.version:
            if merged:
                return _conflict(team, post, body, form)
            keep_mine, _take_theirs, conflicts = merge(form, _form(team, post=post, body=body))
            if conflicts:
                return _conflict(team, post, body, form)
            form, merged = _form(team, keep_mine, current=post), True
            if not form.validate():
                return _panel(team, post, body, form=form, status=422)
        try:
            changes.update(
                post,
                body,
                team,
                summary=form.summary(),
                body_fields=form.body(),
                actor=g.person.person_id,
                now=now(),
            )
            break
        except changes.Refused as refused:
            return _panel(team, post, body, form=_refused(form, refused), status=422)
        except PostConflict:
            post, body = _loaded(team_id, post_id)
            if post.deleted_at is not None:
                return error_page(409, _("This post is in the trash. Restore it to edit it."))
    else:
        return _conflict(team, post, body, form)
    _remember_saved(post)
    flash(_("Post saved."), "success")
    if voice.echoed(was, post, body, g.person.person_id):  # a kit's words as they were
        flash(voice.OWN_VOICE, "info")
    if not wants_fragment():
        return redirect(url_for("planner.show", team_id=team_id, post_id=post_id))
    panel, _status = _panel(team, post, body)
    return panel, 200, {"HX-Trigger": "calendar-changed"}


def _tags_changed(form: PostForm) -> PostForm:
    """The form as sent, after a new post's write was refused: its id is new, so the team's
    list of tags filled up meanwhile (the store keeps it within its limit)."""
    form.tags.errors = [*form.tags.errors, _("The team's tags changed meanwhile: send it again.")]
    return form


def _refused(form: PostForm, refused: changes.Refused) -> PostForm:
    """The form as sent, with why the change is not allowed next to its field."""
    form[refused.field].errors = [*form[refused.field].errors, refused.message]
    return form


def _conflict(team, current: Post, current_body, mine: PostForm):
    """Both changed the same fields: show those side by side. Either answer also keeps every
    field only one side changed ("keep mine" and "take theirs" send the merged values)."""
    theirs = _form(team, post=current, body=current_body)
    keep_mine, take_theirs, conflicts = merge(mine, theirs)
    rows = [
        (mine[name].label.text, _shown_value(mine[name]), _shown_value(theirs[name]))
        for name in conflicts
    ]
    return _panel(
        team,
        current,
        current_body,
        form=theirs,
        status=409,
        conflict={
            "rows": rows,
            "keep_mine": list(keep_mine.items(multi=True)),
            "take_theirs": list(take_theirs.items(multi=True)),
        },
    )


def _shown_value(field) -> str:
    data = field.data
    if isinstance(data, list):
        return ", ".join(data)
    if field.name in ("owner", "reviewer"):
        labels = {choice.value: str(choice.label) for choice in field.choices}
        return labels.get(data or "", "")
    if field.name == "status":
        return str(STATUS_LABELS.get(data, data))
    return data or ""


@bp.post("/t/<team_id>/posts/<post_id>/move")
@team_member("editor")
def move(team_id: str, post_id: str):
    """Drop a post on a day: it keeps its local time. Answers the two day cells, re-rendered."""
    zone = viewer_zone()
    target = values.day(request.form.get("date"))
    version = values.count(request.form.get("version"))
    sent_due = request.form.get("due", "")
    seen_due = values.instant(sent_due) if sent_due else None
    if target is None:
        return error_page(
            422,
            _(
                "Choose a date between %(first)d and %(last)d.",
                first=values.FIRST_YEAR,
                last=values.LAST_YEAR,
            ),
        )
    if version is None or (sent_due and seen_due is None):
        return error_page(422, _("This page is out of date: reload it to edit the post."))
    at = seen_due.astimezone(zone).time() if seen_due else periods.DEFAULT_TIME
    due = periods.local_instant(target, at, zone)
    seen_owner = request.form.get("owner") or None
    if seen_owner and not g.team.member(seen_owner):
        seen_owner = None
    seen_status = request.form.get("status", "")
    if seen_status not in STATUS_LABELS:
        return error_page(422)
    if due == seen_due:  # the date it already has: nothing to move
        if wants_fragment():
            return "", 204
        return redirect(url_for("planner.show", team_id=team_id, post_id=post_id))
    try:
        moved = changes.move(
            g.team,
            post_id,
            version=version,
            seen_due=seen_due,
            seen_owner=seen_owner,
            seen_status=seen_status,
            due=due,
            zone=str(zone),
            actor=g.person.person_id,
            now=now(),
        )
    except PostConflict:
        if posts.load(team_id, post_id) is None:
            abort(404)
        flash(
            _("Someone changed that post meanwhile: the calendar now shows it as it is."), "error"
        )
        if wants_fragment():
            return "", 409, {"HX-Refresh": "true"}
        return redirect(url_for("planner.show", team_id=team_id, post_id=post_id))
    _remember_saved(moved)
    if not wants_fragment():
        flash(_("Post moved."), "success")
        return redirect(_calendar_url(team_id, moved))
    shown = periods.Month.parse(request.form.get("month", ""))
    if shown is None:  # dropped in the week view: it refreshes itself
        return "", 204, {"HX-Trigger": "calendar-changed"}
    from_day = periods.local_day(seen_due, zone) if seen_due else None
    changed = sorted({target, *([from_day] if from_day else [])})
    start, end = periods.bounds(changed[0], changed[-1] + timedelta(days=1), zone)
    filters = Filters.from_request(g.team)
    found, found_events = _with_shared(g.team, start, end, filters)
    return render(
        "planner/moved.html",
        "cells",
        **_view_context(
            g.team,
            filters,
            cells=changed,
            days=_by_day(found, zone),
            events=_events_by_day(found_events, zone),
            month=shown,
            was_idea=seen_due is None,
            moved=moved,
        ),
    )


@bp.post("/t/<team_id>/posts/<post_id>/review")
@team_member("editor")
def review(team_id: str, post_id: str):
    """The reviewer approves, or asks for changes with a comment."""
    team = g.team
    post, body = _loaded(team_id, post_id)
    decision, note = request.form.get("decision"), (request.form.get("comment") or "").strip()
    if post.status != "in_review":
        return error_page(409, _("This post is not waiting for a review any more."))
    if g.person.person_id != post.reviewer_id and g.role != "admin":
        return error_page(403, _("Only the reviewer or an admin can review this post."))
    if decision not in ("approve", "changes"):
        return error_page(422)
    if decision == "changes" and not note:
        message = _("Say what should change, so the author knows.")
        return _panel(team, post, body, status=422, review_error=message)
    if str(post.version) != request.form.get("version"):
        return error_page(409)
    status, kind = ("approved", "approved") if decision == "approve" else ("draft", "changes")
    try:
        changes.update(
            post,
            body,
            team,
            summary={"status": status},
            body_fields={},
            actor=g.person.person_id,
            now=now(),
            kind=kind,
            text=note[:COMMENT_LIMIT],
        )
    except changes.Refused as refused:
        return error_page(403, refused.message)
    except PostConflict:
        return error_page(409)
    flash(_("Approved.") if decision == "approve" else _("Changes requested."), "success")
    if not wants_fragment():
        return redirect(url_for("planner.show", team_id=team_id, post_id=post_id))
    panel, _status = _panel(team, post, body)
    return panel, 200, {"HX-Trigger": "calendar-changed"}


@bp.post("/t/<team_id>/posts/<post_id>/comments")
@team_member()
def add_comment(team_id: str, post_id: str):
    """Anyone in the team, viewers included, can comment."""
    post, body = _loaded(team_id, post_id)
    text = (request.form.get("text") or "").strip()
    refused = _comment_refusal(team_id, text)
    if refused:  # the form again, with what was written and why it was not saved
        status, message = refused
        return _panel(
            g.team,
            post,
            body,
            status=status,
            block="history",
            comment_text=text,
            comment_error=message,
        )
    try:
        moment = now()
        notes = record.for_comment(g.team, post, g.person.person_id, text, moment)
        posts.comment(post, actor=g.person.person_id, text=text, now=moment, notes=notes)
    except PostConflict:  # deleted for good since it was read
        abort(404)
    if not wants_fragment():
        return redirect(url_for("planner.show", team_id=team_id, post_id=post_id) + "#history")
    return _panel(g.team, post, body, block="history")


def _comment_refusal(team_id: str, text: str) -> tuple[int, str] | None:
    """Why a comment is not saved, as (status, message); None if it is."""
    if not text or len(text) > COMMENT_LIMIT:
        count = format_number(COMMENT_LIMIT)
        return 422, _("Write a comment of up to %(count)s characters.", count=count)
    key = f"{team_id}#{g.person.person_id}"
    limits = ((scope, key, allowed, window) for scope, allowed, window in history.COMMENT_LIMITS)
    if people.over_a_limit(limits, now()):
        return 429, _(
            "You are commenting very fast: wait a minute and try again (a person writes up to "
            "%(minute)d comments a minute and %(day)d a day in a team).",
            minute=history.COMMENT_LIMITS[0][1],
            day=history.COMMENT_LIMITS[-1][1],
        )
    return None


@bp.post("/t/<team_id>/posts/<post_id>/trash")
@team_member("editor")
def trash(team_id: str, post_id: str):
    post, body = _loaded(team_id, post_id)
    if post.deleted_at is None:
        try:
            changes.trash(post, body, g.team, actor=g.person.person_id, now=now())
        except PostConflict:  # changed (or trashed) meanwhile: as restoring answers
            return error_page(409)
    flash(
        _(
            "Moved to the trash. It stays there for %(days)d days.",
            days=posts.TRASH_KEPT_FOR.days,
        ),
        "success",
    )
    if not wants_fragment():
        return redirect(url_for("planner.calendar", team_id=team_id))
    panel, _status = _panel(g.team, post, body)
    return panel, 200, {"HX-Trigger": "calendar-changed"}


@bp.post("/t/<team_id>/posts/<post_id>/restore")
@team_member("editor")
def restore(team_id: str, post_id: str):
    post, body = _loaded(team_id, post_id)
    if post.deleted_at is not None:
        try:
            changes.restore(post, body, g.team, actor=g.person.person_id, now=now())
        except PostConflict:
            return error_page(409)
    flash(_("Restored."), "success")
    return go(url_for("planner.show", team_id=team_id, post_id=post_id))


@bp.get("/t/<team_id>/trash")
@team_member()
def trash_list(team_id: str):
    return render(
        "planner/trash.html",
        team=g.team,
        trashed=posts.trashed(team_id, now()),
        kept_days=posts.TRASH_KEPT_FOR.days,
        can_edit=RANKS[g.role] >= RANKS["editor"],
        zone=viewer_zone(),
    )


@bp.route("/t/<team_id>/posts/<post_id>/duplicate", methods=["GET", "POST"])
@team_member("editor")
def duplicate(team_id: str, post_id: str):
    """Copy a post to another day or channel (the copy starts as a draft)."""
    team = g.team
    post, body = _loaded(team_id, post_id)
    form = _form(team, post=post, body=body)
    if request.method == "POST":
        form = _form(team, request.form)
        form.title.data = form.title.data or post.title
        if form.validate():
            summary = {**form.summary(), "status": "draft" if form.summary()["due"] else "idea"}
            copy = posts.new_post(team_id, created_by=g.person.person_id, now=now(), **summary)
            try:
                changes.create(copy, team, now(), **form.body(), activity="duplicated")
            except changes.Refused as refused:
                form = _refused(form, refused)
            except PostConflict:
                form = _tags_changed(form)
            else:
                _remember_saved(copy)
                flash(_("Copy created."), "success")
                return go(url_for("planner.show", team_id=team_id, post_id=copy.post_id))
        return render("planner/duplicate.html", "panel", 422, team=team, post=post, form=form)
    return render("planner/duplicate.html", "panel", team=team, post=post, form=form)


# Channels ----------------------------------------------------------------------------------


@bp.post("/t/<team_id>/channels")
@team_member("admin")
def channels(team_id: str):
    team = g.team
    name = " ".join((request.form.get("name") or "").split())
    current = list(team.channels or [])
    if request.form.get("remove"):
        current = [channel for channel in current if channel != request.form["remove"]]
    elif not name or len(name) > teams.MAX_CHANNEL_NAME:
        return error_page(
            422,
            _("Name the channel in up to %(count)d characters.", count=teams.MAX_CHANNEL_NAME),
        )
    elif name.casefold() in {channel.casefold() for channel in current}:
        return error_page(422, _("The team has that channel already."))
    elif len(current) >= teams.MAX_CHANNELS:
        return error_page(
            422, _("A team has at most %(count)d channels.", count=teams.MAX_CHANNELS)
        )
    else:
        current.append(name)
    try:
        teams.set_channels(team, current)
    except NotFound:
        abort(404)
    flash(_("Channels saved."), "success")
    return go(url_for("teams.team_settings", team_id=team_id))


@bp.post("/t/<team_id>/tags")
@team_member("admin")
def tags(team_id: str):
    """Take tags off the team's list (the posts keep them), to make room for new ones."""
    chosen = set(request.form.getlist("remove_tag")) & set(g.team.tags or ())
    if not chosen:
        return error_page(422, _("Choose the tags to remove."))
    try:
        teams.forget_tags(g.team, chosen)
    except NotFound:
        abort(404)
    flash(_("Tags removed."), "success")
    return go(url_for("teams.team_settings", team_id=team_id))


def register(app) -> None:
    app.jinja_env.globals.update(
        board_macros=TemplateMacros("planner/_board.html"),
        channel_limits=CHANNEL_LIMITS,
        title_limits=TITLE_LIMITS,
        max_team_tags=teams.MAX_TEAM_TAGS,
        is_overdue=overdue,
        activity_sentence=history.activity_sentence,
        nudge_label=history.nudge_label,
        note_label=history.note_label,
        change_line=history.change_line,
        comment_html=history.comment_html,
    )
    # A path that does not explain a refused change itself (an email action, a new route)
    # still answers a clear 403, with nothing written.
    app.register_error_handler(changes.Refused, lambda refused: error_page(403, refused.message))
    app.register_blueprint(bp)
