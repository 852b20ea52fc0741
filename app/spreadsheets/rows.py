"""Posts as spreadsheet rows and back: what export writes, and every check an imported row
passes before it becomes a post (as the post form's, with the row's number in the message).

An imported row's post id is made from what the post is (``imp-`` and 16 hex digits of the
SHA-256 of its due instant, title, owner and channels), so importing the same file twice finds
its posts in place and writes nothing; a row whose ``id`` column names a post of the team (a
file Cadenza exported) is that post, already there: an import never changes a post.
"""

import hashlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _

from app import values
from app.i18n import LANGUAGES, STATUS_LABELS, valid_zone
from app.planner import changes, periods
from app.planner.forms import MAX_BODY_BYTES, MAX_TAG_LENGTH, MAX_TAGS
from app.spreadsheets import csvfile
from app.store import imports, posts
from app.store.models import Post, PostBody, Team
from app.store.teams import MAX_TEAM_TAGS

MAX_TITLE = 200
# A chunk item holds its rows' JSON: one row must leave room for the item's keys in 400 KB.
MAX_ROW_JSON = 380_000
CHUNK_ROWS = 100
MAX_COLUMNS = 50  # column names an import's header keeps (80 characters each)
# A row's state in the preview: a post to write, one already there, or an error in words.
STATES = ("new", "there", "error")
# A past post comes in as history, never as a deadline that would be nudged as overdue.
PAST_STATUSES = ("published", "skipped")


# Export ------------------------------------------------------------------------------------


def export_row(post: Post, body: PostBody | None, team: Team, zone: ZoneInfo, dialect: str):
    """A dated post as a row, its date and time in the viewer's zone."""
    local = post.due.astimezone(zone)
    owner = team.member(post.owner_id) if post.owner_id else None
    planned_by = (
        f"schedule {post.schedule_id}"
        if post.schedule_id
        else f"event {post.event_id}"
        if post.event_id
        else ""
    )
    return {
        "id": post.post_id,
        "date": csvfile.date_text(local.date(), dialect),
        "time": local.strftime("%H:%M"),
        "zone": str(zone),
        "title": post.title,
        "channels": " | ".join(post.channels or []),
        "owner_email": owner.email if owner else "",
        "owner": owner.name if owner else "",
        "status": post.status,
        "tags": ", ".join(sorted(post.tags or ())),
        "copy": body.copy if body else "",
        "notes": body.notes if body else "",
        "published_link": (body.published_url or "") if body else "",
        "planned_by": planned_by,
    }


# Import ------------------------------------------------------------------------------------


def _status_names() -> dict[str, str]:
    """Every spelling of a status a file may use: its code, and its label in each language."""
    names = {}
    for code, label in STATUS_LABELS.items():
        names[code] = names[code.replace("_", " ")] = code
        for language in LANGUAGES:
            with force_locale(language):
                names[str(label).casefold()] = code
    return names


def _split(text: str) -> list[str]:
    separator = "|" if "|" in text else ","
    return [part.strip() for part in text.split(separator) if part.strip()]


def _title_problem(title: str) -> str | None:
    if not title:
        return _("Give the post a title.")
    if len(title) > MAX_TITLE:
        return _("Keep the title under 200 characters.")
    if any(ord(char) < 32 for char in title):
        return _("The title has a line break: keep it on one line.")
    return None


def team_tags_full() -> str:
    return _(
        "A team keeps at most %(limit)d tags: reuse the team's tags, or ask an "
        "admin to remove some in the team's settings.",
        limit=MAX_TEAM_TAGS,
    )


def left_out_now(team: Team, row: dict) -> str | None:
    """Why a row checked at upload cannot be written as its import is confirmed: the team
    changed in between (its owner left, its tags filled up). None if it still can."""
    if row["owner_id"] and team.member(row["owner_id"]) is None:
        return _("The post's owner is no longer in the team.")
    if len(set(team.tags or ()) | set(row["tags"])) > MAX_TEAM_TAGS:
        return team_tags_full()
    return None


def left_out(row: dict, problem: str) -> dict:
    """A row confirmed but not written, as its chunk keeps it: only what the result page
    lists, so that its reason never makes the chunk larger than the row made it."""
    return {
        "line": row["line"],
        "title": row["title"],
        "post_id": row["post_id"],
        "errors": [problem],
        "state": "error",
    }


class Checker:
    """Checks a file's rows for a team and its uploader, one after the other (a duplicate
    row and the team's tags depend on the rows before)."""

    def __init__(self, team: Team, actor: str, zone: str, now: datetime):
        self.team, self.actor, self.zone, self.now = team, actor, zone, now
        members = team.member_list()
        self.by_email = {member.email.casefold(): member for member in members}
        self.by_name = {" ".join(member.name.casefold().split()): member for member in members}
        self.channels = {channel.casefold(): channel for channel in team.channels or []}
        self.statuses = _status_names()
        self.tags = set(team.tags or ())
        self.seen: dict[str, int] = {}

    def check(self, line: int, raw: dict[str, str]) -> dict:
        """The row as the chunk keeps it: its post's fields, or its errors in words."""
        errors = []
        title = raw.get("title", "").strip()
        if problem := _title_problem(title):
            errors.append(problem)
        zone = raw.get("zone", "").strip() or self.zone
        if not valid_zone(zone):
            errors.append(_("Unknown time zone: %(zone)s.", zone=zone))
            zone = self.zone
        due = self._due(raw, ZoneInfo(zone), errors)
        owner = self._owner(raw, due, errors)
        channels = self._channels(raw.get("channels", ""), errors)
        status = self._status(raw.get("status", ""), due, errors)
        tags = self._tags(raw.get("tags", ""), errors)
        copy, notes = (raw.get(name, "").replace("\r\n", "\n") for name in ("copy", "notes"))
        if len(copy.encode()) + len(notes.encode()) > MAX_BODY_BYTES:
            errors.append(
                _(
                    "Copy and notes are too long to store (%(size)d KB; at most %(limit)d KB).",
                    size=(len(copy.encode()) + len(notes.encode())) // 1000,
                    limit=MAX_BODY_BYTES // 1000,
                )
            )
        link = raw.get("published_link", "").strip()
        if link and not values.web_address(link):
            errors.append(_("Enter a web address starting with https://"))
        row = {
            "line": line,
            "title": title,
            "due": due.isoformat() if due else None,
            "zone": zone,
            "owner_id": owner,
            "channels": channels,
            "status": status,
            "tags": sorted(tags),
            "copy": copy,
            "notes": notes,
            "published_url": link or None,
            "given_id": raw.get("id", "").strip()[:64],
        }
        if not errors:
            errors.extend(self._as_a_post(row))
        row["post_id"] = post_id(row)
        if not errors and row["post_id"] in self.seen:
            errors.append(_("The same post as row %(line)d.", line=self.seen[row["post_id"]]))
        if not errors:
            self.seen[row["post_id"]] = line
            self.tags |= tags
        row["errors"] = errors
        row["state"] = "error" if errors else "new"
        if json_bytes(row) > MAX_ROW_JSON:
            row.update(copy="", notes="", state="error")
            row["errors"] = [_("This row is too large to import: shorten its copy or notes.")]
        return row

    def _due(self, raw: dict, zone: ZoneInfo, errors: list) -> datetime | None:
        day_text, time_text = raw.get("date", "").strip(), raw.get("time", "").strip()
        day = csvfile.day(day_text) if day_text else None
        at = csvfile.clock(time_text) if time_text else periods.DEFAULT_TIME
        if day_text and day is None:
            errors.append(
                _(
                    "%(value)s is not a date: write it like 05/12/2026 or 2026-12-05.",
                    value=day_text,
                )
            )
        if time_text and at is None:
            errors.append(_("%(value)s is not a time: write it like 09:30.", value=time_text))
        if time_text and not day_text:
            errors.append(_("Pick a date for this time."))
        return periods.local_instant(day, at, zone) if day and at else None

    def _owner(self, raw: dict, due: datetime | None, errors: list) -> str | None:
        email = raw.get("owner_email", "").strip()
        name = " ".join(raw.get("owner", "").split())
        if not email and not name:
            # As a dated idea dragged onto a day: the person who plans it owns it.
            return self.actor if due else None
        if not email and "@" in name:  # an address in the owner column
            email = name
        member = self.by_email.get(email.casefold()) if email else self.by_name.get(name.casefold())
        if member is None:
            errors.append(
                _(
                    "Unknown owner: %(owner)s (write a team member's email or name).",
                    owner=email or name,
                )
            )
            return None
        if member.role not in changes.EDITING_ROLES:
            errors.append(_("%(name)s is a viewer and cannot own posts.", name=member.name))
            return None
        return member.person_id

    def _channels(self, text: str, errors: list) -> list[str]:
        whole = self.channels.get(text.strip().casefold())
        if whole:  # a channel whose name has a comma
            return [whole]
        found, unknown = [], []
        for name in _split(text):
            channel = self.channels.get(name.casefold())
            (found if channel else unknown).append(channel or name)
        if unknown:
            errors.append(_("Unknown channel: %(names)s.", names=", ".join(unknown)))
        return list(dict.fromkeys(found))

    def _status(self, text: str, due: datetime | None, errors: list) -> str:
        status = self.statuses.get(" ".join(text.casefold().split())) if text.strip() else None
        if text.strip() and status is None:
            errors.append(_("Unknown status: %(status)s.", status=text.strip()))
        status = status or ("draft" if due else "idea")
        if due and status == "idea":  # a post that has a date is no longer just an idea
            status = "draft"
        if status == "in_review":
            errors.append(
                _("A post in review needs its reviewer: import it as a draft and ask in Cadenza.")
            )
        elif due and due < self.now and status not in PAST_STATUSES:
            errors.append(
                _(
                    "This date has passed: import it as published or skipped, or give it a "
                    "date to come."
                )
            )
        return status

    def _tags(self, text: str, errors: list) -> set[str]:
        tags = {tag.lstrip("#").strip() for tag in _split(text)} - {""}
        if len(tags) > MAX_TAGS or any(len(tag) > MAX_TAG_LENGTH for tag in tags):
            errors.append(
                _(
                    "Use at most %(count)d tags of %(length)d characters.",
                    count=MAX_TAGS,
                    length=MAX_TAG_LENGTH,
                )
            )
        elif len(self.tags | tags) > MAX_TEAM_TAGS:
            errors.append(team_tags_full())
        return tags

    def _as_a_post(self, row: dict) -> list[str]:
        """What the status rule says of the uploader creating this post."""
        refused = changes.refusal(
            self.team, self.actor, None, as_post(self.team, row, self.actor, self.now)
        )
        return [str(refused.message)] if refused else []


def json_bytes(row: dict) -> int:
    """What a row takes in its chunk item."""
    return len(imports.encode([row]).encode())


def post_id(row: dict) -> str:
    """The post an imported row is: the same row, imported again, is the same post."""
    identity = "|".join(
        [row["due"] or "", row["title"], row["owner_id"] or "", ",".join(sorted(row["channels"]))]
    )
    return "imp-" + hashlib.sha256(identity.encode()).hexdigest()[:16]


def as_post(team: Team, row: dict, actor: str, now: datetime) -> Post:
    return posts.new_post(
        team.team_id,
        post_id=row.get("post_id"),
        title=row["title"],
        zone=row["zone"],
        created_by=actor,
        now=now,
        due=datetime.fromisoformat(row["due"]) if row["due"] else None,
        owner_id=row["owner_id"],
        channels=row["channels"],
        status=row["status"],
        tags=row["tags"],
    )


def chunks(rows: list[dict]) -> list[list[dict]]:
    """Rows in chunks of up to CHUNK_ROWS (2,000 rows: 20), each within one item's size."""
    found, current, size = [], [], 0
    for row in rows:
        row_size = json_bytes(row)
        if current and (len(current) == CHUNK_ROWS or size + row_size > MAX_ROW_JSON):
            found.append(current)
            current, size = [], 0
        current.append(row)
        size += row_size
    if current:
        found.append(current)
    return found


def first_day(rows: list[dict], zone: ZoneInfo) -> date | None:
    """The first local day of the imported posts (where the calendar opens afterwards)."""
    days = [
        datetime.fromisoformat(row["due"]).astimezone(zone).date() for row in rows if row["due"]
    ]
    return min(days) if days else None
