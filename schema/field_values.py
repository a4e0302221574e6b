"""Registration field values in GraphQL: a key and a JSON value, in and out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import strawberry


@strawberry.type(description="A registration field's value.")
class FieldValue:
    key: str
    value: str = strawberry.field(description="As JSON: a string, number or boolean.")


@strawberry.input(description="A value for a registration field; `value` is text or JSON.")
class FieldValueInput:
    key: str
    value: str


def field_values(values: list[FieldValueInput]) -> dict[str, Any]:
    """JSON literals (numbers, booleans) are read as such; anything else is text."""
    result: dict[str, Any] = {}
    for item in values:
        try:
            parsed = json.loads(item.value)
        except ValueError:
            parsed = item.value
        result[item.key] = parsed if isinstance(parsed, bool | int | float | str) else item.value
    return result


def field_value_list(values: Mapping[str, Any]) -> list[FieldValue]:
    return [FieldValue(key=key, value=json.dumps(value)) for key, value in sorted(values.items())]
