"""From sheet rows to invitees: the header names the columns, each cell is read by its column.

A non-blank cell overrides the form's default for its row, the same way for every column; a
blank cell keeps the default. The checks that need the database or the whole batch (addresses,
duplicates, pending invitations, smart group rules) are BatchCheck's job, which reports them
with the same row numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache, partial
from typing import Any

from domain import i18n
from domain.errors import ErrorCode, Problem, Reason
from domain.groups.rules import convert_field_value
from domain.imports.xlsx import ERROR_VALUE, HEADER_SEARCH_ROWS, Cell, Sheet, column_letter
from domain.invitations.addresses import parse_entry
from domain.invitations.checks import Invitee
from domain.memo import OncePerValue
from domain.models import FieldType, Group, RegistrationField

TEMPLATE_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "language",
    "groups",
    "admin",
    "address",
)
# Headers people write for the template's columns; their titles in every catalog's language
# (the words the product shows for them: "E-mailadres", "Adresse e-mail") are read too.
_ALIASES = {"e_mail": "email", "locale": "language", "firstname": "first_name"}
_ALIASES |= {"lastname": "last_name", "group": "groups", "postal_address": "address"}
_TITLES = {
    "email": "invite.email_label",
    "first_name": "invite.first_name_label",
    "last_name": "invite.last_name_label",
    "language": "invite.language_label",
    "groups": "admin.invitations.grant_groups",
    "admin": "admin.invitations.role_admin",
    "address": "admin.template.title_address",
}
EXAMPLE_EMAIL = "jan.peeters@example.org"  # the template's example row
ADMIN_TRUE = frozenset({"true", "1", "1.0"})
ADMIN_FALSE = frozenset({"false", "0", "0.0"})
_GROUP_SEPARATORS = re.compile(r"[,;\n]")
# The code a column's unreadable or malformed cells are reported with.
_CODES = {
    "email": ErrorCode.INVALID_EMAIL,
    "first_name": ErrorCode.INVALID_NAME,
    "last_name": ErrorCode.INVALID_NAME,
    "language": ErrorCode.UNKNOWN_LOCALE,
    "groups": ErrorCode.MALFORMED_GROUPS_VALUE,
    "admin": ErrorCode.MALFORMED_ADMIN_VALUE,
    "address": ErrorCode.INVALID_ADDRESS,
}


@dataclass(frozen=True, slots=True)
class Column:
    position: int  # in the row as read
    letter: str  # as the spreadsheet shows it
    name: str  # a template column, or a registration field's key
    registration_field: RegistrationField | None = None


@dataclass(slots=True)
class Rows:
    """What the rows read so far found: the problems in their cells, and counts."""

    problems: list[Problem] = field(default_factory=list)
    rows_total: int = 0  # data rows below the header, blank ones included
    skipped: int = 0  # blank rows
    hidden: int = 0  # rows hidden by hand or by a filter, not read (blank ones are `skipped`)


def header_key(value: Cell, fields: Mapping[str, RegistrationField] | None = None) -> str:
    """Headers match case-insensitively, with spaces, dashes and underscores alike (and left
    out, for the template's columns: "E-mail adres" is "E-mailadres"); a template column also
    by its title in any catalog's language. A registration field's key is itself."""
    words = re.split(r"[\s_-]+", text_of(value).casefold())
    key = "_".join(word for word in words if word)
    if fields and key in fields:
        return key
    return _header_aliases().get(key.replace("_", ""), key)


@cache
def _header_aliases() -> dict[str, str]:
    """Template columns by their headers, aliases and titles, with no separators."""

    def compact(text: str) -> str:
        return re.sub(r"[\s_-]+", "", text.casefold())

    aliases = {compact(column): column for column in TEMPLATE_COLUMNS}
    aliases |= {compact(alias): column for alias, column in _ALIASES.items()}
    for locale in i18n.catalog_files():
        words = i18n.catalog(locale)
        for column, key in _TITLES.items():
            aliases.setdefault(compact(words(key)), column)
    return aliases


def is_header_row(values: list[Cell]) -> bool:
    """Whether a row holds the template's email column: the header, below any title."""
    return any(isinstance(value, str) and header_key(value) == "email" for value in values)


def text_of(value: Cell) -> str:
    """A cell as text: numbers without a spurious '.0', dates in ISO form, booleans as Excel
    writes them."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time() else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _blank(value: Cell) -> bool:
    return value == "" or (isinstance(value, str) and value.isspace())


def _title_key(title: str) -> str:
    return " ".join(title.split()).casefold()


@dataclass(frozen=True, slots=True)
class Names:
    """Who each name in a cell stands for, case and spacing aside: `found` a name that names
    one thing, `shared` one that several share (with their default titles, to say so)."""

    found: dict[str, Any]
    shared: dict[str, list[str]]

    def __contains__(self, name: str) -> bool:
        key = _title_key(name)
        return key in self.found or key in self.shared


def names_of(entries: Iterable[tuple[object, str, list[list[str]]]]) -> Names:
    """The names of things (a value, its default title, its names by precedence: keys, then
    default titles, then titles in the platform's other locales). A name an earlier kind
    gives is that thing's, whatever a later kind says; two things of the same kind sharing a
    name make it ambiguous. Built once per import: reading a cell is a dict lookup."""
    found: dict[str, Any] = {}
    shared: dict[str, list[str]] = {}
    entries = list(entries)
    for depth in range(max((len(layers) for _, _, layers in entries), default=0)):
        layer: dict[str, list[tuple[object, str]]] = {}
        for value, title, layers in entries:
            for name in layers[depth] if depth < len(layers) else ():
                key = _title_key(name)
                if not key or key in found or key in shared:
                    continue
                claims = layer.setdefault(key, [])
                if all(claimed != value for claimed, _ in claims):
                    claims.append((value, title))
        for key, claims in layer.items():
            if len(claims) == 1:
                found[key] = claims[0][0]
            else:
                shared[key] = [title for _, title in claims]
    return Names(found, shared)


def group_names(groups: Iterable[Group]) -> Names:
    """A group by its title in the default locale (unique), else in any of the others."""
    return names_of(
        (group.id, group.title, [[group.title], list(group.title_multiloc.values())])
        for group in groups
    )


def option_names(registration_field: RegistrationField) -> Names:
    """A select field's option by its key, else its title in the default locale, else in any
    of the others."""
    return names_of(
        (
            str(option["key"]),
            str(option.get("title") or option["key"]),
            [
                [str(option["key"])],
                [str(option.get("title") or "")],
                [str(title) for title in (option.get("title_multiloc") or {}).values()],
            ],
        )
        for option in registration_field.options
    )


class SheetReader:
    """Reads a sheet's rows into invitees part by part, so an import can check and store a
    part while it reads the next. `result` collects the problems and the counts (not the
    invitees); the header's problems are there as soon as the reader is made."""

    def __init__(
        self,
        sheet: Sheet,
        *,
        fields: Mapping[str, RegistrationField],
        groups: Iterable[Group],
    ) -> None:
        self.result = Rows()
        self.sheet = sheet
        self.rows = enumerate(sheet.rows, start=1)
        self.rows_expected = 0  # data rows below the header, blank ones included
        self.unnamed: list[int] = []
        self.reported_unnamed: set[int] = set()
        self.unreadable_rows = {row for row, _ in sheet.unreadable}
        self.reader: _RowReader | None = None
        header: list[Cell] = []
        header_row = 0
        for header_row, header in self.rows:
            if header_row == sheet.header_row or (
                not sheet.header_row and not all(_blank(value) for value in header)
            ):
                break
        else:
            which = f"The sheet {sheet.name!r}" if sheet.name else "The first sheet"
            self.result.problems.append(
                Problem(
                    ErrorCode.MISSING_COLUMN,
                    f"{which} is empty: fill in the template's columns, starting with email."
                    + _passed_over(sheet),
                    "email",
                )
            )
            return
        columns, self.unnamed, problems = _columns(
            header, header_row, sheet.first_column, fields, sheet.searched
        )
        if problems:
            if sheet.passed_over:
                first = problems[0]
                problems[0] = replace(first, message=first.message + _passed_over(sheet))
            self.result.problems = problems
            if self.unnamed:  # columns without a header but with values: in the same round
                for number, values in self.rows:
                    self._report_unnamed(number, values)
                    if len(self.reported_unnamed) == len(self.unnamed):
                        break
                problems.sort(key=lambda problem: problem.row or 0)
            return
        self.rows_expected = max(sheet.row_count - header_row, 0)
        self.reader = _RowReader(columns, group_names(groups), sheet)

    def next_part(self, size: int) -> list[Invitee]:
        """The invitees of the next `size` rows that are not blank; empty at the end."""
        part: list[Invitee] = []
        reader, result = self.reader, self.result
        if reader is None:
            return part
        problems, unreadable_rows, unnamed = result.problems, self.unreadable_rows, self.unnamed
        hidden = self.sheet.hidden_rows
        for number, values in self.rows:
            result.rows_total += 1
            for value in values:  # as _blank, inline: most rows stop at their first cell
                if value != "" and not (isinstance(value, str) and value.isspace()):
                    break
            else:
                if number not in unreadable_rows:
                    result.skipped += 1
                    continue
            if hidden and number in hidden:  # not what the admin sees: not what she means
                result.hidden += 1
                continue
            if unnamed:
                self._report_unnamed(number, values)
            part.append(reader.read(number, values, problems, number in unreadable_rows))
            if len(part) == size:
                break
        return part

    def read_all(self) -> list[Invitee]:
        """The invitees of every row left."""
        invitees = []
        while part := self.next_part(10_000):
            invitees.extend(part)
        return invitees

    def _report_unnamed(self, number: int, values: list[Cell]) -> None:
        for position in self.unnamed:
            if (
                position not in self.reported_unnamed
                and position < len(values)
                and not _blank(values[position])
            ):
                self.reported_unnamed.add(position)
                letter = column_letter(self.sheet.first_column + position)
                self.result.problems.append(
                    Problem(
                        ErrorCode.UNKNOWN_COLUMN,
                        f"Column {letter} has values but no header: give it one of the template's"
                        " headers, or delete it.",
                        letter,
                        row=number,
                        value=text_of(values[position]),
                        reason=Reason.NO_HEADER,
                        details=(("column", letter),),
                    )
                )


def _passed_over(sheet: Sheet) -> str:
    """Which sheet was read, when it is not the workbook's first."""
    if not sheet.passed_over:
        return ""
    before = ", ".join(repr(name) for name in sheet.passed_over)
    if sheet.first_visible:
        return (
            f" The rows are read from the sheet {sheet.name!r}, the first visible worksheet:"
            f" {before} before it is a chart or hidden."
        )
    return (
        f" The rows are read from the sheet {sheet.name!r}, the first visible worksheet with"
        f" the header row: {before} before it is a chart, hidden or has no header row."
    )


def _columns(
    header: list[Cell],
    number: int,
    first_column: int,
    fields: Mapping[str, RegistrationField],
    searched: tuple[str, ...] = (),
) -> tuple[list[Column], list[int], list[Problem]]:
    columns: list[Column] = []
    unnamed: list[int] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for position, value in enumerate(header):
        letter = column_letter(first_column + position)
        if _blank(value):
            unnamed.append(position)
            continue
        name = header_key(value, fields)
        if name not in TEMPLATE_COLUMNS and name not in fields:
            known = ", ".join([*TEMPLATE_COLUMNS, *sorted(fields)])
            problems.append(
                Problem(
                    ErrorCode.UNKNOWN_COLUMN,
                    f"Column {letter} ({text_of(value)!r}) is not one of the template's columns: "
                    f"{known}. Rename or delete it.",
                    letter,
                    row=number,
                    value=text_of(value),
                    reason=Reason.NOT_A_COLUMN,
                    details=(("column", letter), ("columns", known)),
                )
            )
            continue
        if name in seen:
            problems.append(
                Problem(
                    ErrorCode.UNKNOWN_COLUMN,
                    f"Columns {seen[name]} and {letter} are both {name!r}: keep one of them.",
                    letter,
                    row=number,
                    value=text_of(value),
                    reason=Reason.COLUMN_TWICE,
                    details=(("column", letter), ("first", seen[name])),
                )
            )
            continue
        seen[name] = letter
        columns.append(Column(position, letter, name, fields.get(name)))
    if "email" not in seen:
        where = f"Row {number}, the header, has no 'email' column."
        if searched:
            sheets = ", ".join(repr(name) for name in searched)
            where = (
                f"The header row was not found on any sheet: none of the first"
                f" {HEADER_SEARCH_ROWS} rows of {sheets} has an 'email' column (row {number}"
                " was read as the header)."
            )
        problems.append(
            Problem(
                ErrorCode.MISSING_COLUMN,
                where
                + " Use the template: its header row is "
                + ", ".join(TEMPLATE_COLUMNS)
                + " and one column per registration field (leave an email blank for a code-only"
                " invitation).",
                "email",
                row=number,
            )
        )
    return columns, unnamed, problems


class _RowReader:
    """Reads one row into an Invitee; its problems go to the caller's list.

    Written for 100,000 rows and more: text cells take a direct path, and groups and field
    cells, which repeat (a campaign's group, a neighbourhood), are parsed once per value."""

    def __init__(self, columns: list[Column], groups: Names, sheet: Sheet) -> None:
        self.columns = columns
        self.group_names = groups
        self.sheet = sheet
        self.groups = OncePerValue(self._parse_groups)
        self.field_values = {
            column.name: OncePerValue(
                partial(
                    _converted,
                    column.registration_field,
                    option_names(column.registration_field)
                    if column.registration_field.type is FieldType.SELECT
                    else None,
                )
            )
            for column in columns
            if column.registration_field is not None
        }

    def read(
        self, number: int, values: list[Cell], problems: list[Problem], has_unreadable: bool
    ) -> Invitee:
        invitee = Invitee(row=number)
        field_values: dict[str, Any] = {}
        width = len(values)
        for column in self.columns:
            position = column.position
            if has_unreadable:
                why = self.sheet.unreadable.get((number, self.sheet.first_column + position))
                if why is not None:
                    problems.append(_unreadable(column, number, why))
                    continue
            if position >= width:
                continue
            value = values[position]
            if value.__class__ is str:
                value = value.strip()
                if not value:
                    continue
            name = column.name
            if name == "email":
                self._email(invitee, value, problems)
            elif name == "first_name":
                invitee.first_name = value if value.__class__ is str else text_of(value)
            elif name == "last_name":
                invitee.last_name = value if value.__class__ is str else text_of(value)
            elif name == "language":
                # BatchCheck reports an unknown one
                invitee.locale = value if value.__class__ is str else text_of(value)
            elif name == "groups":
                self._groups(invitee, value, problems)
            elif name == "admin":
                self._admin(invitee, value, problems)
            elif name == "address":  # BatchCheck checks its lines
                invitee.postal_address = value if value.__class__ is str else text_of(value)
            else:
                self._field(invitee, column, value, problems, field_values)
        if field_values:
            invitee.registration_field_values = field_values
        return invitee

    def _email(self, invitee: Invitee, value: Cell, problems: list[Problem]) -> None:
        # As typed on the form: 'mailto:' and 'Jan Peeters <jan@example.org>' too; the name
        # fills the name cells the row leaves blank.
        entry = parse_entry(text_of(value))
        invitee.email = entry.email
        if entry.first_name and not invitee.first_name:
            invitee.first_name = entry.first_name
        if entry.last_name and not invitee.last_name:
            invitee.last_name = entry.last_name
        if invitee.email.lower() == EXAMPLE_EMAIL:
            problems.append(
                Problem(
                    ErrorCode.EXAMPLE_ROW,
                    "This is the template's example row: replace it with a real invitee, or"
                    " delete it.",
                    "email",
                    row=invitee.row,
                    value=invitee.email,
                )
            )

    def _admin(self, invitee: Invitee, value: Cell, problems: list[Problem]) -> None:
        flag = admin_value(value)
        if flag is None:
            problems.append(
                Problem(
                    ErrorCode.MALFORMED_ADMIN_VALUE,
                    f"{text_of(value)!r} is not an admin value: use TRUE or FALSE (or 1 and 0),"
                    " or leave the cell blank to keep the form's choice.",
                    "admin",
                    row=invitee.row,
                    value=text_of(value),
                )
            )
        invitee.is_admin = flag

    def _groups(self, invitee: Invitee, value: Cell, problems: list[Problem]) -> None:
        ids, issues, typed = self.groups(value)
        for code, message, text in issues:
            problems.append(Problem(code, message, "groups", row=invitee.row, value=text))
        invitee.group_ids = ids  # shared between rows: BatchCheck copies it
        invitee.typed_groups = typed  # shared between rows too: read only

    def _parse_groups(
        self, value: Cell
    ) -> tuple[list[int], list[tuple[ErrorCode, str, str]], dict[int, str]]:
        """The groups a cell names (their ids), its problems, and each group as it is written
        in the cell (a problem about the group shows the admin's own words)."""
        if isinstance(value, bool | date | time | timedelta) or (
            isinstance(value, float) and not value.is_integer()
        ):
            issue = (
                ErrorCode.MALFORMED_GROUPS_VALUE,
                f"{text_of(value)!r} is not a list of groups: write group titles separated by"
                " commas, as the template's second sheet lists them.",
                text_of(value),
            )
            return [], [issue], {}
        text = text_of(value)
        names = self.group_names
        titles = [text] if text in names else _GROUP_SEPARATORS.split(text)  # "A, B" may be one
        titles = [title.strip() for title in titles if title.strip()]
        issues: list[tuple[ErrorCode, str, str]] = []
        if not titles:
            issues.append(
                (
                    ErrorCode.MALFORMED_GROUPS_VALUE,
                    f"{text!r} names no group: write group titles separated by commas, or leave"
                    " the cell blank to keep the form's groups.",
                    text,
                )
            )
        ids: list[int] = []
        typed: dict[int, str] = {}
        for title in titles:
            key = _title_key(title)
            group_id = names.found.get(key)
            if key in names.shared:
                issues.append(
                    (
                        ErrorCode.AMBIGUOUS_GROUP,
                        f"{title!r} is the title of more than one group ("
                        + ", ".join(repr(other) for other in names.shared[key])
                        + "): write the one you mean by its title in the platform's default"
                        " language, as the template's second sheet lists it.",
                        title,
                    )
                )
            elif group_id is None:
                issues.append(
                    (
                        ErrorCode.UNKNOWN_GROUP,
                        f"There is no group called {title!r} in any of the platform's"
                        " languages. The template's second sheet lists the groups.",
                        title,
                    )
                )
            elif group_id not in ids:
                ids.append(group_id)
                typed[group_id] = title
        return ids, issues, typed

    def _field(
        self,
        invitee: Invitee,
        column: Column,
        value: Cell,
        problems: list[Problem],
        field_values: dict[str, Any],
    ) -> None:
        converted, issue = self.field_values[column.name](value)
        if issue is not None:
            problems.append(
                Problem(
                    ErrorCode.MALFORMED_FIELD_VALUE,
                    issue,
                    column.name,
                    row=invitee.row,
                    value=text_of(value),
                )
            )
            return
        field_values[column.name] = converted


def _converted(
    registration_field: RegistrationField, options: Names | None, value: Cell
) -> tuple[Any, str | None]:
    """A field cell's value as stored, or what is wrong with it. A select field's option is
    named by its key or its title in any of the platform's locales."""
    if options is not None:
        key = _title_key(text_of(value))
        if key in options.shared:
            return None, (
                f"{registration_field.title}: {text_of(value)!r} is the title of more than one"
                " option (" + ", ".join(repr(title) for title in options.shared[key]) + "):"
                " write the option's key."
            )
        value = options.found.get(key, value)
    try:
        converted = convert_field_value(registration_field, _field_input(registration_field, value))
    except ValueError as error:
        return None, f"{registration_field.title}: {error}"
    return converted, None


def admin_value(value: Cell) -> bool | None:
    """TRUE/FALSE in any case, 1/0, 1.0/0.0 and native booleans; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ADMIN_TRUE:
            return True
        if text in ADMIN_FALSE:
            return False
    return None


def _field_input(registration_field: RegistrationField, value: Cell) -> Any:
    """What convert_field_value expects: numbers and dates as the spreadsheet holds them for
    number and date fields, text (without a spurious '.0') for the others."""
    kind = registration_field.type
    if kind is FieldType.NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind is FieldType.DATE and isinstance(value, date):
        return value
    if kind is FieldType.CHECKBOX and isinstance(value, bool):
        return value
    return text_of(value)


def _unreadable(column: Column, number: int, why: str) -> Problem:
    advice = (
        "correct the formula or type the value"
        if why == ERROR_VALUE
        else "open the file in Excel or LibreOffice and save it again, or type the value"
    )
    return Problem(
        _CODES.get(column.name, ErrorCode.MALFORMED_FIELD_VALUE),
        f"Cell {column.letter}{number} holds {why}: {advice}.",
        column.name,
        row=number,
        value=None,
        reason=Reason.ERROR_VALUE if why == ERROR_VALUE else Reason.FORMULA_NOT_SAVED,
        details=(("cell", f"{column.letter}{number}"),),
    )
