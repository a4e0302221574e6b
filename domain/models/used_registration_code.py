"""A registration's code that confirmed its address, remembered until the code would have
expired: its mail's link, opened again (in another browser), then says the address is already
confirmed instead of calling the code wrong. The address is kept as the account has it, the
code only as a keyed digest (with the address); the row goes when the code would have expired."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class UsedRegistrationCode(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=320, db_index=True)  # normalized, as User.email
    code_digest = fields.CharField(max_length=64)  # of "address:code", keyed
    expires_at = fields.DatetimeField(db_index=True)  # the code's own expiry
    # Wrong codes typed for the address since: as many as a claim's code takes.
    failed_attempts = fields.IntField(default=0)

    class Meta:
        table = "used_registration_codes"
