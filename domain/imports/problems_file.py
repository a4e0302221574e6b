"""A failed import's problems as a workbook to fix in place and upload again.

Why this form: the admin's own rows come back, every row at its sheet row, every value where
it was, and each cell with a problem is marked (a red fill and a comment saying what is
wrong), so the admin fixes the cells where they are and uploads the same file again: the
import reads only the first visible worksheet, so the marks and a second sheet listing every problem
(row, column, cell, value, code, message) are no obstacle. A table of problems alone would
send the admin back to their own file to find each row; the uploaded file with a problems
column would need that column deleted before the next upload (the import refuses a column
it does not know).

What comes back is the values of the sheet the import read, as it read them (a formula's saved
result, not the formula; no formatting, no other sheet). Text comes back as text cells,
unchanged: these are the admin's own values, and the next upload must read them the same
(a value that looks like a formula stays a text cell, which no spreadsheet runs).

The words are the admin's (the language of the console that downloads it): a problem the
console words by its code (`admin.problem.<CODE>`) says the same here, in the same language;
any other keeps the import's message. The values, columns and codes stay as they are.

The upload of a failed import is kept for `INVITES_IMPORT_PROBLEMS_FILE_DAYS` when its
problems name rows (`domain.imports.service`); after that, or when its problems concern
the file as a whole, the workbook holds the list of problems only.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from babel.numbers import format_decimal
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from domain import i18n
from domain.errors import DomainError, ErrorCode, Problem
from domain.imports.rows import header_key, is_header_row
from domain.imports.service import problems_of
from domain.imports.xlsx import Limits, Sheet, column_index, read_first_sheet
from domain.models import ImportStatus, InvitationImport
from domain.settings import get_settings

# openpyxl's write-only sheet (its class lives in a private module).
SheetWriter = Any
MARK = PatternFill("solid", fgColor="FFC7CE")
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LETTERS = re.compile(r"[A-Z]{1,3}")


@dataclass(slots=True)
class ProblemsFile:
    """A failed import's problems workbook, open for reading; its name is gone from disk."""

    file: BinaryIO
    size: int
    file_name: str  # for the download: the upload's name with "-problems"


async def problems_file(import_id: int, locale: str = i18n.SOURCE_LOCALE) -> ProblemsFile:
    """The problems workbook of a failed import, its words in `locale`, in a temporary file
    for a download to stream (it holds the upload's personal data: its name is removed once
    it is open)."""
    record = await InvitationImport.get_or_none(id=import_id)
    if record is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "There is no such import.", "id")
    if record.status is not ImportStatus.FAILED:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT,
            "This import has not failed: it has no problems to download.",
            "id",
        )
    problems, upload = problems_of(record), record.content
    limits = Limits.from_settings(get_settings())
    descriptor, name = await asyncio.to_thread(
        tempfile.mkstemp, prefix="invitations-import-problems-", suffix=".xlsx"
    )
    os.close(descriptor)
    path = Path(name)
    try:
        await asyncio.to_thread(write_problems_workbook, path, problems, upload, limits, locale)
        file = await asyncio.to_thread(path.open, "rb")
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    stem = PurePosixPath(record.file_name or f"import-{record.id}.xlsx").stem
    return ProblemsFile(
        file=file, size=os.fstat(file.fileno()).st_size, file_name=f"{stem}-problems.xlsx"
    )


def write_problems_workbook(
    destination: Path,
    problems: list[Problem],
    upload: bytes | None,
    limits: Limits,
    locale: str = i18n.SOURCE_LOCALE,
) -> None:
    """Write the workbook, its words in `locale` (CPU-bound: run it in a thread). Without an
    upload, or with one that cannot be read any more, only the list of problems."""
    t = i18n.words(locale)
    explain = _explainer(t, get_settings().locales)
    book = Workbook(write_only=True)
    sheet: Sheet | None = None
    if upload is not None and any(problem.row for problem in problems):
        try:
            sheet = read_first_sheet(upload, limits, is_header_row)
        except DomainError:
            sheet = None
    located: list[tuple[Problem, Place | None]] = [(problem, None) for problem in problems]
    if sheet is not None:
        rows = list(sheet.rows)
        located = _locate(problems, rows, sheet.first_column, sheet.header_row)
        out = book.create_sheet(t("admin.template.sheet"))
        _write_rows(out, rows, sheet.first_column, located, explain, t)
    out = book.create_sheet(t("admin.problems_file.sheet"))
    _write_list(out, located, explain, t, upload_shown=sheet is not None)
    book.save(destination)


def _explainer(t: i18n.Words, locales: list[str]) -> Callable[[Problem], str]:
    """What a problem says, as the console says it (api/static/admin/client.js problemWords):
    the catalog's words for its code and reason (`admin.problem.CODE.REASON`), else for its
    reason whatever the code (`admin.reason.REASON`), else for its code, filled in with its
    value, groups and details; else the import's message."""
    by_code: dict[ErrorCode, str | None] = {}
    languages = ", ".join(locales)

    def explain(problem: Problem) -> str:
        if problem.reason is not None:
            reason = problem.reason.value
            for key in (f"admin.problem.{problem.code.value}.{reason}", f"admin.reason.{reason}"):
                if t.knows(key) or t.catalog.knows(key, plural=True):
                    return _words_for(t, key, problem, languages)
        if problem.code not in by_code:
            key = f"admin.problem.{problem.code.value}"
            known = t.knows(key)
            by_code[problem.code] = t(key, languages=languages) if known else None
        return by_code[problem.code] or problem.message

    return explain


def _words_for(t: i18n.Words, key: str, problem: Problem, languages: str) -> str:
    details = dict(problem.details)
    for name in ("count", "shown", "total"):
        if details.get(name, "").isdigit():
            details[name] = format_decimal(int(details[name]), locale=t.catalog.babel_locale)
    if "attribute" in details and "operator" in details:
        details["rule"] = _rule_words(t, details)
    values = {
        **details,
        "value": problem.value or "",
        "groups": ", ".join(_quoted(t, group) for group in problem.groups),
        "languages": languages,
    }
    try:
        if t.catalog.knows(key, plural=True):
            # Words about groups have a form for one group and for several; the marker of
            # the problems left out, for as many as it counts.
            count = dict(problem.details).get("count", "")
            number = int(count) if count.isdigit() else len(problem.groups)
            return t.plural(key, number, **{"count": number, **values})
        return t(key, **values)
    except KeyError:  # a detail the words name is missing (an import of an older release)
        return problem.message


def _rule_words(t: i18n.Words, details: dict[str, str]) -> str:
    """A smart group's rule in the catalog's language, as the groups page words it."""
    attribute, operator = details["attribute"], details["operator"]
    what = (
        details.get("subject", "")
        if attribute == "field"
        else t(f"admin.groups.attr_{attribute}")
        if t.knows(f"admin.groups.attr_{attribute}")
        else None
    )
    how = t(f"admin.groups.op_{operator}") if t.knows(f"admin.groups.op_{operator}") else None
    if not what or how is None:
        return details.get("rule", "")
    return f"{what} {how} {details.get('values', '')}"


def _quoted(t: i18n.Words, text: str) -> str:
    return f"\u00ab {text} \u00bb" if t.locale.startswith("fr") else f"\u2018{text}\u2019"


Place = tuple[int, int]  # (sheet row, 0-based sheet column)


def _locate(
    problems: list[Problem], rows: list[list[Any]], first_column: int, header_row: int = 0
) -> list[tuple[Problem, Place | None]]:
    """Each problem with its cell. A problem names its column by the header's name (a
    template column or a field's key), or by its letter (a column the template does not
    have); one with a row but no column it names marks the row's email cell."""
    header: dict[str, int] = {}
    for number, values in enumerate(rows, start=1):
        if number == header_row or (not header_row and any(not _blank(v) for v in values)):
            for position, value in enumerate(values):
                if not _blank(value):
                    header.setdefault(header_key(value), first_column + position)
            break
    located: list[tuple[Problem, Place | None]] = []
    for problem in problems:
        if not problem.row:
            located.append((problem, None))
            continue
        field = (problem.field or "").removeprefix("registrationFieldValues.")
        if field in header:
            column = header[field]
        elif _LETTERS.fullmatch(field):
            column = column_index(field)
        else:
            column = header.get("email", first_column)
        located.append((problem, (problem.row, column)))
    return located


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and value.isspace())


def _reference(cell: Place) -> str:
    return f"{get_column_letter(cell[1] + 1)}{cell[0]}"


def _write_rows(
    out: SheetWriter,
    rows: list[list[Any]],
    first_column: int,
    located: list[tuple[Problem, Place | None]],
    explain: Callable[[Problem], str],
    t: i18n.Words,
) -> None:
    """Every row at its sheet row, each problem's cell marked with its messages."""
    author = t("admin.problems_file.author")
    messages: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for problem, cell in located:
        if cell is not None:
            messages[cell[0]][cell[1]].append(explain(problem))
    for number, values in enumerate(rows, start=1):
        line: list[Any] = [None] * first_column + [_value(out, value) for value in values]
        for column, texts in messages.get(number, {}).items():
            while len(line) <= column:
                line.append(None)
            marked = line[column]
            if not isinstance(marked, Cell):
                marked = WriteOnlyCell(out, marked)
            marked.fill = MARK
            marked.comment = Comment("\n".join(texts), author, width=320, height=120)
            line[column] = marked
        out.append(line)


def _value(out: SheetWriter, value: Any) -> Any:
    """A value as the import read it; text always as a text cell."""
    if not isinstance(value, str):
        return value
    if value == "":
        return None
    text = _NOT_IN_XML.sub("\ufffd", value)
    if text.startswith("=") or text in ERROR_CODES:
        cell = WriteOnlyCell(out, text)
        cell.data_type = "s"  # after the value: openpyxl would infer a formula or an error
        return cell
    return text


def _write_list(
    out: SheetWriter,
    located: list[tuple[Problem, Place | None]],
    explain: Callable[[Problem], str],
    t: i18n.Words,
    *,
    upload_shown: bool,
) -> None:
    bold = Font(bold=True)
    for letter, width in zip("ABCDEF", (8, 18, 8, 30, 26, 90), strict=True):
        out.column_dimensions[letter].width = width
    header = []
    for key in (
        "admin.problems_file.row",
        "admin.problems_file.column",
        "admin.problems_file.cell",
        "admin.problems_file.value",
        "admin.problems_file.code",
        "admin.problems_file.problem",
    ):
        heading = WriteOnlyCell(out, t(key))
        heading.font = bold
        header.append(heading)
    out.append(header)
    for problem, cell in located:
        out.append(
            [
                problem.row,
                _text(out, problem.field),
                _text(out, _reference(cell) if cell is not None else None),
                _text(out, problem.value),
                problem.code.value,
                _text(out, explain(problem)),
            ]
        )
    if not upload_shown:
        out.append([])
        out.append([None] * 5 + [_text(out, t("admin.problems_file.not_kept"))])


def _text(out: SheetWriter, value: str | None) -> Cell | None:
    if value is None:
        return None
    cell = WriteOnlyCell(out, _NOT_IN_XML.sub("\ufffd", value))
    cell.data_type = "s"
    return cell
