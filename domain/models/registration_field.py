"""A custom field people fill in when they register (and invitations can pre-set)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    SELECT = "select"
    CHECKBOX = "checkbox"
    DATE = "date"


class RegistrationField(Model):
    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)
    title = fields.CharField(max_length=200)  # in the platform's default locale
    # Titles per platform locale ({"nl-BE": "..."}); a locale without one shows `title`.
    title_multiloc: dict[str, str] = fields.JSONField(default=dict)
    type = fields.CharEnumField(FieldType, max_length=16)
    # Select fields only: the allowed option keys with their titles, and titles per locale:
    # [{"key": .., "title": .., "title_multiloc": {..}}].
    options: list[dict[str, Any]] = fields.JSONField(default=list)
    required = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "registration_fields"
