"""/graphql: the strawberry ASGI view with this service's request context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from domain.settings import Settings
from schema.app import schema
from schema.context import Context, bearer_token


def client_ip(request: Request | WebSocket, settings: Settings) -> str:
    """The socket's peer; a forwarded address only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if peer in settings.trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        # The right-most address not added by one of our proxies is the client.
        for hop in reversed(hops):
            if hop not in settings.trusted_proxies:
                return hop
    return peer


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(schema, allow_queries_via_get=False, **kwargs)
        self.settings = settings

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            request=request if isinstance(request, Request) else None,
            settings=self.settings,
            redis=request.app.state.redis,
            client_ip=client_ip(request, self.settings),
            session_token=bearer_token(request.headers.get("authorization")),
        )
