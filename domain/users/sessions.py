"""Sessions: an opaque bearer token given once, stored only as a keyed digest."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.clock import clock
from domain.crypto import keyring
from domain.models import Session, User
from domain.settings import get_settings

SESSION_TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: the token is shown to the client once and never stored."""

    token: str
    expires_at: datetime
    user: User


async def open_session(user: User) -> NewSession:
    if user.email_confirmed_at is None:
        # Whoever proves the mailbox owns the account: nothing opens a session before that.
        raise ValueError("a session for an account whose address is not confirmed")
    settings = get_settings()
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    expires_at = await clock.now() + timedelta(days=settings.session_ttl_days)
    await Session.create(
        user=user, token_digest=keyring("session").digest(token), expires_at=expires_at
    )
    return NewSession(token=token, expires_at=expires_at, user=user)


async def user_for_session_token(token: str) -> User | None:
    """The user a bearer token belongs to, if the session is live."""
    if not token or len(token) > 256:
        return None
    digests = keyring("session").lookup_digests(token)
    session = (
        await Session.filter(
            token_digest__in=digests,
            expires_at__gt=await clock.now(),
            user__email_confirmed_at__isnull=False,
        )
        .select_related("user")
        .first()
    )
    return session.user if session else None


# Whether a live session's user is an admin, as a condition of a statement (the admin
# console's busiest question asks it with every page of the list): the same conditions as
# user_for_session_token() and access_of().
_ADMIN_SESSION = """EXISTS (
  SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.token_digest IN ({digests}) AND s.expires_at > {now}
    AND u.email_confirmed_at IS NOT NULL
    AND EXISTS (SELECT 1 FROM roles r WHERE r.user_id = u.id AND r.kind = 'admin'))"""


async def admin_session_condition(token: str, param: Callable[[Any], str]) -> str:
    """SQL true when a bearer token belongs to a live session of a confirmed admin, for a
    statement that asks it along with its own question; `param` places a value and gives
    its placeholder."""
    if not token or len(token) > 256:
        return "1 = 0"
    digests = ", ".join(param(digest) for digest in keyring("session").lookup_digests(token))
    return _ADMIN_SESSION.format(digests=digests, now=param(await clock.now()))


async def sign_out(token: str) -> None:
    await Session.filter(token_digest__in=keyring("session").lookup_digests(token)).delete()


async def end_sessions(user_id: int) -> int:
    """End every session of a user (a new password, a newly proven address)."""
    return await Session.filter(user_id=user_id).delete()
