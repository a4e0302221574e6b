"""A change of a signed-in person's address: a code mailed to the new address, which changes
when the code comes back. The mail job reads the code back from its encrypted copy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from domain.models.user import User


class EmailConfirmation(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="email_confirmations", on_delete=fields.CASCADE
    )
    new_email = fields.CharField(max_length=320, default="")
    old_email = fields.CharField(max_length=320, default="")  # set once the change is made
    code_digest = fields.CharField(max_length=64)
    code_encrypted = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    failed_attempts = fields.IntField(default=0)
    sent_at = fields.DatetimeField(null=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "email_confirmations"
