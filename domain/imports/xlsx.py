"""Uploaded .xlsx files: refuse what is not a plain workbook before a parser sees it, then read
its first visible worksheet with calamine (chart sheets and hidden sheets are passed over).

calamine is fast but trusts its input: it inflates whatever the zip holds, and it keeps the used
rectangle of a sheet as a dense grid (32 bytes a cell), so a 5 KB file with values in A1 and
XFD1048576 asks for 550 GB and aborts the whole process. So, before calamine runs:

- the upload is a zip (not an .xls, a PDF or an empty file) of at most `max_file_bytes`, with
  the parts of a workbook and no VBA project or macro sheet (an .xlsm without them is read);
  part names are matched as calamine matches them: case aside, '\\' as '/';
- it has few entries, each inflating to at most `max_ratio` times its packed size and all of them
  to at most `max_uncompressed_bytes`, counted while inflating (and CRC-checked), not as declared;
- no XML part declares a DOCTYPE or entities (billion laughs), whether it is UTF-8 or, as
  Excel writes a Power Query's customXml item, UTF-16 with a byte-order mark;
- the sheet's used area, read from its cell references, fits `max_rows` and `max_cells`.

The sheet is scanned in chunks cut before a '<', so no tag spans two chunks and memory stays at
a few MiB whatever the size. Cells the import cannot trust (error values such as #N/A, formulas
whose result was never saved, such as openpyxl writes with an empty `<v />`) are noted, so they
are reported instead of read as blank.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import IO
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import python_calamine
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from domain.errors import DomainError, ErrorCode, Problem, Reason
from domain.settings import Settings

Cell = str | float | int | bool | date | datetime | time | timedelta

MIB = 1024 * 1024
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
_ZIP = b"PK\x03\x04"
_OLE2 = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls files, and Office files encrypted with a password
)
_CHUNK = 4 * MIB
_MAX_CARRY = 16 * MIB  # no real XML goes this long without a '<'
_SMALL_PART = MIB  # workbook.xml and its relationships are read whole
_RATIO_CHECKED_FROM = MIB  # small parts (styles, themes) may compress very well
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
# Macros are code in a part: a VBA project, or an Excel 4.0 macro sheet. The macro-enabled
# content type alone (an .xlsm saved without any macro) holds none.
_MACRO_CONTENT_TYPES = ("vbaproject", "macrosheet")

_DOCTYPE = re.compile(rb"<!\s*(?:doctype|entity)", re.IGNORECASE)
# The fast scan relies on every cell being written `<c r="A1"...`, as Excel, LibreOffice and
# openpyxl do; it counts cells in any spelling and falls back to exact parsing otherwise.
_CELL_STANDARD = b'<c r="'
_CELL_PLAIN = re.compile(rb"<c[\s/>]")
_CELL_PREFIXED = re.compile(rb"<[\w.-]+:c[\s/>]")
# Columns of two or more letters, in cells that hold something (not self-closing).
_WIDE_CELL = re.compile(rb'<c r="([A-Za-z]{2,})[0-9]+"[^>]*(?<!/)>')
_ERROR_CELL = re.compile(rb'<c r="([A-Za-z]{1,3}[0-9]{1,7})"[^>]*?\st="e"')
# A formula with no <v>, or an empty one (openpyxl writes `<v />`); an empty text result
# (t="str", `<v></v>`) is a saved result, the empty string.
_FORMULA_WITHOUT_RESULT = re.compile(
    rb'<c r="([A-Za-z]{1,3}[0-9]{1,7})"([^>]*)>\s*<f\b[^>]*(?:/>|>[^<]*</f>)\s*'
    rb"(<v\s*/>|<v>\s*</v>)?\s*</c>"
)
_TEXT_TYPE = re.compile(rb'\st="str"')
_CELL_ROW = re.compile(rb'<c r="[A-Za-z]{1,3}([0-9]{1,7})"')
_REFERENCE = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
# A row hidden by hand or by a filter: Excel and openpyxl write hidden="1", LibreOffice
# hidden="true" (and hidden="false" on every other row).
_HIDDEN_ROW = re.compile(rb'<row\b[^>]*?\shidden="(?:1|true)"[^>]*>')
_ROW_NUMBER = re.compile(rb'\sr="([0-9]{1,7})"')
HEADER_SEARCH_ROWS = 10  # the header is looked for in the first rows of each visible sheet

ERROR_VALUE = "an error value (such as #N/A)"
FORMULA_WITHOUT_RESULT = "a formula whose result was never saved"


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 20 * MIB
    max_rows: int = 200_000  # data rows, below the header
    max_entries: int = 1_000
    max_uncompressed_bytes: int = 256 * MIB
    # For XML parts, which the import parses. Deflate packs at most about 1,030 to 1, as zip
    # bombs do; real parts of 1 MiB and more pack 12 to 19 to 1 (tests/workbooks/
    # measure_ratios.py: 100,000 rows by xlsxwriter or openpyxl 12, 50,000 by LibreOffice 19,
    # 1,000,000 formatted empty cells 12 to 15). Pictures are not held to it: a screenshot
    # saved as a bitmap packs 818 to 1, as a bomb does; they count towards
    # max_uncompressed_bytes as they are inflated, like every part.
    max_ratio: int = 300
    max_cells: int = 6_000_000  # calamine's dense grid: about 190 MiB at 32 bytes a cell

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(max_file_bytes=settings.import_max_file_bytes, max_rows=settings.import_max_rows)


@dataclass(slots=True)
class Sheet:
    """The sheet read (the first visible worksheet) as calamine reads it. `rows` yields every
    row from the sheet's row 1 (so a row's number is its index + 1); each row's values start
    at column `first_column`."""

    rows: Iterator[list[Cell]]
    first_column: int
    # (row number, 0-based column) -> why the cell cannot be read as data
    unreadable: dict[tuple[int, int], str] = field(default_factory=dict)
    row_count: int = 0  # how many rows `rows` yields
    name: str = ""  # its name, as the workbook's tabs show it
    passed_over: tuple[str, ...] = ()  # the sheets before it, not read
    hidden_rows: frozenset[int] = frozenset()  # row numbers hidden by hand or by a filter
    # The header's row number when it was looked for and found (0: the first non-blank row);
    # `searched` names the visible worksheets looked at when it was not found on any.
    header_row: int = 0
    searched: tuple[str, ...] = ()
    first_visible: bool = True  # the workbook's first visible worksheet (or visible sheets
    # before it were passed over: they have no header row)
    checked: CheckedWorkbook | None = None  # what check_workbook found of this sheet


def column_letter(index: int) -> str:
    """'A' for 0, 'AA' for 26: the column as the spreadsheet shows it."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _refuse(code: ErrorCode, message: str, reason: Reason | None = None) -> DomainError:
    return DomainError(Problem(code, message, "file", reason=reason))


def _damaged() -> DomainError:
    return _refuse(
        ErrorCode.UNPARSEABLE_FILE,
        "The file cannot be read: it is damaged, or it was not saved by a spreadsheet program."
        " Open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx).",
    )


def _mib(size: int) -> str:
    return f"{size / MIB:.1f}".removesuffix(".0")


def check_upload(content: bytes, limits: Limits) -> None:
    """What the bytes alone tell, cheaply: checked at upload and again before reading."""
    if not content:
        raise _refuse(ErrorCode.NOT_AN_XLSX_FILE, "The file is empty: upload an Excel workbook.")
    if len(content) > limits.max_file_bytes:
        raise _refuse(
            ErrorCode.FILE_TOO_LARGE,
            f"The file is larger than {_mib(limits.max_file_bytes)} MiB, the most an import"
            " takes. Split it into several files.",
        )
    if content.startswith(_OLE2):
        raise _refuse(
            ErrorCode.NOT_AN_XLSX_FILE,
            "This is an old Excel file (.xls) or a workbook protected by a password: save it as"
            " an Excel Workbook (.xlsx) without a password.",
            Reason.OLD_OR_PROTECTED,
        )
    if not content.startswith(_ZIP):
        raise _refuse(
            ErrorCode.NOT_AN_XLSX_FILE,
            "This is not an Excel workbook (.xlsx). Fill in the template and save it as .xlsx.",
        )


HeaderTest = Callable[[list[Cell]], bool]


def read_first_sheet(content: bytes, limits: Limits, header: HeaderTest | None = None) -> Sheet:
    """Check the whole file, then open the sheet to read with calamine (see open_first_sheet).
    CPU-bound: run it in a thread. Raises DomainError for anything refused."""
    checked = check_workbook(content, limits)
    sheet = open_first_sheet(content, limits, checked.unreadable, checked, header)
    if sheet.checked is not None and sheet.checked is not checked:
        sheet.unreadable = unreadable_positions(sheet.checked.unreadable)
    return sheet


def open_first_sheet(
    content: bytes,
    limits: Limits,
    unreadable: dict[str, str],
    checked: CheckedWorkbook | None = None,
    header: HeaderTest | None = None,
) -> Sheet:
    """Parse the sheet check_workbook chose and checked (it returned `unreadable` and
    `checked`; without `checked`, the workbook's first sheet). With `header`, the sheet read is
    the first visible worksheet with a row `header` accepts among its first
    HEADER_SEARCH_ROWS (a title or notes may come first); when none has one, the first visible
    worksheet, its `searched` naming those looked at. Another sheet than `checked`'s is read with
    its own check (`Sheet.checked`), whose unreadable cells the caller takes. A merged range's
    value is in each of its cells, as the spreadsheet shows it. calamine parses without holding
    the GIL: other threads run meanwhile."""
    candidates = [checked, *checked.others] if checked else [None]
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # calamine's errors, and a Rust panic surfacing as PanicException
        raise _damaged() from None
    first: Sheet | None = None
    for candidate in candidates:
        sheet = _open_sheet(workbook, candidate, limits)
        if header is None:
            first = sheet
            break
        peeked: list[list[Cell]] = []
        for row in sheet.rows:
            peeked.append(row)
            if header(row):
                sheet.header_row = len(peeked)
                sheet.first_visible = candidate is candidates[0]
                sheet.rows = _chained(peeked, sheet.rows)
                if candidate is checked:
                    sheet.unreadable = unreadable_positions(unreadable)
                return sheet
            if len(peeked) == HEADER_SEARCH_ROWS:
                break
        if first is None:
            first = sheet
            first.rows = _chained(peeked, sheet.rows)
    assert first is not None
    if header is not None and checked is not None:
        first.searched = tuple(c.sheet_name for c in candidates if c is not None)
    first.unreadable = unreadable_positions(unreadable)
    return first


def _open_sheet(
    workbook: python_calamine.CalamineWorkbook, checked: CheckedWorkbook | None, limits: Limits
) -> Sheet:
    index = checked.sheet_index if checked else 0
    try:
        if checked is not None:
            # The sheet calamine opens must be the one whose part was checked.
            metadata = workbook.sheets_metadata
            if index >= len(metadata) or metadata[index].name != checked.sheet_name:
                raise _damaged()
        sheet = workbook.get_sheet_by_index(index)
        start, height = sheet.start, sheet.height
        merged = (sheet.merged_cell_ranges or []) if start is not None else []
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # calamine's errors, and a Rust panic surfacing as PanicException
        raise _damaged() from None
    name = checked.sheet_name if checked else ""
    passed_over = checked.passed_over if checked else ()
    hidden = checked.hidden_rows if checked else frozenset()
    if start is None:
        return Sheet(
            rows=iter(()), first_column=0, name=name, passed_over=passed_over, checked=checked
        )
    if height - 1 > limits.max_rows:
        raise _too_many_rows(start[0] + height, limits)
    rows = _rows(sheet, start[0] + height)
    if merged:
        rows = _filled(rows, merged, start[1])
    return Sheet(
        rows=rows,
        row_count=start[0] + height,
        first_column=start[1],
        name=name,
        passed_over=passed_over,
        hidden_rows=hidden,
        checked=checked,
    )


def _chained(first: list[list[Cell]], rest: Iterator[list[Cell]]) -> Iterator[list[Cell]]:
    yield from first
    yield from rest


MergedRange = tuple[tuple[int, int], tuple[int, int]]


def _filled(
    rows: Iterator[list[Cell]], merged: list[MergedRange], first_column: int
) -> Iterator[list[Cell]]:
    """The rows with each merged range's value (its top-left cell's, the only one a file
    keeps) in every cell of the range: what the spreadsheet shows. Ranges are 0-based
    ((first row, first column), (last row, last column)), rows counted from the sheet's row 1,
    as calamine gives them."""
    waiting = sorted(merged, key=lambda found: found[0][0], reverse=True)
    active: list[tuple[int, int, int, Cell]] = []  # last row, first and last position, value
    for index, row in enumerate(rows):
        while waiting and waiting[-1][0][0] <= index:
            (top, left), (bottom, right) = waiting.pop()
            position = left - first_column
            value: Cell = row[position] if 0 <= position < len(row) else ""
            if top == index and value != "":
                active.append((bottom, max(position, 0), right - first_column, value))
        if active:
            for _, start, end, value in active:
                for position in range(start, min(end + 1, len(row))):
                    row[position] = value
            active = [entry for entry in active if entry[0] > index]
        yield row


def unreadable_positions(unreadable: dict[str, str]) -> dict[tuple[int, int], str]:
    """Unreadable cells by (row number, 0-based column) instead of reference ('B7')."""
    return {
        (int(match.group(2)), column_index(match.group(1))): why
        for ref, why in unreadable.items()
        if (match := _REFERENCE.fullmatch(ref))
    }


def _rows(sheet: python_calamine.CalamineSheet, expected: int) -> Iterator[list[Cell]]:
    count = 0
    try:
        for row in sheet.iter_rows():
            count += 1
            yield row
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException:
        raise _damaged() from None
    # Row numbers in errors depend on iter_rows starting at the sheet's row 1.
    if count != expected:
        raise RuntimeError(f"python-calamine yielded {count} rows, expected {expected}")


def _too_many_rows(last_row: int, limits: Limits) -> DomainError:
    return _refuse(
        ErrorCode.TOO_MANY_ROWS,
        f"The sheet goes down to row {last_row:,}; an import takes at most {limits.max_rows:,}"
        " rows below the header. Split it into several files.",
    )


# ---------------------------------------------------------------------------------------------
# The checks before any parser runs


@dataclass(frozen=True, slots=True)
class CheckedWorkbook:
    unreadable: dict[str, str]  # the sheet's cells that cannot be read: reference -> why
    rows_seen: int  # its <row> elements (or a few more: the fast scan counts '<row' prefixes)
    sheet_part: str = ""  # the sheet's part in the zip, as the zip names it
    unreadable_deferred: bool = False  # not looked for yet: find_unreadable() does
    sheet_index: int = 0  # the sheet read: the first visible worksheet, calamine's index
    sheet_name: str = ""
    passed_over: tuple[str, ...] = ()  # names of the sheets before it
    hidden_rows: frozenset[int] = frozenset()  # its rows hidden by hand or by a filter
    # The visible worksheets after it, each checked the same way: the rows may be on one of
    # them (open_first_sheet looks for the header).
    others: tuple[CheckedWorkbook, ...] = ()


def check_workbook(
    content: bytes, limits: Limits, *, defer_unreadable: bool = False
) -> CheckedWorkbook:
    """Refuse anything unsafe or not a workbook; returns what the scan learnt of the first
    sheet. With `defer_unreadable`, the fast scan leaves the cells that cannot be read (error
    values, formulas without a result) to find_unreadable(): they are not about safety, and an
    import looks for them while calamine parses, off the way to its first rows."""
    check_upload(content, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise _damaged() from None
    _check_entries(entries, limits)
    names = {_part_name(entry.filename): entry.filename for entry in entries}
    if len(names) != len(entries):  # two entries calamine could take for one another
        raise _damaged()
    if "xl/workbook.xml" not in names:
        raise _refuse(
            ErrorCode.NOT_AN_XLSX_FILE,
            "This is not an Excel workbook (.xlsx), perhaps another kind of document or an"
            " OpenDocument spreadsheet. Fill in the template and save it as .xlsx.",
        )
    _refuse_macros(archive, names)
    visible = _visible_worksheets(archive, names)
    scans = {
        names[chosen.part]: _SheetScan(limits, looks_for_unreadable=not defer_unreadable)
        for chosen in visible
    }
    total = 0
    for entry in entries:
        total = _inflate(archive, entry, total, limits, scans.get(entry.filename))
    checked = []
    for chosen in visible:
        sheet_part = names[chosen.part]
        scan = scans[sheet_part]
        if not scan.standard_only:
            scan = _exact_scan(archive, sheet_part)  # finds the unreadable cells too
        elif scan.row_bound_assumed and scan.area > limits.max_cells:
            scan.max_row = _last_row(archive, sheet_part)  # a wide sheet: its real height
        _check_area(scan, limits)
        checked.append(
            CheckedWorkbook(
                scan.unreadable,
                scan.rows,
                sheet_part,
                unreadable_deferred=not scan.looks_for_unreadable,
                sheet_index=chosen.index,
                sheet_name=chosen.name,
                passed_over=chosen.passed_over,
                hidden_rows=frozenset(scan.hidden_rows),
            )
        )
    return replace(checked[0], others=tuple(checked[1:]))


def _part_name(name: str) -> str:
    """A zip entry's name as calamine looks parts up: case aside, with '\\' as '/'."""
    return name.replace("\\", "/").lower()


def _refuse_macros(archive: zipfile.ZipFile, names: dict[str, str]) -> None:
    """A VBA project or a macro sheet, found by its part (Excel names the VBA project
    xl/vbaProject.bin) or by the content type the package gives an existing part."""
    found = next(
        (
            names[name]
            for name in names
            if name.endswith("vbaproject.bin") or name.startswith("xl/macrosheets/")
        ),
        None,
    )
    if found is None and "[content_types].xml" in names:
        try:
            types: Element = fromstring(_read_small(archive, names["[content_types].xml"]))
        except (ParseError, DefusedXmlException):
            raise _damaged() from None
        for declared in types.iter():
            kind = declared.get("ContentType", "").lower()
            if not any(marker in kind for marker in _MACRO_CONTENT_TYPES):
                continue
            if _local(declared.tag) == "Override":
                part = _part_name(declared.get("PartName", "").lstrip("/\\"))
                found = names.get(part)
            else:  # a Default: every part with that extension
                extension = "." + declared.get("Extension", "").lower()
                found = next((names[n] for n in names if n.endswith(extension)), None)
            if found is not None:
                break
    if found is not None:
        raise _refuse(
            ErrorCode.NOT_AN_XLSX_FILE,
            f"This workbook contains macros ({found}). Save it as an Excel Workbook (.xlsx),"
            " which leaves the macros out, and upload that.",
        )


def find_unreadable(content: bytes, checked: CheckedWorkbook) -> dict[str, str]:
    """The sheet's cells that cannot be read, by reference: those check_workbook found,
    or, if it deferred them, found now by a second pass over the sheet's XML (the file passed
    every check already)."""
    if not checked.unreadable_deferred:
        return checked.unreadable
    scan = _SheetScan()
    try:
        with zipfile.ZipFile(io.BytesIO(content)).open(checked.sheet_part) as stream:
            for chunk, _ in _chunks(stream, is_xml=True):
                scan.look_for_unreadable(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError):
        raise _damaged() from None
    return scan.unreadable


def _check_entries(entries: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(entries) > limits.max_entries:
        raise _refuse(
            ErrorCode.UNPARSEABLE_FILE,
            f"The file holds {len(entries):,} parts; a workbook has far fewer. Save it again as"
            " an Excel Workbook (.xlsx).",
        )
    if len({entry.filename for entry in entries}) != len(entries):
        raise _damaged()
    declared = 0
    for entry in entries:
        if entry.flag_bits & 0x1 or entry.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            raise _damaged()
        declared += entry.file_size
        if (
            entry.file_size > _RATIO_CHECKED_FROM
            and entry.file_size > limits.max_ratio * max(entry.compress_size, 1)
            and entry.filename.lower().endswith(_XML_SUFFIXES)
        ):
            raise _refuse(
                ErrorCode.UNPARSEABLE_FILE,
                f"A part of this file unpacks to {entry.file_size // max(entry.compress_size, 1):,}"
                " times its size, which spreadsheets never do (a 'zip bomb').",
            )
    if declared > limits.max_uncompressed_bytes:
        raise _unpacks_too_large(limits)


def _unpacks_too_large(limits: Limits) -> DomainError:
    return _refuse(
        ErrorCode.FILE_TOO_LARGE,
        f"The file unpacks to more than {_mib(limits.max_uncompressed_bytes)} MiB."
        " Split it into several files.",
    )


def _read_small(archive: zipfile.ZipFile, name: str | None) -> bytes:
    if name is None:
        raise _damaged()
    try:
        entry = archive.getinfo(name)
        if entry.file_size > _SMALL_PART:
            raise _damaged()
        with archive.open(entry) as stream:
            data = stream.read(_SMALL_PART + 1)
    except (zipfile.BadZipFile, zlib.error, KeyError, EOFError, OSError, ValueError, RuntimeError):
        raise _damaged() from None
    _check_xml_chunk(data, first=True)
    return data


@dataclass(frozen=True, slots=True)
class _Chosen:
    part: str  # as _part_name gives it
    index: int  # among the workbook's sheets, as calamine counts them
    name: str
    passed_over: tuple[str, ...]


def _visible_worksheets(archive: zipfile.ZipFile, names: dict[str, str]) -> list[_Chosen]:
    """The sheets an import may read: the workbook's worksheets that are not hidden (a chart
    sheet or a hidden sheet of notes may come first), in order, their parts resolved as
    calamine resolves them."""
    try:
        workbook: Element = fromstring(_read_small(archive, names["xl/workbook.xml"]))
        relations: Element = fromstring(
            _read_small(archive, names.get("xl/_rels/workbook.xml.rels"))
        )
    except (ParseError, DefusedXmlException):
        raise _damaged() from None
    targets = {
        e.get("Id"): (e.get("Target", ""), e.get("Type", ""))
        for e in relations.iter(f"{{{_RELATIONSHIPS}}}Relationship")
    }
    sheets = [e for e in workbook.iter() if _local(e.tag) == "sheet"]
    sheet_names = [sheet.get("name", "") for sheet in sheets]
    if not sheets or len({name.casefold() for name in sheet_names}) != len(sheets):
        raise _damaged()
    visible: list[_Chosen] = []
    for index, sheet in enumerate(sheets):
        relation_id = next(
            (v for k, v in sheet.attrib.items() if _local(k) == "id" and "}" in k), None
        )
        target, kind = targets.get(relation_id, ("", ""))
        if sheet.get("state", "visible") != "visible" or not kind.endswith("/worksheet"):
            continue
        part = _sheet_part(target, names)
        if all(chosen.part != part for chosen in visible):
            visible.append(_Chosen(part, index, sheet_names[index], tuple(sheet_names[:index])))
    if visible:
        return visible
    raise _refuse(
        ErrorCode.MISSING_COLUMN,
        "The workbook has no visible worksheet: fill in the template's first sheet.",
    )


def _sheet_part(target: str, names: dict[str, str]) -> str:
    if not target or ".." in target or "\\" in target or "./" in target:
        raise _damaged()
    if target.startswith("/"):
        part = target[1:]
    elif target.startswith("xl/"):
        part = target
    else:
        part = "xl/" + target
    part = _part_name(part)
    if part not in names:
        raise _damaged()
    return part


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _check_xml_chunk(chunk: bytes, *, first: bool) -> None:
    # UTF-16 or UTF-32 would hide the markup from every byte-level check below: _inflate
    # decodes UTF-16 parts with a byte-order mark first; the sheet and the parts read whole
    # must be UTF-8, as every spreadsheet program writes them.
    if first and (chunk.startswith(_UTF16_BOMS) or b"\x00" in chunk[:256]):
        raise _damaged()
    if _DOCTYPE.search(chunk):
        raise _refuse(
            ErrorCode.UNPARSEABLE_FILE,
            "The file declares XML entities, which spreadsheets never do. It is refused.",
        )


def _inflate(
    archive: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    total: int,
    limits: Limits,
    scan: _SheetScan | None,
) -> int:
    """Inflate one entry, counting what it really holds; check its XML on the way."""
    is_xml = entry.filename.lower().endswith(_XML_SUFFIXES)
    utf16: codecs.IncrementalDecoder | None = None
    try:
        with archive.open(entry) as stream:
            for chunk, first in _chunks(stream, is_xml=is_xml):
                total += len(chunk)
                if total > limits.max_uncompressed_bytes:
                    raise _unpacks_too_large(limits)
                if not is_xml:
                    continue
                if (
                    first
                    and scan is None
                    and chunk.startswith(_UTF16_BOMS)
                    and not chunk.startswith(_UTF32_BOMS)
                ):
                    utf16 = codecs.getincrementaldecoder("utf-16")()
                if utf16 is not None:
                    # Chunks are cut before a '<' byte, which in UTF-16 starts a '<' or is
                    # part of no markup: a declaration is never cut in two.
                    _check_xml_chunk(utf16.decode(chunk).encode(), first=False)
                    continue
                _check_xml_chunk(chunk, first=first)
                if scan is not None:
                    scan.feed(chunk)
            if utf16 is not None:
                utf16.decode(b"", final=True)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ):
        raise _damaged() from None
    return total


def _chunks(stream: IO[bytes], *, is_xml: bool) -> Iterator[tuple[bytes, bool]]:
    """Chunks of about _CHUNK bytes; for XML cut just before a '<', so tags stay whole."""
    carry = b""
    first = True
    while data := stream.read(_CHUNK):
        if not is_xml:
            yield data, first
            first = False
            continue
        data = carry + data
        cut = data.rfind(b"<")
        if cut <= 0:
            if len(data) > _MAX_CARRY:
                raise _damaged()
            carry = data
            continue
        yield data[:cut], first
        first = False
        carry = data[cut:]
    if carry:
        yield carry, first


# ---------------------------------------------------------------------------------------------
# The first sheet's used area


@lru_cache(maxsize=8)
def _long_row_pattern(digits: int) -> re.Pattern[bytes]:
    return re.compile(rb'<c r="[A-Za-z]{1,3}([0-9]{%d,})"[^>]*(?<!/)>' % digits)


class _SheetScan:
    """Cell counts and the extent of cells holding values, from byte patterns (fast path).

    Only references with at least as many digits as the row limit are collected, so an
    ordinary sheet costs a few searches; every row below 10**(digits-1) is within the limit."""

    def __init__(self, limits: Limits | None = None, *, looks_for_unreadable: bool = True) -> None:
        self.looks_for_unreadable = looks_for_unreadable
        self.cells = 0
        self.rows = 0
        self.standard = 0
        self.digits = len(str(limits.max_rows + 1)) if limits else 1
        # Until a longer reference is seen, the rows are assumed to go down to the largest
        # number of fewer digits (99,999): enough for the row limit, too much for the cell
        # limit of a wide sheet, whose real height _last_row then reads.
        self.max_row = 10 ** (self.digits - 1) - 1
        self.row_bound_assumed = True
        self.max_column = 25  # at most Z while no wider reference is seen
        self.unreadable: dict[str, str] = {}
        self.hidden_rows: set[int] = set()
        self.exact = False

    @property
    def area(self) -> int:
        return self.max_row * (self.max_column + 1)

    @property
    def standard_only(self) -> bool:
        return self.exact or self.cells == self.standard

    def feed(self, chunk: bytes) -> None:
        self.rows += chunk.count(b"<row")
        standard = chunk.count(_CELL_STANDARD)
        self.standard += standard
        # Every '<c' a standard cell (the common case): counted without a regular expression.
        plain = standard if chunk.count(b"<c") == standard else len(_CELL_PLAIN.findall(chunk))
        self.cells += plain
        if b":c" in chunk:
            self.cells += len(_CELL_PREFIXED.findall(chunk))
        rows = _long_row_pattern(self.digits).findall(chunk)
        if rows:
            self.max_row = max(self.max_row, max(int(row) for row in set(rows)))
            self.row_bound_assumed = False
        wide = _WIDE_CELL.findall(chunk)
        if wide:
            self.max_column = max(self.max_column, *(column_index(c.decode()) for c in set(wide)))
        if b'hidden="1"' in chunk or b'hidden="true"' in chunk:
            for row in _HIDDEN_ROW.findall(chunk):
                number = _ROW_NUMBER.search(row)
                if number:
                    self.hidden_rows.add(int(number.group(1)))
        if self.looks_for_unreadable:
            self.look_for_unreadable(chunk)

    def look_for_unreadable(self, chunk: bytes) -> None:
        """Error values and formulas without a saved result, up to _MAX_UNREADABLE of them."""
        if len(self.unreadable) < _MAX_UNREADABLE:
            if b'"e"' in chunk:
                for ref in _ERROR_CELL.findall(chunk):
                    self.unreadable.setdefault(ref.decode().upper(), ERROR_VALUE)
            if b"<f" in chunk and (
                b"</f></c>" in chunk or b"/></c>" in chunk or b"<v></v>" in chunk
            ):
                for ref, attributes, empty in _FORMULA_WITHOUT_RESULT.findall(chunk):
                    if not (empty and _TEXT_TYPE.search(attributes)):
                        self.unreadable.setdefault(ref.decode().upper(), FORMULA_WITHOUT_RESULT)


_MAX_UNREADABLE = 1000


def _last_row(archive: zipfile.ZipFile, part: str) -> int:
    """The largest row number of the sheet's cells, all written `<c r="..."`."""
    last = 0
    try:
        with archive.open(part) as stream:
            for chunk, _ in _chunks(stream, is_xml=True):
                rows = _CELL_ROW.findall(chunk)
                if rows:
                    last = max(last, max(int(row) for row in set(rows)))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError):
        raise _damaged() from None
    return last


def _exact_scan(archive: zipfile.ZipFile, part: str) -> _SheetScan:
    """Cell positions the way calamine assigns them, for sheets whose cells are not all written
    `<c r="..."` (no reference: the next column or row; a namespace prefix; other spellings)."""
    scan = _SheetScan()
    scan.exact = True
    scan.max_row = scan.max_column = 0
    cell = _CellState()

    def start(name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            scan.rows += 1
            number = attributes.get("r", "")
            cell.row = int(number) if number.isdigit() else cell.row + 1
            cell.column = -1
            if attributes.get("hidden") in ("1", "true"):
                scan.hidden_rows.add(cell.row)
        elif local == "c":
            ref = attributes.get("r")
            row, column = cell.row, cell.column + 1
            if ref:
                match = _REFERENCE.fullmatch(ref)
                if match is None:
                    raise _damaged()
                row, column = int(match.group(2)), column_index(match.group(1))
            cell.column = column
            cell.ref = f"{column_letter(column)}{row}"
            cell.type = attributes.get("t", "")
            cell.formula = cell.value = False
            scan.max_row = max(scan.max_row, row)
            scan.max_column = max(scan.max_column, column)
        elif local == "f":
            cell.formula = True
        elif local == "v":
            cell.in_value = True
            cell.value = cell.value or cell.type == "str"  # an empty text result is one
        elif local == "is":
            cell.value = True

    def text(data: str) -> None:
        if cell.in_value and not data.isspace():
            cell.value = True

    def end(name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "v":
            cell.in_value = False
        if local != "c" or len(scan.unreadable) >= _MAX_UNREADABLE:
            return
        if cell.type == "e":
            scan.unreadable.setdefault(cell.ref, ERROR_VALUE)
        elif cell.formula and not cell.value:
            scan.unreadable.setdefault(cell.ref, FORMULA_WITHOUT_RESULT)

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        with archive.open(part) as stream:
            while data := stream.read(_CHUNK):
                parser.Parse(data, False)
                if scan.max_row > EXCEL_MAX_ROWS or scan.max_column >= EXCEL_MAX_COLUMNS:
                    break
            else:
                parser.Parse(b"", True)
    except (expat.ExpatError, ValueError, zipfile.BadZipFile, zlib.error, EOFError, OSError):
        raise _damaged() from None
    return scan


@dataclass(slots=True)
class _CellState:
    row: int = 0
    column: int = -1
    ref: str = ""
    type: str = ""
    formula: bool = False
    value: bool = False
    in_value: bool = False


def _check_area(scan: _SheetScan, limits: Limits) -> None:
    rows, columns = scan.max_row, scan.max_column + 1
    if rows > EXCEL_MAX_ROWS or columns > EXCEL_MAX_COLUMNS:
        raise _damaged()
    if rows - 1 > limits.max_rows:
        raise _too_many_rows(rows, limits)
    if rows * columns > limits.max_cells:
        raise _refuse(
            ErrorCode.FILE_TOO_LARGE,
            f"The sheet uses {rows:,} rows up to column {column_letter(columns - 1)}: more than"
            f" {limits.max_cells:,} cells. Keep only the template's columns.",
        )
