"""Languages, time zones and locale choice (Flask-Babel)."""

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Flask, g, request
from flask_babel import Babel, format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l

LANGUAGES = {"en": "English", "it": "Italiano"}
STATUS_LABELS = {
    "idea": _l("Idea"),
    "draft": _l("Draft"),
    "in_review": _l("In review"),
    "approved": _l("Approved"),
    "published": _l("Published"),
    "skipped": _l("Skipped"),
}


def choose_locale() -> str:
    person = g.get("person")
    if person is not None and person.language in LANGUAGES:
        return person.language
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def choose_zone() -> str:
    person = g.get("person")
    return person.zone if person is not None else "UTC"


@cache
def zone_names() -> tuple[str, ...]:
    """IANA zones offered in forms: the canonical Area/City names, plus UTC."""
    areas = (
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    )
    names = {name for name in available_timezones() if name.split("/", 1)[0] in areas}
    return ("UTC", *sorted(names))


def valid_zone(name: str) -> bool:
    if name not in zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def guess_zone(accept_language_locale: str) -> str:
    """A sensible first zone for someone new, refined later in their profile."""
    return "Europe/Rome" if accept_language_locale == "it" else "UTC"


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=choose_locale, timezone_selector=choose_zone)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        get_locale=get_locale,
        format_date=format_date,
        format_datetime=format_datetime,
        status_label=lambda status: STATUS_LABELS.get(status, status),
    )
