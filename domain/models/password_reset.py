"""A password reset asked for by address: a single-use token mailed to it, kept as a digest.

Every request writes one (the same work whatever the address): for an address without an
account or claim, `user` is null and `email` empty, and nothing is mailed. For an address
with only unconfirmed claims, `email` says which: using the token proves the mailbox and
creates the account there, dropping the claims.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from domain.models.user import User


class PasswordReset(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="password_resets", null=True, on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=320, default="")
    token_digest = fields.CharField(max_length=64, unique=True)
    token_encrypted = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    sent_at = fields.DatetimeField(null=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "password_resets"
