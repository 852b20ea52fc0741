"""The upload form: one CSV file (read and checked by the view, row by row)."""

from flask_babel import lazy_gettext as _l
from wtforms import FileField, Form


class UploadForm(Form):
    file = FileField(_l("CSV file"))
