"""Per-request context: who asks, from where, and the request's dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis
from starlette.requests import Request
from strawberry.types import Info as StrawberryInfo

from domain.models import User
from domain.roles.service import Access, access_of
from domain.security.ratelimit import Limiter
from domain.settings import Settings
from domain.users.service import user_for_session_token
from schema.loaders import Loaders

_UNSET: Any = object()


@dataclass
class Context:
    request: Request | None
    settings: Settings
    redis: ArqRedis
    client_ip: str
    session_token: str | None = None
    # An answer's payload carries errors (refused input, a wrong password or code): counted
    # as `refused`, not `ok` (schema.metrics).
    refused: bool = field(default=False, init=False)
    _viewer: User | None = field(default=_UNSET, init=False)
    _access: Access | None = field(default=_UNSET, init=False)
    _loaders: Loaders | None = field(default=None, init=False)

    @property
    def loaders(self) -> Loaders:
        """The request's dataloaders, made when a resolver first needs one."""
        if self._loaders is None:
            self._loaders = Loaders()
        return self._loaders

    @property
    def limiter(self) -> Limiter:
        return Limiter(self.redis)

    async def viewer(self) -> User | None:
        """The signed-in user (looked up once per request), or None."""
        if self._viewer is _UNSET:
            self._viewer = (
                await user_for_session_token(self.session_token) if self.session_token else None
            )
        return self._viewer

    async def access(self) -> Access | None:
        if self._access is _UNSET:
            viewer = await self.viewer()
            self._access = await access_of(viewer) if viewer else None
        return self._access


Info = StrawberryInfo[Context, None]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
