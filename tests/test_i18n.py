"""The Italian catalogue: complete for today's sources, faithful to placeholders, compilable.

When a test here fails after a change to user-facing text, run ``make extract-messages``,
translate the new entries in ``app/translations/it/LC_MESSAGES/messages.po`` and remove
their ``#, fuzzy`` flags.
"""

import gettext
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
ITALIAN = ROOT / "app/translations/it/LC_MESSAGES/messages.po"

# A %-placeholder (named or not) or a lone "%"; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%%|%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]|%")


def _forms(text) -> tuple[str, ...]:
    """The text of a message as a tuple, one entry per plural form."""
    return tuple(text) if isinstance(text, list | tuple) else (text,)


def _placeholders(texts) -> set[str]:
    return {found for text in texts for found in PLACEHOLDER.findall(text or "") if found != "%%"}


def _show(message) -> str:
    ids = " | ".join(_forms(message.id))
    return f"{message.context} :: {ids}" if message.context else ids


def _read(path: Path):
    with path.open("rb") as po:
        return read_po(po, abort_invalid=True)


@pytest.fixture(scope="module")
def italian():
    return _read(ITALIAN)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Messages extracted from the current sources, exactly as ``make extract-messages`` does."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    argv = ["pybabel", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l"]
    CommandLineInterface().run([*argv, "-o", str(pot), str(ROOT)])
    return _read(pot)


def test_every_message_has_an_italian_translation(template, italian):
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = italian.get(message.id, context=message.context)
        if translated is None:
            problems.append(f"missing: {_show(message)}")
        elif translated.fuzzy:
            problems.append(f"fuzzy: {_show(message)}")
        elif not all(_forms(translated.string)) or (
            message.pluralizable and len(_forms(translated.string)) != italian.num_plurals
        ):
            problems.append(f"untranslated: {_show(message)}")
    assert len(template) > 50, "extraction found suspiciously few messages"
    assert not problems, "\n".join(["Italian translations to fix:", *problems])


def test_translations_keep_every_placeholder(italian):
    problems = []
    for message in italian:
        if not message.id or not message.string:
            continue
        # Plural forms count together: Italian may write "un giorno" without the number.
        expected = _placeholders(_forms(message.id))
        found = _placeholders(_forms(message.string))
        if found != expected:
            problems.append(f"{_show(message)}: expected {sorted(expected)}, got {sorted(found)}")
    assert not problems, "\n".join(["Placeholders changed in translation:", *problems])


def test_the_italian_catalogue_compiles_without_errors(italian):
    assert str(italian.locale) == "it"
    assert italian.num_plurals == 2 and italian.plural_expr == "(n != 1)"
    # pybabel compile skips a catalogue whose header is still fuzzy.
    assert not italian.fuzzy, "remove the '#, fuzzy' flag from the catalogue header"
    errors = [
        f"line {message.lineno}: {_show(message)}: {error}"
        for message, message_errors in italian.check()
        for error in message_errors
    ]
    assert not errors, "\n".join(errors)

    compiled = BytesIO()
    write_mo(compiled, italian)
    compiled.seek(0)
    catalogue = gettext.GNUTranslations(compiled)
    assert catalogue.gettext("Members") == "Membri"
    assert "Accedi" in catalogue.gettext("Sign in")
