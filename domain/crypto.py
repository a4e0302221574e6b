"""Keyed digests for lookups and encryption for the few secrets admins must read back.

Every key derives from INVITES_SECRET_KEY (never stored in the database). Rotation: put the
new key in SECRET_KEY and the old one in PREVIOUS_SECRET_KEYS; lookups try every key, new
encryptions use the new one; `invitations rotate-keys` re-encrypts and re-digests the rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.settings import Settings, get_settings


def _derive(secret_key: str, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"invitations-service", info=purpose.encode()
    ).derive(secret_key.encode())


def _keys(settings: Settings) -> list[str]:
    return [settings.secret_key_value()] + [
        key.get_secret_value() for key in settings.previous_secret_keys
    ]


class Keyring:
    """Digest and encryption keys for one purpose ('invitation-token', 'session', ...)."""

    def __init__(self, secret_keys: list[str], purpose: str) -> None:
        self._digest_keys = [_derive(key, f"{purpose}:digest") for key in secret_keys]
        # HMAC keyed once; copies of it digest many values (short_digests).
        self._keyed = hmac.new(self._digest_keys[0], digestmod=hashlib.sha256)
        # AES-256-GCM with a random 96-bit nonce: authenticated, and cheap enough to run for
        # every row of a 100,000-row import.
        self._ciphers = [AESGCM(_derive(key, f"{purpose}:encrypt")) for key in secret_keys]

    def digest(self, value: str) -> str:
        """The digest under the current key: what new rows store."""
        return hmac.digest(self._digest_keys[0], value.encode(), "sha256").hex()

    def lookup_digests(self, value: str) -> list[str]:
        """Digests under every key still accepted, current first (for lookups during rotation)."""
        return [hmac.new(k, value.encode(), hashlib.sha256).hexdigest() for k in self._digest_keys]

    # Short digests: the first 128 bits of the same HMAC (RFC 2104's truncation, section 5),
    # written as a UUID. A unique index on a 16-byte uuid column costs the database half what
    # one on 64 hex characters does, for each of a large import's rows (`bench/README.md`).

    def short_digest(self, value: str) -> str:
        """The short digest under the current key: what new rows store."""
        return _uuid_text(hmac.digest(self._digest_keys[0], value.encode(), "sha256"))

    def short_digests(self, values: list[str]) -> list[str]:
        """short_digest() of each value, faster for many: the HMAC is keyed once and copied
        for each value, instead of hashing the key again each time."""
        keyed = self._keyed
        digests = []
        for value in values:
            mac = keyed.copy()
            mac.update(value.encode())
            digests.append(_uuid_text(mac.digest()))
        return digests

    def lookup_short_digests(self, value: str) -> list[str]:
        """Short digests under every key still accepted, current first."""
        return [_uuid_text(hmac.digest(key, value.encode(), "sha256")) for key in self._digest_keys]

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(12)
        sealed = self._ciphers[0].encrypt(nonce, value.encode(), None)
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def encrypt_many(self, values: list[str]) -> list[str]:
        """encrypt() of each value, with the nonces read from the system in one go."""
        cipher = self._ciphers[0]
        nonces = os.urandom(12 * len(values))
        encode = base64.urlsafe_b64encode
        sealed = []
        for start, value in zip(range(0, len(nonces), 12), values, strict=True):
            nonce = nonces[start : start + 12]
            sealed.append(encode(nonce + cipher.encrypt(nonce, value.encode(), None)).decode())
        return sealed

    def decrypt(self, value: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(value.encode())
        except (binascii.Error, ValueError):
            raise ValueError("cannot decrypt: not an encrypted value") from None
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(raw[:12], raw[12:], None).decode()
            except InvalidTag:
                continue
        raise ValueError("cannot decrypt: the secret key that encrypted this is gone")

    def rotate(self, value: str) -> str:
        """The value encrypted under the current key (for `rotate-keys`)."""
        return self.encrypt(self.decrypt(value))


def _uuid_text(digest: bytes) -> str:
    """The first 16 bytes as PostgreSQL and Python write a UUID (SQLite keeps the text)."""
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@lru_cache(maxsize=16)
def _keyring(keys: tuple[str, ...], purpose: str) -> Keyring:
    return Keyring(list(keys), purpose)


def keyring(purpose: str, settings: Settings | None = None) -> Keyring:
    return _keyring(tuple(_keys(settings or get_settings())), purpose)
