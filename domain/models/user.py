"""A person with an account on the platform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from domain.models.group import Membership
    from domain.models.role import Role


class User(Model):
    id = fields.IntField(primary_key=True)
    # Stored normalized (lower case); a unique index on lower(email) backs it up.
    email = fields.CharField(max_length=320)
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100, default="")
    locale = fields.CharField(max_length=16)
    password_hash = fields.CharField(max_length=255)
    email_confirmed_at = fields.DatetimeField(null=True)
    registered_at = fields.DatetimeField(auto_now_add=True)
    registration_field_values: dict[str, Any] = fields.JSONField(default=dict)

    roles: fields.ReverseRelation[Role]
    memberships: fields.ReverseRelation[Membership]

    class Meta:
        table = "users"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
