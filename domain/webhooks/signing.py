"""Signatures as the Standard Webhooks specification has them (standardwebhooks.com).

The secret is `whsec_` followed by the base64 of 24 to 64 random bytes; the signature of a
message is `v1,` and the base64 HMAC-SHA256, keyed with those bytes, of
`{webhook-id}.{webhook-timestamp}.{body}`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64


class BadSecret(ValueError):
    pass


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The key bytes of a `whsec_...` secret; BadSecret when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise BadSecret(f"A secret starts with {SECRET_PREFIX}, then base64.")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise BadSecret(f"After {SECRET_PREFIX}, a secret is base64.") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise BadSecret(
            f"A secret holds {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes (base64 after"
            f" {SECRET_PREFIX})."
        )
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.digest(secret_key(secret), signed, hashlib.sha256)
    return "v1," + base64.b64encode(digest).decode()
