"""What a browser would send for a page's forms, read from the HTML with the standard library.

``forms_in(html)`` lists every ``<form>`` with the fields a browser submits when the form is
sent as it stands: text-like inputs with their values, checked checkboxes and radios only,
each select's selected options (or its first option), textareas' text. Submit buttons and
disabled controls are left out. ``form_in(html, ...)`` picks one form, by id or action.

    page = client.get("/me/nudges").text
    form = form_in(page, id="preferences-form")
    client.post(form.action or "/me/nudges", data=form.data())
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

_NOT_SENT = {"submit", "button", "reset", "image", "file"}


@dataclass
class FormOnPage:
    attributes: dict[str, str]
    fields: list[tuple[str, str]] = field(default_factory=list)

    @property
    def id(self) -> str | None:
        return self.attributes.get("id")

    @property
    def action(self) -> str:
        return self.attributes.get("action") or ""

    @property
    def method(self) -> str:
        return (self.attributes.get("method") or "get").lower()

    def data(self) -> MultiDict:
        """The fields as the test client posts them (repeated names kept, in page order)."""
        return MultiDict(self.fields)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key == name]

    def names(self) -> set[str]:
        return {key for key, _value in self.fields}


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[FormOnPage] = []
        self._form: FormOnPage | None = None
        self._select: dict | None = None  # {"name", "multiple", "options": [(value, selected)]}
        self._option: dict | None = None  # {"value" or None, "selected", "text"}
        self._textarea: dict | None = None  # {"name", "text"}

    def handle_starttag(self, tag, attrs):
        attributes = {name: "" if value is None else value for name, value in attrs}
        if tag == "form":
            self._form = FormOnPage(attributes)
            self.forms.append(self._form)
            return
        if self._form is None or "disabled" in attributes:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self._form.fields.append((name, attributes.get("value", "on")))
            elif kind not in _NOT_SENT:
                self._form.fields.append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attributes, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attributes.get("value"),
                "selected": "selected" in attributes,
                "text": "",
            }
        elif tag == "textarea" and name:
            self._textarea = {"name": name, "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self._end_option()
        elif tag == "select" and self._select is not None:
            self._end_option()
            options = self._select["options"]
            chosen = [value for value, selected in options if selected]
            if not chosen and options and not self._select["multiple"]:
                chosen = [
                    options[0][0]
                ]  # a single select without a selected option sends its first
            if not self._select["multiple"]:
                chosen = chosen[-1:]
            self._form.fields.extend((self._select["name"], value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # A newline right after <textarea> belongs to the markup, not the value.
            text = self._textarea["text"].removeprefix("\r").removeprefix("\n")
            self._form.fields.append((self._textarea["name"], text))
            self._textarea = None
        elif tag == "form":
            self._form = None

    def _end_option(self):
        if self._option is not None and self._select is not None:
            value = self._option["value"]
            if value is None:
                value = " ".join(self._option["text"].split())
            self._select["options"].append((value, self._option["selected"]))
        self._option = None


def forms_in(html: str) -> list[FormOnPage]:
    """Every form of the page, in page order."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def form_in(html: str, *, id: str | None = None, action: str | None = None) -> FormOnPage:
    """The one form with this id, or with this action (an AssertionError otherwise)."""
    found = [
        form
        for form in forms_in(html)
        if (id is None or form.id == id) and (action is None or form.action == action)
    ]
    assert len(found) == 1, f"{len(found)} forms match id={id!r} action={action!r}"
    return found[0]
