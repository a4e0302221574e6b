"""/graphql: the strawberry view with this service's request context; browsers get api.console."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from api import resident_session
from api.cors import CrossOrigin, from_other_origin
from api.uploads import PREFLIGHT_HEADER, is_multipart, preflighted
from domain.settings import Settings
from schema import prepared
from schema.app import schema
from schema.context import Context, bearer_token
from schema.extensions import document_error_code, several_operations

# The admin console's session (api.console), for /graphql, the downloads and the /admin pages.
CONSOLE_COOKIE = "invitations_console"
JSON = "application/json"
ConsolePage = Callable[[Request], Awaitable[Response]]


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


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def console_session_token(request: Request) -> str | None:
    """The console cookie's session token, for the only requests it may authenticate.

    A browser sends cookies by itself, so a page on another site could make a signed-in
    admin's browser send a request carrying the cookie (CSRF). Forms (urlencoded, multipart,
    text/plain) and GETs go cross-site without asking the server first; a POST with
    `Content-Type: application/json` needs a CORS preflight, granted to no site by default.
    So the cookie counts only there, and on a multipart upload (the admin pages' Excel import)
    carrying the `Apollo-Require-Preflight` header: a custom header needs the preflight too.
    The web apps of INVITES_CORS_ORIGINS are granted that preflight, never with credentials,
    and a request from another origin counts no cookie at all (api.cors).
    SameSite=Strict already keeps it off cross-site requests; this also covers sibling
    subdomains (same site) and browsers that ignore SameSite.
    """
    if request.method != "POST":
        return None
    kind = media_type(request)
    if kind != JSON and not (kind == "multipart/form-data" and preflighted(request.headers)):
        return None
    return request.cookies.get(CONSOLE_COOKIE) or None


# Far beyond any input of the schema; deeper bodies would only make later steps recurse.
MAX_JSON_NESTING = 32


def nesting_within(value: object, limit: int) -> bool:
    """Whether JSON data nests lists and objects at most `limit` deep (without recursion)."""
    level: list[tuple[object, int]] = [(value, 1)]
    while level:
        item, depth = level.pop()
        children: Any = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return False
                level.append((child, depth + 1))
    return True


class GraphQLView(GraphQL[Context, None]):
    def __init__(
        self, settings: Settings, *, console: ConsolePage | None = None, **kwargs: Any
    ) -> None:
        # Uploads (importInvitations' file) come as multipart requests: see api.uploads.
        # Strawberry's own GraphiQL page loads its scripts from a public CDN: browsers get
        # `console` (api.console) instead, or a 404 without one.
        super().__init__(
            schema,
            allow_queries_via_get=False,
            multipart_uploads_enabled=True,
            graphql_ide=None,
            **kwargs,
        )
        self.settings = settings
        self.console = console
        self.cross_origin = CrossOrigin(settings.cors_origins)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """The answer, each error in the document or its variables with its code."""
        for error in result.errors or ():
            if "code" not in (error.extensions or {}):
                code = document_error_code(error)
                if code is not None:
                    error.extensions = {**(error.extensions or {}), "code": code}
        return await super().process_result(request, result)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        preflight = self.cross_origin.preflight(request)
        if preflight is not None:
            await preflight(scope, receive, send)
            return
        if self.console is not None and self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            response = await self.console(request)
        else:
            try:
                response = await self.answer_prepared(request) or await self.run(request)
            except HTTPException as error:
                # A refused request is answered in GraphQL's shape, as JSON (strawberry answers
                # plain text): clients parse one kind of answer.
                response = JSONResponse(
                    {"errors": [{"message": error.reason, "extensions": {"code": "BAD_REQUEST"}}]},
                    status_code=error.status_code,
                )
        # The CORS headers of the answer: api.cors.Answers, around the whole app.
        await response(scope, receive, send)

    async def answer_prepared(self, request: Request) -> Response | None:
        """The answer to one of schema.prepared's documents, or None for the schema to give."""
        if request.method != "POST" or media_type(request) != JSON:
            return None
        body = await request.body()  # kept by the request: the schema's path reads it again
        if not prepared.mentioned(body):
            return None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("query"), str):
            return None
        found = prepared.find(data["query"])
        variables = data.get("variables") or {}
        operation_name = data.get("operationName")
        if (
            found is None
            or not isinstance(variables, dict)
            or not (operation_name is None or isinstance(operation_name, str))
        ):
            return None
        context = await self.get_context(request, Response())
        answer = await prepared.answer(found, context, variables, operation_name)
        if answer is None:
            return None
        # orjson: a list page's answer is some 9 kB, which the standard library's encoder takes
        # several times longer to write (the schema's answers keep strawberry's encoder).
        return Response(orjson.dumps(answer), media_type=JSON)

    def decode_json(self, data: str | bytes) -> object:
        try:
            decoded = super().decode_json(data)
        except RecursionError:
            decoded = None
        else:
            if nesting_within(decoded, MAX_JSON_NESTING):
                return decoded
        raise HTTPException(
            400, f"The request body is nested too deeply (at most {MAX_JSON_NESTING} levels)."
        )

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        content_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if request.method == "POST" and content_type not in (JSON, "multipart/form-data"):
            # Only JSON, exactly: `application/jsonp` or `application/json-patch+json` are other
            # formats, and a form's content types are what another site can post unasked.
            raise HTTPException(415, "Send GraphQL requests as application/json.")
        if is_multipart(request.content_type) and not preflighted(request.headers):
            raise HTTPException(
                400,
                f"A multipart request needs the '{PREFLIGHT_HEADER}: true' header (protection"
                " against cross-site uploads).",
            )
        data = await super().parse_http_body(request)
        for one in data if isinstance(data, list) else [data]:
            if one.operation_name is None and several_operations(one.query or ""):
                # GraphQL's own rule; strawberry would run the first operation unasked.
                raise HTTPException(
                    400, "Must provide operation name if query contains multiple operations."
                )
        return data

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        token = bearer_token(request.headers.get("authorization"))
        # A page of another origin (a web app of INVITES_CORS_ORIGINS) signs in with a bearer
        # token: no cookie counts on its requests (api.cors).
        if (
            token is None
            and isinstance(request, Request)
            and not from_other_origin(request, self.cross_origin)
        ):
            if request.headers.get(resident_session.HEADER):
                # The residents' pages: their own cookie (api.resident_session), never the
                # console's, so an admin signed in to both is each where they expect.
                token = resident_session.session_token(request)
            elif self.console is not None:
                token = console_session_token(request)
        return Context(
            request=request if isinstance(request, Request) else None,
            settings=self.settings,
            redis=request.app.state.redis,
            client_ip=client_ip(request, self.settings),
            session_token=token,
        )
