"""Custom registration fields: their definitions, and checking the values given for them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.errors import DomainError, ErrorCode, Problem
from domain.groups.rules import convert_field_value
from domain.models import FieldType, RegistrationField
from domain.validation import clean_name

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Column names of the Excel template: a field may not take one of them as its key.
RESERVED_KEYS = {"email", "first_name", "last_name", "language", "groups", "admin", "token"}


async def create_registration_field(
    *,
    key: str,
    title: str,
    type: FieldType,
    options: Sequence[Mapping[str, str]] = (),
    required: bool = False,
) -> RegistrationField:
    key = key.strip().lower()
    if not _KEY.match(key) or key in RESERVED_KEYS:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT,
            "Use a key of lower-case letters, digits and underscores, starting with a letter"
            f" (not one of {', '.join(sorted(RESERVED_KEYS))}).",
            "key",
            value=key,
        )
    title = clean_name(title, "title")
    if not title:
        raise DomainError.single(ErrorCode.INVALID_INPUT, "Give the field a title.", "title")
    clean_options: list[dict[str, str]] = []
    if type is FieldType.SELECT:
        # Values are matched by option key or title, case-insensitively: each must name one option.
        seen: set[str] = set()
        for option in options:
            option_key = clean_name(str(option.get("key") or ""), "options")
            option_title = clean_name(str(option.get("title") or option_key), "options")
            if not option_key:
                raise DomainError.single(
                    ErrorCode.INVALID_INPUT, "Each option needs a key.", "options"
                )
            names = {option_key.lower(), option_title.lower()}
            taken = sorted(names & seen)
            if taken:
                raise DomainError.single(
                    ErrorCode.INVALID_INPUT,
                    f"Two options are called {taken[0]!r}: give each option its own key and title.",
                    "options",
                    value=taken[0],
                )
            seen |= names
            clean_options.append({"key": option_key, "title": option_title})
        if not clean_options:
            raise DomainError.single(
                ErrorCode.INVALID_INPUT, "A select field needs at least one option.", "options"
            )
    elif options:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT, "Only select fields have options.", "options"
        )
    duplicate = DomainError.single(
        ErrorCode.DUPLICATE_TITLE, f"There is already a field with key {key!r}.", "key", value=key
    )
    if await RegistrationField.filter(key=key).exists():
        raise duplicate
    try:
        async with in_transaction():
            return await RegistrationField.create(
                key=key, title=title, type=type, options=clean_options, required=required
            )
    except IntegrityError:
        raise duplicate from None


def check_values(
    values: Mapping[str, Any],
    fields: Mapping[str, RegistrationField],
    *,
    field: str = "registrationFields",
    require: bool = False,
) -> tuple[dict[str, Any], list[Problem]]:
    """Values converted to their stored form, and the problems found. Blank values are
    dropped. With `require`, a required field without a value is a problem too."""
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, raw in values.items():
        registration_field = fields.get(key)
        if registration_field is None:
            problems.append(
                Problem(
                    ErrorCode.UNKNOWN_FIELD,
                    f"There is no registration field {key!r}.",
                    field,
                    value=key,
                )
            )
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            clean[key] = convert_field_value(registration_field, raw)
        except ValueError as error:
            problems.append(
                Problem(
                    ErrorCode.INVALID_FIELD_VALUE,
                    f"{registration_field.title}: {error}",
                    f"{field}.{key}",
                    value=str(raw),
                )
            )
    if require:
        for key, registration_field in fields.items():
            if (
                registration_field.required
                and key not in clean
                and registration_field.type is not FieldType.CHECKBOX
            ):
                problems.append(
                    Problem(
                        ErrorCode.REQUIRED_FIELD_MISSING,
                        f"{registration_field.title} is required.",
                        f"{field}.{key}",
                    )
                )
            elif (
                registration_field.required
                and registration_field.type is FieldType.CHECKBOX
                and clean.get(key) is not True
            ):
                problems.append(
                    Problem(
                        ErrorCode.REQUIRED_FIELD_MISSING,
                        f"{registration_field.title} must be checked.",
                        f"{field}.{key}",
                    )
                )
    return clean, problems
