"""Form definitions shared by the blueprints (WTForms; CSRF is checked app-wide)."""

from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, Form, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import values
from app.i18n import LANGUAGES, valid_zone, zone_names

# Pragmatic: one @, no spaces, a dot in the domain. Deliverability is proven by the link.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"


def posted():
    """The request's form data when it is a POST, else None: what every form is built from.

    WTForms reads any form data that is not None as a submission, and a submission without a
    checkbox means "unticked": built from the empty ``request.form`` of a GET, a form shows
    its checkboxes and multi-selects empty whatever is stored, and saving it clears them.
    """
    return request.form if request.method == "POST" else None


def strip(value):
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form, field):
    if field.data and any(ord(char) < 32 for char in field.data):
        raise ValidationError(_l("Please remove line breaks and control characters."))


def valid_day(example):
    """A field check: empty, or a date as ``values.day`` reads it; ``example`` shows the form."""

    def check(form, field):
        if not field.data or values.day(field.data):
            return
        if values.day(field.data, any_year=True) is None:
            raise ValidationError(example)
        raise ValidationError(
            _l(
                "Choose a date between %(first)d and %(last)d.",
                first=values.FIRST_YEAR,
                last=values.LAST_YEAR,
            )
        )

    return check


def valid_clock(example):
    """A field check: empty, or a 24-hour ``HH:MM`` time; ``example`` shows the form."""

    def check(form, field):
        if field.data and values.clock(field.data) is None:
            raise ValidationError(example)

    return check


def _known_zone(form, field):
    if not valid_zone(field.data or ""):
        raise ValidationError(_l("Choose a time zone from the list."))


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def role_labels():
    return {"admin": _l("Admin"), "editor": _l("Editor"), "viewer": _l("Viewer")}


class EmailForm(Form):
    email = EmailField(
        _l("Email"),
        [
            InputRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("That address is too long.")),
            Regexp(EMAIL_PATTERN, message=_l("Enter an email address like name@example.com.")),
        ],
        filters=[strip],
    )


def checkboxes(label, **options) -> SelectMultipleField:
    """A multiple choice shown as a list of checkboxes (channels, weekdays, lead times)."""
    return SelectMultipleField(
        label, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(), **options
    )


def _zone_field(label):
    return SelectField(label, [_known_zone], choices=lambda: zone_names(), validate_choice=False)


# Names and titles use DataRequired, which reads the stripped value: spaces are no name.
class ProfileForm(Form):
    name = StringField(
        _l("Your name"),
        [DataRequired(_l("Tell your team who you are.")), Length(max=80), no_control_characters],
        filters=[strip],
    )
    language = SelectField(_l("Language"), choices=_choices(LANGUAGES.items()))
    zone = _zone_field(_l("Your time zone"))
    week_start = SelectField(
        _l("Weeks start on"), choices=_choices([(0, _l("Monday")), (6, _l("Sunday"))]), coerce=int
    )


class TeamForm(Form):
    team_name = StringField(
        _l("Team name"),
        [DataRequired(_l("Give the team a name.")), Length(max=80), no_control_characters],
        filters=[strip],
    )
    team_zone = _zone_field(_l("Team time zone"))
    team_language = SelectField(_l("Team language"), choices=_choices(LANGUAGES.items()))


class WelcomeForm(ProfileForm, TeamForm):
    """A new person's name, and their first team unless an invitation brought them in."""


class InviteForm(EmailForm):
    role = SelectField(
        _l("Role"), choices=lambda: _choices(role_labels().items()), default="editor"
    )


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=lambda: _choices(role_labels().items()))
