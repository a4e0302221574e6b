"""Reading uploaded workbooks: what is refused before any parser runs, with which code, in
bounded memory; and what calamine then reads (booleans, numbers, dates, formula results)."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import textwrap
import zipfile
from datetime import date
from pathlib import Path

import pytest

from domain.errors import DomainError, ErrorCode
from domain.imports.xlsx import (
    ERROR_VALUE,
    FORMULA_WITHOUT_RESULT,
    Limits,
    check_upload,
    column_index,
    column_letter,
    read_first_sheet,
)
from tests.import_helpers import (
    HEADER,
    entity_bomb,
    handmade,
    header_row,
    lying_zip_bomb,
    macro_workbook,
    pdf_renamed,
    sheet_xml,
    sparse_sheet,
    text_cell,
    workbook,
    zip_bomb,
)

ROOT = Path(__file__).resolve().parent.parent
LIMITS = Limits()


def refusal(content: bytes, limits: Limits = LIMITS) -> ErrorCode:
    with pytest.raises(DomainError) as refused:
        read_first_sheet(content, limits)
    [problem] = refused.value.problems
    assert problem.field == "file" and problem.message
    return problem.code


def rows_of(content: bytes) -> list[list[object]]:
    return list(read_first_sheet(content, LIMITS).rows)


def test_an_empty_file_a_pdf_and_an_old_xls_are_not_workbooks() -> None:
    assert refusal(b"") is ErrorCode.NOT_AN_XLSX_FILE
    assert refusal(pdf_renamed()) is ErrorCode.NOT_AN_XLSX_FILE
    assert (
        refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096) is ErrorCode.NOT_AN_XLSX_FILE
    )
    empty_zip = io.BytesIO()
    zipfile.ZipFile(empty_zip, "w").close()
    assert refusal(empty_zip.getvalue()) is ErrorCode.NOT_AN_XLSX_FILE


def test_other_zip_documents_and_macro_workbooks_are_not_accepted() -> None:
    opendocument = io.BytesIO()
    with zipfile.ZipFile(opendocument, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    assert refusal(opendocument.getvalue()) is ErrorCode.NOT_AN_XLSX_FILE
    assert refusal(macro_workbook()) is ErrorCode.NOT_AN_XLSX_FILE


def test_a_file_over_the_size_cap_is_refused_before_anything_else() -> None:
    content = workbook(HEADER, ["a@example.org"])
    assert refusal(content, Limits(max_file_bytes=len(content) - 1)) is ErrorCode.FILE_TOO_LARGE
    with pytest.raises(DomainError) as refused:
        check_upload(b"%PDF" + b"x" * 2048, Limits(max_file_bytes=1024))
    assert refused.value.code is ErrorCode.FILE_TOO_LARGE


def test_zip_bombs_are_refused_whether_their_sizes_are_declared_or_lied_about() -> None:
    assert refusal(zip_bomb()) is ErrorCode.UNPARSEABLE_FILE  # a thousandfold ratio
    assert refusal(lying_zip_bomb()) is ErrorCode.UNPARSEABLE_FILE  # sizes patched
    # Each part under the ratio, all of them together over the total.
    letters = random.Random(1).choices(b"ACGT", k=4 * 1024 * 1024)
    parts = {f"xl/media/image{i}.bin": bytes(letters) for i in range(6)}
    content = handmade(header_row(), extra=parts)
    limits = Limits(max_uncompressed_bytes=20 * 1024 * 1024)
    assert refusal(content, limits) is ErrorCode.FILE_TOO_LARGE
    many = handmade(header_row(), extra={f"xl/part{i}.xml": "<a/>" for i in range(50)})
    assert refusal(many, Limits(max_entries=20)) is ErrorCode.UNPARSEABLE_FILE


def test_xml_with_entity_declarations_is_refused_in_any_part() -> None:
    assert refusal(entity_bomb()) is ErrorCode.UNPARSEABLE_FILE
    shared = '<!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]><sst/>'
    content = handmade(header_row(), extra={"xl/sharedStrings.xml": shared})
    assert refusal(content) is ErrorCode.UNPARSEABLE_FILE
    utf16 = handmade("", sheet=sheet_xml(header_row()).encode("utf-16"))  # type: ignore[arg-type]
    assert refusal(utf16) is ErrorCode.UNPARSEABLE_FILE


def test_a_damaged_zip_is_unparseable() -> None:
    content = workbook(HEADER, ["a@example.org"])
    assert refusal(content[: len(content) // 2]) is ErrorCode.UNPARSEABLE_FILE
    flipped = bytearray(content)
    entry = zipfile.ZipFile(io.BytesIO(content)).getinfo("xl/worksheets/sheet1.xml")
    flipped[entry.header_offset + 60] ^= 0xFF  # inside the packed sheet: CRC mismatch
    assert refusal(bytes(flipped)) is ErrorCode.UNPARSEABLE_FILE


def test_grids_too_tall_or_too_wide_for_memory_are_refused_before_calamine_reads_them() -> None:
    # calamine would ask for 17 billion cells and abort the process on these few kilobytes.
    assert refusal(sparse_sheet()) is ErrorCode.TOO_MANY_ROWS
    wide = handmade(header_row() + '<row r="1000"><c r="XFD1000"><v>1</v></c></row>')
    assert refusal(wide) is ErrorCode.FILE_TOO_LARGE
    tall = handmade(header_row() + '<row r="12"><c r="A12"><v>1</v></c></row>')
    assert refusal(tall, Limits(max_rows=10)) is ErrorCode.TOO_MANY_ROWS
    assert len(rows_of(handmade(header_row() + '<row r="11"><c r="A11"><v>1</v></c></row>'))) == 11


def test_cells_without_references_are_placed_and_bounded_as_calamine_places_them() -> None:
    # No r attribute: each cell takes the next column, each row the next row.
    rows = "<row>" + "".join(f"<c t='inlineStr'><is><t>{h}</t></is></c>" for h in HEADER) + "</row>"
    rows += "<row><c t='inlineStr'><is><t>a@example.org</t></is></c></row>"
    assert rows_of(handmade(rows)) == [HEADER, ["a@example.org", "", "", "", "", ""]]
    wide = (
        "<row>" + "<c/>" * 20_000 + "<c><v>1</v></c></row>" + '<row r="300"><c><v>1</v></c></row>'
    )
    assert refusal(handmade(wide)) is ErrorCode.UNPARSEABLE_FILE  # past Excel's last column
    prefixed = handmade(
        "",
        sheet='<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>email</x:t></x:is></x:c>'
        '</x:row><x:row r="150000"><x:c r="ZZ150000"><x:v>1</x:v></x:c></x:row></x:sheetData>'
        "</x:worksheet>",
    )
    assert refusal(prefixed) is ErrorCode.FILE_TOO_LARGE


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(),
    reason="measures a fresh process's peak memory through Linux's /proc/self/clear_refs and"
    " VmHWM (only Linux has them; the service and CI run on Linux, where this runs)",
)
def test_refusals_keep_memory_bounded() -> None:
    """Every hostile file, read in a fresh process: its peak memory stays small."""
    corpus = {
        "zip bomb": zip_bomb(),
        "lying zip bomb": lying_zip_bomb(),
        "entity bomb": entity_bomb(),
        "sparse grid": sparse_sheet(),
        "macros": macro_workbook(),
        "pdf": pdf_renamed(),
        "empty": b"",
    }
    script = textwrap.dedent(
        """
        import json, sys
        from domain.errors import DomainError
        from domain.imports.xlsx import Limits, read_first_sheet

        def mib(field):
            for line in open("/proc/self/status"):
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024

        # A new process inherits its parent's peak (this test's): start the count afresh.
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        baseline = mib("VmRSS")
        codes = {}
        for path in sys.argv[1:]:
            try:
                read_first_sheet(open(path, "rb").read(), Limits())
                codes[path] = None
            except DomainError as error:
                codes[path] = error.code.value
        print(json.dumps({"codes": codes, "growth_mib": mib("VmHWM") - baseline}))
        """
    )
    directory = Path(__import__("tempfile").mkdtemp(prefix="hostile-"))
    paths = []
    for name, content in corpus.items():
        path = directory / name.replace(" ", "-")
        path.write_bytes(content)
        paths.append(str(path))
    result = subprocess.run(
        [sys.executable, "-c", script, *paths], cwd=ROOT, capture_output=True, text=True, check=True
    )
    report = json.loads(result.stdout)
    assert None not in report["codes"].values(), report
    # The files hold 250 MiB and 17 billion cells between them; refusing them costs a few MiB
    # (the 4 MiB chunks the checks read, calamine never runs).
    assert report["growth_mib"] < 32, report


def test_values_come_as_spreadsheets_store_them() -> None:
    content = workbook(
        ["email", "admin", "joined", "count"], ["a@example.org", True, date(2026, 5, 31), 1]
    )
    [header, row] = rows_of(content)
    assert header == ["email", "admin", "joined", "count"]
    assert row == ["a@example.org", True, date(2026, 5, 31), 1.0]  # numbers as floats


def test_a_formula_gives_its_saved_result_and_is_never_evaluated() -> None:
    rows = header_row(["email", "first_name"]) + (
        '<row r="2"><c r="A2" t="str"><f>LOWER("ANN@EXAMPLE.ORG")</f><v>ann@example.org</v></c>'
        '<c r="B2" t="str"><f>HYPERLINK("http://evil.example","x")</f><v>x</v></c></row>'
    )
    sheet = read_first_sheet(handmade(rows), LIMITS)
    assert list(sheet.rows) == [["email", "first_name"], ["ann@example.org", "x"]]
    assert sheet.unreadable == {}


def test_error_values_and_formulas_without_a_saved_result_are_flagged_not_read_as_blank() -> None:
    rows = header_row(["email", "first_name"]) + (
        '<row r="2"><c r="A2" t="e"><f>VLOOKUP(1,Z:Z,2)</f><v>#N/A</v></c></row>'
        '<row r="3"><c r="A3"><f>B3</f></c><c r="B3" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    sheet = read_first_sheet(handmade(rows), LIMITS)
    assert sheet.unreadable == {(2, 0): ERROR_VALUE, (3, 0): FORMULA_WITHOUT_RESULT}


def test_rows_are_numbered_as_the_spreadsheet_shows_them() -> None:
    rows = (
        '<row r="3">'
        + text_cell("B3", "email")
        + '</row><row r="5">'
        + text_cell("B5", "a@example.org")
        + "</row>"
    )
    sheet = read_first_sheet(handmade(rows), LIMITS)
    assert sheet.first_column == 1
    assert [(number, row) for number, row in enumerate(sheet.rows, start=1) if row != [""]] == [
        (3, ["email"]),
        (5, ["a@example.org"]),
    ]


def test_column_letters() -> None:
    for index, letters in ((0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (16383, "XFD")):
        assert column_letter(index) == letters and column_index(letters) == index
