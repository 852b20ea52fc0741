"""The event form and the series template form: every field checked, a message next to it."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app import values
from app.events.series import (
    PLACEHOLDERS,
    STEP_ID,
    Step,
    Template,
    step_id_for,
    unknown_placeholders,
)
from app.forms import _zone_field, checkboxes, no_control_characters, strip, valid_clock, valid_day
from app.planner.changes import EDITING_ROLES
from app.planner.forms import plain_line_breaks
from app.schedules.recurrence import place
from app.store import events
from app.store.models import Event, Member

EVENT_ID = re.compile(r"[0-9a-z]{16}")  # as keys.new_id makes them
DAY_EXAMPLE = _l("Enter a date like 2026-12-05.")
TIME_EXAMPLE = _l("Enter a time like 18:30.")


def _owners(members: list[Member], first_label) -> list[SelectChoice]:
    """Members who can own posts (admins and editors), after ``first_label``'s empty choice."""
    choices = [SelectChoice("", first_label)]
    choices += [SelectChoice(m.person_id, m.name) for m in members if m.role in EDITING_ROLES]
    return choices


class EventForm(Form):
    event_id = HiddenField()
    version = HiddenField()
    title = StringField(
        _l("Title"),
        [
            DataRequired(_l("Give the event a title.")),
            Length(max=events.MAX_TITLE, message=_l("Keep the title under 200 characters.")),
            no_control_characters,
        ],
        filters=[strip],
    )
    place = StringField(
        _l("Place"),
        [
            Length(max=events.MAX_PLACE, message=_l("Keep the place under 200 characters.")),
            no_control_characters,
        ],
        filters=[strip],
    )
    start_day = StringField(
        _l("Starts on"),
        [DataRequired(_l("Pick the day it starts.")), valid_day(DAY_EXAMPLE)],
        filters=[strip],
    )
    start_at = StringField(
        _l("at"),
        [DataRequired(_l("Pick when it starts.")), valid_clock(TIME_EXAMPLE)],
        filters=[strip],
    )
    end_day = StringField(_l("Ends on"), [Optional(), valid_day(DAY_EXAMPLE)], filters=[strip])
    end_at = StringField(
        _l("at"),
        [DataRequired(_l("Pick when it ends.")), valid_clock(TIME_EXAMPLE)],
        filters=[strip],
    )
    zone = _zone_field(_l("Time zone"))
    owner = SelectField(_l("Owner"), validate_choice=False)
    partner = StringField(
        _l("Partner"),
        [
            Length(
                max=events.MAX_PARTNER, message=_l("Keep the partner's name under 100 characters.")
            ),
            no_control_characters,
        ],
        filters=[strip],
    )
    notes = TextAreaField(
        _l("Notes"),
        [Length(max=events.MAX_NOTES, message=_l("Keep the notes under 2,000 characters."))],
        filters=[plain_line_breaks],
    )
    template = SelectField(_l("Post series"), validate_choice=False)

    def __init__(self, formdata=None, *, members: list[Member], templates: list[Template], **kw):
        super().__init__(formdata, **kw)
        self.owner.choices = _owners(members, _l("Choose someone"))
        self.template.choices = [SelectChoice("", _l("No series"))] + [
            SelectChoice(template.template_id, template.name) for template in templates
        ]
        self.starts_at: datetime | None = None
        self.ends_at: datetime | None = None

    @classmethod
    def for_event(cls, event: Event, **kw) -> "EventForm":
        zone = ZoneInfo(event.zone)
        start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
        return cls(
            None,
            event_id=event.event_id,
            version=str(event.version or ""),
            title=event.title,
            place=event.place,
            start_day=start.date().isoformat(),
            start_at=f"{start:%H:%M}",
            # Empty when it ends the day it starts: moving its start then moves its end too.
            end_day="" if end.date() == start.date() else end.date().isoformat(),
            end_at=f"{end:%H:%M}",
            zone=event.zone,
            owner=event.owner_id or "",
            partner=event.partner,
            notes=event.notes,
            template=event.kind,
            **kw,
        )

    def validate_event_id(self, field):
        if field.data and not EVENT_ID.fullmatch(field.data):
            raise ValidationError(_l("This page is out of date: reload it."))

    def validate_version(self, field):
        if field.data and values.count(field.data) is None:
            raise ValidationError(_l("This page is out of date: reload it."))

    def validate_owner(self, field):
        if field.data not in {choice.value for choice in self.owner.choices[1:]}:
            raise ValidationError(_l("Choose who owns the event, among those who can post."))

    def validate_template(self, field):
        if field.data not in {choice.value for choice in self.template.choices}:
            raise ValidationError(_l("Choose a series from the list."))

    def validate_end_at(self, field):
        start_day, start_at = values.day(self.start_day.data), values.clock(self.start_at.data)
        end_day = values.day(self.end_day.data) if self.end_day.data else start_day
        end_at = values.clock(field.data)
        zone = self.zone.data
        if None in (start_day, start_at, end_day, end_at) or self.zone.errors or not zone:
            return
        try:
            tz = ZoneInfo(zone)
        except (KeyError, ValueError):
            return
        self.starts_at = place(datetime.combine(start_day, start_at), tz)
        self.ends_at = place(datetime.combine(end_day, end_at), tz)
        if self.ends_at <= self.starts_at:
            raise ValidationError(_l("It has to end after it starts."))

    def fields(self) -> dict:
        """The validated event, as the store's attributes."""
        return {
            "title": self.title.data,
            "place": self.place.data or "",
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "zone": self.zone.data,
            "owner_id": self.owner.data,
            "partner": self.partner.data or "",
            "notes": self.notes.data or "",
        }


# Series templates --------------------------------------------------------------------------


class StepForm(Form):
    step = HiddenField()
    label = StringField(
        _l("Step"),
        [
            Length(max=events.MAX_STEP_LABEL, message=_l("Keep it under 40 characters.")),
            no_control_characters,
        ],
        filters=[strip],
    )
    days = StringField(_l("Days from the event"), filters=[strip])
    time = StringField(_l("Time"), [valid_clock(TIME_EXAMPLE)], filters=[strip])
    title = StringField(
        _l("Title pattern"),
        [
            Length(max=events.MAX_PATTERN, message=_l("Keep it under 200 characters.")),
            no_control_characters,
        ],
        filters=[strip],
    )
    channels = checkboxes(_l("Channels"), validate_choice=False)
    owner = SelectField(_l("Owner"), validate_choice=False)

    @property
    def used(self) -> bool:
        """A row with a label is a step; an empty row (the spare one, or one cleared) is not."""
        return bool(self.label.data)

    def validate_days(self, field):
        if not self.used:
            return
        text = field.data or ""
        number = values.count(text.removeprefix("-").removeprefix("+"))
        if number is not None and text.startswith("-"):
            number = -number
        if number is None or not events.MIN_DAYS <= number <= events.MAX_DAYS:
            raise ValidationError(
                _l(
                    "Enter a number of days between %(first)d (before) and %(last)d (after).",
                    first=events.MIN_DAYS,
                    last=events.MAX_DAYS,
                )
            )
        field.number = number

    def validate_title(self, field):
        if not self.used:
            return
        if not field.data:
            raise ValidationError(_l("Give the step's posts a title."))
        unknown = unknown_placeholders(field.data)
        if unknown:
            raise ValidationError(
                _l(
                    "Unknown: %(names)s. Use %(known)s.",
                    names=", ".join(f"{{{name}}}" for name in unknown),
                    known=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
                )
            )

    def validate_step(self, field):
        if field.data and not STEP_ID.fullmatch(field.data):
            raise ValidationError(_l("This page is out of date: reload it."))


class TemplateForm(Form):
    template_id = HiddenField()
    version = HiddenField()
    name = StringField(
        _l("Name"),
        [
            DataRequired(_l("Name the template.")),
            Length(max=events.MAX_TEMPLATE_NAME, message=_l("Keep the name under 60 characters.")),
            no_control_characters,
        ],
        filters=[strip],
    )
    steps = FieldList(FormField(StepForm), min_entries=1, max_entries=events.MAX_STEPS + 1)

    def __init__(self, formdata=None, *, members: list[Member], channels: list[str], **kw):
        super().__init__(formdata, **kw)
        self.channel_names = list(channels)
        for entry in self.steps:
            entry.form.channels.choices = [SelectChoice(name, name) for name in channels]
            entry.form.owner.choices = _owners(members, _l("The event's owner"))

    @classmethod
    def for_template(cls, template: Template, **kw) -> "TemplateForm":
        rows = [step.stored() for step in template.steps]
        if len(rows) < events.MAX_STEPS:
            rows.append({})  # a spare row adds a step
        return cls(
            None,
            template_id=template.template_id,
            version=str(template.version or ""),
            name=template.name,
            steps=rows,
            **kw,
        )

    def validate_template_id(self, field):
        if field.data and not STEP_ID.fullmatch(field.data):
            raise ValidationError(_l("This page is out of date: reload it."))

    def validate_version(self, field):
        if field.data and values.count(field.data) is None:
            raise ValidationError(_l("This page is out of date: reload it."))

    def validate_steps(self, field):
        used = [entry.form for entry in field if entry.form.used]
        if not used:
            raise ValidationError(_l("Give the template at least one step."))
        if len(used) > events.MAX_STEPS:
            raise ValidationError(
                _l("A template has at most %(count)d steps.", count=events.MAX_STEPS)
            )
        for row in used:
            unknown = [c for c in row.channels.data or [] if c not in self.channel_names]
            if unknown:
                row.channels.errors = [
                    *row.channels.errors,
                    _l("Unknown channel: %(names)s.", names=", ".join(unknown)),
                ]
            owners = {choice.value for choice in row.owner.choices}
            if row.owner.data and row.owner.data not in owners:
                row.owner.errors = [*row.owner.errors, _l("Choose an owner from this team.")]
        if any(row.channels.errors or row.owner.errors for row in used):
            raise ValidationError(_l("Some steps need a correction."))

    def built_steps(self, keep: list[Step]) -> list[Step]:
        """The validated steps; a step keeps its id (and so its posts' ids), a new one gets an
        id from its label."""
        known = {step.step for step in keep}
        taken: set[str] = set()
        built = []
        for entry in self.steps:
            row = entry.form
            if not row.used:
                continue
            step_id = row.step.data if row.step.data in known - taken else ""
            step_id = step_id or step_id_for(row.label.data, taken | known)
            taken.add(step_id)
            built.append(
                Step(
                    step=step_id,
                    label=row.label.data,
                    days=row.days.number,
                    time=row.time.data or "",
                    title=row.title.data,
                    channels=list(row.channels.data or []),
                    owner=row.owner.data or "",
                )
            )
        return built


class ShareForm(Form):
    """Whom an event is shared with: one of the team's partners, or none."""

    # Checked below, with a message of its own rather than WTForms' "Not a valid choice"; its
    # id is not the event form's free-text partner's, on the same page.
    partner = SelectField(_l("Share with"), validate_choice=False, id="share-partner")
    version = HiddenField()

    def __init__(self, formdata=None, *, partners: dict[str, dict], **values):
        super().__init__(formdata, **values)
        ordered = sorted(partners.items(), key=lambda pair: pair[1]["name"].casefold())
        self.partner.choices = [SelectChoice("", _l("Not shared"))] + [
            SelectChoice(team_id, entry["name"]) for team_id, entry in ordered
        ]

    def validate_partner(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose one of your partner teams, or “Not shared”."))
