"""Groups of users: manual (explicit memberships) or smart (membership follows rules)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from domain.models.user import User


class GroupKind(StrEnum):
    MANUAL = "manual"
    SMART = "smart"


class Group(Model):
    id = fields.IntField(primary_key=True)
    # The title in the platform's default locale: how imports, exports and rules name it.
    title = fields.CharField(max_length=200, unique=True)
    # Titles per platform locale ({"nl-BE": "..."}); a locale without one shows `title`.
    title_multiloc: dict[str, str] = fields.JSONField(default=dict)
    kind = fields.CharEnumField(GroupKind, max_length=16)
    # Smart groups only: a list of rule dicts (see domain.groups.rules) and how they combine.
    rules: list[dict[str, Any]] = fields.JSONField(default=list)
    match_all = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "groups"


class Membership(Model):
    """A user's place in a manual group."""

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="memberships", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "memberships"
        unique_together = (("group", "user"),)
