"""The post form: every field validated on the server, with a message next to it."""

import hashlib
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import (
    Form,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app import values
from app.forms import checkboxes, no_control_characters, strip, valid_clock, valid_day
from app.i18n import STATUS_LABELS
from app.planner import periods
from app.planner.changes import OWN_PROFILES_ONLY
from app.store import profiles
from app.store.models import Member, Playbook, Post, PostBody, ProfileCopy, channel_names
from app.store.profiles import Profile
from app.store.teams import MAX_TEAM_TAGS

# DynamoDB items hold at most 400 KB; the body item keeps room for its keys and attributes.
MAX_BODY_BYTES = 350_000
MAX_TAGS, MAX_TAG_LENGTH = 20, 40
# Characters each channel shows (a warning while typing, never a block).
CHANNEL_LIMITS = {
    "X": 280,
    "Threads": 500,
    "LinkedIn": 3000,
    "Instagram": 2200,
    "TikTok": 2200,
    "Facebook": 63206,
}
TITLE_LIMITS = {"YouTube": 100}
# The fields an editor changes, in the order the base fingerprints are sent (see ``merge``).
EDITED_FIELDS = (
    "title",
    "copy",
    "channels",
    "owner",
    "day",
    "at",
    "status",
    "reviewer",
    "tags",
    "notes",
    "published_url",
    "checked",
    "profiles",
)
# Fields whose value is a list (checkboxes).
LIST_FIELDS = ("channels", "checked", "profiles")


def plain_line_breaks(value):
    """Browsers send a textarea's line breaks as CRLF: store them as the text had them."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def channel_warnings(channels, title: str, copy: str) -> list[tuple[str, int, int]]:
    """``(channel, length, limit)`` for every selected channel whose limit is exceeded."""
    over = []
    for channel in channels:
        if channel in CHANNEL_LIMITS and len(copy) > CHANNEL_LIMITS[channel]:
            over.append((channel, len(copy), CHANNEL_LIMITS[channel]))
        if channel in TITLE_LIMITS and len(title) > TITLE_LIMITS[channel]:
            over.append((channel, len(title), TITLE_LIMITS[channel]))
    return over


def web_address(form, field):
    """A published link: a web address (the partner side's too, app.sharing)."""
    if not values.web_address(field.data or ""):
        raise ValidationError(_l("Enter a web address starting with https://"))


class PostForm(Form):
    title = StringField(
        _l("Title"),
        [
            DataRequired(_l("Give the post a title.")),
            Length(max=200, message=_l("Keep the title under 200 characters.")),
            no_control_characters,
        ],
        filters=[strip],
    )
    copy = TextAreaField(_l("Copy"), [Optional()], filters=[plain_line_breaks])
    channels = checkboxes(_l("Channels"), validate_choice=False)
    # The owner's own profiles (issue 12): ids of their person item's ``profiles``.
    profiles = checkboxes(_l("The owner's own profiles"), validate_choice=False)
    owner = SelectField(_l("Owner"), validate_choice=False)
    day = StringField(
        _l("Date"), [Optional(), valid_day(_l("Enter a date like 2026-12-05."))], filters=[strip]
    )
    # No Optional(): it would skip validate_at, and an emptied time would silently drop the date.
    at = StringField(_l("Time"), [valid_clock(_l("Enter a time like 09:30."))], filters=[strip])
    status = SelectField(_l("Status"), default="draft")
    reviewer = SelectField(_l("Reviewer"), validate_choice=False)
    tags = StringField(_l("Tags"), [Optional()], filters=[strip])
    notes = TextAreaField(_l("Notes"), [Optional()], filters=[plain_line_breaks])
    published_url = StringField(_l("Published link"), [Optional()], filters=[strip])
    # The playbook's checklist items of the post's channels that the writer ticked.
    checked = SelectMultipleField(_l("Checklist"), validate_choice=False)
    version = HiddenField()
    # Fingerprints of the values the editor started from, for the three-way merge.
    base = HiddenField()

    def __init__(
        self,
        formdata=None,
        *,
        channel_choices,
        members: list[Member],
        zone: str,
        current: Post | None = None,
        team_tags=(),
        playbook: Playbook | None = None,
        profiles_of: Callable[[str], list[Profile]] = lambda _person_id: [],
        **kwargs,
    ):
        super().__init__(formdata, **kwargs)
        self._offer_profiles(current, profiles_of)
        # The checklists of the channels chosen (sent, or stored), a profile's by its network's
        # channel name: a tick counts only there.
        chosen = self.channel_names()
        self.checklist_groups = playbook.checklist(chosen) if playbook else []
        self.zone = ZoneInfo(zone)
        self.team_tags = set(team_tags or ())
        self.channels.choices = [SelectChoice(channel, channel) for channel in channel_choices]
        # Viewers change no post: they neither own nor review one. A post keeps the owner and
        # reviewer it has (someone demoted later), so saving it unchanged changes nothing.
        kept = {current.owner_id, current.reviewer_id} if current is not None else set()
        nobody = [SelectChoice("", _l("Nobody yet"))]
        can_edit = [m for m in members if m.role in ("admin", "editor") or m.person_id in kept]
        self.owner.choices = nobody + [SelectChoice(m.person_id, m.name) for m in can_edit]
        self.reviewer.choices = nobody + [SelectChoice(m.person_id, m.name) for m in can_edit]
        self._current = current
        self.status.choices = [SelectChoice(value, label) for value, label in STATUS_LABELS.items()]
        self._due: datetime | None = None

    def _offer_profiles(self, current: Post | None, profiles_of) -> None:
        """The owner's profiles as choices ("LinkedIn · giulia-rossi"), with the copies the
        post keeps of theirs (one they removed since stays on the post until unticked)."""
        owner = self.owner.data or ""
        offered = {}
        if owner:
            for profile in profiles_of(owner):
                offered[profile.profile_id] = profiles.copy_of(owner, profile)
        for kept in (current.profiles or []) if current is not None else []:
            if kept.person == owner:
                offered.setdefault(kept.id, kept)
        self.offered_profiles = offered
        self.profiles.choices = [SelectChoice(pid, str(copy)) for pid, copy in offered.items()]

    def chosen_profiles(self) -> list[ProfileCopy]:
        return [
            self.offered_profiles[pid]
            for pid in self.profiles.data or []
            if pid in self.offered_profiles
        ]

    def channel_names(self) -> list[str]:
        return channel_names(self.channels.data, self.chosen_profiles())

    @classmethod
    def for_post(cls, post: Post, body: PostBody, **kwargs) -> "PostForm":
        zone = ZoneInfo(kwargs["zone"])
        local = post.due.astimezone(zone) if post.due else None
        form = cls(
            None,
            title=post.title,
            copy=body.copy,
            channels=list(post.channels or []),
            profiles=[copy.id for copy in post.profiles or []],
            owner=post.owner_id or "",
            day=local.date().isoformat() if local else "",
            at=local.strftime("%H:%M") if local else "",
            status=post.status,
            reviewer=post.reviewer_id or "",
            tags=", ".join(sorted(post.tags or [])),
            notes=body.notes,
            published_url=body.published_url or "",
            checked=list(body.checked or []),
            version=str(post.version or ""),
            current=post,
            **kwargs,
        )
        form.base.data = " ".join(form.fingerprint(name) for name in EDITED_FIELDS)
        return form

    # Field checks ----------------------------------------------------------------------------

    def validate_channels(self, field):
        known = {choice.value for choice in self.channels.choices}
        unknown = [channel for channel in field.data or [] if channel not in known]
        if unknown:
            raise ValidationError(_l("Unknown channel: %(names)s.", names=", ".join(unknown)))

    def validate_profiles(self, field):
        if any(pid not in self.offered_profiles for pid in field.data or []):
            raise ValidationError(OWN_PROFILES_ONLY)

    def validate_owner(self, field):
        if field.data and field.data not in {choice.value for choice in self.owner.choices}:
            raise ValidationError(_l("Choose an owner from this team."))
        if not field.data and self.day.data:
            raise ValidationError(_l("A post with a date needs an owner."))

    def validate_at(self, field):
        if field.data and not self.day.data:
            raise ValidationError(_l("Pick a date for this time."))
        if not field.data:
            if self.day.data:  # emptying only the time must not turn the post into an idea
                raise ValidationError(_l("Pick a time for this date."))
            return
        day, at = values.day(self.day.data), values.clock(field.data)
        if day is not None and at is not None:
            self._due = periods.local_instant(day, at, self.zone)

    def validate_status(self, field):
        if field.data not in STATUS_LABELS:
            raise ValidationError(_l("Choose a status from the list."))

    def validate_reviewer(self, field):
        if field.data and field.data not in {c.value for c in self.reviewer.choices}:
            raise ValidationError(_l("Choose a reviewer who can edit in this team."))
        if not field.data and self.status.data == "in_review":
            raise ValidationError(_l("Pick who reviews the post."))

    def validate_copy(self, field):
        texts = [field.data or "", self.notes.data or "", *self.ticked()]
        size = sum(len(text.encode()) for text in texts)
        if size > MAX_BODY_BYTES:
            raise ValidationError(
                _l(
                    "Copy and notes are too long to store (%(size)d KB; at most %(limit)d KB).",
                    size=size // 1000,
                    limit=MAX_BODY_BYTES // 1000,
                )
            )

    def validate_tags(self, field):
        tags = self.tag_set()
        if len(tags) > MAX_TAGS or any(len(tag) > MAX_TAG_LENGTH for tag in tags):
            raise ValidationError(
                _l(
                    "Use at most %(count)d tags of %(length)d characters.",
                    count=MAX_TAGS,
                    length=MAX_TAG_LENGTH,
                )
            )
        # As the store counts them: tags the post already had are not new.
        new = tags - self.team_tags - set(self._current.tags or () if self._current else ())
        if new and len(self.team_tags) + len(new) > MAX_TEAM_TAGS:
            raise ValidationError(
                _l(
                    "A team keeps at most %(limit)d tags and this one has %(count)d: reuse "
                    "one, or ask an admin to remove some in the team's settings.",
                    limit=MAX_TEAM_TAGS,
                    count=len(self.team_tags),
                )
            )

    def validate_version(self, field):
        if field.data and values.count(field.data) is None:
            raise ValidationError(_l("This page is out of date: reload it to edit the post."))

    def validate_published_url(self, field):
        if field.data:
            web_address(self, field)

    # Results ---------------------------------------------------------------------------------

    def ticked(self) -> list[str]:
        """The ticked checklist items of the chosen channels, in the checklists' order."""
        sent = set(self.checked.data or [])
        shown = (item for _channel, items in self.checklist_groups for item in items)
        return list(dict.fromkeys(item for item in shown if item in sent))

    def tag_set(self) -> set[str]:
        return {tag.strip() for tag in (self.tags.data or "").split(",") if tag.strip()}

    def summary(self) -> dict:
        """The validated summary fields, as the store's post attributes.

        A post takes the editor's zone only when its time changes: the same instant shown in
        another zone is not a change.
        """
        current = self._current
        keeps_zone = current is not None and current.zone and current.due == self._due
        return {
            "title": self.title.data,
            "channels": list(self.channels.data or []),
            "profiles": self.chosen_profiles() or None,
            "owner_id": self.owner.data or None,
            "due": self._due,
            "zone": current.zone if keeps_zone else str(self.zone),
            # A post that gets a date is no longer just an idea.
            "status": "draft" if self._due and self.status.data == "idea" else self.status.data,
            "tags": self.tag_set() or None,
            "reviewer_id": self.reviewer.data or None,
        }

    def body(self) -> dict:
        return {
            "copy": self.copy.data or "",
            "notes": self.notes.data or "",
            "published_url": self.published_url.data or None,
            "checked": self.ticked() or None,
        }

    def expected_version(self) -> int | None:
        return values.count(self.version.data)

    # Merging ---------------------------------------------------------------------------------

    def comparable(self, name: str) -> str:
        """A field's value as the merge compares it (channels and tags in any order)."""
        if name in LIST_FIELDS:
            return "\n".join(sorted(self[name].data or []))
        if name == "tags":
            return ", ".join(sorted(self.tag_set()))
        return self[name].data or ""

    def fingerprint(self, name: str) -> str:
        return hashlib.sha256(self.comparable(name).encode()).hexdigest()[:12]

    def submitted(self, name: str) -> list[str]:
        """A field's value as form data (one entry per value)."""
        data = self[name].data
        return list(data or []) if name in LIST_FIELDS else [data or ""]


def merge(mine: PostForm, theirs: PostForm) -> tuple[MultiDict, MultiDict, list[str]]:
    """Three-way merge of a stale edit with the saved post, against what the editor started.

    ``mine.base`` holds fingerprints of the values the editor's page showed. A field only one
    side changed takes that side's value; a field both changed to different values is a
    conflict. Answers the form data that keeps mine in the conflicts, the one that takes
    theirs, and the conflicting field names. Without a base (a page from before merging) every
    field that differs is a conflict, as it has to be.
    """
    base = dict(zip(EDITED_FIELDS, (mine.base.data or "").split(), strict=False))
    keep_mine, take_theirs, conflicts = MultiDict(), MultiDict(), []
    for name in EDITED_FIELDS:
        started = base.get(name)
        i_changed = started != mine.fingerprint(name)
        they_changed = started != theirs.fingerprint(name)
        differ = mine.comparable(name) != theirs.comparable(name)
        if i_changed and they_changed and differ:
            conflicts.append(name)
        chosen = mine if i_changed and not they_changed else theirs
        for value in chosen.submitted(name):
            take_theirs.add(name, value)
        for value in (mine if name in conflicts else chosen).submitted(name):
            keep_mine.add(name, value)
    for merged in (keep_mine, take_theirs):
        merged["version"] = theirs.version.data
        merged["base"] = theirs.base.data
    return keep_mine, take_theirs, conflicts
