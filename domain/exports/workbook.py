"""The token export's xlsx file, written row by row with openpyxl's write-only mode.

Cells, decided once for every column:
- Text (token, status, delivery, email, names, language, groups, address) is an explicit string cell
  (data type `s`, written inline): never a formula, and never an error value like `#N/A`.
- Text a spreadsheet could still take for a formula when someone edits the cell, re-enters it
  or saves the sheet as CSV (it starts with = + - @, a tab, CR or LF, or a full-width = + - @)
  gets a leading apostrophe, as OWASP advises for CSV injection: `=HYPERLINK("http://x")` is
  exported as `'=HYPERLINK("http://x")`. The apostrophe is part of the value, visible in the
  cell; only such values change (no token, status, language or date ever starts that way).
- Characters XML cannot carry (control characters other than tab, CR, LF) become U+FFFD.
- Dates are real Excel dates in UTC, to the second (so they sort and filter), shown as
  `yyyy-mm-dd hh:mm:ss "UTC"`; blank when the invitation has none (never sent, not accepted).
- `admin` is a boolean cell (TRUE/FALSE), as the import template reads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from domain.exports.rows import ExportRow

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
    ("address", 32),  # last: mail-merge templates that name columns by letter keep working
)
DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss "UTC"'
# Spreadsheets start a formula with = + - @; tab, CR and LF hide such a start from a reader's
# eye, and some spreadsheets read the full-width forms as the ASCII ones.
FORMULA_STARTERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralize(value: str) -> str:
    """Text a spreadsheet shows as written and never runs."""
    value = _NOT_IN_XML.sub("\ufffd", value)
    return "'" + value if value.startswith(FORMULA_STARTERS) else value


class ExportWorkbook:
    """One sheet: a header row, then `append` batches of rows; `save` once at the end.

    openpyxl keeps only the current row in memory and streams the sheet into a temporary file
    of its own; `save` zips it into the destination. Call `discard` if the export fails before
    `save` has finished, or that temporary file (every token in clear) stays behind.
    """

    def __init__(self) -> None:
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(SHEET_TITLE)
        for index, (_, width) in enumerate(COLUMNS, start=1):
            self._sheet.column_dimensions[get_column_letter(index)].width = width
        self._sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for name, _ in COLUMNS:
            cell = self._text(name)
            cell.font = bold
            header.append(cell)
        self._sheet.append(header)
        self.row_count = 0

    def append(self, rows: Sequence[ExportRow]) -> None:
        for row in rows:
            self._sheet.append(
                [
                    self._text(row.token),
                    self._text(row.status.value),
                    self._text(row.delivery.value),
                    self._text(row.email) if row.email else None,
                    self._text(row.first_name) if row.first_name else None,
                    self._text(row.last_name) if row.last_name else None,
                    self._text(row.language),
                    self._text(row.groups) if row.groups else None,
                    row.admin,
                    self._date(row.created_at),
                    self._date(row.sent_at),
                    self._date(row.expires_at),
                    self._date(row.accepted_at),
                    self._text(row.address) if row.address else None,
                ]
            )
        self.row_count += len(rows)

    def save(self, destination: Path) -> None:
        last_column = get_column_letter(len(COLUMNS))
        self._sheet.auto_filter.ref = f"A1:{last_column}{self.row_count + 1}"
        self._book.save(destination)

    def discard(self) -> None:
        """Remove openpyxl's temporary sheet file after a failed export (`save` removes it)."""
        writer = self._sheet._writer
        if writer is None:
            return
        if not self._sheet.closed:
            with suppress(Exception):  # half-written XML: we only want the file closed
                self._sheet.close()
        with suppress(OSError, ValueError):
            writer.cleanup()

    def _text(self, value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self._sheet, neutralize(value))
        # Set after the value: openpyxl infers 'f' for a leading '=' and 'e' for '#N/A'.
        cell.data_type = "s"
        return cell

    def _date(self, value: datetime | None) -> WriteOnlyCell | None:
        if value is None:
            return None
        # Excel dates carry no time zone: write UTC and say so in the number format. Whole
        # seconds, as shown: a fraction would come back differently from each reader.
        naive = value.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        cell = WriteOnlyCell(self._sheet, naive)
        cell.number_format = DATE_FORMAT
        return cell
