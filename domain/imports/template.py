"""The Excel template admins fill in: the columns, an example row, and a sheet of what to write."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from domain.groups.service import rules_of
from domain.imports.rows import EXAMPLE_EMAIL, TEMPLATE_COLUMNS
from domain.models import FieldType, Group, GroupKind, RegistrationField
from domain.titles import titles_of

SHEET_TITLE = "Invitations"
HELP_TITLE = "How to fill it in"
_BOLD = Font(bold=True)
_HEADING = Font(bold=True, size=13)
_EXAMPLE = Font(italic=True, color="808080")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
_VALIDATED_ROWS = 200_001
EXAMPLE_ADDRESS = "Jan Peeters\nKerkstraat 12 bus 3\n9000 Gent"

_COLUMN_HELP = {
    "email": "The address the invitation is mailed to. Leave it blank for a code-only"
    " invitation: no mail is sent; print its letter (letters.pdf) or export its code.",
    "first_name": "Optional. Prefills the registration form.",
    "last_name": "Optional. Prefills the registration form.",
    "language": "The language of the mails and the registration page (see the list below)."
    " Blank: the form's language.",
    "groups": "Group titles separated by commas (any case), each in any of the platform's"
    " languages (see the list below). Blank: the form's groups. A value replaces the form's"
    " groups for that row.",
    "admin": "TRUE or FALSE (true/false, 1/0 and checkboxes work too). Blank: the form's choice.",
    "address": "Optional. The postal address a letter is sent to, printed where the window of"
    " a DL or C5/6 envelope shows it: one line per cell line (Alt+Enter in Excel, Ctrl+Enter in"
    " LibreOffice, Option+Return on a Mac), at most 6 lines of 60 characters. For example:"
    " the name, the street and number, the postcode and town, the country if abroad. Erased"
    " once the invitation is accepted.",
}


def template_workbook(
    *, locales: Sequence[str], groups: Sequence[Group], fields: Sequence[RegistrationField]
) -> bytes:
    """The template as .xlsx bytes. Every text that comes from the platform (group titles,
    field titles) is written as text, so a title like '=HYPERLINK(...)' never runs."""
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = SHEET_TITLE
    headers = [*TEMPLATE_COLUMNS, *(f.key for f in fields)]
    for position, header in enumerate(headers, start=1):
        cell = _text(sheet, 1, position, header)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        sheet.column_dimensions[cell.column_letter].width = (
            32 if header in ("email", "address") else 18
        )
    sheet.freeze_panes = "A2"
    manual = next((g.title for g in groups if g.kind is GroupKind.MANUAL), "")
    example: list[str | bool | float | date] = [
        EXAMPLE_EMAIL,
        "Jan",
        "Peeters",
        locales[1] if len(locales) > 1 else locales[0],
        manual,
        False,
        EXAMPLE_ADDRESS,
        *(_example_value(f) for f in fields),
    ]
    for position, value in enumerate(example, start=1):
        cell = (
            _text(sheet, 2, position, value)
            if isinstance(value, str)
            else sheet.cell(2, position, value)
        )
        cell.font = _EXAMPLE
        cell.alignment = _WRAP
    _validations(sheet, locales)
    _help_sheet(workbook.create_sheet(HELP_TITLE), locales, groups, fields)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(sheet: Worksheet, row: int, column: int, value: str) -> Cell:
    cell = sheet.cell(row, column)
    cell.value = value
    cell.data_type = "s"
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        cell.quotePrefix = True  # shown and kept as text when someone edits the cell
    return cell


def _example_value(registration_field: RegistrationField) -> str | bool | float | date:
    if registration_field.type is FieldType.SELECT and registration_field.options:
        return str(registration_field.options[0]["key"])
    if registration_field.type is FieldType.CHECKBOX:
        return True
    if registration_field.type is FieldType.NUMBER:
        return 1
    if registration_field.type is FieldType.DATE:
        return date(2000, 1, 31)
    return ""


def _validations(sheet: Worksheet, locales: Sequence[str]) -> None:
    """Drop-downs for the columns with a fixed set of values (blank stays allowed)."""
    language = DataValidation(type="list", formula1=f'"{",".join(locales)}"', allow_blank=True)
    language.error = "Use one of the platform's languages: " + ", ".join(locales)
    language.add(f"D2:D{_VALIDATED_ROWS}")
    admin = DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True)
    admin.add(f"F2:F{_VALIDATED_ROWS}")
    for validation in (language, admin):
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)


def _help_sheet(
    sheet: Worksheet,
    locales: Sequence[str],
    groups: Sequence[Group],
    fields: Sequence[RegistrationField],
) -> None:
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["C"].width = 90
    row = 1

    def heading(title: str) -> None:
        nonlocal row
        row += 1 if row > 1 else 0
        _text(sheet, row, 1, title).font = _HEADING
        row += 1

    def line(*values: str, bold: bool = False) -> None:
        nonlocal row
        for position, value in enumerate(values, start=1):
            cell = _text(sheet, row, position, value)
            if len(values) > 1:  # a lone sentence runs on over the empty cells beside it
                cell.alignment = _WRAP
            if bold:
                cell.font = _BOLD
        row += 1

    heading("Columns")
    line(
        "One row per invitation, on the first sheet. Headers may be in any case. A filled-in"
        " cell overrides what the import form chose, for that row only; a blank cell keeps the"
        " form's choice. Delete the grey example row before uploading."
    )
    for name in TEMPLATE_COLUMNS:
        line(name, "", _COLUMN_HELP[name])
    for registration_field in fields:
        line(
            registration_field.key,
            registration_field.type.value,
            f"Registration field '{registration_field.title}'"
            + (" (required at registration)" if registration_field.required else "")
            + ". "
            + _field_help(registration_field),
        )

    heading("Blank email")
    line(
        "A row without an email makes a code-only invitation, for a letter: nobody is mailed."
        " After the import, print the letters (GET /invitations/letters.pdf?importId=...; an"
        " address in the address column lands in the envelope's window), or export the"
        " invitations: the token column holds each code. The person types it at the /invite"
        " page."
    )

    heading("Languages (language column)")
    for locale in locales:
        line(locale)

    heading("Admin values (admin column)")
    line("TRUE", "", "Makes the person an admin. Also: true, 1, a ticked checkbox.")
    line("FALSE", "", "Not an admin. Also: false, 0, an unticked checkbox.")
    line("(blank)", "", "The form's choice.")

    heading("Groups (groups column)")
    line("Title", "Kind", "Membership", bold=True)
    if not groups:
        line("(no groups yet)")
    for group in groups:
        also = _other_titles(group.title, group.title_multiloc)
        if group.kind is GroupKind.MANUAL:
            line(group.title, "manual", "The person joins this group on accepting." + also)
            continue
        rules = [rule.describe() for rule in rules_of(group)]
        combined = (" and " if group.match_all else " or ").join(rules)
        line(
            group.title,
            "smart",
            f"Members are whoever meets: {combined}. Naming it is accepted only when the row's"
            " values (registration fields, language, admin) meet these rules." + also,
        )


def _other_titles(title: str, multiloc: Mapping[str, str]) -> str:
    """What a group or an option is called in the platform's other languages, as a sentence
    (empty when it has no title of its own there)."""
    others = [(locale, text) for locale, text in titles_of(title, multiloc)[1:] if text != title]
    if not others:
        return ""
    return " Also written: " + ", ".join(f"{text} ({locale})" for locale, text in others) + "."


def _field_help(registration_field: RegistrationField) -> str:
    kind = registration_field.type
    if kind is FieldType.SELECT:
        options = ", ".join(
            f"{option['key']} ({option.get('title') or option['key']})"
            for option in registration_field.options
        )
        return (
            f"One of: {options}. An option's title may also be in any of the platform's languages."
        )
    if kind is FieldType.CHECKBOX:
        return "TRUE or FALSE."
    if kind is FieldType.NUMBER:
        return "A number."
    if kind is FieldType.DATE:
        return "A date (a date cell, or text like 2026-05-31)."
    return "Text."
