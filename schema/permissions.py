"""Who may call what. Every non-public field names one of these.

A refusal says why in `extensions.code`, for clients to branch on: UNAUTHENTICATED when the
request carries no valid session (none, or a token that is unknown, expired or ended: sign
in again), FORBIDDEN when the person signed in may not do this. A request with no token at
all is told what the field needs, as before (the admin pages' client knows those words); one
whose token opens no session is told that its session is over, whatever the field."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from domain.errors import NotAuthenticated, PermissionDenied
from schema.context import Info


class Refused(PermissionDenied):
    """A permission refusal; graphql-core copies `extensions` into the error it reports."""

    def __init__(self, message: str, *, signed_in: bool) -> None:
        super().__init__(message)
        self.extensions = {"code": "FORBIDDEN" if signed_in else "UNAUTHENTICATED"}


class NotSignedIn(Refused, NotAuthenticated):
    def __init__(self, message: str) -> None:
        super().__init__(message, signed_in=False)


# A token was sent, but it is no session (expired, signed out, ended by a password change, a
# pending registration's, or made up): the person may well be an admin, so "Only admins can do
# this." would mislead.
SESSION_OVER = "Your session is over (it expired or was ended): sign in again."


class _Permission(BasePermission):
    message = "Sign in first."

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if await info.context.viewer() is None:
            raise NotSignedIn(SESSION_OVER if info.context.session_token else self.message)
        if not await self.allows(info):
            raise Refused(self.message, signed_in=True)
        return True

    async def allows(self, info: Info) -> bool:
        """Whether the person signed in may (someone is)."""
        raise NotImplementedError


class IsAuthenticated(_Permission):
    message = "Sign in first."

    async def allows(self, info: Info) -> bool:
        return True


class IsAdmin(_Permission):
    message = "Only admins can do this."

    async def allows(self, info: Info) -> bool:
        access = await info.context.access()
        return access is not None and access.is_admin


class IsAdminOrProjectManager(_Permission):
    message = "Only admins and project managers can see this."

    async def allows(self, info: Info) -> bool:
        access = await info.context.access()
        return access is not None and (access.is_admin or access.is_project_manager)
