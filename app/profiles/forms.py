"""The form of one personal profile: its network, handle and optional address."""

from flask_babel import lazy_gettext as _l
from wtforms import Form, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app import values
from app.forms import strip
from app.store.models import PROFILE_NETWORKS
from app.store.profiles import MAX_HANDLE, MAX_URL


def network_labels() -> dict:
    """Each network's name as people know it (a blog and "other" are words to translate)."""
    other = {"blog": _l("Blog or website"), "other": _l("Other")}
    return {network: name or other[network] for network, name in PROFILE_NETWORKS.items()}


def _plain(form, field):
    """No control character at all (a handle is one line): ``values.plain_text`` keeps tabs
    and line breaks, which a handle has no use for either."""
    if field.data and (
        values.plain_text(field.data) != field.data or any(c in field.data for c in "\t\r\n")
    ):
        raise ValidationError(_l("Please remove line breaks and control characters."))


def _address(form, field):
    if field.data and not values.web_address(field.data):
        raise ValidationError(_l("Enter a web address starting with https://"))


class PersonalProfileForm(Form):
    network = SelectField(
        _l("Network"), choices=lambda: list(network_labels().items()), default="linkedin"
    )
    handle = StringField(
        _l("Handle or name"),
        [DataRequired(_l("Say how people find you there.")), Length(max=MAX_HANDLE), _plain],
        filters=[strip],
    )
    url = StringField(
        _l("Address (optional)"), [Length(max=MAX_URL), _plain, _address], filters=[strip]
    )
    # The entry's rev as the form was read: saving a stale form is refused (409).
    rev = HiddenField()

    def values(self) -> dict:
        return {
            "network": self.network.data,
            "handle": self.handle.data,
            "url": self.url.data or "",
        }
