"""Sheets as colleagues make them in Excel, LibreOffice and pandas, read as the admin sees them:
merged cells fill their whole range, hidden rows (by hand or by a filter) are not invited, a
title or a sheet of notes may come before the header, headers may be written in Dutch or French,
and every header problem is reported in one round. Each file is written by a real writer
(openpyxl, xlsxwriter; LibreOffice's are committed in tests/workbooks, made by its make.py)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import Workbook

from domain.groups.service import create_group
from domain.imports.xlsx import Limits, read_first_sheet
from domain.models import GroupKind, ImportStatus, Invitation, User
from tests.import_helpers import imported

WORKBOOKS = Path(__file__).resolve().parent / "workbooks"


def saved(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def written_by(writer: str, made: Callable[[], bytes], libreoffice_file: str) -> bytes:
    """The file as openpyxl writes it, or as LibreOffice saved the same (committed in
    tests/workbooks, made by its make.py: the tests need no office suite)."""
    if writer == "libreoffice":
        return (WORKBOOKS / libreoffice_file).read_bytes()
    return made()


def merged_groups() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "first_name", "groups"])
    for number in range(1, 5):
        sheet.append([f"person{number}@example.org", f"P{number}", None])
    sheet["C2"] = "Bewoners Noordlaan"
    sheet.merge_cells("C2:C4")
    return saved(book)


async def group_titles(email: str) -> list[str]:
    found = await Invitation.get(email=email).prefetch_related("groups__group")
    return [link.group.title for link in found.groups]


# ---------------------------------------------------------------------------------------------
# Merged cells


@pytest.mark.parametrize("writer", ["openpyxl", "libreoffice"])
async def test_a_merged_group_cell_applies_to_every_row_it_spans(
    admin_user: User, writer: str
) -> None:
    await create_group(title="Bewoners Noordlaan", kind=GroupKind.MANUAL)
    content = written_by(writer, merged_groups, "libreoffice-merged-groups.xlsx")
    record = await imported(admin_user, content)
    assert record.status is ImportStatus.DONE, record.errors
    for number in (1, 2, 3):
        assert await group_titles(f"person{number}@example.org") == ["Bewoners Noordlaan"]
    assert await group_titles("person4@example.org") == []


def test_a_merged_range_across_columns_fills_each_of_them() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["note", "", "", "email"])
    sheet.append(["called back", None, None, "a@example.org"])
    sheet.merge_cells("A2:C2")
    rows = list(read_first_sheet(saved(book), Limits()).rows)
    assert rows[1] == ["called back", "called back", "called back", "a@example.org"]


# ---------------------------------------------------------------------------------------------
# Hidden rows


def with_hidden_rows() -> Workbook:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "first_name"])
    for number in range(1, 7):
        sheet.append([f"person{number}@example.org", f"P{number}"])
    sheet.row_dimensions[3].hidden = True  # person2, hidden by hand
    sheet.auto_filter.ref = "A1:B7"
    for row in (5, 6):  # person4 and person5, filtered out
        sheet.row_dimensions[row].hidden = True
    return book


@pytest.mark.parametrize("writer", ["openpyxl", "libreoffice"])
async def test_hidden_rows_are_not_invited_and_the_result_counts_them(
    admin_user: User, writer: str
) -> None:
    content = written_by(writer, lambda: saved(with_hidden_rows()), "libreoffice-hidden-rows.xlsx")
    record = await imported(admin_user, content)
    assert record.status is ImportStatus.DONE, record.errors
    invited = sorted(await Invitation.all().values_list("email", flat=True))
    assert invited == [f"person{n}@example.org" for n in (1, 3, 6)]
    assert (record.invited_count, record.hidden_count, record.skipped_count) == (3, 3, 0)


async def test_xlsxwriter_hidden_rows_are_not_invited(admin_user: User) -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet("Invitations")
    sheet.write_row(0, 0, ["email"])
    for number in range(1, 4):
        sheet.write_string(number, 0, f"person{number}@example.org")
    sheet.set_row(2, None, None, {"hidden": True})
    book.close()
    record = await imported(admin_user, buffer.getvalue())
    assert record.status is ImportStatus.DONE, record.errors
    assert (record.invited_count, record.hidden_count) == (2, 1)


# ---------------------------------------------------------------------------------------------
# Where the header is


async def test_a_title_above_the_header_is_passed_over(admin_user: User) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "Bewonerslijst Noordlaan"
    sheet.append([])
    sheet.append(["email", "first_name"])
    sheet.append(["eva@example.org", "Eva"])
    record = await imported(admin_user, saved(book))
    assert record.status is ImportStatus.DONE, record.errors
    assert (record.invited_count, record.rows_total) == (1, 1)


async def test_notes_on_the_first_sheet_and_the_rows_on_the_second(admin_user: User) -> None:
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Uitleg"
    notes.append(["Lijst van de bewoners, zie blad 2"])
    people = book.create_sheet("Bewoners")
    people.append(["E-mailadres", "Voornaam"])
    people.append(["bad address", "Eva"])
    record = await imported(admin_user, saved(book))
    assert record.sheet_name == "Bewoners"
    assert [(e["code"], e["row"]) for e in record.errors] == [("INVALID_EMAIL", 2)]
    assert "'Uitleg' before it is a chart, hidden or has no header row" not in str(record.errors)


async def test_no_header_on_any_sheet_says_so_with_the_templates_columns(
    admin_user: User,
) -> None:
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Uitleg"
    notes.append(["Lijst van de bewoners"])
    people = book.create_sheet("Bewoners")
    people.append(["Naam", "Telefoon"])
    record = await imported(admin_user, saved(book))
    assert record.status is ImportStatus.FAILED
    missing = next(e for e in record.errors if e["code"] == "MISSING_COLUMN")
    assert "The header row was not found on any sheet" in missing["message"]
    assert "'Uitleg', 'Bewoners'" in missing["message"]
    assert "email, first_name, last_name" in missing["message"]


# ---------------------------------------------------------------------------------------------
# Headers in the platform's languages


@pytest.mark.parametrize(
    "header",
    [
        ["E-mailadres", "Voornaam", "Achternaam", "Taal"],
        ["Adresse e-mail", "Prénom", "Nom", "Langue"],
        ["Email address", "First name", "Last name", "Language"],
        ["  e-mail ADRES ", "VOORNAAM", "achter naam", " taal"],
    ],
)
async def test_headers_in_dutch_french_and_english_are_read(
    admin_user: User, header: list[str]
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    sheet.append(["eva@example.org", "Eva", "Peeters", "nl-BE"])
    record = await imported(admin_user, saved(book))
    assert record.status is ImportStatus.DONE, record.errors
    found = await Invitation.get(email="eva@example.org")
    assert (found.first_name, found.last_name, found.locale) == ("Eva", "Peeters", "nl-BE")


# ---------------------------------------------------------------------------------------------
# Header problems in one round


async def test_a_pandas_index_column_is_reported_with_the_other_header_problems(
    admin_user: User,
) -> None:
    # What pandas' DataFrame.to_excel writes (its xlsxwriter engine): the index in column A,
    # under a blank header.
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet("Sheet1")
    bold = book.add_format({"bold": True, "border": 1})
    sheet.write_string(0, 1, "email", bold)
    sheet.write_string(0, 2, "phone", bold)
    sheet.write_number(1, 0, 0, bold)
    sheet.write_string(1, 1, "eva@example.org")
    sheet.write_string(1, 2, "0470")
    book.close()
    record = await imported(admin_user, buffer.getvalue())
    assert record.status is ImportStatus.FAILED
    assert {(e["code"], e["field"]) for e in record.errors} == {
        ("UNKNOWN_COLUMN", "A"),
        ("UNKNOWN_COLUMN", "C"),
    }
