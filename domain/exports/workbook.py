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
  The platform has no time zone setting: UTC is said in each cell and on the second sheet.
  Date registration fields are dates without a time (`yyyy-mm-dd`).
- `admin` and checkbox registration fields are boolean cells (TRUE/FALSE), as the import
  template reads them; number registration fields are numbers.
- Registration fields come last, one column per field headed by its key, in the template's
  order; a key that another column already uses is headed `field:KEY`. An accepted
  invitation's are the person's answers; the others', what the invitation fills in in advance.

Words, in the export's locale (the admin's: the console's language): the status and delivery
values (the console's words for them), the group titles, and a second sheet that says what
each column holds, with the keys the status and delivery values stand for. The first row of
the first sheet keeps the column keys, the same in every language: what mail merges and
scripts read.
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

from domain import i18n
from domain.exports.rows import ExportRow
from domain.models import DeliveryState, FieldType, InvitationStatus, RegistrationField
from domain.titles import title_in

SHEET_TITLE = "invitations"
# (header, column width in characters, the message that says what it holds). Headers match
# the import template's where they overlap.
COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("token", 20, "export.column.token"),
    ("status", 10, "export.column.status"),
    ("delivery", 10, "export.column.delivery"),
    ("email", 32, "export.column.email"),
    ("first_name", 16, "export.column.first_name"),
    ("last_name", 18, "export.column.last_name"),
    ("language", 10, "export.column.language"),
    ("groups", 30, "export.column.groups"),
    ("admin", 8, "export.column.admin"),
    ("created_at", 24, "export.column.created_at"),
    ("sent_at", 24, "export.column.sent_at"),
    ("expires_at", 24, "export.column.expires_at"),
    ("accepted_at", 24, "export.column.accepted_at"),
    # Columns added later come after these: mail-merge templates that name columns by letter
    # keep working.
    ("address", 32, "export.column.address"),
    ("projects", 30, "export.column.projects"),
    ("personal_message", 40, "export.column.personal_message"),
    ("failure_reason", 40, "export.column.failure_reason"),
    ("link", 60, "export.column.link"),
    ("registered_first_name", 16, "export.column.registered_first_name"),
    ("registered_last_name", 18, "export.column.registered_last_name"),
    ("registered_email", 32, "export.column.registered_email"),
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
    taken = {name for name, _, _ in COLUMNS}
    return [f"field:{f.key}" if f.key in taken else f.key for f in fields]


class ExportWorkbook:
    """The invitations' sheet: a header row, then `append` batches of rows; `close` once at
    the end. Then a sheet that explains the columns in `locale`, written at once.

    xlsxwriter writes each finished row to a file of its own and zips the parts into
    `destination` on `close`. Those files (every token in clear) live in a directory this
    workbook makes and removes: on `close`, or on `discard` if the export fails first.
    """

    def __init__(
        self,
        destination: BinaryIO,
        fields: Sequence[RegistrationField] = (),
        locale: str = i18n.SOURCE_LOCALE,
    ) -> None:
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
        headers = [(name, width) for name, width, _ in COLUMNS]
        headers += [(header, FIELD_WIDTH) for header in field_headers(self._fields)]
        for column, (name, width) in enumerate(headers):
            self._sheet.set_column(column, column, width)
            self._sheet.write_string(0, column, neutralize(name), bold)
        self._sheet.freeze_panes(1, 0)
        self._last_column = len(headers) - 1
        self.row_count = 0
        words = i18n.words(locale)
        self._locale = locale
        self._statuses = {s: words(f"admin.invitations.status_{s.value}") for s in InvitationStatus}
        self._deliveries = {
            d: words(f"admin.invitations.delivery_{d.value}") for d in DeliveryState
        }
        self._explain(words, headers, bold)

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
                self._statuses[row.status],
                self._deliveries[row.delivery],
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
                text(row.registered_email),
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

    def _explain(
        self, words: i18n.Words, headers: Sequence[tuple[str, float]], bold: Format
    ) -> None:
        """The second sheet: what each column holds, and what the status and delivery words
        stand for, in the export's language."""
        sheet = self._book.add_worksheet(_sheet_name(words("export.about_sheet")))
        sheet.set_column(0, 0, 24)
        sheet.set_column(1, 1, 100)
        wrap = self._book.add_format({"text_wrap": True, "valign": "top"})
        lines = [
            (words("export.about_title"), "", bold),
            (words("export.about_rows", sheet=SHEET_TITLE), "", None),
            (words("export.about_dates"), "", None),
            ("", "", None),
            (words("export.about_column"), words("export.about_meaning"), bold),
        ]
        described = [words(meaning) for _, _, meaning in COLUMNS]
        described += [self._field_meaning(words, f) for f in self._fields]
        lines += [
            (header, meaning, wrap) for (header, _), meaning in zip(headers, described, strict=True)
        ]
        lines += [("", "", None), (words("export.about_word"), words("export.about_key"), bold)]
        lines += [(word, status.value, None) for status, word in self._statuses.items()]
        lines += [(word, state.value, None) for state, word in self._deliveries.items()]
        for number, (first, second, style) in enumerate(lines):
            if first:
                sheet.write_string(number, 0, neutralize(first), style)
            if second:
                sheet.write_string(number, 1, neutralize(second), style)

    def _field_meaning(self, words: i18n.Words, field: RegistrationField) -> str:
        title = title_in(field.title, field.title_multiloc, self._locale)
        meaning = words("export.column.field", title=title)
        if field.type is FieldType.SELECT and field.options:
            options = ", ".join(
                f"{option.get('key')} = " + _option_title(option, self._locale)
                for option in field.options
            )
            meaning += " " + words("export.column.field_options", options=options)
        return meaning

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


def _option_title(option: dict[str, Any], locale: str) -> str:
    title = str(option.get("title") or option.get("key") or "")
    return title_in(title, option.get("title_multiloc") or {}, locale)


def _sheet_name(name: str) -> str:
    """A name a worksheet may have: 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31].strip() or "about"


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
