"""Who may call what. Every non-public field names one of these."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from schema.context import Info


class IsAuthenticated(BasePermission):
    message = "Sign in first."

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return await info.context.viewer() is not None


class IsAdmin(BasePermission):
    message = "Only admins can do this."

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        access = await info.context.access()
        return access is not None and access.is_admin


class IsAdminOrProjectManager(BasePermission):
    message = "Only admins and project managers can see this."

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        access = await info.context.access()
        return access is not None and (access.is_admin or access.is_project_manager)
