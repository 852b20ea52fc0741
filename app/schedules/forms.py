"""The schedule form: what a cadence is, checked field by field, one-to-one with what is stored."""

from datetime import datetime

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import Form, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app import values
from app.forms import checkboxes, no_control_characters, strip, valid_clock, valid_day
from app.i18n import zone_names
from app.schedules import planning, recurrence
from app.store import schedules
from app.store.models import Member, Schedule

MAX_PATTERN = 150
MAX_EVERY = {"weekly": 52, "monthly": 12}
MAX_COUNT = 1000
# How many people a rotation has at most (the form shows one choice per turn).
MAX_ROTATION = 12


def freq_labels():
    return {
        "weekly": _l("Every week, on chosen days"),
        "monthly_day": _l("Every month, on a day of the month"),
        "monthly_nth": _l("Every month, on a weekday (“the 2nd Tuesday”)"),
    }


def nth_labels():
    return {
        "1": _l("first"),
        "2": _l("second"),
        "3": _l("third"),
        "4": _l("fourth"),
        "-1": _l("last"),
    }


def end_labels():
    return {
        "never": _l("Never"),
        "until": _l("On a date"),
        "count": _l("After a number of times"),
    }


def day_names() -> list[str]:
    """Monday … Sunday in the page's language (index = ``date.weekday()``)."""
    names = get_day_names("wide", locale=get_locale())
    return [names[day] for day in range(7)]


def _pairs(labels) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class ScheduleForm(Form):
    title = StringField(
        _l("Title of each post"),
        [
            DataRequired(_l("Give the posts a title, like “Instagram — {date}”.")),
            Length(max=MAX_PATTERN, message=_l("Keep the title under 150 characters.")),
            no_control_characters,
        ],
        filters=[strip],
    )
    channels = checkboxes(_l("Channels"), validate_choice=False)
    freq = SelectField(_l("Repeats"), choices=lambda: _pairs(freq_labels()), default="weekly")
    every = StringField(_l("Every how many weeks or months"), default="1", filters=[strip])
    weekdays = checkboxes(_l("On"), validate_choice=False)
    month_day = StringField(_l("Day of the month"), filters=[strip])
    nth = SelectField(_l("Which one"), choices=lambda: _pairs(nth_labels()), default="2")
    weekday = SelectField(_l("Weekday"), default="1")
    at = StringField(
        _l("Time"),
        [DataRequired(_l("Pick a time.")), valid_clock(_l("Enter a time like 18:00."))],
        filters=[strip],
    )
    zone = SelectField(_l("Time zone"), choices=lambda: zone_names(), validate_choice=False)
    start = StringField(
        _l("Starts on"),
        [DataRequired(_l("Pick the first day.")), valid_day(_l("Enter a date like 2026-12-05."))],
        filters=[strip],
    )
    end = SelectField(_l("Ends"), choices=lambda: _pairs(end_labels()), default="never")
    until = StringField(
        _l("Last day"), [valid_day(_l("Enter a date like 2026-12-05."))], filters=[strip]
    )
    count = StringField(_l("Number of times"), filters=[strip])
    # One choice per turn, in turn order: the form shows MAX_ROTATION selects named "owners".
    owners = SelectMultipleField(_l("Who posts, in turn"), validate_choice=False)
    version = HiddenField()
    schedule_id = HiddenField()  # a new schedule's id, chosen when the form was shown

    def __init__(self, formdata=None, *, channel_choices, members: list[Member], **kwargs):
        super().__init__(formdata, **kwargs)
        self.channels.choices = [SelectChoice(channel, channel) for channel in channel_choices]
        days = day_names()
        self.weekdays.choices = [SelectChoice(str(day), days[day]) for day in range(7)]
        self.weekday.choices = [SelectChoice(str(day), days[day]) for day in range(7)]
        # Only people who can work on posts own slots; one already in the rotation stays
        # choosable (demoted since), so saving unchanged changes nothing.
        kept = set(self.owners.data or ())
        self.people = [
            member
            for member in members
            if member.role in ("admin", "editor") or member.person_id in kept
        ]
        self.owners.choices = [SelectChoice(m.person_id, m.name) for m in self.people]
        self._cadence: recurrence.Cadence | None = None

    @classmethod
    def for_schedule(cls, schedule: Schedule, **kwargs) -> "ScheduleForm":
        cadence = recurrence.parse(schedule.rule)
        starts = datetime.fromisoformat(schedule.starts_local)
        if cadence.freq == "weekly":
            freq = "weekly"
        else:
            freq = "monthly_day" if cadence.month_day is not None else "monthly_nth"
        end = "until" if cadence.until else "count" if cadence.count else "never"
        return cls(
            None,
            title=schedule.title,
            channels=list(schedule.channels or []),
            freq=freq,
            every=str(cadence.every),
            weekdays=[str(day) for day in cadence.weekdays],
            month_day=str(cadence.month_day or ""),
            nth=str(cadence.nth or 2),
            weekday=str(cadence.weekday if cadence.weekday is not None else 1),
            at=starts.strftime("%H:%M"),
            zone=schedule.zone,
            start=starts.date().isoformat(),
            end=end,
            until=cadence.until.isoformat() if cadence.until else "",
            count=str(cadence.count or ""),
            owners=list(schedule.owners or []),
            version=str(schedule.version or ""),
            **kwargs,
        )

    # Field checks ----------------------------------------------------------------------------

    def validate_title(self, field):
        unknown = planning.unknown_placeholders(field.data or "")
        if unknown:
            raise ValidationError(
                _l(
                    "Unknown placeholder: %(names)s. Use {date}, {weekday}, {time} or {owner}.",
                    names=", ".join(f"{{{name}}}" for name in unknown),
                )
            )

    def validate_channels(self, field):
        known = {choice.value for choice in self.channels.choices}
        if not field.data:
            raise ValidationError(_l("Choose at least one channel."))
        if any(channel not in known for channel in field.data):
            raise ValidationError(_l("Choose channels from the team's list."))

    def validate_zone(self, field):
        if field.data not in zone_names():
            raise ValidationError(_l("Choose a time zone from the list."))

    def validate_owners(self, field):
        chosen = [person for person in field.data or [] if person]
        field.data = chosen
        known = {choice.value for choice in self.owners.choices}
        if not chosen:
            raise ValidationError(_l("Choose who posts: one person, or several in turn."))
        if len(chosen) > MAX_ROTATION or any(person not in known for person in chosen):
            raise ValidationError(_l("Choose people who can edit in this team."))
        if len(set(chosen)) != len(chosen):
            raise ValidationError(_l("Choose each person once: the order is the turn order."))

    def validate_version(self, field):
        if field.data and values.count(field.data) is None:
            raise ValidationError(_l("This page is out of date: reload it."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # The recurrence is one choice made of several fields: checked once they read well.
        if not (self.at.errors or self.start.errors or self.until.errors):
            try:
                self._cadence = self._build_cadence()
            except recurrence.CadenceError as problem:
                name = problem.field if problem.field in _CADENCE_MESSAGES else "freq"
                self[name].errors = [*self[name].errors, _CADENCE_MESSAGES[name]]
                return False
        return valid

    def _build_cadence(self) -> recurrence.Cadence:
        freq = self.freq.data if self.freq.data in freq_labels() else None
        if freq is None:
            raise recurrence.CadenceError("freq", "unknown")
        monthly = freq != "weekly"
        every = values.count(self.every.data)
        if every is None or not 1 <= every <= MAX_EVERY["monthly" if monthly else "weekly"]:
            raise recurrence.CadenceError("every", "out of range")
        until = count = None
        if self.end.data == "until":
            until = values.day(self.until.data)
            start = values.day(self.start.data)
            if until is None or (start is not None and until < start):
                raise recurrence.CadenceError("until", "before the start")
        elif self.end.data == "count":
            count = values.count(self.count.data)
            if count is None or not 1 <= count <= MAX_COUNT:
                raise recurrence.CadenceError("count", "out of range")
        elif self.end.data != "never":
            raise recurrence.CadenceError("end", "unknown")
        choices = {"every": every, "until": until, "count": count}
        if freq == "weekly":
            days = [values.count(day) for day in self.weekdays.data or []]
            if any(day is None for day in days):
                raise recurrence.CadenceError("weekdays", "unknown")
            return recurrence.Cadence("weekly", weekdays=tuple(days), **choices)
        if freq == "monthly_day":
            day = values.count(self.month_day.data)
            if day is None:
                raise recurrence.CadenceError("month_day", "not a number")
            return recurrence.Cadence("monthly", month_day=day, **choices)
        nth, weekday = self.nth.data, values.count(self.weekday.data)
        if nth not in nth_labels() or weekday is None:
            raise recurrence.CadenceError("nth", "unknown")
        return recurrence.Cadence("monthly", nth=int(nth), weekday=weekday, **choices)

    # Results ---------------------------------------------------------------------------------

    def attributes(self) -> dict:
        """The schedule's attributes as the validated form says."""
        start, at = values.day(self.start.data), values.clock(self.at.data)
        return {
            "title": self.title.data,
            "rule": self._cadence.rule(),
            "zone": self.zone.data,
            "starts_local": datetime.combine(start, at).strftime("%Y-%m-%dT%H:%M"),
            "owners": list(self.owners.data),
            "channels": list(self.channels.data),
        }

    def new_schedule_id(self) -> str | None:
        sent = self.schedule_id.data or ""
        return sent if schedules.well_formed(sent) else None

    def expected_version(self) -> int | None:
        return values.count(self.version.data)


# A recurrence choice that makes no cadence: the message next to the field it names.
_CADENCE_MESSAGES = {
    "every": _l("Enter how often: 1 to 52 weeks, or 1 to 12 months."),
    "weekdays": _l("Choose at least one day of the week."),
    "month_day": _l("Enter a day of the month from 1 to 31."),
    "nth": _l("Choose which weekday of the month."),
    "count": _l("Enter how many times: 1 to 1000."),
    "until": _l("Choose a last day on or after the first."),
    "end": _l("Choose when it ends."),
    "freq": _l("Choose how it repeats."),
}
