"""CSV files as spreadsheets write and read them: two dialects, formula cells neutralised.

Writing: UTF-8 with a byte-order mark (Excel reads a file without one as the system's code
page, and "Caffè" becomes "CaffÃ¨"), CRLF line ends, quotes only where needed. The standard
dialect separates with commas and writes ISO dates; ``excel-it`` writes what Italian Excel
writes itself: semicolons (the comma is Italy's decimal mark) and ``dd/mm/yyyy``.

Formula injection (OWASP, "CSV Injection"): a cell starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is a formula to a spreadsheet, which may run it when the file is
opened ("=HYPERLINK(...)" in a post's title). Every such cell is written with a leading
apostrophe, which spreadsheets show as text; reading strips exactly that apostrophe again, so
a title "-20% today" survives any number of round trips without growing apostrophes.

Reading: UTF-8 with or without a byte-order mark, comma or semicolon (from the header row),
quoted line breaks, ``dd/mm/yyyy`` or ``yyyy-mm-dd`` dates, ``HH:MM`` times; at most
``MAX_ROWS`` rows. Columns are found by their header, in English or Italian, in any order.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, time

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import values

MAX_ROWS = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
DIALECTS = {
    # name: (delimiter, date format)
    "standard": (",", "%Y-%m-%d"),
    "excel-it": (";", "%d/%m/%Y"),
}

# The header Cadenza writes (stable, English: a file exported in one language imports in the
# other), and what it reads: each column's names in English and Italian, compared without
# case, spaces, underscores or hyphens.
COLUMNS = (
    "id",
    "date",
    "time",
    "zone",
    "title",
    "channels",
    "owner_email",
    "owner",
    "status",
    "tags",
    "copy",
    "notes",
    "published_link",
    "planned_by",
)
ALIASES = {
    "id": ("id",),
    "date": ("date", "day", "data", "giorno"),
    "time": ("time", "hour", "ora", "orario"),
    "zone": ("zone", "time zone", "timezone", "fuso", "fuso orario"),
    "title": ("title", "titolo"),
    "channels": ("channels", "channel", "canali", "canale"),
    "owner_email": (
        "owner email",
        "email",
        "email responsabile",
        "responsabile email",
        "e mail",
    ),
    "owner": ("owner", "responsabile", "owner name", "nome responsabile"),
    "status": ("status", "stato"),
    "tags": ("tags", "tag", "etichette"),
    "copy": ("copy", "testo", "text"),
    "notes": ("notes", "note"),
    "published_link": ("published link", "link pubblicato", "link", "published url"),
    "planned_by": ("planned by", "pianificato da"),
}
_NAMES = {name: column for column, names in ALIASES.items() for name in names}


class FileProblem(ValueError):
    """The file as a whole cannot be read; ``message`` says why, for the upload form."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class Sheet:
    """A file's rows as ``{column: text}`` with their spreadsheet row numbers (header: 1)."""

    delimiter: str
    columns: list[str]  # as the header named them
    ignored: list[str]  # header names Cadenza does not read
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


# Writing -----------------------------------------------------------------------------------


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def write(rows: list[dict[str, str]], dialect: str) -> bytes:
    """The rows (``{column: text}``) as a CSV file in the dialect, header first."""
    delimiter = DIALECTS[dialect][0]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(neutralise(row.get(column, "")) for column in COLUMNS)
    return (BOM + out.getvalue()).encode()


def date_text(day: date, dialect: str) -> str:
    return day.strftime(DIALECTS[dialect][1])


# Reading -----------------------------------------------------------------------------------


def read(data: bytes) -> Sheet:
    """The file's rows; FileProblem if it is not a UTF-8 CSV file with a header Cadenza
    reads, or has more than MAX_ROWS rows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(
            _l(
                "This file is not UTF-8 text. In Excel, choose File → Save as → "
                '"CSV UTF-8 (comma delimited)" and upload that file.'
            )
        ) from None
    text = values.plain_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise FileProblem(_l("This file is empty."))
    first_line = text.split("\n", 1)[0]
    for delimiter in _delimiters(first_line):
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        try:
            header = next(records)
        except csv.Error:
            continue
        columns = [_NAMES.get(_simple(name)) for name in header]
        if "title" in columns:
            return _rows(records, header, columns, delimiter)
    raise FileProblem(
        _l(
            "Cadenza cannot find the columns: the first row must name them, with at least a "
            "title column (title or titolo), separated by commas or semicolons."
        )
    )


def _delimiters(first_line: str) -> list[str]:
    """Comma or semicolon, likelier first: csv.Sniffer's guess, restricted to the two."""
    try:
        guessed = csv.Sniffer().sniff(first_line, delimiters=",;").delimiter
    except csv.Error:
        guessed = ";" if first_line.count(";") > first_line.count(",") else ","
    return [guessed, *(other for other in ",;" if other != guessed)]


def _rows(records, header: list[str], columns: list, delimiter: str) -> Sheet:
    sheet = Sheet(
        delimiter=delimiter,
        columns=[name.strip() for name in header],
        ignored=[name.strip() for name, column in zip(header, columns, strict=True) if not column],
    )
    try:
        for number, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue  # Excel leaves rows of empty cells (";;;;") after the last one
            if len(sheet.rows) == MAX_ROWS:
                raise FileProblem(
                    _(
                        "This file has more than %(count)s rows: split it into files of up to "
                        "%(count)s rows and import them one after the other.",
                        count=format_number(MAX_ROWS),
                    )
                )
            row = {}
            for column, cell in zip(columns, record, strict=False):
                if column and column not in row:  # the first of two same-named columns
                    row[column] = unquote(cell)
            sheet.rows.append((number, row))
    except csv.Error as error:
        raise FileProblem(_l("This file is not a CSV file Cadenza can read.")) from error
    return sheet


def _simple(name: str) -> str:
    cleaned = name.casefold().replace("_", " ").replace("-", " ").replace(BOM, "")
    return " ".join(cleaned.split())


def unquote(cell: str) -> str:
    """A cell as it was before ``neutralise``: the apostrophe before a formula start goes."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


_DMY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_HMS = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::00)?")


def day(text: str) -> date | None:
    """``dd/mm/yyyy`` (as Italian Excel writes it, one-digit day and month too) or
    ``yyyy-mm-dd``, within the accepted years; None otherwise."""
    text = text.strip()
    found = _DMY.fullmatch(text)
    if found:
        dd, mm, yyyy = found.groups()
        return values.day(f"{yyyy}-{int(mm):02d}-{int(dd):02d}")
    return values.day(text)


def clock(text: str) -> time | None:
    """``HH:MM`` (``9:30`` and Excel's ``09:30:00`` too); None otherwise."""
    found = _HMS.fullmatch(text.strip())
    if not found:
        return None
    hours, minutes = found.groups()
    return values.clock(f"{int(hours):02d}:{minutes}")
