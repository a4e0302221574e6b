"""The token export's xlsx file, streamed row by row with xlsxwriter's constant-memory mode.

Cells, decided once for every column:
- Text (token, status, delivery, email, names, language, groups, address, projects, message,
  failure reason, link, text and select registration fields) is a string cell (an inline
  string; xlsxwriter's strings_to_formulas, _urls and _numbers are off, so text is never read
  as anything else): never a formula, a link or an error value like `#N/A`.
- Text a spreadsheet could still take for a formula when someone edits the cell, re-enters it
  or saves the sheet as CSV (it starts with = + - @, a tab, CR or LF, or a full-width = + - @)
  gets a leading apostrophe, as OWASP advises for CSV injection: `=HYPERLINK("http://x")` is
  exported as `'=HYPERLINK("http://x")`. The apostrophe is part of the value, visible in the
  cell; only such values change (no token, status, language, link or date ever starts that way).
- Characters XML cannot carry (control characters other than tab, CR, LF) become U+FFFD.
- Dates are real Excel dates in UTC, to the second (so they sort and filter), shown as
  `yyyy-mm-dd hh:mm:ss "UTC"`; blank when the invitation has none (never sent, not accepted).
  Date registration fields are dates without a time (`yyyy-mm-dd`).
- `admin` and checkbox registration fields are boolean cells (TRUE/FALSE), as the import
  template reads them; number registration fields are numbers.
- Registration fields come last, one column per field headed by its key, in the template's
  order; a key that another column already uses is headed `field:KEY`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from domain.exports.rows import ExportRow
from domain.models import FieldType, RegistrationField

SHEET_TITLE = "invitations"
# (header, column width in characters). Headers match the import template's where they overlap.
COLUMNS: tuple[tuple[str, float], ...] = (
    ("token", 20),
    ("status", 10),
    ("delivery", 10),
    ("email", 32),
    ("first_name", 16),
    ("last_name", 18),
    ("language", 10),
    ("groups", 30),
    ("admin", 8),
    ("created_at", 24),
    ("sent_at", 24),
    ("expires_at", 24),
    ("accepted_at", 24),
    # Columns added later come after these: mail-merge templates that name columns by letter
    # keep working.
    ("address", 32),
    ("projects", 30),
    ("personal_message", 40),
    ("failure_reason", 40),
    ("link", 60),
    ("registered_first_name", 16),
    ("registered_last_name", 18),
)
FIELD_WIDTH = 18
DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss "UTC"'
FIELD_DATE_FORMAT = "yyyy-mm-dd"
# Spreadsheets start a formula with = + - @; tab, CR and LF hide such a start from a reader's
# eye, and some spreadsheets read the full-width forms as the ASCII ones.
FORMULA_STARTERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralize(value: str) -> str:
    """Text a spreadsheet shows as written and never runs."""
    if not value.isprintable():  # rare: most text has no control character at all
        value = _NOT_IN_XML.sub("\ufffd", value)
    return "'" + value if value.startswith(FORMULA_STARTERS) else value


def field_headers(fields: Sequence[RegistrationField]) -> list[str]:
    taken = {name for name, _ in COLUMNS}
    return [f"field:{f.key}" if f.key in taken else f.key for f in fields]


class ExportWorkbook:
    """One sheet: a header row, then `append` batches of rows; `close` once at the end.

    xlsxwriter writes each finished row to a file of its own and zips the parts into
    `destination` on `close`. Those files (every token in clear) live in a directory this
    workbook makes and removes: on `close`, or on `discard` if the export fails first.
    """

    def __init__(self, destination: BinaryIO, fields: Sequence[RegistrationField] = ()) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="invitations-export-rows-"))
        self._book = Workbook(
            destination,
            {
                "constant_memory": True,
                "tmpdir": str(self._directory),
                # Cells are typed by their Python type, never guessed from their text.
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "default_date_format": DATE_FORMAT,
            },
        )
        self._sheet: Worksheet = self._book.add_worksheet(SHEET_TITLE)
        self._fields = list(fields)
        self._day: Format = self._book.add_format({"num_format": FIELD_DATE_FORMAT})
        bold = self._book.add_format({"bold": True})
        headers = [(name, width) for name, width in COLUMNS]
        headers += [(header, FIELD_WIDTH) for header in field_headers(self._fields)]
        for column, (name, width) in enumerate(headers):
            self._sheet.set_column(column, column, width)
            self._sheet.write_string(0, column, neutralize(name), bold)
        self._sheet.freeze_panes(1, 0)
        self._last_column = len(headers) - 1
        self.row_count = 0

    def append(self, rows: Sequence[ExportRow]) -> None:
        # One write_row a row: its cells typed by their Python type (str -> string, bool ->
        # boolean, datetime -> date in DATE_FORMAT, None or "" -> no cell), never guessed
        # from text (the strings_to_* options are off).
        text = neutralize
        moment = _moment
        fields = self._fields
        for number, row in enumerate(rows, start=self.row_count + 1):
            values: list[Any] = [
                text(row.token),
                row.status.value,
                row.delivery.value,
                text(row.email),
                text(row.first_name),
                text(row.last_name),
                text(row.language),
                text(row.groups),
                row.admin,
                moment(row.created_at),
                moment(row.sent_at),
                moment(row.expires_at),
                moment(row.accepted_at),
                text(row.address),
                text(row.projects),
                text(row.personal_message),
                text(row.failure_reason),
                text(row.link),
                text(row.registered_first_name),
                text(row.registered_last_name),
            ]
            days: list[tuple[int, datetime]] = []
            if row.field_values:
                for registration_field in fields:
                    value = _field_value(
                        registration_field.type, row.field_values.get(registration_field.key)
                    )
                    if isinstance(value, datetime):  # a date field: its own format, below
                        days.append((len(values), value))
                        value = None
                    values.append(value)
            self._sheet.write_row(number, 0, values)
            for column, day in days:
                self._sheet.write_datetime(number, column, day, self._day)
        self.row_count += len(rows)

    def close(self) -> None:
        """Finish the file: the filter buttons over every row, then the zip."""
        try:
            self._sheet.autofilter(0, 0, self.row_count, self._last_column)
            self._book.close()
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the row data written so far (`close` does this too)."""
        shutil.rmtree(self._directory, ignore_errors=True)


def _moment(value: datetime | None) -> datetime | None:
    """Excel dates carry no time zone: UTC, said so in the number format. Whole seconds, as
    shown: a fraction would come back differently from each reader."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0)


def _field_value(kind: FieldType, value: Any) -> str | bool | int | float | datetime | None:
    """A registration field's stored value as the template takes it back: numbers, booleans
    and dates (a datetime at midnight) as such, option keys and text as text."""
    if value is None:
        return None
    if kind is FieldType.CHECKBOX and isinstance(value, bool):
        return value
    if kind is FieldType.NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind is FieldType.DATE and isinstance(value, str) and _is_day(value):
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day)
    # Text, an option's key, or a value stored before the field changed type.
    return neutralize(value if isinstance(value, str) else str(value))


def _is_day(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
