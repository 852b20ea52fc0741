"""CSV export of a calendar view, and CSV import: upload, preview, confirm in batches."""

import re
import unicodedata
from contextlib import suppress
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, g, make_response, request, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from pynamodb.exceptions import PynamoDBException
from werkzeug.exceptions import RequestEntityTooLarge

from app import values
from app.auth import team_member
from app.errors import error_page
from app.planner import changes, periods
from app.planner.filters import Filters, today, viewer_zone
from app.spreadsheets import csvfile, rows
from app.spreadsheets.forms import UploadForm
from app.store import imports, keys, posts, teams
from app.web import go, now, render, wants_fragment

bp = Blueprint("spreadsheets", __name__)

MAX_BYTES = 2_000_000  # under the app's request limit (2 MiB), with room for the form around it
MAX_EXPORT_DAYS = 366
# Lambda answers at most 6 MB; a period whose posts' texts pass this asks for a shorter one.
MAX_EXPORT_BYTES = 5_000_000
PREVIEW_ROWS = 200  # rows shown besides those with errors, which are all shown


# Export ------------------------------------------------------------------------------------


def export_url(team, filters: Filters, *, month=None, first=None, last=None, dialect=None):
    """The CSV of a calendar view's period with its filters: a month, a week (from ``first``),
    or the agenda's days (``first`` to ``last``)."""
    if month:
        first, last = month.first, month.after_last - timedelta(days=1)
    elif first and not last:
        last = first + timedelta(days=6)
    period = {"from": first.isoformat(), "to": last.isoformat()} if first and last else {}
    extra = {"dialect": dialect} if dialect else {}
    return url_for("spreadsheets.export", team_id=team.team_id, **period, **filters.args(), **extra)


@bp.get("/t/<team_id>/export.csv")
@team_member()
def export(team_id: str):
    """The period's dated posts that pass the filters, every field, in the viewer's zone."""
    team, zone, filters = g.team, viewer_zone(), Filters.from_request(g.team)
    month = periods.Month.containing(today())
    first = _export_day("from", month.first)
    last = _export_day("to", month.after_last - timedelta(days=1))
    if first is None or last is None or not 0 <= (last - first).days < MAX_EXPORT_DAYS:
        return error_page(
            422,
            _(
                "Choose a period of up to %(days)d days, its dates like 2026-12-05.",
                days=MAX_EXPORT_DAYS,
            ),
        )
    dialect = request.args.get("dialect", "standard")
    if dialect not in csvfile.DIALECTS:
        dialect = "standard"
    found = sorted(
        (
            post
            for post in posts.due_between(
                team_id, *periods.bounds(first, last + timedelta(1), zone)
            )
            if filters.keep(post)
        ),
        key=lambda post: (post.due, post.post_id),
    )
    bodies = imports.bodies(team_id, [post.post_id for post in found])
    data = csvfile.write(
        [rows.export_row(post, bodies.get(post.post_id), team, zone, dialect) for post in found],
        dialect,
    )
    if len(data) > MAX_EXPORT_BYTES:
        return error_page(
            413, _("These posts are too many to export at once: choose a shorter period.")
        )
    response = make_response(data)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    name = f"cadenza-{_slug(team.name)}-{first.isoformat()}-{last.isoformat()}.csv"
    response.headers.set("Content-Disposition", "attachment", filename=name)
    return response


def _export_day(name: str, default: date) -> date | None:
    sent = request.args.get(name)
    return values.day(sent) if sent else default


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40] or "team"


# Import ------------------------------------------------------------------------------------


@bp.route("/t/<team_id>/import", methods=["GET", "POST"])
@team_member("editor")
def upload(team_id: str):
    """The upload form; a good file becomes an import waiting for confirmation (its preview)."""
    if request.method == "GET":
        return _upload_page(UploadForm())
    try:
        sent = request.files.get("file")
    except RequestEntityTooLarge:
        return _upload_page(UploadForm(), _too_large(), 413)
    data = sent.read(MAX_BYTES + 1) if sent else b""
    if not sent or not sent.filename:
        return _upload_page(UploadForm(), _("Choose a CSV file."), 422)
    if len(data) > MAX_BYTES:
        return _upload_page(UploadForm(), _too_large(), 413)
    try:
        sheet = csvfile.read(data)
    except csvfile.FileProblem as problem:
        return _upload_page(UploadForm(), str(problem.message), 422)
    if not sheet.rows:
        return _upload_page(UploadForm(), _("This file has column names but no rows."), 422)
    moment, actor = now(), g.person.person_id
    checker = rows.Checker(g.team, actor, g.person.zone, moment)
    checked = [checker.check(line, raw) for line, raw in sheet.rows]
    valid = [row for row in checked if row["state"] == "new"]
    # One BatchGet for the posts the rows would be, and those their id column names.
    wanted = {row["post_id"] for row in valid} | {r["given_id"] for r in valid if r["given_id"]}
    existing = imports.existing_posts(team_id, wanted)
    for row in valid:
        if row["post_id"] in existing or row["given_id"] in existing:
            row["state"] = "there"
    counts = {state: sum(row["state"] == state for row in checked) for state in rows.STATES}
    header = imports.new_import(
        team_id,
        created_by=actor,
        now=moment,
        file_name=(sent.filename or "")[:200],
        zone=g.person.zone,
        delimiter=sheet.delimiter,
        columns=[name[:80] for name in sheet.columns[: rows.MAX_COLUMNS]],
        ignored=[name[:80] for name in sheet.ignored[: rows.MAX_COLUMNS]],
        rows_total=len(checked),
        rows_new=counts["new"],
        rows_there=counts["there"],
        rows_error=counts["error"],
    )
    imports.save(header, rows.chunks(checked))
    return go(url_for("spreadsheets.show", team_id=team_id, import_id=header.import_id))


@bp.errorhandler(RequestEntityTooLarge)
def file_too_large(error):
    """A body over the app's limit is refused while the CSRF check reads it, before the view."""
    return error_page(413, _too_large())


def _too_large() -> str:
    return _(
        "This file is larger than %(size)s MB: split it into smaller files.",
        size=format_number(MAX_BYTES // 1_000_000),
    )


def _upload_page(form: UploadForm, error: str | None = None, status: int = 200):
    if error:
        form.file.errors = [error]
    return render(
        "spreadsheets/upload.html",
        "upload",
        status,
        team=g.team,
        form=form,
        max_rows=csvfile.MAX_ROWS,
        number=format_number,
        export=export_url(g.team, Filters(), dialect="excel-it"),
    )


def _mine(team_id: str, import_id: str, with_rows: bool):
    """The import (and its rows), if it is the signed-in person's: only its uploader sees
    what it holds and confirms it, as the rows were checked for their role."""
    found = (imports.load_with_rows if with_rows else imports.load)(team_id, import_id, now())
    header = found[0] if with_rows and found else found
    if header is None or header.created_by != g.person.person_id:
        abort(404)
    return found


@bp.get("/t/<team_id>/import/<import_id>")
@team_member("editor")
def show(team_id: str, import_id: str):
    """The preview (rows and their errors, the Confirm button), the progress, or the result."""
    header, found = _mine(team_id, import_id, with_rows=True)
    return _progress(header, found)


def _progress(header, found: list[dict] | None = None, busy: bool = False):
    errors = [row for row in found or [] if row["state"] == "error"]
    others = [row for row in found or [] if row["state"] != "error"]
    for row in others[:PREVIEW_ROWS]:
        row["when"] = datetime.fromisoformat(row["due"]) if row["due"] else None
    zone = viewer_zone()
    first = rows.first_day(others, zone)
    return render(
        "spreadsheets/import.html",
        "progress",
        409 if busy else 200,
        team=g.team,
        busy=busy,
        header=header,
        errors=errors,
        shown=others[:PREVIEW_ROWS],
        more=max(0, len(others) - PREVIEW_ROWS),
        members={member.person_id: member for member in g.team.member_list()},
        zone=zone,
        number=format_number,
        calendar=url_for(
            "planner.month", team_id=header.team_id, month=str(periods.Month.containing(first))
        )
        if first
        else url_for("planner.calendar", team_id=header.team_id),
    )


@bp.post("/t/<team_id>/import/<import_id>")
@team_member("editor")
def run(team_id: str, import_id: str):
    """Confirm, then continue: each request imports the next batch of up to 100 rows."""
    header = _mine(team_id, import_id, with_rows=False)
    moment, holder, busy = now(), keys.new_id(), False
    try:
        number = imports.claim(header, moment, holder)
    except imports.ImportBusy:
        # Another tab or person is writing this batch (or the import is done): its
        # progress, with a 409 while it is not done, which htmx swaps like a 200.
        busy = header.state != "done"
    else:
        try:
            created, found, left_out, handled = _import_chunk(header, number, moment)
            imports.finish_chunk(
                header,
                number,
                holder,
                created=created,
                found=found,
                left_out=left_out,
                rows=handled,
            )
        except imports.ImportBusy:  # its lease ran out meanwhile, and another took over
            busy = True
        except posts.PostConflict:  # a post's write met another at that moment: try again
            _release(header, number, holder)
            return error_page(409)
        except Exception:
            _release(header, number, holder)
            raise
    if not wants_fragment() and not busy:
        return go(url_for("spreadsheets.show", team_id=team_id, import_id=import_id))
    header, found_rows = _mine(team_id, import_id, with_rows=True)
    return _progress(header, found_rows if header.state != "importing" else None, busy=busy)


def _release(header, number: int, holder: str) -> None:
    """Give the batch back, so that trying again need not wait for its lease to expire."""
    with suppress(PynamoDBException, imports.ImportBusy):  # then the lease expires
        imports.release(header, number, holder)


def _import_chunk(header, number: int, moment) -> tuple[int, int, int, int]:
    """Write a chunk's new rows as posts, with their nudges: (written, found there, left out,
    rows). A row the team no longer allows (checked at upload, the team changed since) is
    left out with its reason, kept in its chunk for the result page."""
    tally = {"created": 0, "found": 0, "left out": 0}
    chunk = imports.chunk(header.team_id, header.import_id, number)
    new = [index for index, row in enumerate(chunk) if row["state"] == "new"]
    for index in new:
        outcome, problem = _import_row(header, chunk[index], moment)
        tally[outcome] += 1
        if problem:
            chunk[index] = rows.left_out(chunk[index], str(problem))
    if tally["left out"]:
        imports.save_chunk(header, number, chunk)
    return tally["created"], tally["found"], tally["left out"], len(new)


def _import_row(header, row: dict, moment) -> tuple[str, str | None]:
    """What became of one row, and why it was left out if it was."""
    team = g.team
    post = rows.as_post(team, row, header.created_by, moment)
    post.import_id = header.import_id
    body = {"copy": row["copy"], "notes": row["notes"], "published_url": row["published_url"]}
    if problem := rows.left_out_now(team, row):
        return "left out", problem
    try:
        written = changes.import_post(post, team, moment, **body)
    except changes.Refused as refused:  # the uploader's role changed since the upload
        return "left out", refused.message
    if written:
        team.tags = set(team.tags or ()) | set(post.tags or ())  # the next row's known tags
        return "created", None
    there = imports.existing_posts(team.team_id, [post.post_id])
    if post.post_id in there:  # this import wrote it before it was cut off, or another did
        return ("created" if there[post.post_id] == header.import_id else "found"), None
    # Refused for another reason: the team's tags changed meanwhile, or a write met another.
    team.tags = teams.team(team.team_id).tags
    if problem := rows.left_out_now(team, row):
        return "left out", problem
    raise posts.PostConflict("the post was not written")
