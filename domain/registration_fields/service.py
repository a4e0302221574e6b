"""Custom registration fields: their definitions (made, changed, deleted), and checking the
values given for them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.db import connection, dialect
from domain.errors import DomainError, ErrorCode, Problem, Reason
from domain.groups.rules import convert_field_value
from domain.models import FieldType, Group, GroupKind, RegistrationField
from domain.titles import merge_titles, title_in
from domain.validation import clean_name

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Column names of the Excel template: a field may not take one of them as its key.
RESERVED_KEYS = {"email", "first_name", "last_name", "language", "groups", "admin", "token"}


def _clean_options(
    options: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Options as stored: each a key, a title in the default locale (the key if none) and
    titles in others. Values are matched by option key or title, case-insensitively: each
    must name one option."""
    known = {str(option["key"]): option for option in current}
    seen: set[str] = set()
    clean: list[dict[str, Any]] = []
    for position, option in enumerate(options):
        option_key = clean_name(str(option.get("key") or ""), "options")
        if not option_key:
            raise DomainError(
                Problem(
                    ErrorCode.INVALID_INPUT,
                    "Each option needs a key.",
                    "options",
                    position=position,
                    reason=Reason.OPTION_KEY_MISSING,
                )
            )
        before = known.get(option_key, {})
        raw_title = option.get("title")
        title, multiloc = merge_titles(
            str(raw_title) if raw_title else (None if before else option_key),
            str(before.get("title") or option_key),
            before.get("title_multiloc") or {},
            option.get("titles"),
            field=f"options.{position}.title",
        )
        names = {option_key.lower(), title.lower()}
        taken = sorted(names & seen)
        if taken:
            raise DomainError(
                Problem(
                    ErrorCode.INVALID_INPUT,
                    f"Two options are called {taken[0]!r}: give each option its own key and title.",
                    "options",
                    position=position,
                    value=taken[0],
                    reason=Reason.OPTION_TWICE,
                )
            )
        seen |= names
        stored: dict[str, Any] = {"key": option_key, "title": title}
        if multiloc:
            stored["title_multiloc"] = multiloc
        clean.append(stored)
    return clean


async def create_registration_field(
    *,
    key: str,
    title: str,
    type: FieldType,
    options: Sequence[Mapping[str, Any]] = (),
    required: bool = False,
    titles: Mapping[str, str] | None = None,
) -> RegistrationField:
    """A new field; its `title` and its options' titles in the default locale, `titles` (and
    each option's `titles`) in others."""
    key = key.strip().lower()
    if not _KEY.match(key) or key in RESERVED_KEYS:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT,
            "Use a key of lower-case letters, digits and underscores, starting with a letter"
            f" (not one of {', '.join(sorted(RESERVED_KEYS))}).",
            "key",
            value=key,
            reason=Reason.KEY_FORMAT,
        )
    title = clean_name(title, "title")
    if not title:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT, "Give the field a title.", "title", reason=Reason.TITLE_MISSING
        )
    title, multiloc = merge_titles(title, "", {}, titles, field="title")
    clean_options: list[dict[str, Any]] = []
    if type is FieldType.SELECT:
        clean_options = _clean_options(options)
        if not clean_options:
            raise DomainError.single(
                ErrorCode.INVALID_INPUT,
                "A select field needs at least one option.",
                "options",
                reason=Reason.OPTIONS_MISSING,
            )
    elif options:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT,
            "Only select fields have options.",
            "options",
            reason=Reason.OPTIONS_NOT_ALLOWED,
        )
    duplicate = DomainError.single(
        ErrorCode.DUPLICATE_TITLE,
        f"There is already a field with key {key!r}.",
        "key",
        value=key,
        reason=Reason.FIELD_KEY_TAKEN,
    )
    if await RegistrationField.filter(key=key).exists():
        raise duplicate
    try:
        async with in_transaction():
            return await RegistrationField.create(
                key=key,
                title=title,
                title_multiloc=multiloc,
                type=type,
                options=clean_options,
                required=required,
            )
    except IntegrityError:
        raise duplicate from None


async def _field(field_id: int) -> RegistrationField:
    found = await RegistrationField.get_or_none(id=field_id)
    if found is None:
        raise DomainError.single(
            ErrorCode.UNKNOWN_FIELD, "There is no such registration field.", "id"
        )
    return found


async def groups_testing(key: str, option_keys: set[str] | None = None) -> list[Group]:
    """The smart groups with a rule on this field (on these of its options), by title."""
    found = []
    for group in await Group.filter(kind=GroupKind.SMART).order_by("title"):
        for rule in group.rules:
            if rule.get("attribute") != "field" or rule.get("field_key") != key:
                continue
            values = rule.get("value")
            tested = {str(v) for v in values} if isinstance(values, list) else {str(values)}
            if option_keys is None or tested & option_keys:
                found.append(group)
                break
    return found


async def _rules_testing(
    key: str, option_keys: set[str] | None = None, locale: str | None = None
) -> list[str]:
    """The titles (in `locale`) of the smart groups with a rule on this field (on these of its
    options)."""
    return [
        title_in(group.title, group.title_multiloc, locale)
        for group in await groups_testing(key, option_keys)
    ]


@dataclass(frozen=True, slots=True)
class ClearedValues:
    """Values removed from people's and invitations' data with a field or an option."""

    users: int = 0
    invitations: int = 0


async def update_registration_field(
    field_id: int,
    *,
    title: str | None = None,
    titles: Mapping[str, str] | None = None,
    options: Sequence[Mapping[str, Any]] | None = None,
    required: bool | None = None,
    locale: str | None = None,
) -> tuple[RegistrationField, ClearedValues]:
    """Change a field's titles, a select field's options (all of them: an option keeps its
    key, which values store; new keys are new options) or whether it is required. Its key and
    type never change. An option a smart group's rule tests cannot be removed (change the
    rule first; the refusal names its groups in `locale`); the values people and invitations
    hold for a removed option are cleared."""
    field = await _field(field_id)
    changed: list[str] = []
    if title is not None or titles is not None:
        field.title, field.title_multiloc = merge_titles(
            title, field.title, field.title_multiloc, titles, field="title"
        )
        changed += ["title", "title_multiloc"]
    removed: set[str] = set()
    if options is not None:
        if field.type is not FieldType.SELECT:
            raise DomainError.single(
                ErrorCode.INVALID_INPUT,
                "Only select fields have options.",
                "options",
                reason=Reason.OPTIONS_NOT_ALLOWED,
            )
        clean_options = _clean_options(options, field.options)
        if not clean_options:
            raise DomainError.single(
                ErrorCode.INVALID_INPUT,
                "A select field needs at least one option.",
                "options",
                reason=Reason.OPTIONS_MISSING,
            )
        removed = {str(o["key"]) for o in field.options} - {o["key"] for o in clean_options}
        groups = await _rules_testing(field.key, removed, locale) if removed else []
        if groups:
            raise DomainError.single(
                ErrorCode.FIELD_IN_USE,
                f"The smart groups {', '.join(map(repr, groups))} test an option you removed"
                f" ({', '.join(sorted(removed))}): change their rules first.",
                "options",
                value=", ".join(sorted(removed)),
                reason=Reason.OPTION_TESTED,
                groups=tuple(groups),
            )
        field.options = clean_options
        changed.append("options")
    if required is not None:
        field.required = required
        changed.append("required")
    cleared = ClearedValues()
    async with in_transaction():
        if changed:
            await field.save(update_fields=changed)
        if removed:
            cleared = await _clear_values(field.key, removed)
    return field, cleared


async def delete_registration_field(field_id: int, locale: str | None = None) -> ClearedValues:
    """Delete a field, and the values people and invitations hold for it (the template and
    exports lose its column). Refused while a smart group's rule tests it: membership of
    such a group would silently change (a rule gone widens it), so change the rule first.
    The refusal names the field and its groups by their titles in `locale`."""
    field = await _field(field_id)
    groups = await _rules_testing(field.key, None, locale)
    if groups:
        title = title_in(field.title, field.title_multiloc, locale)
        raise DomainError.single(
            ErrorCode.FIELD_IN_USE,
            f"The smart groups {', '.join(map(repr, groups))} have rules on {title!r}:"
            " change or delete those rules first.",
            "id",
            value=title,
            reason=Reason.FIELD_TESTED,
            groups=tuple(groups),
        )
    async with in_transaction():
        cleared = await _clear_values(field.key, None)
        await RegistrationField.filter(id=field.id).delete()
    return cleared


async def held_values(key: str) -> ClearedValues:
    """How many people and invitations hold a value for the field: what deleting it clears."""
    counts = []
    for table in ("users", "invitations"):
        if dialect() == "postgres":
            statement = (
                f"SELECT count(*) AS n FROM {table}"  # noqa: S608
                " WHERE registration_field_values ? $1::text"
            )
            params: list[Any] = [key]
        else:
            statement = (
                f"SELECT count(*) AS n FROM {table}"  # noqa: S608
                " WHERE json_type(registration_field_values, ?1) IS NOT NULL"
            )
            params = [f"$.{key}"]
        rows = await connection().execute_query_dict(statement, params)
        counts.append(int(rows[0]["n"]))
    return ClearedValues(users=counts[0], invitations=counts[1])


async def _clear_values(key: str, option_keys: set[str] | None) -> ClearedValues:
    """Remove the field's values (only those naming these options) from every user and every
    invitation, in one statement a table."""
    client = connection()
    counts = []
    for table in ("users", "invitations"):
        if dialect() == "postgres":
            params: list[Any] = [key]
            condition = "registration_field_values ? $1::text"
            if option_keys is not None:
                condition = "registration_field_values ->> $1::text = ANY($2::text[])"
                params.append(sorted(option_keys))
            statement = (
                f"UPDATE {table} SET registration_field_values ="  # noqa: S608
                f" registration_field_values - $1::text WHERE {condition}"
            )
        else:
            params = [f"$.{key}"]
            condition = "json_type(registration_field_values, ?1) IS NOT NULL"
            if option_keys is not None:
                condition = (
                    "json_type(registration_field_values, ?1) = 'text' AND"
                    " json_extract(registration_field_values, ?1)"
                    " IN (SELECT value FROM json_each(?2))"
                )
                params.append(json.dumps(sorted(option_keys)))
            statement = (
                f"UPDATE {table} SET registration_field_values ="  # noqa: S608
                f" json_remove(registration_field_values, ?1) WHERE {condition}"
            )
        changed, _ = await client.execute_query(statement, params)
        counts.append(int(changed))
    return ClearedValues(users=counts[0], invitations=counts[1])


def check_values(
    values: Mapping[str, Any],
    fields: Mapping[str, RegistrationField],
    *,
    field: str = "registrationFieldValues",
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
