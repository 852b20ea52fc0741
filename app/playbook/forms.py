"""The playbook form: the guidelines and one checklist per team channel (an item a line)."""

import hashlib

from flask_babel import lazy_gettext as _l
from wtforms import Form, HiddenField, TextAreaField
from wtforms.validators import Length, ValidationError

from app import values
from app.planner.forms import plain_line_breaks
from app.store.models import Playbook
from app.store.playbook import MAX_GUIDELINES, MAX_ITEM_LENGTH, MAX_ITEMS


def checklist_field(channel: str) -> str:
    """The form field of a channel's checklist: named from the channel's name, which may hold
    any character, so a field keeps its channel when an admin adds or removes others."""
    return "checklist_" + hashlib.sha256(channel.encode()).hexdigest()[:12]


def items(text: str | None) -> list[str]:
    """A checklist's items: one a line, list markers and blank lines left out, each once."""
    found = []
    for line in (text or "").splitlines():
        item = " ".join(line.strip().removeprefix("- ").removeprefix("* ").split())
        if item and item not in found:
            found.append(item)
    return found


def _checklist_bounds(form, field):
    found = items(field.data)
    if len(found) > MAX_ITEMS or any(len(item) > MAX_ITEM_LENGTH for item in found):
        raise ValidationError(
            _l(
                "Keep it to %(count)d items of up to %(length)d characters each.",
                count=MAX_ITEMS,
                length=MAX_ITEM_LENGTH,
            )
        )


class PlaybookForm(Form):
    guidelines = TextAreaField(
        _l("Guidelines"),
        [
            Length(
                max=MAX_GUIDELINES,
                message=_l("Keep the guidelines under %(count)d characters.", count=MAX_GUIDELINES),
            )
        ],
        filters=[plain_line_breaks],
    )
    version = HiddenField()

    def validate_version(self, field):
        if field.data and values.count(field.data) is None:
            raise ValidationError(_l("This page is out of date: reload it to edit the playbook."))

    def checklist_fields(self):
        """``(channel, field)`` in the team's order of channels."""
        return [(channel, self[checklist_field(channel)]) for channel in self.channels]

    def checklists(self) -> dict[str, list[str]]:
        """The channels' checklists that have items."""
        found = ((channel, items(field.data)) for channel, field in self.checklist_fields())
        return {channel: listed for channel, listed in found if listed}

    def expected_version(self) -> int | None:
        return values.count(self.version.data) if self.version.data else None


def playbook_form(channels: list[str], formdata=None, stored: Playbook | None = None):
    """The form for a team's channels, filled from ``formdata`` (a submission) or ``stored``."""

    class TeamPlaybookForm(PlaybookForm):
        pass

    for channel in channels:
        field = TextAreaField(channel, [_checklist_bounds], filters=[plain_line_breaks])
        setattr(TeamPlaybookForm, checklist_field(channel), field)
    data = {}
    if stored is not None:
        lists = stored.checklist(channels)
        data = {checklist_field(channel): "\n".join(found) for channel, found in lists}
        data.update(guidelines=stored.guidelines, version=str(stored.version or ""))
    form = TeamPlaybookForm(formdata, data=data)
    form.channels = list(channels)
    return form
