"""Workbooks written by the programs people use (openpyxl, xlsxwriter, pandas, LibreOffice,
gnumeric), read the way each was written: tests/workbooks/ holds them, made by
tests/workbooks/make.py (its MANIFEST says how each was made)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from domain.errors import DomainError, ErrorCode
from domain.groups.service import create_group
from domain.imports import service as imports
from domain.imports.xlsx import (
    ERROR_VALUE,
    FORMULA_WITHOUT_RESULT,
    Limits,
    read_first_sheet,
)
from domain.models import (
    FieldType,
    GroupKind,
    ImportStatus,
    Invitation,
    InvitationImport,
    User,
)
from domain.registration_fields.service import create_registration_field
from tests.fixtures import GraphQLClient
from tests.import_helpers import (
    handmade,
    header_row,
    imported,
    macro_workbook,
    text_cell,
    upload,
    workbook,
)

SHEET = """
query($id: ID!) { invitationImport(id: $id) { status sheetName invitedCount } }
"""
WORKBOOKS = Path(__file__).resolve().parent / "workbooks"
LIMITS = Limits()


def corpus(name: str) -> bytes:
    return (WORKBOOKS / name).read_bytes()


def refusal(content: bytes) -> tuple[ErrorCode, str]:
    with pytest.raises(DomainError) as refused:
        read_first_sheet(content, LIMITS)
    [problem] = refused.value.problems
    return problem.code, problem.message


def problems(record: InvitationImport) -> set[tuple[str, int | None, str | None]]:
    return {(e["code"], e["row"], e["field"]) for e in record.errors}


# ---------------------------------------------------------------------------------------------
# 1. Formulas openpyxl wrote: no result saved (`<v />`)


def test_formulas_openpyxl_saved_without_a_result_are_flagged_in_every_column() -> None:
    sheet = read_first_sheet(corpus("openpyxl-formulas.xlsx"), LIMITS)
    # email, admin, groups, and =NA() in first_name: none of them has a value to read
    assert sheet.unreadable == {
        (2, 0): FORMULA_WITHOUT_RESULT,
        (3, 5): FORMULA_WITHOUT_RESULT,
        (4, 4): FORMULA_WITHOUT_RESULT,
        (5, 1): FORMULA_WITHOUT_RESULT,
    }
    # Saved again by LibreOffice, every formula has its result, and =NA() is an error value.
    sheet = read_first_sheet(corpus("libreoffice-formulas.xlsx"), LIMITS)
    rows = list(sheet.rows)
    assert [rows[1][0], rows[2][5], rows[3][4]] == ["ann@example.org", True, "Volunteers"]
    assert sheet.unreadable == {(5, 1): ERROR_VALUE}


def test_an_empty_value_is_no_result_unless_the_formula_gives_text() -> None:
    rows = header_row(["email", "first_name"]) + (
        '<row r="2"><c r="A2"><f>B9</f><v></v></c><c r="B2" t="b"><f>TRUE()</f><v/></c></row>'
        '<row r="3"><c r="A3" t="str"><f>""</f><v></v></c></row>'  # the empty text: a result
    )
    expected = {(2, 0): FORMULA_WITHOUT_RESULT, (2, 1): FORMULA_WITHOUT_RESULT}
    assert read_first_sheet(handmade(rows), LIMITS).unreadable == expected
    # The same cells without references, which the exact scan places.
    rows = (
        "<row>"
        + "".join(f"<c t='inlineStr'><is><t>{h}</t></is></c>" for h in ("email", "first_name"))
        + "</row><row><c><f>B9</f><v></v></c><c t='b'><f>TRUE()</f><v /></c></row>"
        "<row><c t='str'><f>\"\"</f><v></v></c></row>"
    )
    assert read_first_sheet(handmade(rows), LIMITS).unreadable == expected


async def test_an_openpyxl_file_with_formulas_is_refused_cell_by_cell_after_checking_every_row(
    admin_user: User,
) -> None:
    await create_group(title="Volunteers", kind=GroupKind.MANUAL)
    record = await imported(admin_user, corpus("openpyxl-formulas.xlsx"))
    assert record.status is ImportStatus.FAILED
    assert problems(record) == {
        ("INVALID_EMAIL", 2, "email"),
        ("MALFORMED_ADMIN_VALUE", 3, "admin"),
        ("MALFORMED_GROUPS_VALUE", 4, "groups"),
        ("INVALID_NAME", 5, "first_name"),
    }
    assert all("never saved" in e["message"] for e in record.errors)
    assert await Invitation.all().count() == 0
    # 6. It says how many rows were checked: all of them.
    assert (record.rows_total, record.rows_processed) == (4, 4)


# ---------------------------------------------------------------------------------------------
# 2. Sheets with a cell far to the right


@pytest.mark.parametrize(
    "name", ["openpyxl-note-in-bj.xlsx", "xlsxwriter-note-in-bj.xlsx", "gnumeric-note-in-bj.xlsx"]
)
def test_a_note_in_column_bj_is_read_with_the_sheets_real_height(name: str) -> None:
    rows = list(read_first_sheet(corpus(name), LIMITS).rows)
    assert len(rows) == 22
    assert rows[4][61] == "called back: see Mieke"


def test_a_wide_sheet_that_really_is_too_large_is_still_refused() -> None:
    # 90,000 rows down to column BJ: 5.6 million cells; 100,000 rows: 6.2 million.
    for last, code in ((90_000, None), (100_000, ErrorCode.FILE_TOO_LARGE)):
        far = f'<row r="{last}"><c r="BJ{last}"><v>1</v></c></row>'
        content = handmade(header_row() + far)
        if code is None:
            assert read_first_sheet(content, LIMITS).row_count == last
        else:
            assert refusal(content)[0] is code
    # Hostile order: the far row written first changes nothing.
    content = handmade('<row r="99999"><c r="BJ99999"><v>1</v></c></row>' + header_row())
    assert refusal(content)[0] is ErrorCode.FILE_TOO_LARGE


async def test_a_stray_note_is_an_unknown_column_not_a_file_too_large(admin_user: User) -> None:
    record = await imported(admin_user, corpus("xlsxwriter-note-in-bj.xlsx"))
    assert record.status is ImportStatus.FAILED
    assert problems(record) == {("UNKNOWN_COLUMN", 5, "BJ")}
    assert (record.rows_total, record.rows_processed) == (21, 21)


async def test_the_template_of_a_platform_with_55_registration_fields_imports(
    admin_user: User,
) -> None:
    for number in range(1, 56):
        await create_registration_field(
            key=f"field_{number:02}", title=f"Field {number}", type=FieldType.TEXT
        )
    template = load_workbook(io.BytesIO(await imports.template()))
    sheet = template.worksheets[0]
    assert sheet.max_column == 62  # email ... address, then the fields: down to column BJ
    sheet.delete_rows(2)  # the example row
    for row in range(2, 5):
        sheet.cell(row, 1, f"person{row}@example.org")
        sheet.cell(row, 62, f"value {row}")
    filled = io.BytesIO()
    template.save(filled)
    record = await imported(admin_user, filled.getvalue())
    assert record.status is ImportStatus.DONE, record.errors
    assert record.invited_count == 3
    invitation = await Invitation.get(email="person2@example.org")
    assert invitation.registration_field_values == {"field_55": "value 2"}


# ---------------------------------------------------------------------------------------------
# 3. UTF-16 parts (a Power Query's customXml item)


def test_a_power_query_item_in_utf16_is_checked_like_any_part() -> None:
    rows = list(read_first_sheet(corpus("power-query.xlsx"), LIMITS).rows)
    assert rows[1][0] == "eva@example.org"
    code, message = refusal(corpus("power-query-doctype.xlsx"))
    assert code is ErrorCode.UNPARSEABLE_FILE and "entities" in message


# ---------------------------------------------------------------------------------------------
# 4. How many problems were left out


async def test_3000_bad_addresses_list_1000_and_say_2000_more(admin_user: User) -> None:
    record = await imported(admin_user, corpus("pandas-3000-bad-addresses.xlsx"))
    assert record.status is ImportStatus.FAILED
    assert len(record.errors) == 1001
    assert {e["code"] for e in record.errors[:1000]} == {"INVALID_EMAIL"}
    assert record.errors[1000]["message"] == "... and 2000 more problems."
    assert (record.rows_total, record.rows_processed) == (3000, 3000)


# ---------------------------------------------------------------------------------------------
# 5. Which sheet is read, macros, zip ratios, packaging


@pytest.mark.parametrize(
    ("name", "passed_over"),
    [
        ("xlsxwriter-chart-first.xlsx", ("Chart",)),
        ("xlsxwriter-hidden-first.xlsx", ("Notes",)),
        ("libreoffice-hidden-first.xlsx", ("Notes",)),
    ],
)
def test_the_first_visible_worksheet_is_read_and_named(
    name: str, passed_over: tuple[str, ...]
) -> None:
    sheet = read_first_sheet(corpus(name), LIMITS)
    assert (sheet.name, sheet.passed_over) == ("Invitations", passed_over)
    assert next(sheet.rows)[0] == "email"


async def test_a_chart_sheet_first_imports_the_worksheet_after_it(admin_user: User) -> None:
    record = await imported(admin_user, corpus("xlsxwriter-chart-first.xlsx"))
    assert record.status is ImportStatus.DONE, record.errors
    assert record.invited_count == 2


def test_an_ordinary_workbooks_first_sheet_is_read_with_its_name() -> None:
    content = handmade(
        "",
        sheet='<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData/></worksheet>",
    )
    sheet = read_first_sheet(content, LIMITS)
    assert sheet.name == "Invitations" and sheet.passed_over == ()


async def test_the_empty_sheet_message_names_the_sheet_read(admin_user: User) -> None:
    hidden = load_workbook(io.BytesIO(corpus("xlsxwriter-hidden-first.xlsx")))
    hidden["Invitations"].delete_rows(1, 2)
    emptied = io.BytesIO()
    hidden.save(emptied)
    record = await imported(admin_user, emptied.getvalue())
    [problem] = record.errors
    assert problem["code"] == "MISSING_COLUMN"
    assert problem["message"].startswith("The sheet 'Invitations' is empty")
    assert "'Notes' before it is a chart or hidden" in problem["message"]


def test_an_xlsm_without_macros_is_read_and_one_with_a_vba_project_is_refused() -> None:
    rows = list(read_first_sheet(corpus("libreoffice-no-macros.xlsm"), LIMITS).rows)
    assert rows[1][0] == "eva@example.org"
    code, message = refusal(macro_workbook())
    assert code is ErrorCode.NOT_AN_XLSX_FILE and "xl/vbaProject.bin" in message
    sheet = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    code, message = refusal(handmade(header_row(), extra={"xl/macrosheets/sheet1.xml": sheet}))
    assert code is ErrorCode.NOT_AN_XLSX_FILE and "xl/macrosheets/sheet1.xml" in message
    # A VBA project under another name is found by the content type its extension has.
    written = zipfile.ZipFile(io.BytesIO(handmade(header_row())))
    renamed = io.BytesIO()
    with zipfile.ZipFile(renamed, "w") as archive:
        for name in written.namelist():
            data = written.read(name)
            if name == "[Content_Types].xml":
                data = data.replace(
                    b"<Default ",
                    b'<Default Extension="code"'
                    b' ContentType="application/vnd.ms-office.vbaProject"/><Default ',
                    1,
                )
            archive.writestr(name, data)
        archive.writestr("xl/project.code", b"\xd0\xcf\x11\xe0")
    code, message = refusal(renamed.getvalue())
    assert code is ErrorCode.NOT_AN_XLSX_FILE and "xl/project.code" in message


def test_a_picture_that_packs_like_a_zip_bomb_is_not_one() -> None:
    # The bitmap unpacks to 5.5 MiB, 800 times its packed size; the sheet is ordinary.
    rows = list(read_first_sheet(corpus("xlsxwriter-screenshot.xlsx"), LIMITS).rows)
    assert rows[1][0] == "jonas@example.org"
    # A sheet (XML) that packs as well is still a zip bomb.
    padding = " " * (8 * 1024 * 1024)
    bomb = handmade(header_row() + f'<row r="2">{text_cell("A2", "x")}{padding}</row>')
    code, message = refusal(bomb)
    assert code is ErrorCode.UNPARSEABLE_FILE and "zip bomb" in message


@pytest.mark.parametrize("name", ["backslash-paths.xlsx", "minimal-package.xlsx"])
def test_oddly_packaged_workbooks_calamine_reads_are_read(name: str) -> None:
    rows = list(read_first_sheet(corpus(name), LIMITS).rows)
    assert rows[1][:4] == ["ilse@example.org", "Ilse", "Dubois", "fr-BE"]


def test_parts_calamine_could_take_for_one_another_are_refused() -> None:
    # calamine finds parts case aside and with '\\' as '/': which of these would it read?
    for name in ("XL/Worksheets/Sheet1.xml", "xl\\worksheets\\sheet1.xml"):
        content = handmade(header_row(), extra={name: "<a/>"})
        assert refusal(content)[0] is ErrorCode.UNPARSEABLE_FILE


def test_every_corpus_file_is_described() -> None:
    described = {
        line.split('"')[1]
        for line in (WORKBOOKS / "make.py").read_text().splitlines()
        if line.startswith('    "') and '": ' in line
    }
    assert described == {path.name for path in WORKBOOKS.glob("*.xls*")}


async def test_the_import_says_which_sheet_it_read(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    response = await upload(http, admin.token, corpus("libreoffice-hidden-first.xlsx"))
    queued = response.json()["data"]["importInvitations"]["invitationImport"]
    assert (await admin(SHEET, {"id": queued["id"]}))["invitationImport"]["sheetName"] == ""
    await run_worker()
    done = (await admin(SHEET, {"id": queued["id"]}))["invitationImport"]
    assert done == {"status": "DONE", "sheetName": "Invitations", "invitedCount": 1}


# ---------------------------------------------------------------------------------------------
# 6. A refused import's progress


async def test_a_refused_import_says_it_checked_every_row(admin_user: User) -> None:
    rows: list[list[object]] = [["email", "first_name"]]
    rows += [[f"person{i}@example.org", f"Person {i}"] for i in range(1, 5)]
    rows.insert(3, ["not an address", "Nobody"])
    record = await imported(admin_user, workbook(*rows))
    assert record.status is ImportStatus.FAILED
    assert problems(record) == {("INVALID_EMAIL", 4, "email")}
    assert (record.rows_total, record.rows_processed) == (5, 5)
