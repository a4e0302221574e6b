"""Password rules and hashing: length over composition, no common passwords, argon2id."""

from __future__ import annotations

import asyncio
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from domain.errors import DomainError, ErrorCode
from domain.settings import get_settings

MAX_LENGTH = 1024
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; a long password's head is enough to judge
_MIN_SCORE = 3

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
# Verified against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("not a real password: equalizes timing")


def normalize(password: str) -> str:
    """NFKC, so the same password typed on two keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


def check_strength(
    password: str, *, field: str = "password", hints: list[str] | None = None
) -> str:
    """The normalized password, or a WEAK_PASSWORD error that says why."""
    password = normalize(password)
    minimum = get_settings().password_min_length
    if len(password) < minimum:
        raise DomainError.single(
            ErrorCode.WEAK_PASSWORD, f"Use at least {minimum} characters.", field
        )
    if len(password) > MAX_LENGTH:
        raise DomainError.single(
            ErrorCode.WEAK_PASSWORD, f"Use at most {MAX_LENGTH} characters.", field
        )
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=[h for h in hints or [] if h])
    if result["score"] < _MIN_SCORE:
        feedback = result["feedback"]
        reason = feedback.get("warning") or "This password is too easy to guess."
        suggestions = " ".join(feedback.get("suggestions") or [])
        message = f"{reason} {suggestions}".strip()
        if not message.endswith("."):
            message += "."
        raise DomainError.single(ErrorCode.WEAK_PASSWORD, message, field)
    return password


async def hash_password(password: str) -> str:
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    return await asyncio.to_thread(_hasher.hash, normalize(password))


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, normalize(password)[:MAX_LENGTH])
        except (VerificationError, InvalidHashError):
            return False

    ok = await asyncio.to_thread(verify)
    return ok and password_hash is not None
