"""The Excel template admins fill in: the columns, an example row, and a sheet of what to write.

The words are the admin's (the language of the console that downloads it): the sheets' names,
the help sheet and the drop-down's message. The column headers are the import's keys and stay
as they are in every language, as do the values the import reads (TRUE and FALSE, the platform's
locales, group titles and option keys), so a template filled in in any language imports.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from domain import i18n
from domain.groups.rules import Attribute, Operator, Rule
from domain.groups.service import rules_of
from domain.imports.rows import EXAMPLE_EMAIL, TEMPLATE_COLUMNS
from domain.models import FieldType, Group, GroupKind, RegistrationField
from domain.titles import title_in, titles_of

_BOLD = Font(bold=True)
_HEADING = Font(bold=True, size=13)
_EXAMPLE = Font(italic=True, color="808080")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
_VALIDATED_ROWS = 200_001
EXAMPLE_ADDRESS = "Jan Peeters\nKerkstraat 12 bus 3\n9000 Gent"

# What each column holds, by its header (the catalog keys are written out for tests/test_i18n.py).
_COLUMN_HELP = {
    "email": "admin.template.column_email",
    "first_name": "admin.template.column_first_name",
    "last_name": "admin.template.column_last_name",
    "language": "admin.template.column_language",
    "groups": "admin.template.column_groups",
    "admin": "admin.template.column_admin",
    "address": "admin.template.column_address",
}
_FIELD_TYPES = {
    FieldType.TEXT: "admin.fields.type_text",
    FieldType.NUMBER: "admin.fields.type_number",
    FieldType.SELECT: "admin.fields.type_select",
    FieldType.CHECKBOX: "admin.fields.type_checkbox",
    FieldType.DATE: "admin.fields.type_date",
}
_FIELD_HELP = {
    FieldType.TEXT: "admin.template.field_text",
    FieldType.NUMBER: "admin.template.field_number",
    FieldType.CHECKBOX: "admin.template.field_checkbox",
    FieldType.DATE: "admin.template.field_date",
}
_RULE_SUBJECTS = {
    Attribute.EMAIL_DOMAIN: "admin.template.rule_email_domain",
    Attribute.LOCALE: "admin.template.rule_locale",
    Attribute.ROLE: "admin.template.rule_role",
}
_OPERATORS = {
    Operator.IS: "admin.groups.op_is",
    Operator.IS_NOT: "admin.groups.op_is_not",
    Operator.IS_ONE_OF: "admin.groups.op_is_one_of",
    Operator.ENDS_WITH: "admin.groups.op_ends_with",
    Operator.GREATER_THAN: "admin.groups.op_greater_than",
    Operator.LESS_THAN: "admin.groups.op_less_than",
}


def template_workbook(
    *,
    locales: Sequence[str],
    groups: Sequence[Group],
    fields: Sequence[RegistrationField],
    locale: str = i18n.SOURCE_LOCALE,
) -> bytes:
    """The template as .xlsx bytes, its words in `locale`. Every text that comes from the
    platform (group titles, field titles) is written as text, so a title like
    '=HYPERLINK(...)' never runs."""
    t = i18n.words(locale)
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = t("admin.template.sheet")
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
    _validations(sheet, locales, t)
    help_sheet = workbook.create_sheet(t("admin.template.help_sheet"))
    _help_sheet(help_sheet, locales, groups, fields, t)
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


def _validations(sheet: Worksheet, locales: Sequence[str], t: i18n.Words) -> None:
    """Drop-downs for the columns with a fixed set of values (blank stays allowed)."""
    language = DataValidation(type="list", formula1=f'"{",".join(locales)}"', allow_blank=True)
    language.error = t("admin.template.language_error", languages=", ".join(locales))
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
    t: i18n.Words,
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

    heading(t("admin.template.columns"))
    line(t("admin.template.columns_intro"))
    for name in TEMPLATE_COLUMNS:
        line(name, "", t(_COLUMN_HELP[name]))
    for registration_field in fields:
        title = title_in(registration_field.title, registration_field.title_multiloc, t.locale)
        line(
            registration_field.key,
            t(_FIELD_TYPES[registration_field.type]),
            t(
                "admin.template.field_required"
                if registration_field.required
                else "admin.template.field",
                title=title,
            )
            + " "
            + _field_help(registration_field, t),
        )

    heading(t("admin.template.blank_email"))
    line(t("admin.template.blank_email_text"))

    heading(t("admin.template.languages"))
    for locale in locales:
        line(locale)

    heading(t("admin.template.admin_values"))
    line("TRUE", "", t("admin.template.admin_true"))
    line("FALSE", "", t("admin.template.admin_false"))
    line(t("admin.template.blank"), "", t("admin.template.form_choice"))

    heading(t("admin.template.groups"))
    line(
        t("admin.template.group_title"),
        t("admin.template.group_kind"),
        t("admin.template.group_membership"),
        bold=True,
    )
    if not groups:
        line(t("admin.template.no_groups"))
    for group in groups:
        also = _other_titles(group.title, group.title_multiloc, t)
        if group.kind is GroupKind.MANUAL:
            line(
                group.title,
                t("admin.template.manual"),
                t("admin.template.manual_membership") + also,
            )
            continue
        rules = [_rule(rule, t) for rule in rules_of(group)]
        joined = rules[0] if rules else ""
        for rule in rules[1:]:
            joined = t(
                "admin.template.rules_all" if group.match_all else "admin.template.rules_any",
                rules=joined,
                rule=rule,
            )
        line(
            group.title,
            t("admin.template.smart"),
            t("admin.template.smart_membership", rules=joined) + also,
        )


def _rule(rule: Rule, t: i18n.Words) -> str:
    """A smart group's rule in the admin's words; a field is named by its column."""
    subject = (
        t("admin.template.rule_field", key=rule.field_key)
        if rule.attribute is Attribute.FIELD
        else t(_RULE_SUBJECTS[rule.attribute])
    )
    values = rule.value if isinstance(rule.value, list) else [rule.value]
    # The values as the sheet's cells hold them (TRUE and FALSE for a checkbox).
    value = ", ".join(
        ("TRUE" if item else "FALSE") if isinstance(item, bool) else str(item) for item in values
    )
    return f"{subject} {t(_OPERATORS[rule.operator])} {value}"


def _other_titles(title: str, multiloc: Mapping[str, str], t: i18n.Words) -> str:
    """What a group or an option is called in the platform's other languages, as a sentence
    (empty when it has no title of its own there)."""
    others = [(locale, text) for locale, text in titles_of(title, multiloc)[1:] if text != title]
    if not others:
        return ""
    titles = ", ".join(f"{text} ({locale})" for locale, text in others)
    return " " + t("admin.template.also_written", titles=titles)


def _field_help(registration_field: RegistrationField, t: i18n.Words) -> str:
    kind = registration_field.type
    if kind is FieldType.SELECT:
        options = ", ".join(
            f"{option['key']} ("
            + title_in(
                str(option.get("title") or option["key"]),
                option.get("title_multiloc") or {},
                t.locale,
            )
            + ")"
            for option in registration_field.options
        )
        return t("admin.template.field_select", options=options)
    return t(_FIELD_HELP[kind])
