"""What a user may do: admin of the platform, or project manager of one project."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from domain.models.project import Project
    from domain.models.user import User


class RoleKind(StrEnum):
    ADMIN = "admin"
    PROJECT_MANAGER = "project_manager"


class Role(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="roles", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(RoleKind, max_length=32)
    # Set for project_manager, null for admin. Partial unique indexes (migration) keep one each.
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="managers", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "roles"
