"""The share kit form, and the forms a person takes a kit or passes with."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import Form, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app import values
from app.forms import checkboxes, no_control_characters, strip, valid_clock, valid_day
from app.planner.forms import plain_line_breaks
from app.planner.periods import local_instant, local_midnight
from app.profiles.forms import network_labels
from app.store import kits
from app.store.models import PROFILE_NETWORKS, Kit, Member
from app.store.profiles import Profile

KIT_ID = re.compile(r"[0-9a-z]{16}")  # as keys.new_id makes them
DAY_EXAMPLE = _l("Enter a date like 2026-12-05.")
# The networks a kit suggests copy for, beside the general suggestion ("any"): a blog and
# other networks take the general one.
SUGGESTED_NETWORKS = [network for network, name in PROFILE_NETWORKS.items() if name]


def _text(label, limit: int, message):
    return TextAreaField(
        label,
        [Length(max=limit, message=message)],
        filters=[plain_line_breaks],
    )


class KitForm(Form):
    kit_id = HiddenField()
    version = HiddenField()
    title = StringField(
        _l("Title"),
        [
            DataRequired(_l("Give the kit a title.")),
            Length(max=kits.MAX_TITLE, message=_l("Keep the title under 200 characters.")),
            no_control_characters,
        ],
        filters=[strip],
    )
    story = _text(_l("The story"), kits.MAX_STORY, _l("Keep the story under 2,000 characters."))
    facts = _text(
        _l("Key facts and links"), kits.MAX_FACTS, _l("Keep the facts under 2,000 characters.")
    )
    suggest_any = _text(
        _l("Suggested copy"),
        kits.MAX_SUGGESTION,
        _l("Keep each suggestion under 3,000 characters."),
    )
    hashtags = StringField(
        _l("Hashtags and people to tag"),
        [
            Length(max=kits.MAX_HASHTAGS, message=_l("Keep these under 500 characters.")),
            no_control_characters,
        ],
        filters=[strip],
    )
    first_day = StringField(
        _l("From"), [DataRequired(_l("Pick the window's first day.")), valid_day(DAY_EXAMPLE)]
    )
    last_day = StringField(
        _l("Until"), [DataRequired(_l("Pick the window's last day.")), valid_day(DAY_EXAMPLE)]
    )
    audience = RadioField(
        _l("Offered to"),
        choices=[
            SelectChoice("team", _l("Everyone in the team who posts")),
            SelectChoice("chosen", _l("The people I choose")),
        ],
        default="team",
    )
    chosen = checkboxes(_l("People"), validate_choice=False)
    partners = checkboxes(_l("Partner teams too"), validate_choice=False)

    def __init__(
        self,
        formdata=None,
        *,
        members: list[Member],
        partners: dict[str, dict],
        zone: str,
        today: date,
        **kw,
    ):
        super().__init__(formdata, **kw)
        self.chosen.choices = [
            SelectChoice(m.person_id, m.name or m.email)
            for m in members
            if m.role in kits.EDITING_ROLES
        ]
        self.partners.choices = [
            SelectChoice(team_id, entry["name"]) for team_id, entry in partners.items()
        ]
        self.zone, self.today = ZoneInfo(zone), today
        self.starts: datetime | None = None
        self.ends: datetime | None = None

    @classmethod
    def for_kit(cls, kit: Kit, **kw) -> "KitForm":
        zone = ZoneInfo(kit.zone)
        suggestions = kit.suggestion_map()
        return cls(
            None,
            kit_id=kit.kit_id,
            version=str(kit.version or ""),
            title=kit.title,
            story=kit.story,
            facts=kit.facts,
            hashtags=kit.hashtags,
            first_day=kit.starts.astimezone(zone).date().isoformat(),
            last_day=(kit.ends.astimezone(zone) - timedelta(days=1)).date().isoformat(),
            audience=kit.audience,
            chosen=list(kit.chosen or []),
            # The field's value goes in ``data``: ``partners`` names the choices (the team's).
            data={"partners": list(kit.partners or [])},
            zone=kit.zone,
            **{f"suggest_{network}": text for network, text in suggestions.items()},
            **kw,
        )

    def validate_kit_id(self, field):
        if not field.data or not KIT_ID.fullmatch(field.data):
            raise ValidationError(_l("This page is out of date: reload it."))

    def validate_version(self, field):
        if field.data and values.count(field.data) is None:
            raise ValidationError(_l("This page is out of date: reload it."))

    def validate_chosen(self, field):
        known = {choice.value for choice in field.choices}
        if not set(field.data or ()) <= known:
            raise ValidationError(_l("Choose people from the list."))
        if self.audience.data == "chosen" and not field.data:
            raise ValidationError(_l("Choose at least one person, or offer it to everyone."))

    def validate_partners(self, field):
        if not set(field.data or ()) <= {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose partner teams from the list."))

    def validate_last_day(self, field):
        first, last = values.day(self.first_day.data), values.day(field.data)
        if first is None or last is None:
            return
        if last < first:
            raise ValidationError(_l("The last day comes after the first."))
        if (last - first).days >= kits.MAX_WINDOW_DAYS:
            raise ValidationError(_l("Keep the window under three months."))
        if last < self.today:
            raise ValidationError(_l("The window has passed: choose days still to come."))
        self.starts = local_midnight(first, self.zone)
        self.ends = local_midnight(last + timedelta(days=1), self.zone)

    def suggestions(self) -> dict[str, str]:
        """The suggested copy by network ("any": the general one), empty ones left out."""
        found = {"any": self.suggest_any.data or ""}
        for network in SUGGESTED_NETWORKS:
            found[network] = getattr(self, f"suggest_{network}").data or ""
        return {network: text for network, text in found.items() if text.strip()}

    def fields(self) -> dict:
        """What the kit stores, as the form says it."""
        audience = self.audience.data if self.audience.data in ("team", "chosen") else "team"
        return {
            "title": self.title.data,
            "story": self.story.data or "",
            "facts": self.facts.data or "",
            "suggestions": self.suggestions(),
            "hashtags": self.hashtags.data or "",
            "starts": self.starts,
            "ends": self.ends,
            "audience": audience,
            "chosen": sorted(self.chosen.data) if audience == "chosen" else None,
            "partners": sorted(self.partners.data or ()) or None,
        }

    def per_network(self) -> list:
        """The per-network suggestion fields, in the order the profile form lists networks."""
        return [getattr(self, f"suggest_{network}") for network in SUGGESTED_NETWORKS]


# One suggestion field per network, named for it (the label is the network's own name).
for _network in SUGGESTED_NETWORKS:
    setattr(
        KitForm,
        f"suggest_{_network}",
        _text(
            PROFILE_NETWORKS[_network],
            kits.MAX_SUGGESTION,
            _l("Keep each suggestion under 3,000 characters."),
        ),
    )


def stored_fields(kit: Kit) -> dict:
    """What a kit stores, in the form's terms (saving a form unchanged writes nothing)."""
    return {
        "title": kit.title,
        "story": kit.story,
        "facts": kit.facts,
        "suggestions": kit.suggestion_map(),
        "hashtags": kit.hashtags,
        "starts": kit.starts,
        "ends": kit.ends,
        "audience": kit.audience,
        "chosen": sorted(kit.chosen) if kit.chosen else None,
        "partners": sorted(kit.partners) if kit.partners else None,
    }


class TakeForm(Form):
    """Taking a kit: on which of their profiles, and when (in their zone, inside the window)."""

    profile = SelectField(_l("On my profile"), validate_choice=False)
    day = StringField(
        _l("Date"), [DataRequired(_l("Pick the day you post it.")), valid_day(DAY_EXAMPLE)]
    )
    at = StringField(
        _l("Time"),
        [
            DataRequired(_l("Pick the time you post it.")),
            valid_clock(_l("Enter a time like 18:30.")),
        ],
        filters=[strip],
    )

    def __init__(self, formdata=None, *, profiles: list[Profile], kit: Kit, zone: str, now, **kw):
        super().__init__(formdata, **kw)
        labels = network_labels()
        self.profile.choices = [
            SelectChoice(p.profile_id, f"{labels.get(p.network, p.network)} · {p.handle}")
            for p in profiles
        ]
        self.kit, self.zone, self.now = kit, ZoneInfo(zone), now
        self.due: datetime | None = None

    def validate_profile(self, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose one of your profiles."))

    def validate_at(self, field):
        day, at = values.day(self.day.data), values.clock(field.data)
        if day is None or at is None:
            return
        due = local_instant(day, at, self.zone)
        if not self.kit.starts <= due < self.kit.ends:
            raise ValidationError(_l("Choose a time inside the kit's window."))
        if due <= self.now:
            raise ValidationError(_l("Choose a time still to come."))
        self.due = due


class PassForm(Form):
    reason = TextAreaField(
        _l("Why (optional, your team sees it)"),
        [
            Length(max=kits.MAX_REASON, message=_l("Keep it under 500 characters.")),
        ],
        filters=[plain_line_breaks, strip],
    )
