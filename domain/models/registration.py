"""A registration waiting for its address to be confirmed: a claim on the address, no account.

Whoever proves the mailbox owns the account. Until the code mailed to the address comes back,
a sign-up, or a letter's code used with an address, is only this claim: it has no roles, groups
or sessions, and its address is nobody's "existing user". Several claims on one address may
wait at once (the owner's and someone else's); the first one confirmed from the mailbox creates
the account (or signs in to the one there is), and every other claim on the address is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from domain.models.invitation import Invitation


class Registration(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=320, db_index=True)  # normalized, as User.email
    password_hash = fields.CharField(max_length=255)
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100, default="")
    locale = fields.CharField(max_length=16)
    registration_field_values: dict[str, Any] = fields.JSONField(default=dict)
    # The letter (code-only invitation) whose code was used: its grants wait for the address.
    invitation: fields.ForeignKeyNullableRelation[Invitation] = fields.ForeignKeyField(
        "models.Invitation", related_name="registrations", null=True, on_delete=fields.SET_NULL
    )
    # The claim's own bearer token, given once to whoever made it: it can only confirm, ask for
    # a new code and correct the address. Stored as a keyed digest.
    token_digest = fields.CharField(max_length=64, unique=True)
    # The code mailed to the address (its digest, and an encrypted copy the mail job reads).
    code_digest = fields.CharField(max_length=64)
    code_encrypted = fields.TextField()
    code_expires_at = fields.DatetimeField()
    code_send_no = fields.IntField(default=1)  # each new code is a new send
    code_sent_no = fields.IntField(default=0)  # the last send that reached the relay
    failed_attempts = fields.IntField(default=0)  # of the current code
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "registrations"
