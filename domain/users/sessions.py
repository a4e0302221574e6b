"""Sessions: an opaque bearer token given once, stored only as a keyed digest."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import db
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


# Whether a live session's user is an admin, in one query (the admin console's busiest
# question asks it for every page of the list): the same conditions as
# user_for_session_token() and access_of().
_ADMIN_SESSION = """
SELECT 1 AS admin FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_digest IN ({digests}) AND s.expires_at > ${now}
  AND u.email_confirmed_at IS NOT NULL
  AND EXISTS (SELECT 1 FROM roles r WHERE r.user_id = u.id AND r.kind = 'admin')
LIMIT 1
"""


async def is_admin_session(token: str) -> bool:
    """Whether a bearer token belongs to a live session of a confirmed admin."""
    if not token or len(token) > 256:
        return False
    digests = keyring("session").lookup_digests(token)
    marks = db.placeholders(len(digests))
    statement = _ADMIN_SESSION.format(digests=marks, now=len(digests) + 1)
    rows = await db.connection().execute_query_dict(
        db.sql(statement), [*digests, await clock.now()]
    )
    return bool(rows)


async def sign_out(token: str) -> None:
    await Session.filter(token_digest__in=keyring("session").lookup_digests(token)).delete()


async def end_sessions(user_id: int) -> int:
    """End every session of a user (a new password, a newly proven address)."""
    return await Session.filter(user_id=user_id).delete()
