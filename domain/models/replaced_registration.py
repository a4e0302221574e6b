"""A letter's registration cancelled because the letter's code was typed again (one
registration per letter), remembered until it would have expired: whoever holds its token (the
browser or app that made it) is told why its code no longer works, rather than that the code is
wrong. Only the token's keyed digest is kept: no address, no name, no code."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ReplacedRegistration(Model):
    id = fields.IntField(primary_key=True)
    token_digest = fields.CharField(max_length=64, db_index=True)  # keyed, as Registration's
    expires_at = fields.DatetimeField(db_index=True)  # the cancelled registration's own expiry

    class Meta:
        table = "replaced_registrations"
